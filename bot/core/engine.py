"""The retrospective engine: one entry point, `Engine.handle`, for every platform.

An invocation is parsed by the shared grammar, then run by its handler inside one unit of work
together with the reactions to what it did (the scheduler planning follow-ups). Either all of it
is committed or none of it: bad input and failures leave nothing half-written.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from bot.core.clock import Clock
from bot.core.commands.base import UsageError
from bot.core.commands.grammar import GRAMMAR, Help
from bot.core.events import Event, Reaction
from bot.core.handlers import HANDLERS
from bot.core.messages import Message, Reply
from bot.core.model import Member, Misstep, Team, TeamRef
from bot.core.ports import Home, HomeSection, Invocation, WorkspaceTeam
from bot.core.render import home_intro, home_section, not_found
from bot.core.similarity import Matcher
from bot.core.text import markup
from bot.scheduling.policy import SchedulePolicy
from bot.storage.database import Database
from bot.storage.repositories.missteps import TeamMissteps
from bot.storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


@dataclass
class Context:
    """What a handler gets: the caller, their team, the unit of work and the time."""

    uow: UnitOfWork
    team: Team
    member: Member
    now: datetime
    matcher: Matcher
    manages_workspace: bool = False
    """The platform lets the caller manage the workspace (see `Actor.manages_workspace`)."""
    policy: SchedulePolicy = field(default_factory=SchedulePolicy)
    """The scheduling defaults and rules, for the commands that show or change schedules."""
    events: list[Event] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Short lines the reactions add to the reply ("I'll ask you tomorrow at 09:00")."""

    @property
    def missteps(self) -> TeamMissteps:
        return self.uow.missteps(self.team.id)

    def emit(self, event: Event) -> None:
        self.events.append(event)

    async def misstep(self, number: int) -> Misstep:
        """Misstep #number of this team, or a friendly not-found (another team's #N included)."""
        found = await self.missteps.by_number(number)
        if found is None:
            raise NotFound(number)
        return found


class NotFound(Exception):
    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.number = number


class NoTeam(Exception):
    """A workspace's team was asked for from where none can start (a direct message)."""


Handler = Callable[[Context, Any], Awaitable[Reply]]


