"""Planning against the database: what the reactions, the schedule commands and the tick's
follow-ups write. The "when" comes from the pure `planner`; this module decides "what next".

Each step of a conversation is its own item, planned when the step before it is done:
lesson prompt -> reminder -> prompt window closes (failing); lesson -> check -> check window
closes (learning, unless a recurrence was linked); `unsure` -> the check once more. A weekly post
plans the next week's when it is done, whatever happened to it (sent, failed, missed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from bot.core.lifecycle import forget_anonymous_author, refresh_outcome
from bot.core.model import (
    WEEKLY_KINDS,
    Depth,
    ItemKind,
    ItemStatus,
    LessonPromptState,
    Member,
    Misstep,
    ScheduledItem,
    Team,
    TeamSchedule,
)
from bot.scheduling import planner
from bot.scheduling.policy import SchedulePolicy
from bot.storage.repositories.scheduling import NewItem
from bot.storage.unit_of_work import UnitOfWork

LESSON_CHAIN = (ItemKind.LESSON_PROMPT, ItemKind.LESSON_REMINDER, ItemKind.LESSON_CLOSE)
CHECK_CHAIN = (ItemKind.CHECK, ItemKind.CHECK_CLOSE)
CHECK_ROUNDS = 2
"""The check is asked once, and once more after `unsure`."""


def team_schedule(kind: ItemKind, stored: TeamSchedule | None, policy: SchedulePolicy) -> TeamSchedule | None:
    """The schedule in force for a weekly post: the team's own, else the default; None when off."""
    if stored is not None:
        return stored if stored.enabled else None
    default = policy.default_post(kind)
    return None if default is None else TeamSchedule(kind, default)


def timing(
    cal: planner.Calendar, due_by: Callable[[planner.Calendar], datetime]
) -> tuple[datetime, datetime]:
    """(due, run_at) of a private prompt: due by the cool-down alone, run after the recipient's
    pause. Kept apart so that `/retro resume` can bring it forward again."""
    due = due_by(replace(cal, paused_until=None))
    return due, planner.next_working_time(due, cal)


def next_post(team: Team, schedule: TeamSchedule, after: datetime, occurrence: int) -> NewItem:
    return NewItem(
        team_id=team.id,
        platform=team.ref.platform,
        kind=schedule.kind,
        due_at=planner.next_weekly(after, schedule.when, planner.zone_name(team.timezone, "UTC")),
        occurrence=occurrence,
    )


async def lesson_prompt(
    uow: UnitOfWork, team: Team, misstep: Misstep, author: Member, policy: SchedulePolicy
) -> ScheduledItem:
    """Plan the lesson prompt of a misstep just logged."""
    earlier_falls = 0
    agenda = uow.agenda(team.id)
    if misstep.depth is Depth.FALL:
        since = misstep.created_at - planner.FALL_STACK_WINDOW
        earlier_falls = await agenda.falls_before(author.id, since, misstep.number)
    cal = planner.member_calendar(author, team, policy)
    due, run_at = timing(
        cal, lambda c: planner.lesson_prompt_due(misstep.created_at, misstep.depth, c, policy, earlier_falls)
    )
    return await agenda.plan(
        NewItem(
            team_id=team.id,
            platform=team.ref.platform,
            kind=ItemKind.LESSON_PROMPT,
            due_at=due,
            misstep_id=misstep.id,
            member_id=author.id,
            run_at=run_at,
        ),
        misstep.created_at,
    )


async def check(
    uow: UnitOfWork,
    team: Team,
    misstep: Misstep,
    owner: Member,
    after: datetime,
    policy: SchedulePolicy,
    occurrence: int = 0,
) -> ScheduledItem:
    """Plan a follow-up check to the lesson's owner, `check_after` from `after` (when the lesson's
    clock started, or when `unsure` was answered), as of that moment."""
    return await _plan_check(
        uow, team, misstep, owner, policy, lambda c: planner.check_due(after, c, policy), after, occurrence
    )


async def resume_check(
    uow: UnitOfWork,
    team: Team,
    misstep: Misstep,
    owner: Member,
    lesson_at: datetime,
    now: datetime,
    policy: SchedulePolicy,
    occurrence: int = 0,
) -> ScheduledItem:
    """Plan again the check a confirmed repeat stopped, now that it was dismissed: due when it was
    due for the lesson (`lesson_at`), as if nothing had happened, or now if that has passed."""
    return await _plan_check(
        uow,
        team,
        misstep,
        owner,
        policy,
        lambda c: max(planner.check_due(lesson_at, c, policy), now),
        now,
        occurrence,
    )


async def hand_over_check(
    uow: UnitOfWork,
    team: Team,
    misstep: Misstep,
    owner: Member,
    item: ScheduledItem,
    now: datetime,
    policy: SchedulePolicy,
) -> ScheduledItem:
    """An edit gave the lesson a new owner: its check not yet asked goes to them instead, due when
    it was (their working hours and pause decide when it goes out)."""
    await uow.agenda(team.id).cancel(
        [ItemKind.CHECK], "the lesson has a new owner", now, misstep_id=misstep.id
    )
    return await _plan_check(uow, team, misstep, owner, policy, lambda c: item.due_at, now, item.occurrence)


