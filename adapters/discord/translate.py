"""Pure translation between the core's neutral shapes and Discord's: no network, no client.

In: modal submissions become an `Invocation`'s values, and buttons and forms carry their guild and
command in their custom ids. Out: a neutral `Message` becomes one or more `Part`s, each one Discord
message within Discord's limits, and a `Form` becomes a modal.

Everything a user typed is escaped so it can neither format nor ping: markdown characters are
backslash-escaped and every ``@`` gets a zero-width space (in code spans too), so ``@everyone``,
``@here``, ``<@id>`` and ``<@&id>`` typed by anyone stay plain text. The only mentions that can
ping are the bot's own `Style.MENTION` spans: each part lists those, and only those, so the sender
can allow exactly them. Long text is cut into parts before it is escaped (see `_pieces`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import discord

from bot.core.messages import (
    Attachment,
    Bullets,
    Button,
    ButtonStyle,
    Field,
    Fields,
    Form,
    FormInput,
    InputKind,
    Message,
    Paragraph,
    Quote,
    Span,
    Spans,
    Style,
    Styled,
    span_text,
    with_text,
)
from bot.core.ports import WorkspaceTeam
from bot.core.text import short
from bot.core.timeutil import suggest_timezones

PLATFORM = "discord"

# Discord's limits (https://discord.com/developers/docs/resources/message and .../interactions).
CONTENT_LIMIT = 2_000
EMBED_TITLE_LIMIT = 256
EMBED_DESCRIPTION_LIMIT = 4_096
EMBED_FIELDS_LIMIT = 25
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1_024
FOOTER_LIMIT = 2_048
EMBED_TOTAL_LIMIT = 6_000
"""Across all embeds of one message, as well as for each embed."""
EMBEDS_PER_MESSAGE = 10
CUSTOM_ID_LIMIT = 100
BUTTON_LABEL_LIMIT = 80
MODAL_TITLE_LIMIT = 45
MODAL_LABEL_LIMIT = 45
MODAL_DESCRIPTION_LIMIT = 100
TEXT_INPUT_LIMIT = 4_000
PLACEHOLDER_LIMIT = 100
SELECT_OPTIONS_LIMIT = 25
CHOICES_LIMIT = 25
CHOICE_LIMIT = 100
COMMAND_DESCRIPTION_LIMIT = 100

COLOUR = discord.Colour(0x4F8A8B)
EMPTY_FIELD = "\u200b"
"""Discord refuses empty field values; a zero-width space is the customary blank."""

_BUTTON_STYLES = {
    ButtonStyle.DEFAULT: discord.ButtonStyle.secondary,
    ButtonStyle.PRIMARY: discord.ButtonStyle.primary,
    ButtonStyle.DANGER: discord.ButtonStyle.danger,
}

# -- teams and custom ids -----------------------------------------------------------------------

BUTTON_ID = re.compile(r"retro:b:(?P<guild>[0-9]{1,20}):(?P<command>.+)", re.DOTALL)
"""A button's custom id: the guild whose team it belongs to and the command a click runs.

The guild travels in the id because clicks on prompts sent as DMs arrive without one, and the
command does because the id is all Discord gives back: nothing is kept in memory, so buttons keep
working after a restart."""
FORM_ID = re.compile(r"retro:f:(?P<guild>[0-9]{1,20}):(?P<command>.+)", re.DOTALL)
"""A modal's custom id: the guild and the command its submission runs, for the same reasons."""


def guild_team(guild_id: int | str, channel_id: int | str | None) -> WorkspaceTeam:
    """Where a command in a guild goes: the guild's one team, whichever channel it comes from. On
    first use the team starts in `channel_id`; None (a click on a prompt in someone's DMs) starts
    none."""
    return WorkspaceTeam(PLATFORM, str(guild_id), None if channel_id is None else str(channel_id))


def button_id(guild: str, command: str) -> str:
    """The custom id of a button that runs `command` in `guild`'s team (see `BUTTON_ID`)."""
    return _custom_id("retro:b", guild, command)


def form_id(guild: str, command: str) -> str:
    """The custom id of a modal whose submission runs `command` in `guild`'s team (see `FORM_ID`)."""
    return _custom_id("retro:f", guild, command)


def _custom_id(prefix: str, guild: str, command: str) -> str:
    custom_id = f"{prefix}:{guild}:{command}"
    if len(custom_id) > CUSTOM_ID_LIMIT:
        raise ValueError(f"command {command[:30]!r} is too long for a Discord custom id")
    return custom_id


