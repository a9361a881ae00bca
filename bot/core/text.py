"""Turning the bot's own short texts into messages."""

from __future__ import annotations

from bot.core.messages import Message, Paragraph, Span, code


def short(text: str, width: int = 120) -> str:
    """`text` cut to at most `width` characters, an ellipsis marking the cut."""
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def markup(line: str) -> Message:
    """A one-paragraph message from bot-authored text where `backticks` mark commands.

    Only for the bot's own sentences. Any user text inside still ends up as literal spans, which
    adapters escape, so it cannot become markup or a ping.
    """
    spans: list[Span] = []
    for i, part in enumerate(line.split("`")):
        if part:
            spans.append(code(part) if i % 2 else part)
    return Message(blocks=(Paragraph(tuple(spans)),))
