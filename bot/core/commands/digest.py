"""`/retro digest`: a private preview of the team's weekly digest."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.commands.base import CommandSpec, UsageError, clean_text
from bot.core.digest.week import Week


@dataclass(frozen=True, slots=True)
class Digest:
    week: Week | None = None
    """None: the current week so far."""


def parse_digest(args: str) -> Digest:
    text = clean_text(args)
    if not text:
        return Digest()
    try:
        return Digest(Week.parse(text))
    except ValueError:
        raise UsageError(
            f"`{text[:20]}` isn't a week I know; name it like `2026-W47`, or leave it out for this week.",
            "digest",
        ) from None


SPECS: tuple[CommandSpec, ...] = (
    CommandSpec(
        name="digest",
        usage="[2026-W47]",
        summary="Preview the team's weekly digest, only to you: this week so far, or the week you name.",
        parse=parse_digest,
        details=(
            "The digest goes to the channel every Monday for the week just ended.",
            "Weeks run Monday to Sunday in the team's timezone.",
        ),
        examples=("/retro digest", "/retro digest 2026-W47"),
        group="team",
    ),
)