def parse_custom_id(pattern: re.Pattern[str], custom_id: str) -> tuple[str, str] | None:
    """(guild id, command) from a custom id of ours, or None."""
    match = pattern.fullmatch(custom_id)
    return (match["guild"], match["command"]) if match else None


# -- text ---------------------------------------------------------------------------------------

_URL = re.compile(r"https?://[^\s<]+[^<.,:;\"')\]\s]")
_INLINE = re.compile(r"([\\*_~|`\[\]<])")
"""Characters that format anywhere in a line (`[` for masked links, `<` for mentions, emoji and
timestamps)."""
_LINE_START = re.compile(r"(?m)^(\s*)([#>-]|\d+(?=\.))")
"""What formats only at the start of a line: headings, quotes, list items, subtext. `literal`
escapes it at the start of every text it is given, which is where a cut may put it."""
_SPACES = re.compile(r" +")


def literal(text: str) -> str:
    """Text shown exactly as typed: no markdown, no mentions; links stay clickable."""
    parts = []
    last = 0
    for match in _URL.finditer(text):
        parts.append(_escape(text[last : match.start()]))
        parts.append(match.group())
        last = match.end()
    parts.append(_escape(text[last:]))
    return "".join(parts)


def heading(text: str) -> str:
    """Literal text for an embed title or field name: a line where only inline markdown applies."""
    return _neutralise(_INLINE.sub(r"\\\1", text))


def _escape(text: str) -> str:
    # A backslash before punctuation is invisible in Discord.
    return _neutralise(_LINE_START.sub(_line_start, _INLINE.sub(r"\\\1", text)))


def _line_start(match: re.Match[str]) -> str:
    # "\#" hides a heading; a list number keeps its digits and escapes its dot: "1\." (Discord only
    # hides a backslash before punctuation).
    spaces, mark = match.groups()
    return f"{spaces}{mark}\\" if mark[0].isdigit() else f"{spaces}\\{mark}"


def _neutralise(text: str) -> str:
    # A zero-width space after "@" breaks every mention form (@everyone, @here, <@id>, <@&id>) for
    # the renderer and for the server's mention parser alike.
    return text.replace("@", "@\u200b")


def _wrapped(marker: str, text: str) -> str:
    # Discord leaves "* text*" unformatted: the markers must touch the words, so the spaces go outside.
    inner = text.strip()
    if not inner:
        return text
    lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
    return f"{lead}{marker}{literal(inner)}{marker}{trail}"


def span_markdown(span: Span) -> str:
    """One span as Discord markdown: a string as literal text, a styled span with its markers. Only
    a `Style.MENTION` of a user id becomes a mention."""
    if isinstance(span, str):
        return literal(span)
    match span.style:
        case Style.BOLD:
            return _wrapped("**", span.text)
        case Style.ITALIC:
            return _wrapped("*", span.text)
        case Style.CODE:
            # A backtick would end the code span early; the look-alike keeps the text readable. Code
            # often quotes what someone typed (a usage error), and Discord finds mentions in the raw
            # content, code or not: the "@" is neutralised here as well.
            return f"`{_neutralise(span.text.replace('`', 'ˋ'))}`" if span.text.strip() else span.text
        case Style.MENTION:
            user = _user_id(span)
            return f"<@{user}>" if user is not None else literal(f"@{span.text}")


def _user_id(span: Span) -> int | None:
    """The user a span means to ping: only the bot's own mention of a numeric user id."""
    if isinstance(span, Styled) and span.style is Style.MENTION:
        return int(span.text) if span.text.isascii() and span.text.isdigit() else None
    return None


def _mentions(spans: Iterable[Span]) -> tuple[int, ...]:
    return tuple(dict.fromkeys(user for user in map(_user_id, spans) if user is not None))


@dataclass(frozen=True, slots=True)
class _Line:
    """One line of a message, not yet escaped."""

    spans: Spans
    lead: str = ""
    """The bot's own markdown at the start of the line: a bullet's "- ", a quote's "> "."""
    continued: str = ""
    """The lead after a cut inside the line: a quote stays a quote, a bullet's rest is plain."""


def _broken(spans: Spans) -> list[Spans]:
    """`spans` as lines, cut at their line breaks."""
    lines: list[list[Span]] = [[]]
    for span in spans:
        for index, text in enumerate(span_text(span).split("\n")):
            if index:
                lines.append([])
            if text:
                lines[-1].append(with_text(span, text))
    return [tuple(line) for line in lines]


def _block_lines(block: Paragraph | Quote | Bullets) -> list[_Line]:
    match block:
        case Paragraph(spans):
            return [_Line(line) for line in _broken(spans)]
        case Quote(spans):
            return [_Line(line, "> ", "> ") for line in _broken(spans)]
        case Bullets(items):
            return [
                _Line(line, "- " if index == 0 else "")
                for item in items
                for index, line in enumerate(_broken(item))
            ]


