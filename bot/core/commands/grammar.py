"""The whole `/retro` grammar: every subcommand's spec in one explicit list, the parser that
dispatches on the first word, and the help generated from the same specs."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.core.commands import digest, missteps, schedule, team
from bot.core.commands.base import (
    MAX_COMMAND_CHARS,
    CommandSpec,
    UsageError,
    clean_text,
    split_first,
)
from bot.core.messages import Bullets, Message, Paragraph, bold, code


@dataclass(frozen=True, slots=True)
class Help:
    topic: str | None = None


class Grammar:
    """Parses command text into command values and explains itself."""

    def __init__(self, specs: Sequence[CommandSpec]) -> None:
        self.specs = tuple(specs)
        self._by_word: dict[str, CommandSpec] = {}
        for spec in self.specs:
            for word in (spec.name, *spec.aliases):
                if word in self._by_word:
                    raise ValueError(f"two commands answer to {word!r}")
                self._by_word[word] = spec

    def spec(self, word: str) -> CommandSpec | None:
        return self._by_word.get(word.lower())

    @property
    def words(self) -> list[str]:
        return sorted(self._by_word)

    def parse(self, text: str, values: Mapping[str, str] | None = None) -> object:
        """The command value for `text` (the words after ``/retro``), or `UsageError`."""
        if len(text) > MAX_COMMAND_CHARS:
            raise UsageError(
                f"That message is {len(text):,} characters, far more than a command needs "
                f"(under {MAX_COMMAND_CHARS:,}). Log the short version and link the details."
            )
        word, args = split_first(clean_text(text))
        if not word:
            return Help()
        spec = self.spec(word)
        if spec is None:
            raise UsageError(self._unknown(word))
        if values is not None:
            if spec.from_values is None:
                raise UsageError(f"`/retro {spec.name}` has no form; type it as a command instead.")
            return spec.from_values(args, values)
        return spec.parse(args)

    def _unknown(self, word: str) -> str:
        shown = word if len(word) <= 20 else word[:19] + "…"
        close = difflib.get_close_matches(word.lower(), self.words, n=1)
        hint = f" Did you mean `/retro {close[0]}`?" if close else ""
        return f"I don't know `/retro {shown}`.{hint} `/retro help` lists what I can do."

    def help(self, topic: str | None = None) -> Message:
        if topic:
            spec = self.spec(topic)
            if spec is None:
                raise UsageError(self._unknown(topic))
            return self._help_one(spec)
        groups: dict[str, list[CommandSpec]] = {}
        for spec in self.specs:
            if not spec.hidden:
                groups.setdefault(spec.group, []).append(spec)
        blocks: list[Paragraph | Bullets] = [
            Paragraph(
                ("Log what went wrong, say what it taught you, and I'll check later whether it stuck.",)
            )
        ]
        for group, specs in groups.items():
            blocks.append(Paragraph((bold(group.capitalize()),)))
            blocks.append(Bullets(tuple((code(s.line), f" {s.summary}") for s in specs)))
        blocks.append(
            Paragraph(
                ("More on one command: ", code("/retro help <command>"), "."),
            )
        )
        return Message(title="retro: turn missteps into lessons", blocks=tuple(blocks))

    def _help_one(self, spec: CommandSpec) -> Message:
        blocks: list[Paragraph | Bullets] = [Paragraph((code(spec.line),)), Paragraph((spec.summary,))]
        if spec.aliases:
            blocks.append(Paragraph(("Also: ", *[code(f"/retro {a}") for a in spec.aliases])))
        if spec.details:
            blocks.append(Bullets(tuple((d,) for d in spec.details)))
        if spec.examples:
            blocks.append(Paragraph((bold("Examples"),)))
            blocks.append(Bullets(tuple((code(e),) for e in spec.examples)))
        return Message(title=f"/retro {spec.name}", blocks=tuple(blocks))


def _parse_help(args: str) -> Help:
    word, _ = split_first(clean_text(args))
    return Help(word.lower() or None)


HELP = CommandSpec(
    name="help",
    usage="[command]",
    summary="What I can do, or more about one command.",
    parse=_parse_help,
    group="help",
)


GRAMMAR = Grammar([*missteps.SPECS, *digest.SPECS, *schedule.SPECS, *team.SPECS, HELP])
"""Every subcommand, in the order help lists them. Add a command group's specs here."""
