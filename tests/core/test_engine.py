"""The engine through the fake adapter: anonymity, tenancy, idempotency, nothing half-written."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import func, select

from adapters.fake import FakeChat, ManualClock
from bot.core.engine import Engine
from bot.core.messages import render_plain
from bot.logs import quiet_payload_loggers
from bot.storage.database import Database
from bot.storage.tables import LessonRow, MisstepRow, RecurrenceRow
from tests.conftest import START


async def count(database: Database, table: type) -> int:
    async with database.unit_of_work() as uow:
        return await uow.session.scalar(select(func.count()).select_from(table)) or 0


async def test_learned_without_number_goes_to_my_latest_misstep_without_a_lesson(chat: FakeChat) -> None:
    await chat.say("ana", "oops first thing")
    await chat.say("ana", "oops second thing")
    await chat.say("ben", "oops bens thing")
    assert "for #2" in await chat.say("ana", "learned second lesson")
    assert "for #1" in await chat.say("ana", "learned first lesson")
    assert "no missteps waiting for a lesson" in await chat.say("ana", "learned one more")


async def test_a_second_lesson_updates_the_first_and_says_so(chat: FakeChat, database: Database) -> None:
    await chat.say("ana", "oops the build broke")
    await chat.say("ana", "learned #1 pin versions")
    reply = await chat.say("ben", "learned #1 pin versions and lock files next time: commit the lock file")
    assert "Updated the lesson for #1" in reply
    assert await count(database, LessonRow) == 1
    story = await chat.say("ana", "status #1")
    assert "pin versions and lock files" in story
    assert "(owner: Ben)" in story


async def test_the_commitment_owner_is_named_even_for_an_anonymous_misstep(chat: FakeChat) -> None:
    await chat.say("ana", "oops anon I deleted the shared calendar")
    reply = await chat.say("ana", "learned #1 exports before deletes next time: export first")
    assert "(Ana)" in reply


async def test_an_anonymous_author_appears_nowhere(
    chat: FakeChat, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    quiet_payload_loggers()
    caplog.set_level(logging.DEBUG)
    await chat.say("zed", "announce on")
    logged = await chat.invoke("zoe", "oops fall anon I pushed the wrong config to production #deploys")
    texts = [render_plain(m) for m in (*logged.private, *logged.announcements)]
    await chat.say("ben", "learned #1 review config diffs next time: two-person review")
    texts.append(await chat.say("ben", "status #1"))
    texts.append(await chat.say("ben", "status"))
    texts.append(await chat.say("ben", "lessons config"))
    for fmt in ("csv", "json", "md"):
        reply = await chat.invoke("ben", f"export {fmt}")
        texts.append(reply.private[0].attachments[0].content.decode())
    texts.append(caplog.text)
    assert logged.announcements, "announcing was switched on"
    for text in texts:
        assert "Zoe" not in text
        assert "zoe" not in text


async def test_the_anonymous_authors_address_is_erased_once_the_lesson_is_in(
    chat: FakeChat, database: Database
) -> None:
    await chat.say("zoe", "oops anon I pushed the wrong config")
    async with database.unit_of_work() as uow:
        assert await uow.session.scalar(select(MisstepRow.author_id)) is not None
    await chat.say("ben", "learned #1 review config diffs")
    async with database.unit_of_work() as uow:
        assert await uow.session.scalar(select(MisstepRow.author_id)) is None


@pytest.mark.parametrize(
    "text",
    ["status #2", "learned #2 stolen lesson", "check #2 stuck", "same #3 #2", "dismiss #3 #2", "learned #2"],
)
async def test_another_teams_numbers_are_not_found_for_every_command(chat: FakeChat, text: str) -> None:
    await chat.say("ana", "oops team one secret one")
    await chat.say("ana", "oops team one secret two")
    await chat.say("ana", "learned #2 team one lesson")
    await chat.say("ana", "oops team one secret three")
    other = chat.elsewhere()
    await other.say("eve", "oops only one here")
    reply = await other.say("eve", text)
    assert "can't find" in reply
    assert "secret" not in reply
    assert "team one" not in reply


async def test_a_redelivered_request_does_nothing_twice(chat: FakeChat, database: Database) -> None:
    first = await chat.say("ana", "oops the webhook fired twice", key="req-1")
    again = await chat.say("ana", "oops the webhook fired twice", key="req-1")
    assert "Logged #1" in first
    assert "Already done" in again
    assert await count(database, MisstepRow) == 1


async def test_a_double_clicked_check_records_one_answer(chat: FakeChat) -> None:
    await chat.say("ana", "oops forgot the agenda")
    await chat.say("ana", "learned #1 send the agenda the day before")
    await chat.say("ana", "check #1 stuck")
    await chat.say("ana", "check #1 stuck")
    story = await chat.say("ana", "status #1")
    assert story.count("it stuck") == 1


async def test_bad_input_writes_nothing(chat: FakeChat, database: Database) -> None:
    for text in [
        "oops " + "x" * 50_000,
        "oops",
        "oops setback",
        "learned",
        "check #1 stuck",
        "frobnicate",
        "#abc",
    ]:
        await chat.say("ana", text)
    assert await count(database, MisstepRow) == 0
    assert await count(database, LessonRow) == 0


async def test_a_failure_inside_a_command_rolls_everything_back(
    chat: FakeChat, engine: Engine, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken_reaction(uow: object, team: object, event: object) -> None:
        raise RuntimeError("the scheduler fell over")

    engine.reactions = (broken_reaction,)
    with caplog.at_level(logging.ERROR):
        reply = await chat.say("ana", "oops the misstep that must not half-exist")
    assert "nothing was saved" in reply
    assert await count(database, MisstepRow) == 0
    assert "must not half-exist" not in caplog.text


async def test_a_suggested_repeat_changes_nothing_until_confirmed(chat: FakeChat, database: Database) -> None:
    await chat.say("ana", "oops the CSV import dropped every tag #imports")
    await chat.say("ana", "learned #1 run imports on a copy first")
    await chat.say("ana", "check #1 stuck")
    reply = await chat.invoke("ben", "oops the CSV import dropped all the tags again #imports")
    text = render_plain(reply.private[0])
    assert "This looks like #1" in text
    assert [b.command for b in reply.private[0].buttons] == ["same #2 #1", "dismiss #2 #1"]
    assert "learning" in await chat.say("ana", "status #1")
    assert "failing" in await chat.say("ben", "same #2 #1")
    assert "Outcome: failing" in await chat.say("ana", "status #1")
    assert "something new" in await chat.say("ben", "dismiss #2 #1")
    assert "Outcome: learning" in await chat.say("ana", "status #1")
    assert await count(database, RecurrenceRow) == 1


async def test_a_repeat_of_a_misstep_without_a_lesson_cannot_be_confirmed(chat: FakeChat) -> None:
    await chat.say("ana", "oops one")
    await chat.say("ana", "oops two")
    assert "no lesson yet" in await chat.say("ana", "same #2 #1")
    assert "new misstep goes first" in await chat.say("ana", "same #1 #2")


async def test_a_check_needs_a_lesson_first(chat: FakeChat) -> None:
    await chat.say("ana", "oops one")
    assert "no lesson yet" in await chat.say("ana", "check #1 stuck")


async def test_lessons_search_ranks_the_best_match_first(chat: FakeChat) -> None:
    await chat.say("ana", "oops the standup ran for an hour #meetings")
    await chat.say("ana", "learned #1 timebox the standup to 15 minutes")
    await chat.say("ana", "oops the deploy skipped database migrations #deploys")
    await chat.say("ana", "learned #2 run migrations in the pipeline")
    reply = await chat.say("ana", "lessons migrations")
    assert reply.index("#2") < (reply.index("#1") if "#1" in reply else len(reply))
    latest = await chat.say("ana", "lessons")
    assert latest.index("#2") < latest.index("#1")


async def test_status_lists_open_items(chat: FakeChat) -> None:
    await chat.say("ana", "oops waiting for a lesson")
    await chat.say("ana", "oops has a lesson")
    await chat.say("ana", "learned #2 it taught me")
    text = await chat.say("ana", "status")
    lesson_part, check_part = text.split("Lessons waiting for a check")
    assert "#1" in lesson_part
    assert "#2" in check_part


async def test_export_json_carries_the_whole_story(chat: FakeChat) -> None:
    await chat.say("ana", "oops setback the import lost tags goal: migrate #imports")
    await chat.say("ben", "learned #1 dry runs next time: always dry-run")
    await chat.say("ben", "check #1 unsure")
    reply = await chat.invoke("ana", "export json")
    attachment = reply.private[0].attachments[0]
    assert attachment.filename.endswith(".json")
    data = json.loads(attachment.content)
    misstep = data["missteps"][0]
    assert misstep["what"] == "the import lost tags"
    assert misstep["goal"] == "migrate"
    assert misstep["author"] == {"user_id": "ana", "display_name": "Ana"}
    assert misstep["lesson"]["owner"]["display_name"] == "Ben"
    assert misstep["checks"][0]["answer"] == "unsure"


async def test_export_csv_neutralises_spreadsheet_formulas(chat: FakeChat) -> None:
    await chat.say("ana", 'oops =HYPERLINK("http://evil") happened')
    reply = await chat.invoke("ana", "export csv")
    assert "'=HYPERLINK" in reply.private[0].attachments[0].content.decode()


async def test_announcements_are_off_by_default(chat: FakeChat) -> None:
    reply = await chat.invoke("ana", "oops quiet one")
    assert reply.announcements == ()
    assert "off" in await chat.say("ana", "announce")


async def test_a_number_too_big_for_the_database_is_simply_not_found(chat: FakeChat) -> None:
    await chat.say("ana", "oops one")
    for text in ["status #999999999999", "check #999999999999 stuck", "learned #999999999999 x"]:
        assert "can't find #999999999999" in await chat.say("ana", text)


async def test_a_failing_statement_never_logs_its_parameters(
    chat: FakeChat, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    async def duplicate_number(uow: object, team: object, event: object) -> None:
        await uow.session.execute(  # type: ignore[attr-defined]
            MisstepRow.__table__.insert().values(
                team_id=1,
                number=1,
                what="secret words",
                depth="stumble",
                anonymous=True,
                created_at=START,
                prompt_state="waiting",
                outcome="open",
            )
        )

    engine.reactions = (duplicate_number,)
    with caplog.at_level(logging.ERROR):
        reply = await chat.say("zoe", "oops anon secret words")
    assert "nothing was saved" in reply
    assert "IntegrityError" in caplog.text
    assert "secret words" not in caplog.text
    assert "zoe" not in caplog.text.lower()


async def test_a_repeat_from_before_the_lesson_cannot_be_confirmed(
    chat: FakeChat, clock: ManualClock
) -> None:
    await chat.say("ana", "oops the import dropped tags")
    clock.advance(hours=1)
    await chat.say("ana", "oops the import dropped tags again")
    clock.advance(hours=1)
    await chat.say("ana", "learned #1 dry-run imports first")
    assert "happened before #1 had its lesson" in await chat.say("ana", "same #2 #1")
    assert "Outcome: open" in await chat.say("ana", "status #1")
