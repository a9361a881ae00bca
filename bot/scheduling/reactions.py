"""The scheduler's reactions to what people do: run by the engine inside the command's own
transaction, so a misstep and its lesson prompt (a lesson and its check, ...) are saved together
or not at all. Each returns a short note for the person's reply, saying when the bot will ask."""

from __future__ import annotations

from datetime import datetime

from bot.core import prompts
from bot.core.clock import Clock
from bot.core.events import (
    CheckAnswered,
    Event,
    LessonRecorded,
    MisstepLogged,
    RecurrenceConfirmed,
    RecurrenceDismissed,
)
from bot.core.model import CheckAnswer, ItemKind, Member, Misstep, Team
from bot.core.outcome import awaiting_verdict
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
            case LessonRecorded(misstep, lesson, renewed=renewed):
                agenda = uow.agenda(team.id)
                await agenda.cancel(plans.LESSON_CHAIN, "the lesson came in", now, misstep_id=misstep.id)
                await plans.forget_recipient(uow, team, misstep)
                owner = await uow.members.get(lesson.owner_id)
                assert owner is not None, "a lesson's owner is a member"
                if not renewed:
                    await self._edited(uow, team, misstep, owner, now)
                    return None
                await agenda.cancel(plans.CHECK_CHAIN, "a new lesson replaced it", now, misstep_id=misstep.id)
                item = await plans.check(uow, team, misstep, owner, lesson.renewed_at, self.policy)
                zone = planner.member_calendar(owner, team, self.policy).timezone
                return prompts.check_note(item.run_at, lesson.renewed_at, zone)
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
            case RecurrenceDismissed(_, earlier):
                return await self._check_again(uow, team, earlier, now)
        return None

    async def _edited(
        self, uow: UnitOfWork, team: Team, misstep: Misstep, owner: Member, now: datetime
    ) -> None:
        """An edit keeps the lesson's clock and its check; only a check not yet asked follows the
        lesson to a new owner (whoever saved it), due when it was."""
        for item in await uow.agenda(team.id).pending(misstep_id=misstep.id, kinds=[ItemKind.CHECK]):
            if item.member_id != owner.id:
                await plans.hand_over_check(uow, team, misstep, owner, item, now, self.policy)

    async def _check_again(self, uow: UnitOfWork, team: Team, misstep: Misstep, now: datetime) -> str | None:
        """A dismissal undid the confirmed repeat that stopped this misstep's check: plan it again,
        if its lesson still waits for a verdict (no answer or other repeat has spoken since) and
        nothing of its check chain is pending."""
        agenda, missteps = uow.agenda(team.id), uow.missteps(team.id)
        if not awaiting_verdict(await missteps.outcome_facts(misstep.id)):
            return None
        if await agenda.pending(misstep_id=misstep.id, kinds=plans.CHECK_CHAIN):
            return None
        lesson = await missteps.lesson_for(misstep.id)
        assert lesson is not None, "a lesson waiting for its verdict exists"
        owner = await uow.members.get(lesson.owner_id)
        assert owner is not None, "a lesson's owner is a member"
        # Keep the round the check had reached: `unsure` earns one more ask, not one per dismissal.
        asked = await agenda.latest(misstep.id, ItemKind.CHECK)
        item = await plans.resume_check(
            uow, team, misstep, owner, lesson.renewed_at, now, self.policy, asked.occurrence if asked else 0
        )
        zone = planner.zone_name(team.timezone, self.policy.timezone)
        return prompts.check_back_note(misstep.number, item.run_at, now, zone)

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
            zone = planner.zone_name(team.timezone, self.policy.timezone)
            return prompts.last_ask_note(closing[0].due_at, check.answered_at, zone)
        await agenda.cancel(
            plans.CHECK_CHAIN, "answered unsure: asking once more", now, misstep_id=misstep.id
        )
        lesson = await uow.missteps(team.id).lesson_for(misstep.id)
        owner = await uow.members.get(lesson.owner_id) if lesson else None
        if owner is None:
            return None
        item = await plans.check(uow, team, misstep, owner, check.answered_at, self.policy, occurrence=asked)
        zone = planner.member_calendar(owner, team, self.policy).timezone
        return prompts.check_note(item.run_at, check.answered_at, zone, again=True)
