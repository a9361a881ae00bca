"""Exports carry the whole history, never an anonymous author, and the JSON round-trips."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.core.export import ExportError, from_json, load_history, to_csv, to_json, to_markdown
from bot.core.outcome import decide_outcome
from bot.storage.database import Database
from bot.storage.repositories.history import TeamExists
from tests.digest.history import STEPS, add_team, build_history

FIRST_EXPORT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SECOND_EXPORT = datetime(2026, 11, 26, 8, 30, tzinfo=UTC)


async def exported(database: Database, channel: str, now: datetime) -> dict[str, Any]:
    async with database.unit_of_work() as uow:
        team = await uow.teams.find_by_name(channel)
        return to_json(await load_history(uow, team[0]), now)


async def test_json_round_trips_through_an_empty_database(
    database: Database, empty_database: Database
) -> None:
    team = await add_team(database, "platform", "Europe/Berlin")
    await build_history(database, team)
    first = await exported(database, "platform", FIRST_EXPORT)

    reports: list[tuple[int, int]] = []
    async with empty_database.unit_of_work() as uow:
        await uow.history.restore(from_json(json.loads(json.dumps(first))), lambda *r: reports.append(r))
        await uow.commit()
    second = await exported(empty_database, "platform", SECOND_EXPORT)

    assert second["exported_at"] != first["exported_at"]
    assert {**second, "exported_at": None} == {**first, "exported_at": None}
    assert reports[-1][0] == reports[-1][1] == 10 + 9 + 7 + 3 + 2  # missteps, tags, lessons, checks, links


async def test_imported_facts_give_the_same_outcomes(database: Database, empty_database: Database) -> None:
    team = await add_team(database, "platform", "UTC")
    await build_history(database, team)
    data = await exported(database, "platform", FIRST_EXPORT)
    async with empty_database.unit_of_work() as uow:
        imported = await uow.history.restore(from_json(data))
        missteps = uow.missteps(imported.id)
        for misstep in await missteps.all():
            decision = decide_outcome(await missteps.outcome_facts(misstep.id))
            assert (decision.outcome, decision.at) == (misstep.outcome, misstep.outcome_at)


async def test_every_record_is_in_every_format_and_no_anonymous_author(database: Database) -> None:
    team = await add_team(database, "platform", "UTC")
    await build_history(database, team)
    async with database.unit_of_work() as uow:
        history = await load_history(uow, team)
    data = to_json(history, FIRST_EXPORT)
    assert [m["number"] for m in data["missteps"]] == list(range(1, 11))
    assert sum(m["lesson"] is not None for m in data["missteps"]) == 7
    assert sum(len(m["checks"]) for m in data["missteps"]) == 3
    assert [(r["misstep"], r["earlier"], r["status"]) for r in data["recurrences"]] == [
        (8, 4, "confirmed"),
        (9, 1, "suggested"),
    ]
    assert {m["number"]: m["outcome"] for m in data["missteps"]} == {
        1: "learning",
        2: "failing",
        3: "open",
        4: "failing",
        5: "learning",
        6: "open",
        7: "failing",
        8: "open",
        9: "open",
        10: "open",
    }
    rows = list(csv.DictReader(io.StringIO(to_csv(history))))
    assert [row["outcome"] for row in rows] == [m["outcome"] for m in data["missteps"]]
    assert rows[7]["repeats"] == "#4"
    assert rows[3]["repeated_by"] == "#8"
    assert sum(bool(row["lesson"]) for row in rows) == 7
    markdown = to_markdown(history)
    assert all(f"## #{n} " in markdown for n in range(1, 11))
    anonymous = data["missteps"][7]
    assert anonymous["anonymous"]
    assert anonymous["author"] is None
    assert STEPS[7].author == "zed"
    for text in (json.dumps(data), to_csv(history), markdown):
        assert "zed" not in text.lower()


async def test_import_refuses_a_team_that_is_already_there(database: Database) -> None:
    team = await add_team(database, "platform", "UTC")
    await build_history(database, team)
    data = await exported(database, "platform", FIRST_EXPORT)
    async with database.unit_of_work() as uow:
        with pytest.raises(TeamExists):
            await uow.history.restore(from_json(data))


@pytest.mark.parametrize(
    "data",
    [[], {"format": "something-else", "version": 1}, {"format": "retro-export", "version": 1, "team": {}}],
)
def test_import_rejects_what_is_not_an_export(data: object) -> None:
    with pytest.raises(ExportError):
        from_json(data)


async def test_import_refuses_a_team_timezone_it_does_not_know(database: Database) -> None:
    team = await add_team(database, "platform", "UTC")
    await build_history(database, team)
    data = await exported(database, "platform", FIRST_EXPORT)
    data["team"]["timezone"] = "Europe"
    with pytest.raises(ExportError, match="unknown timezone 'Europe'"):
        from_json(data)
