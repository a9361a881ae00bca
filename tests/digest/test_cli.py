"""`retro digest`, `retro export` and `retro import` as real processes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.core.test_cli import retro
from tests.digest.test_snapshots import png_size

pytestmark = pytest.mark.slow


def without_timestamp(path: Path) -> dict[str, object]:
    return {**json.loads(path.read_text()), "exported_at": None}


def test_export_import_export_and_digest(tmp_path: Path) -> None:
    first = {"XDG_DATA_HOME": str(tmp_path / "one"), "RETRO_LOG_LEVEL": "WARNING"}
    second = {"XDG_DATA_HOME": str(tmp_path / "two"), "RETRO_LOG_LEVEL": "WARNING"}
    script = "\n".join(
        [
            "oops setback anon the deploy skipped migrations #deploys",
            "oops the demo laptop had no adapter goal: demo the import",
            "learned #2 pack the adapter next time: keep one in the demo bag",
            "check #2 stuck",
        ]
    )
    assert retro("chat", "--team", "platform", "--user", "ana", stdin=script, env=first).returncode == 0

    exported = tmp_path / "platform.json"
    result = retro("export", "--team", "platform", "--format", "json", "--out", str(exported), env=first)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no progress bar when stderr is not a terminal

    result = retro("import", str(exported), env=second)
    assert result.returncode == 0, result.stderr
    assert "imported platform: 2 missteps, 1 lessons" in result.stdout
    again = tmp_path / "again.json"
    assert (
        retro("export", "--team", "platform", "--format", "json", "--out", str(again), env=second).returncode
        == 0
    )
    assert without_timestamp(again) == without_timestamp(exported)

    refused = retro("import", str(exported), env=second)
    assert refused.returncode == 1
    assert "already in" in refused.stderr

    chart = tmp_path / "trend.png"
    result = retro("digest", "--team", "platform", "--out", str(chart), env=second)
    assert result.returncode == 0, result.stderr
    assert "(so far)" in result.stdout
    assert "Missteps logged: 2" in result.stdout
    assert f"Trend chart saved to {chart}" in result.stdout
    assert png_size(chart.read_bytes()) == (800, 400)

    bad = retro("digest", "--team", "platform", "--week", "soon", env=second)
    assert bad.returncode == 2
    assert "is not a week like 2026-W47" in bad.stderr