async def _plan_check(
    uow: UnitOfWork,
    team: Team,
    misstep: Misstep,
    owner: Member,
    policy: SchedulePolicy,
    due_by: Callable[[planner.Calendar], datetime],
    now: datetime,
    occurrence: int,
) -> ScheduledItem:
    due, run_at = timing(planner.member_calendar(owner, team, policy), due_by)
    return await uow.agenda(team.id).plan(
        NewItem(
            team_id=team.id,
            platform=team.ref.platform,
            kind=ItemKind.CHECK,
            due_at=due,
            misstep_id=misstep.id,
            member_id=owner.id,
            occurrence=occurrence,
            run_at=run_at,
        ),
        now,
    )


async def ensure_team_posts(uow: UnitOfWork, team: Team, policy: SchedulePolicy, now: datetime) -> None:
    """Make sure each weekly post that is on has its next occurrence planned."""
    agenda = uow.agenda(team.id)
    stored = await agenda.schedules()
    pending = {item.kind for item in await agenda.pending(kinds=WEEKLY_KINDS)}
    for kind in WEEKLY_KINDS:
        schedule = team_schedule(kind, stored.get(kind), policy)
        if schedule is not None and kind not in pending:
            await agenda.plan(next_post(team, schedule, now, 0), now)


async def replan_team_posts(uow: UnitOfWork, team: Team, policy: SchedulePolicy, now: datetime) -> None:
    """The team's schedule or timezone changed: drop what was planned and plan afresh."""
    await uow.agenda(team.id).cancel(WEEKLY_KINDS, "the team's schedule changed", now)
    await ensure_team_posts(uow, team, policy, now)


async def forget_recipient(uow: UnitOfWork, team: Team, misstep: Misstep) -> None:
    """An anonymous author's address goes once no prompt needs it: from the misstep, and from
    the prompts and deliveries that carried it (else they would still tie the two together)."""
    if misstep.anonymous:
        await forget_anonymous_author(uow.missteps(team.id), misstep)
        await uow.agenda(team.id).forget_recipient(misstep.id, LESSON_CHAIN)


# -- what comes after an item ---------------------------------------------------------------


def prompt_state_after(item: ScheduledItem, status: ItemStatus) -> LessonPromptState | None:
    """Where a sent lesson prompt or reminder moves its misstep's prompt state."""
    if status is not ItemStatus.SENT:
        return None
    return {
        ItemKind.LESSON_PROMPT: LessonPromptState.PROMPTED,
        ItemKind.LESSON_REMINDER: LessonPromptState.REMINDED,
    }.get(item.kind)


async def close_window(
    uow: UnitOfWork, team: Team, item: ScheduledItem, misstep: Misstep, now: datetime
) -> None:
    """What a window-closing item does to its misstep; the outcome rule decides the rest."""
    missteps = uow.missteps(team.id)
    if item.kind is ItemKind.LESSON_CLOSE:
        await missteps.set_prompt_state(misstep.id, LessonPromptState.CLOSED, closed_at=now)
        await refresh_outcome(missteps, misstep)
        await forget_recipient(uow, team, misstep)
    elif item.kind is ItemKind.CHECK_CLOSE:
        await missteps.close_check_window(misstep.id, now)
        await refresh_outcome(missteps, misstep)


def next_steps(
    team: Team,
    item: ScheduledItem,
    status: ItemStatus,
    now: datetime,
    policy: SchedulePolicy,
    *,
    recipient: Member | None,
    schedule: TeamSchedule | None,
) -> list[NewItem]:
    """What to plan once an item has ended with `status`.

    The conversation moves on whatever happened to the message (sent, refused, lost in a crash):
    only a lesson or an answer stops it, and every misstep reaches an outcome.
    """
    paused_cal = planner.member_calendar(recipient, team, policy)
    # Windows close on time, pause or not; only messages wait for the recipient.
    cal = replace(paused_cal, paused_until=None)

    def step(kind: ItemKind, due: datetime, member_id: int | None = None) -> NewItem:
        return NewItem(
            team_id=team.id,
            platform=team.ref.platform,
            kind=kind,
            due_at=due,
            misstep_id=item.misstep_id,
            member_id=member_id,
            occurrence=item.occurrence,
            run_at=planner.next_working_time(due, paused_cal) if member_id is not None else None,
        )

    match item.kind:
        case ItemKind.LESSON_PROMPT:
            return [step(ItemKind.LESSON_REMINDER, planner.reminder_due(now, cal), member_id=item.member_id)]
        case ItemKind.LESSON_REMINDER:
            return [step(ItemKind.LESSON_CLOSE, planner.prompt_window_closes(now, cal))]
        case ItemKind.CHECK:
            return [step(ItemKind.CHECK_CLOSE, planner.check_window_closes(now, cal, policy))]
        case ItemKind.RETRO_ROUND | ItemKind.DIGEST:
            following: list[NewItem] = []
            if item.kind is ItemKind.RETRO_ROUND and status is ItemStatus.SENT:
                summary = planner.round_summary_due(item.due_at, planner.team_calendar(team, policy))
                following.append(
                    NewItem(
                        team_id=team.id,
                        platform=team.ref.platform,
                        kind=ItemKind.ROUND_SUMMARY,
                        due_at=summary,
                        occurrence=item.occurrence,
                        window_start=item.due_at,
                    )
                )
            if schedule is not None:
                following.append(next_post(team, schedule, max(item.due_at, now), item.occurrence + 1))
            return following
    return []