class Engine:
    """Turns invocations into replies, with storage, a clock and a matcher injected."""

    def __init__(
        self,
        database: Database,
        clock: Clock,
        matcher: Matcher,
        *,
        policy: SchedulePolicy | None = None,
        reactions: Sequence[Reaction] = (),
    ) -> None:
        self.database = database
        self.clock = clock
        self.matcher = matcher
        self.policy = policy or SchedulePolicy()
        """The deployment's defaults (a new team's timezone included) and scheduling rules."""
        self.reactions = tuple(reactions)

    async def handle(self, invocation: Invocation) -> Reply:
        """Answer one invocation. Never raises for anything a person can type."""
        try:
            command = GRAMMAR.parse(invocation.text, invocation.values)
            if isinstance(command, Help):
                return Reply(private=(GRAMMAR.help(command.topic),))
            return await self._run(invocation, command)
        except UsageError as error:
            return Reply(private=(_usage_message(error),))
        except NotFound as error:
            return Reply(private=(not_found(error.number),))
        except NoTeam:
            return Reply(
                private=(
                    markup("There's no retro team here yet: run `/retro help` in a channel to start one."),
                )
            )
        except Exception:
            # The invocation's text and author stay out of the log: an anonymous author must never
            # appear in a log line, and typed text may hold anything.
            log.exception("command failed (team %s, command %s)", _team_label(invocation), _word(invocation))
            return Reply(
                private=(
                    markup(
                        "Something went wrong on my side and nothing was saved. Please try again in a moment."
                    ),
                )
            )

    async def misstep_choices(
        self, team: TeamRef | WorkspaceTeam, user_id: str, limit: int = 25
    ) -> list[tuple[int, str]]:
        """Numbers and short descriptions to offer when someone starts typing ``#``: the caller's
        missteps still waiting for a lesson first, then the team's latest (read-only)."""
        async with self.database.unit_of_work() as uow:
            found = await _find_team(uow, team)
            if found is None:
                return []
            missteps = uow.missteps(found.id)
            member = await uow.members.find(team.platform, team.workspace, user_id)
            own = await missteps.waiting_for_lesson(limit, author_id=member.id) if member else []
            latest = await missteps.latest(limit)
        seen: set[int] = set()
        choices = []
        for misstep in [*own, *latest]:
            if misstep.number not in seen:
                seen.add(misstep.number)
                choices.append((misstep.number, misstep.what))
        return choices[:limit]

    async def home(self, platform: str, workspace: str, user_id: str, limit: int = 5) -> Home:
        """A member's home (read-only): for each team they took part in, their own missteps
        waiting for a lesson and the team's latest lessons."""
        sections = []
        async with self.database.unit_of_work() as uow:
            member = await uow.members.find(platform, workspace, user_id)
            for team in await uow.teams.joined_by(member.id, limit) if member else []:
                missteps = uow.missteps(team.id)
                own = await missteps.waiting_for_lesson(limit, author_id=member.id)
                lessons = await missteps.recent_lessons(limit)
                sections.append(HomeSection(team.ref, home_section(team, own, lessons)))
        return Home(home_intro(bool(sections)), tuple(sections))

    async def stop_workspace(self, platform: str, workspace: str, reason: str) -> None:
        """The bot was removed from a workspace: stop all sends there, keep the data."""
        async with self.database.unit_of_work() as uow:
            await uow.teams.stop_workspace(platform, workspace, reason, self.clock())
            await uow.commit()
        log.info("stopped sends to %s workspace %s: %s", platform, workspace, reason)

    async def resume_workspace(self, platform: str, workspace: str) -> None:
        """The bot is back (reinstalled, rejoined): sends may go out again."""
        async with self.database.unit_of_work() as uow:
            await uow.teams.resume_workspace(platform, workspace)
            await uow.commit()

    async def _run(self, invocation: Invocation, command: object) -> Reply:
        handler = HANDLERS.get(type(command))
        if handler is None:
            raise UsageError("That command isn't available here.")
        for attempt in range(2):
            try:
                return await self._run_once(invocation, command, handler)
            except IntegrityError:
                # Two processes created the same team or member at once, or the same platform
                # request arrived twice in parallel: run again against what the other one wrote.
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def _run_once(self, invocation: Invocation, command: object, handler: Handler) -> Reply:
        now = self.clock()
        async with self.database.unit_of_work() as uow:
            team = await self._team(uow, invocation, now)
            if invocation.key is not None:
                if await uow.invocations.seen(invocation.key):
                    return Reply(private=(markup("Already done: I had received that one before."),))
                await uow.invocations.remember(invocation.key, team.id, now)
            actor = invocation.actor
            member = await uow.members.upsert(
                team.ref.platform, team.ref.workspace, actor.user_id, actor.display_name, actor.timezone, now
            )
            ctx = Context(
                uow=uow,
                team=team,
                member=member,
                now=now,
                matcher=self.matcher,
                manages_workspace=actor.manages_workspace,
                policy=self.policy,
            )
            reply = await handler(ctx, command)
            for event in ctx.events:
                for reaction in self.reactions:
                    note = await reaction(uow, team, event)
                    if note:
                        ctx.notes.append(note)
            await uow.commit()
        return replace(_with_notes(reply, ctx.notes), team=ctx.team.ref)

    async def _team(self, uow: UnitOfWork, invocation: Invocation, now: datetime) -> Team:
        """The invocation's team, started on first use. A workspace that is one team gets one
        here, in this unit of work: two first commands at once both try to add the workspace,
        and the loser runs again against the winner's team (see `_run`)."""
        team = await _find_team(uow, invocation.team)
        if team is not None:
            return team
        where = invocation.team
        if where.channel is None:
            raise NoTeam()
        ref = TeamRef(where.platform, where.workspace, where.channel)
        name = invocation.channel_name or where.channel
        return await uow.teams.add(ref, name, self.policy.timezone, now)


async def _find_team(uow: UnitOfWork, where: TeamRef | WorkspaceTeam) -> Team | None:
    if isinstance(where, WorkspaceTeam):
        return await uow.teams.first_in_workspace(where.platform, where.workspace)
    return await uow.teams.find(where)


def _with_notes(reply: Reply, notes: Sequence[str]) -> Reply:
    if not notes or not reply.private:
        return reply
    first, *rest = reply.private
    extra = tuple(block for note in notes for block in markup(note).blocks)
    return replace(reply, private=(replace(first, blocks=first.blocks + extra), *rest))


def _usage_message(error: UsageError) -> Message:
    message = markup(error.message)
    if error.topic:
        return Message(
            blocks=message.blocks + markup(f"More: `/retro help {error.topic}`").blocks,
        )
    return message


def _team_label(invocation: Invocation) -> str:
    return f"{invocation.team.platform}:{invocation.team.workspace}/{invocation.team.channel}"


def _word(invocation: Invocation) -> str:
    return (invocation.text.split(maxsplit=1) or ["(empty)"])[0][:20]
