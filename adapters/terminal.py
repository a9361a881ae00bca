"""The terminal chat: the same commands as Slack and Discord, typed in a shell.

One command per line, with or without the leading ``/retro``. In an interactive terminal it
offers line editing, history and completion; when input is piped (``retro chat < script.txt``)
it prints each reply plainly, with no prompt decoration. Scheduled messages print as they fire.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory
from prompt_toolkit.patch_stdout import patch_stdout

from bot.core.commands.grammar import GRAMMAR
from bot.core.engine import Engine
from bot.core.messages import Form, Reply, render_plain
from bot.core.model import TeamRef
from bot.core.ports import Actor, Invocation, Outgoing
from bot.settings import Settings

PLATFORM = "terminal"
WORKSPACE = "local"
QUIT_WORDS = {"quit", "exit", ":q"}


def command_text(line: str) -> str:
    """The command part of a typed line: a leading ``/retro`` or ``retro`` is optional."""
    text = line.strip()
    for prefix in ("/retro", "retro"):
        if text == prefix or text.startswith(prefix + " "):
            return text[len(prefix) :].strip()
    return text


def form_hint(form: Form) -> str:
    """Forms are a Slack and Discord thing; here the person types the one-line command."""
    word, _, fixed = form.command.partition(" ")
    spec = GRAMMAR.spec(word)
    usage = spec.usage if spec else ""
    if fixed:
        # The form is for one misstep already: its number is part of the command shown.
        usage = usage.replace("[#N] ", "")
        word = f"{word} {fixed}"
    # Plain like every other reply here: render_plain shows commands without backticks.
    return f"{form.title}: type /retro {word} {usage}"


def write_attachments(reply: Reply, directory: Path) -> list[Path]:
    paths = []
    for message in reply.private:
        for attachment in message.attachments:
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / attachment.filename
            path.write_bytes(attachment.content)
            paths.append(path)
    return paths


def render_reply(reply: Reply, export_dir: Path) -> str:
    parts = [render_plain(m) for m in reply.private]
    parts += [f"(posted in the channel)\n{render_plain(m)}" for m in reply.announcements]
    if reply.form is not None:
        parts.append(form_hint(reply.form))
    parts += [f"Saved to {path}" for path in write_attachments(reply, export_dir)]
    return "\n\n".join(p for p in parts if p)


class TerminalSender:
    """Scheduled messages for the terminal team, printed as they fire."""

    platform = PLATFORM
    idempotent = False

    def __init__(self, output: TextIO) -> None:
        self.output = output

    async def send(self, outgoing: Outgoing) -> None:
        where = "to you" if outgoing.destination.user_id else "in the channel"
        print(f"\n[retro, {where}]\n{render_plain(outgoing.message)}\n", file=self.output, flush=True)


class RetroCompleter(Completer):
    """Subcommands first, then each subcommand's words and the team's misstep numbers."""

    def __init__(self) -> None:
        self.numbers: list[tuple[int, str]] = []

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        words = command_text(document.text_before_cursor).split(" ")
        current = words[-1]
        if len(words) == 1:
            for word in GRAMMAR.words:
                if word.startswith(current.lower()):
                    yield Completion(word, -len(current))
            return
        spec = GRAMMAR.spec(words[0])
        for word in spec.completions if spec else ():
            if word.startswith(current.lower()):
                yield Completion(word, -len(current))
        if current.startswith("#") or current == "":
            for number, what in self.numbers:
                token = f"#{number}"
                if token.startswith(current):
                    yield Completion(token, -len(current), display_meta=what[:50])


class TerminalChat:
    """A local team in the shell."""

    name = "terminal"

    def __init__(
        self,
        engine: Engine,
        team: str,
        user: str,
        export_dir: Path,
        history_file: Path | None = None,
        input: TextIO | None = None,
        output: TextIO | None = None,
    ) -> None:
        self.engine = engine
        self.team = TeamRef(PLATFORM, WORKSPACE, team)
        self.actor = Actor(user_id=user, display_name=user)
        self.export_dir = export_dir
        self.history_file = history_file
        self.input = input or sys.stdin
        self.output = output or sys.stdout
        self.sender = TerminalSender(self.output)

    @classmethod
    def from_settings(
        cls, engine: Engine, settings: Settings, team: str | None = None, user: str | None = None
    ) -> TerminalChat:
        return cls(
            engine,
            team=team or "local",
            user=user or _login_name(),
            export_dir=settings.export_path,
            history_file=settings.data_dir / "chat-history",
        )

    async def handle_line(self, line: str) -> str:
        text = command_text(line)
        if not text:
            return ""
        reply = await self.engine.handle(
            Invocation(self.team, self.actor, text, channel_name=self.team.channel)
        )
        return render_reply(reply, self.export_dir)

    async def run(self) -> None:
        if self.input.isatty() and self.output.isatty():
            await self._run_interactive()
        else:
            await self._run_piped()

    async def _run_piped(self) -> None:
        while True:
            line = await asyncio.to_thread(self.input.readline)
            if not line:
                return
            if line.strip().lower() in QUIT_WORDS:
                return
            answer = await self.handle_line(line)
            if answer:
                print(answer + "\n", file=self.output, flush=True)

    async def _run_interactive(self) -> None:
        completer = RetroCompleter()
        history = None
        if self.history_file is not None:
            self.history_file.parent.mkdir(parents=True, exist_ok=True)
            history = FileHistory(str(self.history_file))
        session: PromptSession[str] = PromptSession(completer=completer, history=history)
        print(
            f"retro chat: team '{self.team.channel}', you are {self.actor.display_name}. "
            "Type `help` for commands, `quit` to leave.\n",
            file=self.output,
        )
        with patch_stdout():
            while True:
                completer.numbers = await self.engine.misstep_choices(self.team, self.actor.user_id)
                try:
                    line = await session.prompt_async("retro> ")
                except (EOFError, KeyboardInterrupt):
                    return
                if line.strip().lower() in QUIT_WORDS:
                    return
                answer = await self.handle_line(line)
                if answer:
                    print(answer + "\n", file=self.output)


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "me"
