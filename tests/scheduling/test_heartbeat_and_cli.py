"""The ways a tick is started: each process's APScheduler heartbeat, and `retro tick` for cron."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.fake import FakeChat, ManualClock
from bot.app import build_app, build_engine, build_ticker
from bot.cli import main
from bot.core.clock import system_clock
from bot.core.model import TeamRef
from bot.core.ports import Actor, Invocation
from bot.scheduling.heartbeat import Heartbeat
from bot.settings import Settings
from bot.storage.database import Database
from tests.scheduling.helpers import KeyedSink


async def test_heartbeat_ticks_at_once_and_stops_when_cancelled(
    chat: FakeChat, settings: Settings, database: Database, clock: ManualClock
) -> None:
    await chat.say("ana", "oops setback the staging certificate expired")
    clock.advance(days=1)
    sink = KeyedSink()
    heartbeat = Heartbeat(build_ticker(settings, database, clock, {sink.platform: sink}), timedelta(hours=1))
    running = asyncio.create_task(heartbeat.run())
    await asyncio.wait_for(sink.entered.wait(), 30)  # the first beat needs no waiting
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert [o.destination.user_id for o in sink.shown] == ["ana"]


def test_retro_tick_prints_what_it_delivers_when_no_platform_is_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'retro.db'}"
    monkeypatch.setenv("RETRO_DATABASE_URL", url)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("RETRO_CONFIG", raising=False)
    assert main(["db", "upgrade"]) == 0

    async def log_a_setback() -> None:
        database = Database.connect(url)
        engine = build_engine(Settings(database_url=url), database, system_clock)
        team = TeamRef("terminal", "local", "local")
        await engine.handle(Invocation(team, Actor("me", "me"), "oops setback the build broke on Friday"))
        await database.close()

    asyncio.run(log_a_setback())
    capsys.readouterr()
    assert main(["tick", "--now", "2030-01-01T12:00:00Z"]) == 0
    out, err = capsys.readouterr()
    assert "[retro, to you]" in out
    assert "What did #1 teach you?" in out
    assert "1 sent" in err
    assert main(["tick", "--now", "2030-01-01T12:01:00Z"]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert "nothing due" in err


def test_retro_tick_refuses_a_time_that_is_not_iso_8601(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["tick", "--now", "next tuesday"])
    assert "is not an ISO-8601 time" in capsys.readouterr().err


async def test_every_process_ticks_through_the_senders_of_the_platforms_it_serves(settings: Settings) -> None:
    app = await build_app(settings, terminal=True)
    try:
        assert set(app.senders) == {"terminal"}
        assert any(isinstance(service, Heartbeat) for service in app.services)
        quiet = await build_app(settings, terminal=False, heartbeat=False, senders=[KeyedSink()])
        assert set(quiet.senders) == {"fake"}
        assert not any(isinstance(service, Heartbeat) for service in quiet.services)
        await quiet.database.close()
    finally:
        await app.database.close()
