"""The ``/retro`` command group: one subcommand per command of the core grammar.

Where Discord offers better than free text, options are typed: choices for depths and answers, a
boolean for anonymity, autocomplete for misstep numbers and timezones, length limits taken from the
core's. Every other command of the grammar gets a subcommand with one free-text option, so a
command added to the grammar shows up here without touching this file. Descriptions come from the
grammar's summaries, the same text `/retro help` shows.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.app_commands import Choice, Range

from adapters.discord.bridge import Bridge
from adapters.discord.translate import (
    CHOICES_LIMIT,
    command_line,
    describe,
    misstep_choices,
    reference,
    timezone_choices,
)
from bot.core.commands.base import CommandSpec
from bot.core.commands.grammar import GRAMMAR
from bot.core.commands.missteps import (
    EXPORT_FORMATS,
    MAX_COMMITMENT,
    MAX_GOAL,
    MAX_LESSON,
    MAX_QUERY,
    MAX_WHAT,
)
from bot.core.model import CheckAnswer, Depth
from bot.core.render import ANSWER_LABELS


def _summary(name: str) -> str:
    spec = GRAMMAR.spec(name)
    assert spec is not None, f"/retro {name} is not in the grammar"
    return describe(spec.summary)


class RetroCommands(app_commands.Group):
    """``/retro``, in guilds only (a team is a guild; DMs only carry the bot's prompts)."""

    def __init__(self, bridge: Bridge) -> None:
        super().__init__(
            name="retro",
            description="Turn missteps into lessons, and check later whether they stuck.",
            guild_only=True,
        )
        self.bridge = bridge
        typed = {command.name for command in self.commands}
        for spec in GRAMMAR.specs:
            if spec.name not in typed and not spec.hidden:
                self.add_command(_free_text(spec, bridge))

    @app_commands.command(description=_summary("oops"))
    @app_commands.describe(
        what="What happened (leave it out to fill in a form)",
        goal="What you were trying to do",
        depth="How deep it went (default: stumble)",
        tags="Tags, separated by spaces or commas",
        anonymous="Keep your name out of every message, digest and export",
    )
    @app_commands.choices(depth=[Choice(name=depth.value, value=depth.value) for depth in Depth])
    async def oops(
        self,
        interaction: discord.Interaction,
        what: Range[str, 1, MAX_WHAT] | None = None,
        goal: Range[str, 1, MAX_GOAL] | None = None,
        depth: Choice[str] | None = None,
        tags: Range[str, 1, 200] | None = None,
        anonymous: bool = False,
    ) -> None:
        if what is None:
            await self.bridge.run(interaction, "oops")
            return
        values = {
            "what": what,
            "goal": goal or "",
            "depth": depth.value if depth else "",
            "tags": tags or "",
            "anonymous": "true" if anonymous else "false",
        }
        await self.bridge.run(interaction, "oops", values)

    @app_commands.command(description=_summary("learned"))
    @app_commands.describe(
        misstep="The misstep, like 4 (default: your latest one without a lesson)",
        lesson="What it taught you (leave it out to fill in a form)",
        next_time="What you will do next time",
    )
    async def learned(
        self,
        interaction: discord.Interaction,
        misstep: str | None = None,
        lesson: Range[str, 1, MAX_LESSON] | None = None,
        next_time: Range[str, 1, MAX_COMMITMENT] | None = None,
    ) -> None:
        if lesson is None:
            await self.bridge.run(interaction, command_line("learned", reference(misstep)))
            return
        values = {"misstep": reference(misstep) or "", "lesson": lesson, "next_time": next_time or ""}
        await self.bridge.run(interaction, "learned", values)

    @app_commands.command(description=_summary("check"))
    @app_commands.describe(misstep="The misstep whose lesson you are checking", answer="Did it stick?")
    @app_commands.choices(answer=[Choice(name=ANSWER_LABELS[a], value=a.value) for a in CheckAnswer])
    async def check(self, interaction: discord.Interaction, misstep: str, answer: Choice[str]) -> None:
        await self.bridge.run(interaction, command_line("check", reference(misstep), answer.value))

    @app_commands.command(description=_summary("status"))
    @app_commands.describe(misstep="One misstep's whole story (default: the team's open items)")
    async def status(self, interaction: discord.Interaction, misstep: str | None = None) -> None:
        await self.bridge.run(interaction, command_line("status", reference(misstep)))

    @app_commands.command(description=_summary("lessons"))
    @app_commands.describe(words="Words to look for (default: the latest lessons)")
    async def lessons(
        self, interaction: discord.Interaction, words: Range[str, 1, MAX_QUERY] | None = None
    ) -> None:
        await self.bridge.run(interaction, command_line("lessons", words))

    @app_commands.command(description=_summary("same"))
    @app_commands.describe(misstep="The new misstep", earlier="The earlier one it repeats")
    async def same(self, interaction: discord.Interaction, misstep: str, earlier: str) -> None:
        await self.bridge.run(interaction, command_line("same", reference(misstep), reference(earlier)))

    @app_commands.command(description=_summary("dismiss"))
    @app_commands.describe(misstep="The new misstep", earlier="The earlier one it is not a repeat of")
    async def dismiss(self, interaction: discord.Interaction, misstep: str, earlier: str) -> None:
        await self.bridge.run(interaction, command_line("dismiss", reference(misstep), reference(earlier)))

    @app_commands.command(description=_summary("export"))
    @app_commands.describe(format="File format (default: csv)")
    @app_commands.choices(format=[Choice(name=f, value=f) for f in sorted(set(EXPORT_FORMATS.values()))])
    async def export(self, interaction: discord.Interaction, format: Choice[str] | None = None) -> None:
        await self.bridge.run(interaction, command_line("export", format.value if format else None))

    @app_commands.command(description=_summary("announce"))
    @app_commands.describe(setting="Turn it on or off (default: say whether it is on)")
    @app_commands.choices(setting=[Choice(name="on", value="on"), Choice(name="off", value="off")])
    async def announce(self, interaction: discord.Interaction, setting: Choice[str] | None = None) -> None:
        await self.bridge.run(interaction, command_line("announce", setting.value if setting else None))

    @app_commands.command(description=_summary("help"))
    @app_commands.describe(command="One command to explain")
    async def help(self, interaction: discord.Interaction, command: str | None = None) -> None:
        await self.bridge.run(interaction, command_line("help", command))

    @app_commands.command(description=_summary("tz"))
    @app_commands.describe(zone="Your IANA timezone, like Europe/Berlin, or reset (default: show it)")
    async def tz(self, interaction: discord.Interaction, zone: Range[str, 1, 64] | None = None) -> None:
        await self.bridge.run(interaction, command_line("tz", zone))

    @app_commands.command(description=_summary("setup"))
    @app_commands.describe(
        channel="Where rounds, digests and announcements go (default: this channel)",
        timezone="The team's timezone, like Europe/Berlin",
    )
    async def setup(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel | None = None,
        timezone: str | None = None,
    ) -> None:
        await self.bridge.setup(interaction, channel, timezone)

    @learned.autocomplete("misstep")
    @check.autocomplete("misstep")
    @status.autocomplete("misstep")
    @same.autocomplete("misstep")
    @same.autocomplete("earlier")
    @dismiss.autocomplete("misstep")
    @dismiss.autocomplete("earlier")
    async def _missteps(self, interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        choices = await self.bridge.misstep_choices(interaction)
        return [Choice(name=name, value=value) for name, value in misstep_choices(choices, current)]

    @setup.autocomplete("timezone")
    @tz.autocomplete("zone")
    async def _timezones(self, interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        return [Choice(name=name, value=name) for name in timezone_choices(current)]

    @help.autocomplete("command")
    async def _topics(self, interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        typed = current.strip().lower()
        words = [word for word in GRAMMAR.words if word.startswith(typed)]
        return [Choice(name=word, value=word) for word in words[:CHOICES_LIMIT]]


def _free_text(spec: CommandSpec, bridge: Bridge) -> app_commands.Command[app_commands.Group, ..., None]:
    """A subcommand for a grammar command without typed options: its arguments as one text."""

    if not spec.usage:

        async def bare(interaction: discord.Interaction) -> None:
            await bridge.run(interaction, spec.name)

        return app_commands.Command(name=spec.name, description=describe(spec.summary), callback=bare)

    async def run(interaction: discord.Interaction, arguments: str | None = None) -> None:
        await bridge.run(interaction, command_line(spec.name, arguments))

    described = app_commands.describe(arguments=describe(spec.usage))(run)
    return app_commands.Command(name=spec.name, description=describe(spec.summary), callback=described)
