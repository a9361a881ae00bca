"""Pure translation between Slack payloads and the neutral model: no I/O, no clients.

In: a slash command, a button click or a modal submission becomes an `Invocation`.
Out: a neutral `Message` becomes Block Kit (one or more Slack messages within Slack's limits),
a `Form` becomes a modal view, a `Home` becomes the App Home view.

How user text is kept from pinging or formatting (DESIGN.md §7):

- Message bodies are ``rich_text`` blocks. Slack never parses a rich-text ``text`` element: bold,
  italic, code and mentions are separate, explicit elements, so a literal span is shown exactly
  as typed (``<!channel>``, ``<@U1>``, ``*not bold*`` included) and only `Styled` spans style or
  mention. This needs no escaping at all, which is why it is preferred over mrkdwn.
- Titles, labels, button texts and footers are ``plain_text`` objects, which Slack never parses.
- The one mrkdwn string is the message's fallback ``text`` (notifications, screen readers). There
  `escape_mrkdwn` turns ``& < >`` into entities (which defuses every ``<!…>``, ``<@…>``, ``<#…>``
  form), and puts a zero-width space on both sides of ``* _ ~ `` ` `` and after the ``@`` of a bare
  ``@here``/``@channel``/``@everyone``: Slack has no backslash escape, and a zero-width space is
  neither whitespace nor punctuation to its parser, so a marker next to one can neither open nor
  close a span, while the text still reads the same.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.forms import InputError, input_error, requests_form
from bot.core.messages import (
    Block,
    Bullets,
    Button,
    ButtonStyle,
    Fields,
    Form,
    FormInput,
    InputKind,
    Message,
    Paragraph,
    Quote,
    Span,
    Style,
    Styled,
    bold,
    span_text,
    with_text,
)
from bot.core.model import TeamRef
from bot.core.ports import Actor, Home, Invocation
from bot.core.text import short

PLATFORM = "slack"

MAX_MESSAGE_TEXT = 40_000
"""Slack truncates a message's text beyond this many characters."""
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
"""Blocks in a modal or the App Home."""
MAX_BLOCK_TEXT = 3_000
"""Text per block: Slack's limit for a section; rich text is kept to the same to be safe."""
MAX_FALLBACK = 3_000
MAX_ACTIONS = 25
"""Elements in one actions block."""
MAX_BUTTON_VALUE = 2_000
MAX_METADATA = 3_000
MAX_HEADER = 150
MAX_BUTTON_LABEL = 75
MAX_VIEW_TITLE = 24
MAX_LABEL = 2_000
MAX_PLACEHOLDER = 150
MAX_OPTION_TEXT = 75
MAX_INPUT = 3_000

ACTION_PREFIX = "retro:"
"""Every button the bot renders has an action_id starting with this; one Bolt listener takes them all."""
FORM_CALLBACK = "retro_form"
"""The callback_id of every modal the bot opens."""

ZWSP = "\u200b"
_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_MARKERS = re.compile(r"[*_~`]")
_BROADCAST = re.compile(r"@(?=(?:here|channel|everyone)\b)", re.IGNORECASE)

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """One Slack message: the mrkdwn fallback `text` and the blocks."""

    text: str
    blocks: list[Json]


@dataclass(frozen=True, slots=True)
class ButtonValue:
    """What a rendered button carries: the team it belongs to (DM prompts are outside the team's
    channel) and the command its click runs."""

    workspace: str
    channel: str
    command: str
    form: bool = False
    """The click opens a form: the adapter shows a placeholder modal at once (the trigger expires in 3 s)."""


@dataclass(frozen=True, slots=True)
class FormContext:
    """A modal's `private_metadata`: whose form it is and where the answer goes."""

    workspace: str
    channel: str
    command: str
    response_url: str | None = None


# -- escaping -------------------------------------------------------------------------------


def escape_mrkdwn(text: str) -> str:
    """Literal text for a mrkdwn field: no ping, link or formatting can come out of it."""
    text = text.translate(_ENTITIES)
    text = _MARKERS.sub(lambda m: f"{ZWSP}{m.group()}{ZWSP}", text)
    return _BROADCAST.sub("@" + ZWSP, text)


