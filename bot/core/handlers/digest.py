"""`/retro digest`: the weekly digest, shown only to the caller."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.commands.base import UsageError
from bot.core.commands.digest import Digest
from bot.core.digest.weekly import FutureWeek, digest_for_week, week_to_show
from bot.core.messages import Reply

if TYPE_CHECKING:
    from bot.core.engine import Context


async def digest(ctx: Context, command: Digest) -> Reply:
    try:
        week = week_to_show(command.week, ctx.now, ctx.team.timezone)
    except FutureWeek as error:
        raise UsageError(str(error), "digest") from None
    digest = await digest_for_week(ctx.uow, ctx.team, week, ctx.now, check_after=ctx.policy.check_after)
    return Reply(private=(digest,))


HANDLERS = {Digest: digest}
