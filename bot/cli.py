"""The `retro` command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from bot.app import SchemaOutOfDate, build_app, prepare_database
from bot.core.clock import system_clock
from bot.core.export import export_file, load_history
from bot.core.model import Team
from bot.logs import configure_logging
from bot.settings import Settings, SettingsError, load_settings
from bot.storage.database import Database
from bot.storage.migrate import current_revision, head_revision, upgrade


class CommandLineError(Exception):
    """Stops the command with one line for the person, exit status 1."""


async def cmd_run(settings: Settings, args: argparse.Namespace) -> None:
    app = await build_app(settings)
    await app.run()


async def cmd_chat(settings: Settings, args: argparse.Namespace) -> None:
    from adapters.terminal import TerminalChat

    app = await build_app(settings, terminal=False)
    app.services.append(TerminalChat.from_settings(app.engine, settings, team=args.team, user=args.user))
    await app.run()


async def cmd_db_upgrade(settings: Settings, args: argparse.Namespace) -> None:
    database = Database.connect(settings.database_url)
    try:
        before = await current_revision(database)
        await upgrade(database)
        after = await current_revision(database)
    finally:
        await database.close()
    if before == after:
        print(f"{database.url}: already at {after}")
    else:
        print(f"{database.url}: upgraded {before or 'empty'} -> {after}")


async def cmd_db_status(settings: Settings, args: argparse.Namespace) -> None:
    database = Database.connect(settings.database_url)
    try:
        current = await current_revision(database)
    finally:
        await database.close()
    state = "up to date" if current == head_revision() else f"needs `retro db upgrade` to {head_revision()}"
    print(f"{database.url}: revision {current or 'none'}, {state}")


async def find_team(database: Database, name: str) -> Team:
    async with database.unit_of_work() as uow:
        teams = await uow.teams.find_by_name(name)
        if not teams:
            known = ", ".join(sorted({t.name for t in await uow.teams.all()})) or "none yet"
            raise CommandLineError(f"no team called {name!r} (teams: {known})")
    if len(teams) > 1:
        places = ", ".join(f"{t.ref.platform}:{t.ref.workspace}/{t.ref.channel}" for t in teams)
        raise CommandLineError(f"{len(teams)} teams are called {name!r} ({places}); name the channel id")
    return teams[0]


async def cmd_export(settings: Settings, args: argparse.Namespace) -> None:
    database = await prepare_database(settings)
    try:
        team = await find_team(database, args.team)
        async with database.unit_of_work() as uow:
            history = await load_history(uow, team)
    finally:
        await database.close()
    attachment = export_file(history, args.format, system_clock())
    out = Path(args.out) if args.out else Path.cwd() / attachment.filename
    out.write_bytes(attachment.content)
    print(f"{len(history.missteps)} missteps written to {out}")


async def cmd_workspace_delete(settings: Settings, args: argparse.Namespace) -> None:
    if not args.yes:
        raise CommandLineError(
            f"this deletes every team, misstep and lesson of {args.platform} workspace {args.workspace}; "
            "add --yes to confirm"
        )
    database = await prepare_database(settings)
    try:
        async with database.unit_of_work() as uow:
            teams = await uow.teams.delete_workspace(args.platform, args.workspace)
            await uow.commit()
    finally:
        await database.close()
    print(f"deleted {args.platform} workspace {args.workspace} and its {teams} team(s)")


Command = Callable[[Settings, argparse.Namespace], Awaitable[None]]


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="retro", description="A bot that turns missteps into lessons.")
    top.add_argument(
        "--config", help="TOML settings file (default: $RETRO_CONFIG or ~/.config/retro/retro.toml)"
    )
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="start the configured adapters (the terminal chat without tokens)")
    run.set_defaults(func=cmd_run)

    chat = sub.add_parser("chat", help="the terminal chat, always")
    chat.add_argument("--team", default=None, help="team name (default: local)")
    chat.add_argument("--user", default=None, help="your name (default: your login name)")
    chat.set_defaults(func=cmd_chat)

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply the migrations").set_defaults(func=cmd_db_upgrade)
    db.add_parser("status", help="show the schema revision").set_defaults(func=cmd_db_status)

    export = sub.add_parser("export", help="write a team's history to a file")
    export.add_argument("--team", required=True, help="team name or channel id")
    export.add_argument("--format", choices=("csv", "json", "md"), default="json")
    export.add_argument("--out", help="file to write (default: a dated name in this directory)")
    export.set_defaults(func=cmd_export)

    workspace = sub.add_parser("workspace", help="workspaces (Slack workspaces, Discord guilds)")
    workspace_sub = workspace.add_subparsers(dest="workspace_command", required=True)
    delete = workspace_sub.add_parser("delete", help="delete a workspace's teams and history for good")
    delete.add_argument("--platform", required=True, choices=("slack", "discord", "terminal"))
    delete.add_argument("--workspace", required=True, help="Slack team id (T...) or Discord guild id")
    delete.add_argument("--yes", action="store_true", help="really delete")
    delete.set_defaults(func=cmd_workspace_delete)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = load_settings(config_file=args.config)
        configure_logging(settings.log_level)
        asyncio.run(args.func(settings, args))
    except (SettingsError, SchemaOutOfDate, CommandLineError) as error:
        print(f"retro: {error}", file=sys.stderr)
        return 1 if not isinstance(error, SettingsError) else 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