def mrkdwn(spans: Iterable[Span]) -> str:
    """Spans as mrkdwn: literal text escaped, the bot's intended mentions kept as mentions."""
    parts = []
    for span in spans:
        if isinstance(span, str):
            parts.append(escape_mrkdwn(span))
        elif span.style is Style.MENTION:
            parts.append(f"<@{span.text}>")
        else:
            parts.append(escape_mrkdwn(span.text))
    return "".join(parts)


def plain(text: str, limit: int) -> Json:
    return {"type": "plain_text", "text": short(text, limit) or " ", "emoji": False}


# -- messages -------------------------------------------------------------------------------


def fallback_text(message: Message) -> str:
    """The notification text: the title or first paragraph, escaped (never empty: Slack wants one)."""
    if message.title:
        return escape_mrkdwn(short(message.title, MAX_FALLBACK))
    for block in message.blocks:
        if isinstance(block, Paragraph | Quote):
            return short(mrkdwn(block.spans), MAX_FALLBACK) or "retro"
    return "retro"


def slack_messages(message: Message, team: TeamRef) -> list[SlackMessage]:
    """`message` as one Slack message, or several when it exceeds Slack's limits (50 blocks,
    40,000 characters). The title leads the first, the buttons end the last."""
    blocks: list[Json] = []
    if message.title:
        blocks.append({"type": "header", "text": plain(message.title, MAX_HEADER)})
    blocks += body_blocks(message.blocks)
    if message.footer:
        blocks.append(footer_block(message.footer))
    blocks += action_blocks(message.buttons, team)
    text = fallback_text(message)
    chunks = list(_chunks(blocks, MAX_MESSAGE_BLOCKS, MAX_MESSAGE_TEXT - MAX_FALLBACK - 20)) or [[]]
    if len(chunks) == 1:
        return [SlackMessage(text, chunks[0])]
    return [
        SlackMessage(text if i == 0 else f"{text} ({i + 1}/{len(chunks)})", chunk)
        for i, chunk in enumerate(chunks)
    ]


def body_blocks(blocks: Iterable[Block]) -> list[Json]:
    """Neutral blocks as rich-text blocks, none over `MAX_BLOCK_TEXT` characters."""
    out: list[Json] = []
    for block in blocks:
        match block:
            case Paragraph(spans):
                out += [_rich(_section(part)) for part in _cut(spans, MAX_BLOCK_TEXT)]
            case Quote(spans):
                out += [_rich(_quote(part)) for part in _cut(spans, MAX_BLOCK_TEXT)]
            case Bullets(items):
                out += [_rich(_bullets(group)) for group in _pack(items, MAX_BLOCK_TEXT)]
            case Fields():
                out += [_rich(_section(part)) for part in _cut(_field_spans(block), MAX_BLOCK_TEXT)]
    return out


def footer_block(footer: str) -> Json:
    return {"type": "context", "elements": [plain(footer, MAX_BLOCK_TEXT)]}


def action_blocks(buttons: Sequence[Button], team: TeamRef) -> list[Json]:
    elements = [_button(i, button, team) for i, button in enumerate(buttons)]
    return [
        {"type": "actions", "elements": elements[i : i + MAX_ACTIONS]}
        for i in range(0, len(elements), MAX_ACTIONS)
    ]


def _button(index: int, button: Button, team: TeamRef) -> Json:
    rendered: Json = {
        "type": "button",
        "action_id": f"{ACTION_PREFIX}{index}",
        "text": plain(button.label, MAX_BUTTON_LABEL),
        "value": encode_button(button, team),
    }
    if button.style is not ButtonStyle.DEFAULT:
        rendered["style"] = button.style.value
    return rendered


def encode_button(button: Button, team: TeamRef) -> str:
    value: Json = {"w": team.workspace, "c": team.channel, "x": button.command}
    if button.opens_form is not None or requests_form(button.command):
        value["f"] = 1
    encoded = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if len(encoded) > MAX_BUTTON_VALUE:
        raise ValueError(f"button command too long for Slack ({len(encoded)} > {MAX_BUTTON_VALUE})")
    return encoded


