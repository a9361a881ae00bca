"""The building blocks of the command grammar: specs, usage errors and text hygiene.

Every subcommand is one `CommandSpec`: its name, usage line, help text, and a pure function from
the text after the subcommand to a typed command value. Help is generated from the same specs the
parser uses, so the two can never disagree.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bot.core.text import short

MAX_COMMAND_CHARS = 8_000
"""Anything longer is not a command someone meant to type; refuse before parsing it."""

MAX_NUMBER = 2**31 - 1
"""The largest misstep number the database column holds; anything above is simply not found."""


class UsageError(Exception):
    """Bad input. The message is shown to the person as is: friendly, and says what to type."""

    def __init__(self, message: str, topic: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.topic = topic
        """The subcommand whose help would help, if any."""
        self.field = field
        """The form input the message is about, so a form can show it next to that input."""


@contextmanager
def form_field(name: str) -> Iterator[None]:
    """Tag the usage errors raised inside with the form input they are about."""
    try:
        yield
    except UsageError as error:
        raise UsageError(error.message, error.topic, name) from None


Parse = Callable[[str], Any]
FromValues = Callable[[str, Mapping[str, str]], Any]


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    usage: str
    """Argument syntax after the name, e.g. ``#N stuck|recurred|unsure``."""
    summary: str
    parse: Parse
    aliases: tuple[str, ...] = ()
    details: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    from_values: FromValues | None = None
    """Builds the command from a submitted form or a platform's typed options."""
    hidden: bool = False
    """Left out of the overview (e.g. commands that buttons run)."""
    group: str = "missteps"
    """Heading in the help overview."""
    completions: tuple[str, ...] = field(default=())
    """Words the terminal chat offers after the name."""

    @property
    def line(self) -> str:
        return f"/retro {self.name} {self.usage}".rstrip()


# Bidirectional embeddings, overrides and isolates can make echoed text display as something
# else ("Trojan Source"); right-to-left *letters* are fine and kept.
_BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
_SPACES = re.compile(r"\s+")


def clean_text(text: str) -> str:
    """Normalise what a person typed: NFC, no control or bidi-override characters, single spaces."""
    text = unicodedata.normalize("NFC", text).translate(_BIDI_CONTROLS)
    text = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
    return _SPACES.sub(" ", text).strip()


def limit(text: str, what: str, max_chars: int) -> str:
    if len(text) > max_chars:
        raise UsageError(
            f"That {what} is {len(text):,} characters; please keep it under {max_chars:,}. "
            "A short sentence is plenty: the details can live in a linked doc."
        )
    return text


_NUMBER = re.compile(r"#?(-?\w+)")


def parse_number(token: str, topic: str | None = None) -> int:
    """A misstep reference: ``#12`` or ``12``."""
    match = _NUMBER.fullmatch(token)
    raw = match.group(1) if match else token
    if not raw.lstrip("-").isdigit() or not raw.lstrip("-").isascii():
        raise UsageError(f"`{short(token, 20)}` isn't a misstep number; write it like `#12`.", topic)
    number = int(raw)
    if number < 1:
        raise UsageError("Misstep numbers start at #1; `/retro status` lists the open ones.", topic)
    return number


def is_number_token(token: str) -> bool:
    return token.startswith("#") or token.isdigit()


def split_first(text: str) -> tuple[str, str]:
    head, _, rest = text.strip().partition(" ")
    return head, rest.strip()