@dataclass(frozen=True, slots=True)
class _Piece:
    """Markdown within a limit, and the users it means to ping."""

    markdown: str
    mentions: tuple[int, ...] = ()


def _pieces(lines: Iterable[_Line], limit: int) -> list[_Piece]:
    """`lines` as markdown in pieces of at most `limit` characters, cut at line breaks if possible.

    A line too long for a piece is cut before it is escaped: between spans, or inside one at a
    space, else anywhere. Each side is then escaped on its own, so no cut separates an escape from
    what it escapes, and the text after a cut (now at the start of a line) gets its line-start
    escapes: ``# heading`` typed in the middle of a line can't become a heading in the next part."""
    pieces: list[_Piece] = []
    text, mentions = "", ()
    for line in lines:
        for chunk in _fit(line, limit):
            joined = f"{text}\n{chunk.markdown}" if text else chunk.markdown
            if len(joined) > limit:
                pieces.append(_Piece(text, mentions))
                joined, mentions = chunk.markdown, ()
            text, mentions = joined, tuple(dict.fromkeys((*mentions, *chunk.mentions)))
    if text or not pieces:
        pieces.append(_Piece(text, mentions))
    return pieces


def _fit(line: _Line, limit: int) -> list[_Piece]:
    """One line as markdown of at most `limit` characters: itself if it fits, else cut."""
    chunks = []
    lead, spans = line.lead, line.spans
    while True:
        taken, spans = _take(lead, spans, limit)
        markdown = lead + "".join(map(span_markdown, taken))
        spans = _lstrip(spans)
        if not spans:
            chunks.append(_Piece(markdown, _mentions(taken)))
            return chunks
        chunks.append(_Piece(markdown.rstrip(" "), _mentions(taken)))
        lead = line.continued


def _take(lead: str, spans: Spans, limit: int) -> tuple[Spans, Spans]:
    """The spans that fit in `limit` after `lead`, and the rest. The span that doesn't fit is cut
    at its last space that fits; anywhere, when nothing would fit otherwise."""
    room = limit - len(lead)
    for index, span in enumerate(spans):
        size = len(span_markdown(span))
        if size > room:
            head, tail = _cut(span, room, anywhere=index == 0)
            return (*spans[:index], *head), (*tail, *spans[index + 1 :])
        room -= size
    return spans, ()


def _cut(span: Span, room: int, anywhere: bool) -> tuple[Spans, Spans]:
    if isinstance(span, Styled) and span.style is Style.MENTION:
        # Never cut: "<@12" + "3>" would mention no one, and a shorter id someone else.
        return (), (span,)
    text = span_text(span)

    def fits(cut: int) -> bool:
        return len(span_markdown(with_text(span, text[:cut]))) <= room

    cut = _last(tuple(match.start() for match in _SPACES.finditer(text, 1)), fits)
    if cut is None and anywhere:
        cut = _last(range(1, len(text)), fits)
    if cut is None:
        return (), (span,)
    return (with_text(span, text[:cut]),), (with_text(span, text[cut:]),)


def _last(cuts: Sequence[int], fits: Callable[[int], bool]) -> int | None:
    """The last of the ascending `cuts` that fits, by bisection (escapes only ever lengthen text,
    so what fits is a prefix of `cuts`; whatever this returns was checked to fit)."""
    low, high = 0, len(cuts)
    while low < high:
        middle = (low + high) // 2
        if fits(cuts[middle]):
            low = middle + 1
        else:
            high = middle
    return cuts[low - 1] if low else None


def _lstrip(spans: Spans) -> Spans:
    """`spans` without the spaces they start with (the ones at a cut)."""
    for index, span in enumerate(spans):
        text = span_text(span).lstrip(" ")
        if text:
            return (with_text(span, text), *spans[index + 1 :])
    return ()


# -- messages -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ButtonSpec:
    custom_id: str
    label: str
    style: discord.ButtonStyle