def decode_button(value: str) -> ButtonValue:
    """The button's team and command; `ValueError` for anything the bot did not render."""
    try:
        data = json.loads(value)
        return ButtonValue(str(data["w"]), str(data["c"]), str(data["x"]), bool(data.get("f")))
    except (TypeError, KeyError, json.JSONDecodeError) as error:
        raise ValueError("not a retro button") from error


def _element(span: Span) -> Json:
    if isinstance(span, str):
        return {"type": "text", "text": span}
    if span.style is Style.MENTION:
        return {"type": "user", "user_id": span.text}
    return {"type": "text", "text": span.text, "style": {span.style.value: True}}


def _rich(element: Json) -> Json:
    return {"type": "rich_text", "elements": [element]}


def _section(spans: Sequence[Span]) -> Json:
    return {"type": "rich_text_section", "elements": [_element(s) for s in spans]}


def _quote(spans: Sequence[Span]) -> Json:
    return {"type": "rich_text_quote", "elements": [_element(s) for s in spans]}


def _bullets(items: Sequence[Sequence[Span]]) -> Json:
    return {"type": "rich_text_list", "style": "bullet", "elements": [_section(item) for item in items]}


def _field_spans(block: Fields) -> list[Span]:
    """Fields as lines: a run of inline fields shares a line (``Depth: fall · Logged: ...``),
    others get their name on a line of its own."""
    lines: list[list[Span]] = []
    inline_run = False
    for field in block.fields:
        if field.inline and inline_run:
            lines[-1] += ["  ·  ", bold(field.name), ": ", *field.value]
        elif field.inline:
            lines.append([bold(field.name), ": ", *field.value])
        else:
            lines.append([bold(field.name), "\n", *field.value])
        inline_run = field.inline
    spans: list[Span] = []
    for i, line in enumerate(lines):
        spans += ["\n\n"] if i else []
        spans += line
    return spans


def _size(span: Span) -> int:
    if isinstance(span, str):
        return len(span)
    return len(span.text) + (3 if span.style is Style.MENTION else 0)


def _cut(spans: Sequence[Span], budget: int) -> list[list[Span]]:
    """Spans in runs of at most `budget` characters; a long text is cut, a mention never is."""
    runs: list[list[Span]] = []
    run: list[Span] = []
    room = budget
    for span in spans:
        mention = isinstance(span, Styled) and span.style is Style.MENTION
        text = span_text(span)
        while text:
            piece = with_text(span, text)
            if _size(piece) <= room or (mention and not run):
                run.append(piece)
                room -= _size(piece)
                break
            if not mention and room > 0:
                run.append(with_text(span, text[:room]))
                text = text[room:]
            runs.append(run)
            run, room = [], budget
    if run:
        runs.append(run)
    return runs


def _pack(items: Sequence[Sequence[Span]], budget: int) -> list[list[list[Span]]]:
    """Bullet items grouped into lists of at most `budget` characters (a long item becomes several)."""
    groups: list[list[list[Span]]] = []
    group: list[list[Span]] = []
    room = budget
    for item in items:
        for part in _cut(item, budget) or [[]]:
            size = sum(_size(s) for s in part)
            if group and size > room:
                groups.append(group)
                group, room = [], budget
            group.append(part or [" "])
            room -= size
    if group:
        groups.append(group)
    return groups


def text_size(value: Any) -> int:
    """Characters of text in a block (every ``text`` string in it)."""
    if isinstance(value, dict):
        return sum(len(v) if k == "text" and isinstance(v, str) else text_size(v) for k, v in value.items())
    if isinstance(value, list):
        return sum(text_size(v) for v in value)
    return 0


def _chunks(blocks: Sequence[Json], max_blocks: int, max_text: int) -> Iterator[list[Json]]:
    chunk: list[Json] = []
    size = 0
    for block in blocks:
        block_size = text_size(block)
        if chunk and (len(chunk) == max_blocks or size + block_size > max_text):
            yield chunk
            chunk, size = [], 0
        chunk.append(block)
        size += block_size
    if chunk:
        yield chunk


