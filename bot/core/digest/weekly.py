"""The weekly digest: which week, its figures from the database, its words from the renderer."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.core.digest.figures import DigestWindow
from bot.core.digest.render import render_digest
from bot.core.digest.week import Week
from bot.core.messages import Message
from bot.core.model import Team

if TYPE_CHECKING:
    from bot.storage.unit_of_work import UnitOfWork


async def weekly_digest(uow: UnitOfWork, team: Team, now: datetime, *, check_after: timedelta) -> Message:
    """The digest the team gets on Monday: the last full week before `now`, in the team's timezone."""
    last_week = Week.containing(now, team.timezone).shift(-1)
    return await digest_for_week(uow, team, last_week, now, check_after=check_after)


class FutureWeek(ValueError):
    """A digest was asked for a week that has not started yet."""


def week_to_show(requested: Week | None, now: datetime, timezone: str) -> Week:
    """The week a preview shows: the one asked for, else the current one; never a future one."""
    this_week = Week.containing(now, timezone)
    if requested is not None and requested > this_week:
        raise FutureWeek(f"{requested} hasn't started yet; this week is {this_week}.")
    return requested or this_week


async def digest_for_week(
    uow: UnitOfWork, team: Team, week: Week, now: datetime, *, check_after: timedelta
) -> Message:
    """The digest of any week up to the current one (which is shown "so far")."""
    window = DigestWindow.for_week(week, team.timezone, now, check_after)
    figures = await uow.digest(team.id).figures(window)
    return render_digest(team.name, figures, running=now < window.end)