@dataclass(frozen=True, slots=True, eq=False)
class Part:
    """One Discord message, within Discord's limits."""

    content: str | None = None
    embeds: tuple[discord.Embed, ...] = ()
    buttons: tuple[ButtonSpec, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    mentions: tuple[int, ...] = ()
    """The users this part means to ping, from the message's `Style.MENTION` spans and nothing
    else: the only mentions the sender allows."""


def render(message: Message, guild: str) -> list[Part]:
    """A message as Discord messages. Messages with a title or fields become embeds (mentions in an
    embed never ping, so those are repeated in the content); plain ones become content, split at
    2,000 characters."""
    if message.title or any(isinstance(block, Fields) for block in message.blocks):
        parts = [
            Part(content=" ".join(f"<@{user}>" for user in mentions) or None, embeds=group, mentions=mentions)
            for group, mentions in _pack(_embeds(message))
        ]
    else:
        lines = [
            line for block in message.blocks if not isinstance(block, Fields) for line in _block_lines(block)
        ]
        if message.footer:
            lines += [_Line(line, "-# ") for line in _broken((message.footer,))]
        parts = [
            Part(content=piece.markdown, mentions=piece.mentions)
            for piece in _pieces(lines, CONTENT_LIMIT)
            if piece.markdown
        ]
    buttons = tuple(_button(button, guild) for button in message.buttons)
    if buttons or message.attachments:
        last = parts.pop() if parts else Part()
        parts.append(replace(last, buttons=buttons, attachments=message.attachments))
    return parts


def _button(button: Button, guild: str) -> ButtonSpec:
    return ButtonSpec(
        button_id(guild, button.command),
        short(button.label, BUTTON_LABEL_LIMIT),
        _BUTTON_STYLES[button.style],
    )


Mentioned = tuple[discord.Embed, tuple[int, ...]]
"""An embed and the users its text means to ping."""


class _EmbedBuilder:
    """Fills embeds in order, starting a new one whenever the next piece would not fit."""

    def __init__(self, title: str | None) -> None:
        self.done: list[Mentioned] = []
        self.embed = discord.Embed(
            title=short(heading(title), EMBED_TITLE_LIMIT) if title else None, colour=COLOUR
        )
        self.mentions: tuple[int, ...] = ()

    def _next(self) -> None:
        self.done.append((self.embed, self.mentions))
        self.embed = discord.Embed(colour=COLOUR)
        self.mentions = ()

    def _mention(self, piece: _Piece) -> None:
        self.mentions = tuple(dict.fromkeys((*self.mentions, *piece.mentions)))

    def text(self, block: Paragraph | Quote | Bullets) -> None:
        if self.embed.fields:
            self._next()
        for piece in _pieces(_block_lines(block), EMBED_DESCRIPTION_LIMIT):
            description = self.embed.description
            text = piece.markdown
            joined = f"{description}\n{text}" if description else text
            if len(joined) > EMBED_DESCRIPTION_LIMIT or len(self.embed) + len(text) + 1 > EMBED_TOTAL_LIMIT:
                self._next()
                joined = text
            self.embed.description = joined
            self._mention(piece)

    def field(self, field: Field) -> None:
        name = short(heading(field.name), FIELD_NAME_LIMIT) or EMPTY_FIELD
        pieces = _pieces([_Line(line) for line in _broken(field.value)], FIELD_VALUE_LIMIT)
        for index, piece in enumerate(pieces):
            label = name if index == 0 else EMPTY_FIELD
            value = piece.markdown.strip() or EMPTY_FIELD
            full = len(self.embed.fields) == EMBED_FIELDS_LIMIT
            if full or len(self.embed) + len(label) + len(value) > EMBED_TOTAL_LIMIT:
                self._next()
            self.embed.add_field(name=label, value=value, inline=field.inline)
            self._mention(piece)

    def finish(self, footer: str | None) -> list[Mentioned]:
        if footer:
            text = short(footer, FOOTER_LIMIT)
            if len(self.embed) + len(text) > EMBED_TOTAL_LIMIT:
                self._next()
            self.embed.set_footer(text=text)
        self._next()
        return self.done


def _embeds(message: Message) -> list[Mentioned]:
    builder = _EmbedBuilder(message.title)
    for block in message.blocks:
        if isinstance(block, Fields):
            for field in block.fields:
                builder.field(field)
        else:
            builder.text(block)
    return builder.finish(message.footer)


def _pack(embeds: list[Mentioned]) -> list[tuple[tuple[discord.Embed, ...], tuple[int, ...]]]:
    """Embeds grouped into messages of at most 10 embeds and 6,000 characters, with the users each
    message means to ping."""
    groups: list[list[Mentioned]] = [[]]
    for embed, mentions in embeds:
        current = groups[-1]
        if current and (
            len(current) == EMBEDS_PER_MESSAGE
            or sum(len(e) for e, _ in current) + len(embed) > EMBED_TOTAL_LIMIT
        ):
            current = []
            groups.append(current)
        current.append((embed, mentions))
    return [
        (tuple(e for e, _ in group), tuple(dict.fromkeys(u for _, users in group for u in users)))
        for group in groups
    ]


# -- forms --------------------------------------------------------------------------------------


def modal(form: Form, guild: str) -> discord.ui.Modal:
    """The form as a Discord modal: text inputs, a select for choices, a checkbox for flags.

    Needs a running event loop (discord.py views create a future), but does no I/O."""
    view = discord.ui.Modal(
        title=short(form.title, MODAL_TITLE_LIMIT), custom_id=form_id(guild, form.command)
    )
    for field in form.inputs:
        view.add_item(
            discord.ui.Label(
                text=short(field.label, MODAL_LABEL_LIMIT),
                description=short(field.label, MODAL_DESCRIPTION_LIMIT)
                if len(field.label) > MODAL_LABEL_LIMIT
                else None,
                component=_form_input(field),
            )
        )
    return view


def _form_input(field: FormInput) -> discord.ui.Item[Any]:
    match field.kind:
        case InputKind.TEXT | InputKind.LONG_TEXT:
            limit = min(field.max_length or TEXT_INPUT_LIMIT, TEXT_INPUT_LIMIT)
            return discord.ui.TextInput(
                style=discord.TextStyle.paragraph
                if field.kind is InputKind.LONG_TEXT
                else discord.TextStyle.short,
                custom_id=field.name,
                required=field.required,
                default=field.initial[:limit] if field.initial else None,
                placeholder=short(field.placeholder, PLACEHOLDER_LIMIT) if field.placeholder else None,
                max_length=limit,
            )
        case InputKind.CHOICE:
            return discord.ui.Select(
                custom_id=field.name,
                options=[
                    discord.SelectOption(
                        label=short(choice, CHOICE_LIMIT), value=choice, default=choice == field.initial
                    )
                    for choice in field.choices[:SELECT_OPTIONS_LIMIT]
                ],
                required=field.required,
                min_values=1 if field.required else 0,
                max_values=1,
            )
        case InputKind.FLAG:
            return discord.ui.Checkbox(custom_id=field.name, default=field.checked)


def form_values(components: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """A modal submission's values by input name (the inputs' custom ids), as the core's text."""
    values: dict[str, str] = {}
    for component in components:
        if component.get("type") == discord.ComponentType.action_row.value:
            values |= form_values(component.get("components", ()))
        elif component.get("type") == discord.ComponentType.label.value:
            values |= form_values((component["component"],))
        elif "custom_id" in component:
            if "values" in component:
                value = component["values"][0] if component["values"] else ""
            elif isinstance(component.get("value"), bool):
                value = "true" if component["value"] else "false"
            else:
                value = component.get("value") or ""
            values[component["custom_id"]] = value
    return values


def form_opener(form: Form) -> Message:
    """What to send instead of a modal when the interaction was already acknowledged: Discord only
    opens a modal as the first response, so a button opens it with a fresh interaction."""
    return Message(
        blocks=(Paragraph((f"{form.title}: it's a short form.",)),),
        buttons=(Button(f"Open: {form.title}", form.command, ButtonStyle.PRIMARY),),
    )


# -- autocomplete -------------------------------------------------------------------------------


def misstep_choices(choices: Sequence[tuple[int, str]], current: str) -> list[tuple[str, str]]:
    """Autocomplete for a misstep option: (name, value) pairs matching what was typed so far,
    by number (``4``, ``#4``) or by words of what happened."""
    typed = current.strip().lstrip("#").casefold()
    picked = [
        (number, what)
        for number, what in choices
        if not typed or str(number).startswith(typed) or typed in what.casefold()
    ]
    return [
        (short(f"#{number} {what}", CHOICE_LIMIT), str(number)) for number, what in picked[:CHOICES_LIMIT]
    ]


def timezone_choices(current: str) -> list[str]:
    """IANA names matching what was typed (``berlin`` offers ``Europe/Berlin``)."""
    return [name for name in suggest_timezones(current, CHOICES_LIMIT) if len(name) <= CHOICE_LIMIT]


def reference(value: str | None) -> str | None:
    """A misstep option as one grammar token: ``4`` and ``#4`` become ``#4``; anything else stays a
    single token (spaces become ``_``), so the grammar can say what is wrong with it."""
    if value is None or not value.strip():
        return None
    token = "_".join(value.split())
    return token if token.startswith("#") else f"#{token}"


def command_line(*words: str | None) -> str:
    """A command line from a subcommand and its option values, skipping the empty ones."""
    return " ".join(word.strip() for word in words if word and word.strip())


def describe(text: str) -> str:
    """A description within Discord's 100 characters for commands and options."""
    return short(text, COMMAND_DESCRIPTION_LIMIT)
