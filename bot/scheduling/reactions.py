"""The scheduler's reactions to what people do: run by the engine inside the command's own
transaction, so a misstep and its lesson prompt (a lesson and its check, ...) are saved together
or not at all. Each returns a short note for the person's reply, saying when the bot will ask."""

from __future__ import annotations

from datetime import datetime

from bot.core import prompts
from bot.core.clock import Clock
from bot.core.events import CheckAnswered, Event, LessonRecorded, MisstepLogged, RecurrenceConfirmed
from bot.core.model import CheckAnswer, ItemKind, Team
from bot.scheduling import planner, plans
from bot.scheduling.policy import SchedulePolicy
from bot.storage.unit_of_work import UnitOfWork


class SchedulingReactions:
    """Plans prompts and checks as missteps, lessons and answers come in."""

    def __init__(self, policy: SchedulePolicy, clock: Clock) -> None:
        self.policy = policy
        self.clock = clock

    async def __call__(self, uow: UnitOfWork, team: Team, event: Event) -> str | None:
        now = self.clock()
        match event:
            case MisstepLogged(misstep, author):
                await plans.ensure_team_posts(uow, team, self.policy, misstep.created_at)
                item = await plans.lesson_prompt(uow, team, misstep, author, self.policy)
                zone = planner.member_calendar(author, team, self.policy).timezone
                return prompts.prompt_note(item.run_at, misstep.created_at, zone)
            case LessonRecorded(misstep, lesson):
                agenda = uow.agenda(team.id)
                await agenda.cancel(plans.LESSON_CHAIN, "the lesson came in", now, misstep_id=misstep.id)
                await agenda.cancel(plans.CHECK_CHAIN, "the lesson changed", now, misstep_id=misstep.id)
                await plans.forget_recipient(uow, team, misstep)
                owner = await uow.members.get(lesson.owner_id)
                assert owner is not None, "a lesson's owner is a member"
                item = await plans.check(
                    uow, team, misstep, owner, lesson.updated_at, lesson.updated_at, self.policy
                )
                zone = planner.member_calendar(owner, team, self.policy).timezone
                return prompts.check_note(item.run_at, lesson.updated_at, zone)
            case CheckAnswered(misstep, check) if check.answer is CheckAnswer.UNSURE:
                return await self._unsure(uow, team, event, now)
            case CheckAnswered(misstep):
                await uow.agenda(team.id).cancel(
                    plans.CHECK_CHAIN, "the check was answered", now, misstep_id=misstep.id
                )
            case RecurrenceConfirmed(_, earlier):
                await uow.agenda(team.id).cancel(
                    plans.CHECK_CHAIN, "a repeat was confirmed", now, misstep_id=earlier.id
                )
        return None

    async def _unsure(self, uow: UnitOfWork, team: Team, event: CheckAnswered, now: datetime) -> str | None:
        """`unsure` asks once more, `check_after` later; after the second ask, the window that is
        already planned closes as planned."""
        agenda, misstep, check = uow.agenda(team.id), event.misstep, event.check
        latest = await agenda.latest(misstep.id, ItemKind.CHECK)
        asked = latest.occurrence + 1 if latest is not None else 0
        if asked >= plans.CHECK_ROUNDS:
            closing = await agenda.pending(misstep_id=misstep.id, kinds=[ItemKind.CHECK_CLOSE])
            if not closing:
                return None
            return prompts.last_ask_note(closing[0].due_at, check.answered_at, team.timezone)
        await agenda.cancel(
            plans.CHECK_CHAIN, "answered unsure: asking once more", now, misstep_id=misstep.id
        )
        lesson = await uow.missteps(team.id).lesson_for(misstep.id)
        owner = await uow.members.get(lesson.owner_id) if lesson else None
        if owner is None:
            return None
        item = await plans.check(
            uow, team, misstep, owner, check.answered_at, check.answered_at, self.policy, occurrence=asked
        )
        zone = planner.member_calendar(owner, team, self.policy).timezone
        return prompts.check_note(item.run_at, check.answered_at, zone, again=True)