# -- views: modals and the App Home ---------------------------------------------------------


def encode_form_context(context: FormContext) -> str:
    data = {"w": context.workspace, "c": context.channel, "x": context.command}
    if context.response_url:
        data["u"] = context.response_url
    encoded = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    if len(encoded) > MAX_METADATA:
        raise ValueError("form context too long for Slack's private_metadata")
    return encoded


def decode_form_context(metadata: str) -> FormContext:
    try:
        data = json.loads(metadata)
        return FormContext(str(data["w"]), str(data["c"]), str(data["x"]), data.get("u"))
    except (TypeError, KeyError, json.JSONDecodeError) as error:
        raise ValueError("not a retro form") from error


def form_view(form: Form, context: FormContext) -> Json:
    """A form as a modal; its command and team travel in `private_metadata`."""
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "title": plain(form.title, MAX_VIEW_TITLE),
        "submit": plain(form.submit_label, MAX_VIEW_TITLE),
        "close": plain("Cancel", MAX_VIEW_TITLE),
        "private_metadata": encode_form_context(context),
        "blocks": [_input(i) for i in form.inputs][:MAX_VIEW_BLOCKS],
    }


def _input(field: FormInput) -> Json:
    element: Json
    match field.kind:
        case InputKind.TEXT | InputKind.LONG_TEXT:
            element = {"type": "plain_text_input", "multiline": field.kind is InputKind.LONG_TEXT}
            if field.max_length:
                element["max_length"] = min(field.max_length, MAX_INPUT)
            if field.initial:
                element["initial_value"] = short(field.initial, element.get("max_length", MAX_INPUT))
            if field.placeholder:
                element["placeholder"] = plain(field.placeholder, MAX_PLACEHOLDER)
        case InputKind.CHOICE:
            element = {"type": "static_select", "options": [_option(c) for c in field.choices[:100]]}
            if field.initial in field.choices:
                element["initial_option"] = _option(field.initial)
        case InputKind.FLAG:
            element = {"type": "checkboxes", "options": [_option("yes", "Yes")]}
            if field.checked:
                element["initial_options"] = [_option("yes", "Yes")]
    element["action_id"] = field.name
    return {
        "type": "input",
        "block_id": field.name,
        "optional": not field.required,
        "label": plain(field.label, MAX_LABEL),
        "element": element,
    }


def _option(value: str, text: str | None = None) -> Json:
    return {"text": plain(text or value, MAX_OPTION_TEXT), "value": value[:150]}


def form_values(state: Mapping[str, Any]) -> dict[str, str]:
    """A submitted modal's inputs by name, as the engine's form commands read them."""
    values: dict[str, str] = {}
    for actions in state.get("values", {}).values():
        for name, value in actions.items():
            match value.get("type"):
                case "plain_text_input":
                    values[name] = value.get("value") or ""
                case "static_select":
                    values[name] = (value.get("selected_option") or {}).get("value", "")
                case "checkboxes":
                    values[name] = "true" if value.get("selected_options") else "false"
    return values


def placeholder_view() -> Json:
    """Shown the moment a form is asked for; replaced by the form once the engine answers."""
    return {
        "type": "modal",
        "title": plain("retro", MAX_VIEW_TITLE),
        "close": plain("Cancel", MAX_VIEW_TITLE),
        "blocks": [footer_block("One moment…")],
    }


def message_view(messages: Sequence[Message], team: TeamRef) -> Json:
    """Messages shown in a modal (when a form was asked for but the answer is a message)."""
    blocks = [block for message in messages for block in _flat_blocks(message, team)]
    return {
        "type": "modal",
        "title": plain("retro", MAX_VIEW_TITLE),
        "close": plain("Close", MAX_VIEW_TITLE),
        "blocks": _view_blocks(blocks),
    }


def home_view(home: Home) -> Json:
    """The App Home tab: the intro, then one part per team (buttons carry that team)."""
    blocks = _flat_blocks(home.intro, _NO_TEAM)
    for section in home.sections:
        blocks.append({"type": "divider"})
        blocks += _flat_blocks(section.message, section.team)
    return {"type": "home", "blocks": _view_blocks(blocks)}


