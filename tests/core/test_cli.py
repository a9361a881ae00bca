"""The `retro` command line, run as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.storage.database import Database

pytestmark = pytest.mark.slow


def retro(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("RETRO_", "SLACK_", "DISCORD_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**environ, "XDG_CONFIG_HOME": "/nonexistent", **(env or {})},
        timeout=120,
        check=False,
    )


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    return {
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "RETRO_EXPORT_DIR": str(tmp_path / "exports"),
        "RETRO_LOG_LEVEL": "WARNING",
    }


def test_chat_reads_one_command_per_line_and_prints_each_reply_plainly(home: dict[str, str]) -> None:
    script = "\n".join(
        [
            "/retro oops setback the deploy skipped migrations #deploys",
            "learned #1 migrations are not automatic next time: run them in the pipeline",
            "retro check #1 stuck",
            "status #1",
            "lessons migrations",
            "export md",
        ]
    )
    result = retro("chat", "--team", "platform", "--user", "ana", stdin=script, env=home)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "retro>" not in out
    assert "Logged #1 (setback)" in out
    assert "Saved the lesson for #1" in out
    assert "Outcome: learning" in out
    assert "run them in the pipeline (owner: ana)" in out
    saved = Path(home["RETRO_EXPORT_DIR"]) / out.split("Saved to ")[1].split("/")[-1].strip()
    assert saved.read_text().startswith("# platform: retro history")


def test_run_without_tokens_starts_the_terminal_chat_on_sqlite(home: dict[str, str]) -> None:
    result = retro("run", stdin="oops it works\n", env=home)
    assert result.returncode == 0, result.stderr
    assert "Logged #1" in result.stdout
    assert (Path(home["XDG_DATA_HOME"]) / "retro" / "retro.db").exists()


def test_a_bad_setting_stops_with_one_line_and_no_traceback(home: dict[str, str]) -> None:
    result = retro("run", env={**home, "RETRO_TIMEZONE": "Nowhere/Special"})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("retro: RETRO_TIMEZONE: unknown timezone")


def test_export_of_an_unknown_team_names_the_known_ones(home: dict[str, str]) -> None:
    retro("chat", "--team", "platform", stdin="oops one\n", env=home)
    result = retro("export", "--team", "nope", env=home)
    assert result.returncode == 1
    assert "no team called 'nope' (teams: platform)" in result.stderr


def test_export_writes_the_requested_file(home: dict[str, str], tmp_path: Path) -> None:
    retro("chat", "--team", "platform", stdin="oops one\noops two\n", env=home)
    out = tmp_path / "history.csv"
    result = retro("export", "--team", "platform", "--format", "csv", "--out", str(out), env=home)
    assert result.returncode == 0, result.stderr
    assert out.read_text().splitlines()[0].startswith("number,logged_at,depth,what")
    assert len(out.read_text().splitlines()) == 3


@pytest.mark.postgres
async def test_run_refuses_an_unmigrated_postgres_and_names_the_command(
    home: dict[str, str], postgres_url: str
) -> None:
    database = Database.connect(postgres_url)
    async with database.engine.begin() as connection:
        await connection.exec_driver_sql("DROP TABLE alembic_version")
    await database.close()
    result = retro("run", env={**home, "RETRO_DATABASE_URL": postgres_url})
    assert result.returncode == 1
    assert "run `retro db upgrade` first" in result.stderr
    status = retro("db", "status", env={**home, "RETRO_DATABASE_URL": postgres_url})
    assert "needs `retro db upgrade`" in status.stdout


def test_workspace_delete_asks_for_confirmation(home: dict[str, str]) -> None:
    result = retro("workspace", "delete", "--platform", "slack", "--workspace", "T1", env=home)
    assert result.returncode == 1
    assert "add --yes to confirm" in result.stderr


def test_chat_talks_to_nobody_else_even_with_platform_tokens(home: dict[str, str]) -> None:
    # An unreachable Slack API: a chat that started the Slack adapter would fail or hang here.
    tokens = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": "http://127.0.0.1:9/api/"}
    result = retro("chat", "--user", "ana", stdin="oops local only\n", env={**home, **tokens})
    assert result.returncode == 0, result.stderr
    assert "Logged #1" in result.stdout
