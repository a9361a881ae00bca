"""Handlers of the misstep → lesson → check loop. Each runs inside the engine's unit of work."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.core import prompts, render
from bot.core.commands import missteps as cmd
from bot.core.commands.base import UsageError
from bot.core.events import (
    CheckAnswered,
    LessonRecorded,
    MisstepLogged,
    RecurrenceConfirmed,
    RecurrenceDismissed,
)
from bot.core.export import export_file, load_history
from bot.core.forms import lesson_form, oops_form
from bot.core.lifecycle import forget_anonymous_author, refresh_outcome
from bot.core.messages import Message, Reply
from bot.core.model import ItemKind, Misstep, RecurrenceStatus
from bot.core.similarity import Document, document_of
from bot.core.text import markup

if TYPE_CHECKING:
    from bot.core.engine import Context


async def oops(ctx: Context, command: cmd.Oops) -> Reply:
    number = await ctx.uow.teams.next_misstep_number(ctx.team.id)
    misstep = await ctx.missteps.add(
        number=number,
        what=command.what,
        goal=command.goal,
        depth=command.depth,
        tags=command.tags,
        anonymous=command.anonymous,
        author_id=ctx.member.id,
        now=ctx.now,
    )
    history = await ctx.missteps.with_lessons()
    by_id = {m.id: (m, lesson) for m, lesson in history}
    # A meaning-based matcher can take 100 ms or more: a worker thread keeps the event loop (and
    # every other team's acknowledgements) moving meanwhile.
    matches = await asyncio.to_thread(
        ctx.matcher.suggest, document_of(misstep), [document_of(m, lesson) for m, lesson in history]
    )
    suggestions = [by_id[match.key] for match in matches[:1]]
    for match in matches[:1]:
        await ctx.missteps.suggest_recurrence(misstep.id, match.key, match.score, ctx.now)
    ctx.emit(MisstepLogged(misstep, ctx.member))
    announcements: tuple[Message, ...] = ()
    if ctx.team.announce_missteps:
        author = None if misstep.anonymous else ctx.member.display_name
        announcements = (render.announcement(misstep, author),)
    return Reply(private=(render.logged(misstep, suggestions),), announcements=announcements)


async def open_oops_form(ctx: Context, command: cmd.OopsForm) -> Reply:
    return Reply(form=oops_form())


async def learned(ctx: Context, command: cmd.Learned) -> Reply:
    if command.number is not None:
        misstep = await ctx.misstep(command.number)
    else:
        found = await ctx.missteps.latest_without_lesson(ctx.member.id)
        if found is None:
            raise UsageError(
                "You have no missteps waiting for a lesson. Name the one you mean: "
                "`/retro learned #4 what it taught you`.",
                "learned",
            )
        misstep = found
    lesson, created, renewed = await ctx.missteps.save_lesson(
        misstep.id, command.lesson, command.commitment, ctx.member.id, ctx.now
    )
    await forget_anonymous_author(ctx.missteps, misstep)
    await refresh_outcome(ctx.missteps, misstep)
    ctx.emit(LessonRecorded(misstep, lesson, created, renewed))
    return Reply(private=(render.lesson_saved(misstep, lesson, created),))


async def open_lesson_form(ctx: Context, command: cmd.LearnedForm) -> Reply:
    misstep = await ctx.misstep(command.number)
    return Reply(form=lesson_form(misstep, await ctx.missteps.lesson_for(misstep.id)))


LESSON_LIST_SIZE = 10


async def lessons(ctx: Context, command: cmd.Lessons) -> Reply:
    if not command.words:
        pairs = await ctx.missteps.recent_lessons(LESSON_LIST_SIZE)
        return Reply(private=(render.lessons_list(pairs, ""),))
    history = await ctx.missteps.with_lessons()
    by_id = {m.id: (m, lesson) for m, lesson in history}
    # Search, unlike spotting repeats (`document_of`), also reads the commitment: "checklist"
    # should find the lesson whose "next time" is a checklist.
    documents = [
        Document(m.id, f"{m.what} {m.goal or ''} {lesson.text} {lesson.commitment or ''}", m.tags)
        for m, lesson in history
    ]
    ranked = await asyncio.to_thread(ctx.matcher.rank, Document(0, command.words, ()), documents)
    pairs = [by_id[match.key] for match in ranked[:LESSON_LIST_SIZE]]
    return Reply(private=(render.lessons_list(pairs, command.words),))


UNDELIVERED_SHOWN_FOR = timedelta(days=30)
"""How far back `/retro status` lists messages that failed or may not have arrived."""


async def status(ctx: Context, command: cmd.Status) -> Reply:
    if command.number is None:
        undelivered = await ctx.uow.agenda(ctx.team.id).undelivered(ctx.now - UNDELIVERED_SHOWN_FOR)
        failed = [prompts.undelivered_line(item, number, ctx.team.timezone) for item, number in undelivered]
        return Reply(
            private=(
                render.open_items(
                    await ctx.missteps.waiting_for_lesson(), await ctx.missteps.waiting_for_check(), failed
                ),
            )
        )
    story = await ctx.missteps.story(command.number)
    if story is None:
        return Reply(private=(render.not_found(command.number),))
    misstep = story.misstep
    people = {c.answered_by for c in story.checks if c.answered_by is not None}
    if misstep.author_id is not None and not misstep.anonymous:
        people.add(misstep.author_id)
    names = await ctx.uow.members.names(people)
    author = None if misstep.anonymous or misstep.author_id is None else names.get(misstep.author_id)
    return Reply(private=(render.story(story, author, ctx.team.timezone, names),))


async def check(ctx: Context, command: cmd.Check) -> Reply:
    misstep = await ctx.misstep(command.number)
    lesson = await ctx.missteps.lesson_for(misstep.id)
    if lesson is None:
        raise UsageError(
            f"#{misstep.number} has no lesson yet, so there is nothing to check. "
            f"Add one first: `/retro learned #{misstep.number} ...`."
        )
    previous = await ctx.missteps.checks_for(misstep.id)
    last = previous[-1] if previous else None
    if (
        last is not None
        and last.answer is command.answer
        and last.answered_by == ctx.member.id
        and last.answered_at >= lesson.renewed_at
        # The same answer to a check asked again since ("unsure" twice) is a new answer.
        and not await _check_asked_since(ctx, misstep, last.answered_at)
    ):
        # A double-clicked button or a repeated command: the answer is already on record.
        return Reply(private=(render.check_saved(misstep, command.answer, misstep.outcome),))
    answer = await ctx.missteps.add_check(misstep.id, command.answer, ctx.member.id, ctx.now)
    decision = await refresh_outcome(ctx.missteps, misstep)
    ctx.emit(CheckAnswered(misstep, answer))
    return Reply(private=(render.check_saved(misstep, command.answer, decision.outcome),))


async def _check_asked_since(ctx: Context, misstep: Misstep, at: datetime) -> bool:
    asked = await ctx.uow.agenda(ctx.team.id).latest(misstep.id, ItemKind.CHECK)
    return asked is not None and asked.sent_at is not None and asked.sent_at > at


async def _pair(ctx: Context, number: int, earlier_number: int) -> tuple[Misstep, Misstep]:
    misstep, earlier = await ctx.misstep(number), await ctx.misstep(earlier_number)
    if earlier.number > misstep.number:
        raise UsageError(
            f"The new misstep goes first: `/retro same #{earlier.number} #{misstep.number}`?", "same"
        )
    return misstep, earlier


async def same(ctx: Context, command: cmd.Same) -> Reply:
    misstep, earlier = await _pair(ctx, command.number, command.earlier)
    lesson = await ctx.missteps.lesson_for(earlier.id)
    if lesson is None:
        raise UsageError(
            f"#{earlier.number} has no lesson yet, so no lesson failed to stick. "
            f"Record what it taught first: `/retro learned #{earlier.number} ...`."
        )
    if misstep.created_at < lesson.created_at:
        # A repeat tests a lesson only if the lesson existed when it happened (DESIGN.md §2).
        raise UsageError(
            f"#{misstep.number} happened before #{earlier.number} had its lesson, so it can't show "
            "that the lesson didn't stick."
        )
    existing = await ctx.missteps.recurrence(misstep.id, earlier.id)
    if existing is not None and existing.status is RecurrenceStatus.CONFIRMED:
        return Reply(private=(render.recurrence_decided(misstep, earlier, True, earlier.outcome),))
    await ctx.missteps.decide_recurrence(
        misstep.id, earlier.id, RecurrenceStatus.CONFIRMED, ctx.member.id, ctx.now
    )
    decision = await refresh_outcome(ctx.missteps, earlier)
    ctx.emit(RecurrenceConfirmed(misstep, earlier))
    return Reply(private=(render.recurrence_decided(misstep, earlier, True, decision.outcome),))


async def dismiss(ctx: Context, command: cmd.Dismiss) -> Reply:
    misstep, earlier = await _pair(ctx, command.number, command.earlier)
    existing = await ctx.missteps.recurrence(misstep.id, earlier.id)
    await ctx.missteps.decide_recurrence(
        misstep.id, earlier.id, RecurrenceStatus.DISMISSED, ctx.member.id, ctx.now
    )
    decision = await refresh_outcome(ctx.missteps, earlier)
    if existing is not None and existing.status is RecurrenceStatus.CONFIRMED:
        # The confirmation stopped the earlier misstep's check; undoing it must let it resume.
        ctx.emit(RecurrenceDismissed(misstep, earlier))
    return Reply(private=(render.recurrence_decided(misstep, earlier, False, decision.outcome),))


async def export(ctx: Context, command: cmd.Export) -> Reply:
    history = await load_history(ctx.uow, ctx.team)
    attachment = export_file(history, command.format, ctx.now)
    count = len(history.missteps)
    message = markup(
        f"Here is the team's history: {count} misstep{'s' if count != 1 else ''}, as {command.format}."
    )
    return Reply(private=(Message(blocks=message.blocks, attachments=(attachment,)),))


async def announce(ctx: Context, command: cmd.Announce) -> Reply:
    if command.on is None:
        state = "on" if ctx.team.announce_missteps else "off"
        return Reply(
            private=(
                markup(
                    f"Announcing new missteps in the channel is {state}. "
                    "Change it with `/retro announce on` or `/retro announce off`."
                ),
            )
        )
    await ctx.uow.teams.set_announce(ctx.team.id, command.on)
    if command.on:
        text = "From now on I'll post new missteps in the channel (anonymous ones without any name)."
    else:
        text = "I'll stop posting new missteps in the channel."
    return Reply(private=(markup(text),))


HANDLERS = {
    cmd.Oops: oops,
    cmd.OopsForm: open_oops_form,
    cmd.Learned: learned,
    cmd.LearnedForm: open_lesson_form,
    cmd.Lessons: lessons,
    cmd.Status: status,
    cmd.Check: check,
    cmd.Same: same,
    cmd.Dismiss: dismiss,
    cmd.Export: export,
    cmd.Announce: announce,
}
