"""Handlers of the schedule commands. Each runs inside the engine's unit of work."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time
from typing import TYPE_CHECKING

from bot.core import prompts
from bot.core.commands import schedule as cmd
from bot.core.commands.base import UsageError
from bot.core.messages import Field, Fields, Message, Reply
from bot.core.model import WEEKLY_KINDS, ItemKind, Member, TeamSchedule
from bot.core.text import markup
from bot.core.timeutil import DAY_NAMES, format_weekdays
from bot.scheduling import planner, plans

if TYPE_CHECKING:
    from bot.core.engine import Context

POST_NAMES = {ItemKind.RETRO_ROUND: "Retro round", ItemKind.DIGEST: "Weekly digest"}


def _weekly(schedule: TeamSchedule | None) -> str:
    if schedule is None:
        return "off"
    return f"{DAY_NAMES[schedule.when.weekday]}s at {schedule.when.at:%H:%M}"


def _calendar(ctx: Context, member: Member) -> planner.Calendar:
    return planner.member_calendar(member, ctx.team, ctx.policy)


async def _posts(ctx: Context) -> dict[ItemKind, TeamSchedule | None]:
    stored = await ctx.uow.agenda(ctx.team.id).schedules()
    return {kind: plans.team_schedule(kind, stored.get(kind), ctx.policy) for kind in WEEKLY_KINDS}


async def _next_posts(ctx: Context, timezone: str) -> list[str]:
    pending = {i.kind: i for i in await ctx.uow.agenda(ctx.team.id).pending(kinds=WEEKLY_KINDS)}
    return [
        f"next {POST_NAMES[kind].lower()} {prompts.when(item.due_at, ctx.now, timezone)}"
        for kind, item in sorted(pending.items())
    ]


async def show(ctx: Context, command: cmd.ShowSchedule) -> Reply:
    team_zone = planner.zone_name(ctx.team.timezone, ctx.policy.timezone)
    agenda = ctx.uow.agenda(ctx.team.id)
    pending = {i.kind: i for i in await agenda.pending(kinds=WEEKLY_KINDS)}
    fields = [Field("Team timezone", (team_zone,), inline=True)]
    for kind, schedule in (await _posts(ctx)).items():
        value = _weekly(schedule)
        if kind in pending:
            value += f" (next {prompts.when(pending[kind].due_at, ctx.now, team_zone)})"
        fields.append(Field(POST_NAMES[kind], (value,), inline=True))
    cal = _calendar(ctx, ctx.member)
    fields.append(Field("Your timezone", (cal.timezone,), inline=True))
    fields.append(
        Field("Your working hours", (f"{cal.hours}, {format_weekdays(cal.weekdays)}",), inline=True)
    )
    if cal.paused_until is not None and cal.paused_until > ctx.now:
        fields.append(Field("Paused", (prompts.until(cal.paused_until, ctx.now, cal.timezone),)))
    upcoming = await agenda.pending(member_id=ctx.member.id)
    if upcoming:
        lines = [
            f"{prompts.kind_name(i.kind)} {prompts.when(max(i.due_at, i.run_at), ctx.now, cal.timezone)}"
            for i in upcoming
            if i.kind.private
        ]
        fields.append(Field("Coming up for you", ("\n".join(lines[:5]),)))
    help_line = markup(
        "Change it: `/retro schedule tz <zone>`, `/retro schedule retro fri 15:00`, "
        "`/retro schedule off digest`; yours: `/retro tz`, `/retro hours`, `/retro pause`."
    )
    return Reply(private=(Message(title="Schedule", blocks=(Fields(tuple(fields)), *help_line.blocks)),))


async def team_timezone(ctx: Context, command: cmd.TeamTimezone) -> Reply:
    await ctx.uow.teams.set_timezone(ctx.team.id, command.timezone)
    team = replace(ctx.team, timezone=command.timezone)
    await plans.replan_team_posts(ctx.uow, team, ctx.policy, ctx.now)
    upcoming = await _next_posts(ctx, command.timezone)
    tail = f" Team posts follow it: {'; '.join(upcoming)}." if upcoming else ""
    return Reply(private=(markup(f"The team's timezone is now {command.timezone}.{tail}"),))


async def team_post_at(ctx: Context, command: cmd.TeamPostAt) -> Reply:
    agenda = ctx.uow.agenda(ctx.team.id)
    schedule = TeamSchedule(command.kind, command.when)
    await agenda.save_schedule(schedule)
    await plans.replan_team_posts(ctx.uow, ctx.team, ctx.policy, ctx.now)
    zone = planner.zone_name(ctx.team.timezone, ctx.policy.timezone)
    pending = await agenda.pending(kinds=[command.kind])
    next_one = f" The next one is {prompts.when(pending[0].due_at, ctx.now, zone)}." if pending else ""
    return Reply(private=(markup(f"{POST_NAMES[command.kind]}: {_weekly(schedule)} ({zone}).{next_one}"),))


async def team_post_switch(ctx: Context, command: cmd.TeamPostSwitch) -> Reply:
    agenda = ctx.uow.agenda(ctx.team.id)
    stored = (await agenda.schedules()).get(command.kind)
    when = stored.when if stored else ctx.policy.default_post(command.kind)
    name, word = POST_NAMES[command.kind], cmd.POST_WORDS[command.kind]
    if when is None:
        if command.on:
            raise UsageError(f"Say when: `/retro schedule {word} mon 09:00`.", "schedule")
        return Reply(private=(markup(f"{name}: already off."),))
    await agenda.save_schedule(TeamSchedule(command.kind, when, enabled=command.on))
    await plans.replan_team_posts(ctx.uow, ctx.team, ctx.policy, ctx.now)
    if command.on:
        return Reply(private=(markup(f"{name}: back on, {_weekly(TeamSchedule(command.kind, when))}."),))
    return Reply(private=(markup(f"{name}: off. Turn it back on with `/retro schedule on {word}`."),))


async def my_timezone(ctx: Context, command: cmd.MyTimezone) -> Reply:
    if command.timezone is None and not command.reset:
        zone = _calendar(ctx, ctx.member).timezone
        return Reply(private=(markup(f"Your timezone: {zone}. Change it with `/retro tz Europe/Berlin`."),))
    await ctx.uow.members.set_timezone(ctx.member.id, command.timezone)
    member = await ctx.uow.members.get(ctx.member.id)
    assert member is not None
    cal = _calendar(ctx, member)
    lead = (
        "Your timezone is now" if command.timezone else "Your timezone follows your platform or team again:"
    )
    return Reply(
        private=(markup(f"{lead} {cal.timezone}. I'll only message you {cal.hours} there, on working days."),)
    )


async def my_hours(ctx: Context, command: cmd.MyHours) -> Reply:
    if command.hours is None and not command.reset:
        cal = _calendar(ctx, ctx.member)
        return Reply(
            private=(
                markup(
                    f"Your working hours: {cal.hours} ({cal.timezone}), {format_weekdays(cal.weekdays)}. "
                    "Change them with `/retro hours 08:30-16:30`."
                ),
            )
        )
    await ctx.uow.members.set_working_hours(ctx.member.id, command.hours)
    cal = _calendar(ctx, replace(ctx.member, working_hours=command.hours))
    return Reply(
        private=(
            markup(
                f"I'll message you between {cal.hours.start:%H:%M} and {cal.hours.end:%H:%M} "
                f"({cal.timezone})."
            ),
        )
    )


async def pause(ctx: Context, command: cmd.Pause) -> Reply:
    cal = _calendar(ctx, ctx.member)
    if command.until is None and command.length is None:
        if cal.paused_until is None or cal.paused_until <= ctx.now:
            return Reply(
                private=(markup("You're not paused. `/retro pause 5d` or `/retro pause until 2026-12-10`."),)
            )
        return Reply(private=(markup(f"Paused {prompts.until(cal.paused_until, ctx.now, cal.timezone)}."),))
    until = _pause_end(command, ctx.now, cal)
    await ctx.uow.members.set_paused_until(ctx.member.id, until)
    waiting = [
        i for i in await ctx.uow.agenda(ctx.team.id).pending(member_id=ctx.member.id) if i.due_at < until
    ]
    note = prompts.paused_note(until, ctx.now, cal.timezone, len(waiting))
    return Reply(
        private=(Message(blocks=(*markup(note).blocks, *markup("Back early? `/retro resume`.").blocks)),)
    )


def _pause_end(command: cmd.Pause, now: datetime, cal: planner.Calendar) -> datetime:
    if command.length is not None:
        return now + command.length
    assert command.until is not None
    # Dates are bounded before they become times: 0001-01-01 or 9999-12-31 in a zone ahead of or
    # behind UTC would overflow the datetime range.
    today = now.astimezone(cal.zone).date()
    if command.until <= today:
        raise UsageError(f"{command.until} has already begun where you are; pick a later day.", "pause")
    if command.until - today > cmd.MAX_PAUSE:
        raise UsageError("A pause can last a year at most.", "pause")
    return planner.wall_clock(command.until, time(0, 0), cal.zone)


async def resume(ctx: Context, command: cmd.Resume) -> Reply:
    paused = ctx.member.paused_until
    if paused is None or paused <= ctx.now:
        return Reply(private=(markup("You're not paused; nothing to resume."),))
    await ctx.uow.members.set_paused_until(ctx.member.id, None)
    released = await ctx.uow.outbox.release_member(ctx.member.id, ctx.now)
    plural = "s" if released != 1 else ""
    waiting = (
        f" {released} prompt{plural} held by the pause will come when due, in your working hours."
        if released
        else ""
    )
    return Reply(private=(markup(f"Welcome back.{waiting}"),))


HANDLERS = {
    cmd.ShowSchedule: show,
    cmd.TeamTimezone: team_timezone,
    cmd.TeamPostAt: team_post_at,
    cmd.TeamPostSwitch: team_post_switch,
    cmd.MyTimezone: my_timezone,
    cmd.MyHours: my_hours,
    cmd.Pause: pause,
    cmd.Resume: resume,
}
