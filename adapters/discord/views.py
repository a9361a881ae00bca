"""The discord.py objects a rendered `Part` is sent with: a view of persistent buttons, files, and
the allowed mentions."""

from __future__ import annotations

import io
import re
from typing import Any, Protocol, cast

import discord

from adapters.discord.translate import BUTTON_ID, Part, parse_custom_id


class ClickHandler(Protocol):
    async def click(self, interaction: discord.Interaction, guild: str, command: str) -> None: ...


class HasBridge(Protocol):
    bridge: ClickHandler


class CommandButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=BUTTON_ID):
    """A button that runs a ``/retro`` command line as whoever clicks it.

    Its custom id holds everything (the guild and the command), and the class is registered with
    `Client.add_dynamic_items`, so a click is understood by any process, after any restart."""

    def __init__(self, custom_id: str, label: str | None, style: discord.ButtonStyle) -> None:
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=custom_id))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str], /
    ) -> CommandButton:
        return cls(match.string, item.label, item.style)

    async def callback(self, interaction: discord.Interaction) -> None:
        parsed = parse_custom_id(BUTTON_ID, self.custom_id)
        assert parsed is not None  # the template matched to get here
        await cast(HasBridge, interaction.client).bridge.click(interaction, *parsed)


def send_kwargs(part: Part) -> dict[str, Any]:
    """Keyword arguments for discord.py's send methods (channel, interaction response, followup).

    Mentions are allowed only for the users the bot means (never everyone, here or roles), and
    link previews are suppressed on plain messages so a link someone typed doesn't unfurl."""
    kwargs: dict[str, Any] = {
        "allowed_mentions": discord.AllowedMentions(
            everyone=False, roles=False, replied_user=False, users=[discord.Object(u) for u in part.mentions]
        )
    }
    if part.content:
        kwargs["content"] = part.content
    if part.embeds:
        kwargs["embeds"] = list(part.embeds)
    else:
        kwargs["suppress_embeds"] = True
    if part.buttons:
        view = discord.ui.View(timeout=None)
        for button in part.buttons:
            view.add_item(CommandButton(button.custom_id, button.label, button.style))
        kwargs["view"] = view
    if part.attachments:
        kwargs["files"] = [discord.File(io.BytesIO(a.content), filename=a.filename) for a in part.attachments]
    return kwargs
