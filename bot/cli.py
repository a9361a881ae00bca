"""The `retro` command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from bot.app import SchemaOutOfDate, build_app, build_ticker, prepare_database
from bot.core.clock import system_clock
from bot.core.digest.week import Week
from bot.core.digest.weekly import FutureWeek, digest_for_week, week_to_show
from bot.core.export import TeamHistory, export_file, from_json, load_history
from bot.core.messages import render_plain
from bot.core.model import Team
from bot.logs import configure_logging
from bot.progress import ProgressBar
from bot.scheduling.policy import SchedulePolicy
from bot.settings import Settings, SettingsError, load_settings
from bot.storage.database import Database
from bot.storage.migrate import current_revision, head_revision, upgrade
from bot.storage.repositories.history import TeamExists


class CommandLineError(Exception):
    """Stops the command with one line for the person, exit status 1."""


async def cmd_run(settings: Settings, args: argparse.Namespace) -> None:
    app = await build_app(settings)
    await app.run()


async def cmd_chat(settings: Settings, args: argparse.Namespace) -> None:
    from adapters.terminal import TerminalChat

    # The chat only: a process that also ran Slack or Discord here would answer their users too.
    app = await build_app(settings.without_platforms(), terminal=False)
    chat = TerminalChat.from_settings(app.engine, settings, team=args.team, user=args.user)
    app.services.append(chat)
    app.add_sender(chat.sender)
    await app.run()


async def cmd_tick(settings: Settings, args: argparse.Namespace) -> None:
    from adapters.terminal import TerminalSender

    clock = system_clock if args.now is None else (lambda: args.now)
    app = await build_app(settings, clock=clock, terminal=False, heartbeat=False)
    if not app.senders:
        # No platform configured: deliver the terminal teams' messages by printing them.
        app.add_sender(TerminalSender(sys.stdout))
    try:
        report = await build_ticker(settings, app.database, clock, app.senders, app.engine.matcher).tick()
    finally:
        await app.close()
    print(f"retro tick at {clock():%Y-%m-%d %H:%M:%S} UTC: {report}", file=sys.stderr)


def moment(text: str) -> datetime:
    """An ISO-8601 time for `--now`; without an offset it is UTC."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO-8601 time like 2026-12-01T09:00Z") from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


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
        with ProgressBar("exporting") as progress:
            async with database.unit_of_work() as uow:
                history = await load_history(uow, team, progress)
    finally:
        await database.close()
    attachment = export_file(history, args.format, system_clock())
    out = Path(args.out) if args.out else Path.cwd() / attachment.filename
    out.write_bytes(attachment.content)
    print(f"{len(history.missteps)} missteps written to {out}")


def read_export(path: str) -> TeamHistory:
    try:
        return from_json(json.loads(Path(path).read_bytes()))
    except (OSError, ValueError) as error:  # ExportError and JSONDecodeError are ValueErrors
        raise CommandLineError(f"{path}: {error}") from None


async def cmd_import(settings: Settings, args: argparse.Namespace) -> None:
    history = read_export(args.file)
    database = await prepare_database(settings)
    try:
        with ProgressBar("importing") as progress:
            async with database.unit_of_work() as uow:
                team = await uow.history.restore(history, progress)
                await uow.commit()
    except TeamExists as error:
        raise CommandLineError(
            f"team {error} is already in {database.url}; import into an empty database"
        ) from None
    finally:
        await database.close()
    print(f"imported {team.name}: {len(history.missteps)} missteps, {len(history.lessons)} lessons")


async def cmd_digest(settings: Settings, args: argparse.Namespace) -> None:
    database = await prepare_database(settings)
    try:
        team = await find_team(database, args.team)
        now = system_clock()
        try:
            week = week_to_show(args.week, now, team.timezone)
        except FutureWeek as error:
            raise CommandLineError(f"{error} (in {team.timezone})") from None
        async with database.unit_of_work() as uow:
            message = await digest_for_week(
                uow, team, week, now, check_after=SchedulePolicy.from_settings(settings).check_after
            )
    finally:
        await database.close()
    print(render_plain(message))
    for attachment in message.attachments:
        out = Path(args.out) if args.out else Path.cwd() / attachment.filename
        out.write_bytes(attachment.content)
        print(f"Trend chart saved to {out}")


def week_argument(text: str) -> Week:
    try:
        return Week.parse(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a week like 2026-W47") from None


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

    tick = sub.add_parser("tick", help="deliver what is due once, then exit (for cron)")
    tick.add_argument("--now", type=moment, help="pretend it is this ISO-8601 time (default: now)")
    tick.set_defaults(func=cmd_tick)

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply the migrations").set_defaults(func=cmd_db_upgrade)
    db.add_parser("status", help="show the schema revision").set_defaults(func=cmd_db_status)

    export = sub.add_parser("export", help="write a team's history to a file")
    export.add_argument("--team", required=True, help="team name or channel id")
    export.add_argument("--format", choices=("csv", "json", "md"), default="json")
    export.add_argument("--out", help="file to write (default: a dated name in this directory)")
    export.set_defaults(func=cmd_export)

    restore = sub.add_parser("import", help="restore a team from a JSON export into this database")
    restore.add_argument("file", help="a file written by `retro export --format json`")
    restore.set_defaults(func=cmd_import)

    digest = sub.add_parser("digest", help="render a team's weekly digest")
    digest.add_argument("--team", required=True, help="team name or channel id")
    digest.add_argument(
        "--week",
        type=week_argument,
        help="ISO week in the team's timezone, e.g. 2026-W47 (default: this week)",
    )
    digest.add_argument("--out", help="where to save the trend chart PNG (default: a dated name here)")
    digest.set_defaults(func=cmd_digest)

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
