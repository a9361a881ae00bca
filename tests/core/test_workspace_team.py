"""Platforms where a workspace is one team (Discord): the engine finds the team from any channel,
starts it on first use, and `/retro setup` moves it and sets its timezone in one unit of work."""

from __future__ import annotations

from bot.core.engine import Engine
from bot.core.messages import Reply, render_plain
from bot.core.model import TeamRef
from bot.core.ports import Actor, Invocation, WorkspaceTeam
from bot.storage.database import Database

ADA = Actor("U1", "Ada")
ADMIN = Actor("U2", "Grace", manages_workspace=True)


async def _say(engine: Engine, here: str | None, text: str, actor: Actor = ADA, **values: str) -> Reply:
    """`text` from channel `here` of workspace W1 (None: a direct message)."""
    where = WorkspaceTeam("fake", "W1", here)
    return await engine.handle(Invocation(where, actor, text, values=values or None))


def _text(reply: Reply) -> str:
    return "\n".join(render_plain(m) for m in (*reply.private, *reply.announcements))


async def _team(database: Database) -> tuple[TeamRef, str] | None:
    async with database.unit_of_work() as uow:
        team = await uow.teams.first_in_workspace("fake", "W1")
    return None if team is None else (team.ref, team.timezone)


async def test_a_workspace_team_starts_on_first_use_and_is_found_from_any_channel(
    engine: Engine, database: Database
) -> None:
    assert "no retro team here yet" in _text(await _say(engine, None, "status"))
    assert await _team(database) is None

    logged = await _say(engine, "C1", "oops the deploy broke")
    assert logged.team == TeamRef("fake", "W1", "C1")
    reply = await _say(engine, "C2", "status #1")
    assert "the deploy broke" in _text(reply)
    assert reply.team == TeamRef("fake", "W1", "C1")
    assert "the deploy broke" in _text(await _say(engine, None, "status #1"))


async def test_setup_moves_the_team_with_its_history_and_sets_its_timezone(
    engine: Engine, database: Database
) -> None:
    await _say(engine, "C1", "oops the deploy broke")
    reply = await _say(
        engine, "C1", "setup", ADMIN, channel="C7", channel_name="retro", timezone="Europe/Berlin"
    )
    assert reply.team == TeamRef("fake", "W1", "C7")
    assert "Europe/Berlin" in _text(reply)
    (announcement,) = reply.announcements
    assert "in this channel" in render_plain(announcement)
    assert await _team(database) == (TeamRef("fake", "W1", "C7"), "Europe/Berlin")
    assert "the deploy broke" in _text(await _say(engine, "C3", "status #1"))


async def test_setup_refused_changes_nothing(engine: Engine, database: Database) -> None:
    await _say(engine, "C1", "oops the deploy broke")
    before = await _team(database)

    for actor, values, expected in [
        (ADMIN, {"channel": "C7", "timezone": "Nowhere/Atlantis"}, "I don't know the timezone"),
        (ADA, {"channel": "C7", "timezone": "Europe/Berlin"}, "permission to manage the server"),
        (ADMIN, {"timezone": "Europe/Berlin"}, "Pick a text channel"),
    ]:
        reply = await _say(engine, "C1", "setup", actor, **values)
        assert expected in _text(reply)
        assert reply.announcements == ()
        assert reply.team is None
        assert await _team(database) == before


async def test_setup_as_the_first_command_starts_the_team_where_it_says(
    engine: Engine, database: Database
) -> None:
    reply = await _say(engine, "C1", "setup", ADMIN, channel="C7", channel_name="retro")
    assert reply.team == TeamRef("fake", "W1", "C7")
    assert reply.announcements
    async with database.unit_of_work() as uow:
        teams = await uow.teams.all()
    assert [(t.ref.channel, t.name) for t in teams] == [("C7", "retro")]


async def test_setup_typed_on_a_platform_where_a_channel_is_a_team_says_what_to_use(engine: Engine) -> None:
    reply = await engine.handle(Invocation(TeamRef("fake", "W1", "C1"), ADMIN, "setup"))
    assert "/retro schedule tz" in _text(reply)
    assert reply.team is None
