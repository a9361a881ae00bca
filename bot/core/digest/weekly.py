"""First cut of the digest: the week's headline counts. (The full digest is issue #6.)"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.messages import Bullets, Message, Paragraph
from bot.core.model import Outcome, Team
from bot.storage.unit_of_work import UnitOfWork


def week_bounds(now: datetime, timezone: str) -> tuple[datetime, datetime]:
    """The last full Monday-to-Monday week before `now`, in the team's timezone, as UTC datetimes."""
    local = now.astimezone(ZoneInfo(timezone))
    this_monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    start = (this_monday - timedelta(days=7)).replace(tzinfo=None).replace(tzinfo=ZoneInfo(timezone))
    end = this_monday.replace(tzinfo=None).replace(tzinfo=ZoneInfo(timezone))
    return start, end


async def weekly_digest(uow: UnitOfWork, team: Team, now: datetime) -> Message:
    start, end = week_bounds(now, team.timezone)
    missteps = await uow.missteps(team.id).all()
    logged = [m for m in missteps if start <= m.created_at < end]
    decided = [m for m in missteps if m.outcome_at is not None and start <= m.outcome_at < end]
    learning = sum(m.outcome is Outcome.LEARNING for m in decided)
    failing = sum(m.outcome is Outcome.FAILING for m in decided)
    rate = f"{learning / (learning + failing):.0%}" if learning + failing else "n/a"
    return Message(
        title=f"Weekly digest: week of {start:%d %b}",
        blocks=(
            Bullets(((f"{len(logged)} missteps logged",), (f"learning rate {rate}",))),
            Paragraph(("Failing = learning, when the lesson sticks.",)),
        ),
    )


async def round_summary(
    uow: UnitOfWork, team: Team, start: datetime, end: datetime, now: datetime
) -> Message:
    missteps = await uow.missteps(team.id).all()
    entries = [m for m in missteps if start <= m.created_at < end]
    return Message(
        title="Retro round summary",
        blocks=(Paragraph((f"{len(entries)} entries came in.",)),),
    )