_NO_TEAM = TeamRef(PLATFORM, "", "")
"""The home's intro belongs to no team (and has no buttons)."""


def _flat_blocks(message: Message, team: TeamRef) -> list[Json]:
    return [block for chunk in slack_messages(message, team) for block in chunk.blocks]


def _view_blocks(blocks: list[Json]) -> list[Json]:
    if len(blocks) <= MAX_VIEW_BLOCKS:
        return blocks
    return [*blocks[: MAX_VIEW_BLOCKS - 1], footer_block("… and more than fits here.")]


# -- payloads in ----------------------------------------------------------------------------


def actor_from_profile(user: Mapping[str, Any] | None, user_id: str, fallback_name: str) -> Actor:
    """The person as `users.info` describes them: display name, then real name, then handle."""
    if not user:
        return Actor(user_id, fallback_name or user_id)
    profile = user.get("profile") or {}
    name = profile.get("display_name") or profile.get("real_name") or user.get("real_name")
    return Actor(user_id, name or user.get("name") or fallback_name or user_id, user.get("tz") or None)


def command_invocation(body: Mapping[str, Any], actor: Actor) -> Invocation:
    """A ``/retro`` slash command. Its trigger_id is unique per command, so a redelivery is a no-op."""
    return Invocation(
        team=TeamRef(PLATFORM, body["team_id"], body["channel_id"]),
        actor=actor,
        text=body.get("text") or "",
        key=f"slack:command:{body['trigger_id']}",
        channel_name=body.get("channel_name"),
    )


def clicked_button(body: Mapping[str, Any], action: Mapping[str, Any]) -> ButtonValue:
    """The retro button that was clicked; `ValueError` for one retro did not render, or one whose
    team is in another workspace than the click."""
    button = decode_button(action.get("value") or "")
    payload_team = team_id_of(body)
    if payload_team and payload_team != button.workspace:
        raise ValueError("a button of another workspace")
    return button


def action_invocation(
    body: Mapping[str, Any], action: Mapping[str, Any], button: ButtonValue, actor: Actor
) -> Invocation:
    """A click on a retro button, run as the clicker in the button's team.

    A double click (or a redelivered click) on the same button of the same message by the same
    person has the same key, so it counts once. A click that opens a form writes nothing and has
    no key: closing the form and clicking again must open it again."""
    container = body.get("container") or {}
    where = container.get("message_ts") or container.get("view_id") or ""
    key = None if button.form else f"slack:click:{where}:{action['action_id']}:{actor.user_id}"
    return Invocation(TeamRef(PLATFORM, button.workspace, button.channel), actor, button.command, key=key)


def view_invocation(body: Mapping[str, Any], context: FormContext, actor: Actor) -> Invocation:
    """A submitted modal; the view id is unique per opened modal, so a double submit counts once."""
    view = body["view"]
    return Invocation(
        team=TeamRef(PLATFORM, context.workspace, context.channel),
        actor=actor,
        text=context.command,
        values=form_values(view.get("state") or {}),
        key=f"slack:view:{view['id']}",
    )


def submission_error(body: Mapping[str, Any]) -> InputError | None:
    """The first input of a submitted modal that the grammar refuses (its block id is the input's
    name), or None when the form may go ahead."""
    try:
        context = decode_form_context(body["view"].get("private_metadata") or "")
    except ValueError:
        return None
    return input_error(context.command, form_values(body["view"].get("state") or {}))


def team_id_of(body: Mapping[str, Any]) -> str | None:
    """The workspace of an interaction payload (``team.id``, or the user's team in org-wide apps)."""
    team = body.get("team") or {}
    user = body.get("user") or {}
    return team.get("id") or user.get("team_id") or body.get("team_id")


def user_of(body: Mapping[str, Any]) -> tuple[str, str]:
    """The user id and the handle a payload names, for commands and interactions alike."""
    if "user_id" in body:
        return body["user_id"], body.get("user_name") or ""
    user = body.get("user") or {}
    return user["id"], user.get("username") or user.get("name") or ""
