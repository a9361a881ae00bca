"""Property-based: whatever people type, the engine answers, and the database stays consistent."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from adapters.fake import FakeChat
from bot.core.commands.grammar import GRAMMAR
from bot.core.messages import render_plain
from bot.core.outcome import decide_outcome
from bot.storage.database import Database
from bot.storage.tables import LessonRow, MisstepRow, MisstepTagRow, RecurrenceRow, TeamRow

WORDS = [
    *GRAMMAR.words,
    *("#1", "#2", "#3", "#0", "#-1", "#999999999999", "#abc", "#tag"),
    *("anon", "stumble", "setback", "fall", "goal:", "next time:", "stuck", "recurred", "unsure"),
    *("csv", "json", "md", "on", "off", "<!channel>", "@everyone", "\u202e", "\x00"),
]
command_texts = st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=24)), min_size=0, max_size=8).map(
    " ".join
)
scripts = st.lists(
    st.tuples(st.sampled_from(["ana", "ben"]), st.booleans(), command_texts), min_size=1, max_size=6
)


async def assert_consistent(database: Database) -> None:
    async with database.unit_of_work() as uow:
        session = uow.session
        for team_id, seq in (await session.execute(select(TeamRow.id, TeamRow.misstep_seq))).all():
            numbers = list(
                await session.scalars(select(MisstepRow.number).where(MisstepRow.team_id == team_id))
            )
            assert sorted(numbers) == list(range(1, seq + 1)), "numbers are 1..N with no gaps"
            missteps = uow.missteps(team_id)
            for misstep in await missteps.all():
                decision = decide_outcome(await missteps.outcome_facts(misstep.id))
                assert (misstep.outcome, misstep.outcome_at) == (decision.outcome, decision.at)
        for child in (LessonRow, RecurrenceRow, MisstepTagRow):
            mismatched = await session.scalar(
                select(func.count())
                .select_from(child)
                .join(MisstepRow, MisstepRow.id == child.misstep_id)
                .where(MisstepRow.team_id != child.team_id)
            )
            assert mismatched == 0, f"{child.__tablename__} rows belong to their misstep's team"
        cross = await session.scalar(
            select(func.count())
            .select_from(RecurrenceRow)
            .join(MisstepRow, MisstepRow.id == RecurrenceRow.earlier_id)
            .where(MisstepRow.team_id != RecurrenceRow.team_id)
        )
        assert cross == 0, "a recurrence never links two teams"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=scripts)
async def test_any_command_text_gets_an_answer_and_keeps_the_database_consistent(
    chat: FakeChat, database: Database, script: list[tuple[str, bool, str]]
) -> None:
    for user, other_team, text in script:
        where = chat.elsewhere() if other_team else chat
        reply = await where.invoke(user, text)
        assert reply.private or reply.form is not None, "every invocation gets an answer"
        for message in reply.private:
            assert "Something went wrong" not in render_plain(message), text
    await assert_consistent(database)
