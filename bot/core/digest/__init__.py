"""The weekly digest and the retro round summary: what a team reads to see whether it is learning.

Contract used by the scheduler: `weekly_digest(uow, team, now)` and `round_summary(uow, team,
start, end, now)` each return one neutral `Message` (attachments included, e.g. the trend chart).
"""

from bot.core.digest.rounds import round_summary
from bot.core.digest.weekly import weekly_digest

__all__ = ["round_summary", "weekly_digest"]
