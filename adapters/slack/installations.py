"""Multi-workspace installs: slack-sdk's async installation and OAuth state stores on our database.

slack-sdk ships a SQLAlchemy store, but a synchronous one; these implement the same interfaces
on the bot's own tables and async sessions, so several bot processes on one PostgreSQL database
share installations and OAuth states. Only bot installations are kept (the app asks for bot
scopes, no user tokens), so Bolt runs with ``installation_store_bot_only``.

Bolt authorizes every request before its listener can acknowledge it, and Slack gives the ack
3 seconds. Its own `AsyncInstallationStoreAuthorize` reads the store and calls ``auth.test`` for
each request (its cache skips only ``auth.test``), so a slow database or a 429 on ``auth.test``
delayed acks past the deadline. `InstalledBotAuthorize` answers from the installations the store
keeps in memory instead, with what the install recorded (no ``auth.test``).
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from sqlalchemy import delete, select

from adapters.slack.translate import PLATFORM
from bot.core.clock import Clock, system_clock
from bot.storage.database import Database
from bot.storage.tables import SlackInstallationRow, SlackOAuthStateRow

log = logging.getLogger(__name__)


class DatabaseInstallationStore(AsyncInstallationStore):
    """Bot installations per workspace (or Enterprise Grid org), one row each.

    `async_find_bot`, which Bolt authorizes requests with, answers from memory: every installation
    is read at start-up (`load`), and installs and uninstalls through this process update the
    memory as they update the database. What other processes change is picked up by the next
    `load`, or on first sight of a workspace this process has not seen installed."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._bots: dict[tuple[str, str], Bot] = {}
        self._writes = 0
        """Installs and uninstalls through this process, so a `load` that raced one is dropped."""

    async def load(self) -> None:
        """Read every installation into memory."""
        writes = self._writes
        async with self.database.unit_of_work() as uow:
            rows = (await uow.session.scalars(select(SlackInstallationRow))).all()
        if writes == self._writes:
            self._bots = {(row.enterprise_id, row.team_id): _bot(row) for row in rows}

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        await self._save(installation.to_bot(), installation.user_id)

    async def async_save_bot(self, bot: Bot) -> None:
        await self._save(bot, None)

    async def _save(self, bot: Bot, installer_user_id: str | None) -> None:
        """Replace the workspace's installation, and let sends to it resume (a reinstall after
        `app_uninstalled`), in one transaction."""
        enterprise_id, team_id = _key(bot.enterprise_id, bot.team_id, bot.is_enterprise_install)
        async with self.database.unit_of_work() as uow:
            await uow.session.execute(_where(delete(SlackInstallationRow), enterprise_id, team_id))
            uow.session.add(
                SlackInstallationRow(
                    enterprise_id=enterprise_id,
                    team_id=team_id,
                    app_id=bot.app_id,
                    bot_id=bot.bot_id,
                    bot_user_id=bot.bot_user_id,
                    bot_token=bot.bot_token,
                    bot_scopes=",".join(bot.bot_scopes),
                    installer_user_id=installer_user_id,
                    is_enterprise_install=bot.is_enterprise_install,
                    installed_at=datetime.fromtimestamp(bot.installed_at, UTC),
                )
            )
            if team_id:
                await uow.teams.resume_workspace(PLATFORM, team_id)
            await uow.commit()
        self._bots[enterprise_id, team_id] = bot
        self._writes += 1
        log.info("slack: installed in %s", team_id or enterprise_id)

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        key = _key(enterprise_id, team_id, bool(is_enterprise_install))
        if key in self._bots:
            return self._bots[key]
        async with self.database.unit_of_work() as uow:
            row = await uow.session.scalar(_where(select(SlackInstallationRow), *key))
        if row is None:
            return None
        self._bots[key] = bot = _bot(row)
        return bot

    async def bot_token(self, team_id: str) -> str | None:
        """The workspace's bot token, for scheduled sends: read from the database, so a token
        another process replaced is never used."""
        async with self.database.unit_of_work() as uow:
            token = await uow.session.scalar(_where(select(SlackInstallationRow.bot_token), "", team_id))
            if token is None:
                # Inside an Enterprise Grid org the install is kept under the org's id too, which
                # a scheduled send (it knows only the workspace) can't name.
                token = await uow.session.scalar(
                    select(SlackInstallationRow.bot_token)
                    .where(SlackInstallationRow.team_id == team_id)
                    .order_by(SlackInstallationRow.installed_at.desc())
                    .limit(1)
                )
        return token

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        key = _key(enterprise_id, team_id, False)
        async with self.database.unit_of_work() as uow:
            await uow.session.execute(_where(delete(SlackInstallationRow), *key))
            await uow.commit()
        self._bots.pop(key, None)
        self._writes += 1

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        # No user tokens are kept: a person revoking theirs leaves the bot's installation alone.
        if user_id is None:
            await self.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)


class InstalledBotAuthorize(AsyncAuthorize):
    """Bolt's authorization for multi-workspace apps, from the store's memory and what the install
    recorded: neither the database nor the Web API stands between a request and its ack."""

    def __init__(self, store: DatabaseInstallationStore) -> None:
        self.store = store

    async def __call__(
        self,
        *,
        context: AsyncBoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        **actor: Any,
    ) -> AuthorizeResult | None:
        bot = await self.store.async_find_bot(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=context.is_enterprise_install,
        )
        if bot is None:
            return None
        return AuthorizeResult(
            enterprise_id=bot.enterprise_id,
            team_id=bot.team_id,
            bot_user_id=bot.bot_user_id,
            bot_id=bot.bot_id,
            bot_token=bot.bot_token,
            bot_scopes=bot.bot_scopes,
            user_id=user_id,
        )


def _bot(row: SlackInstallationRow) -> Bot:
    return Bot(
        app_id=row.app_id,
        enterprise_id=row.enterprise_id or None,
        team_id=row.team_id or None,
        bot_token=row.bot_token,
        bot_id=row.bot_id,
        bot_user_id=row.bot_user_id,
        bot_scopes=row.bot_scopes,
        is_enterprise_install=row.is_enterprise_install,
        installed_at=row.installed_at,
    )


def _key(enterprise_id: str | None, team_id: str | None, org_wide: bool) -> tuple[str, str]:
    return enterprise_id or "", "" if org_wide else team_id or ""


def _where(statement, enterprise_id: str, team_id: str):  # type: ignore[no-untyped-def]
    return statement.where(
        SlackInstallationRow.enterprise_id == enterprise_id, SlackInstallationRow.team_id == team_id
    )


class DatabaseOAuthStateStore(AsyncOAuthStateStore):
    """OAuth `state` values: issued by the install page, consumed once by the redirect."""

    def __init__(
        self, database: Database, expiration_seconds: int = 600, clock: Clock = system_clock
    ) -> None:
        self.database = database
        self.expiration = timedelta(seconds=expiration_seconds)
        self.clock = clock

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: object, **kwargs: object) -> str:
        state = secrets.token_urlsafe(32)
        now = self.clock()
        async with self.database.unit_of_work() as uow:
            # Housekeeping on the way: states nobody came back with.
            await uow.session.execute(delete(SlackOAuthStateRow).where(SlackOAuthStateRow.expires_at <= now))
            uow.session.add(SlackOAuthStateRow(state=state, expires_at=now + self.expiration))
            await uow.commit()
        return state

    async def async_consume(self, state: str) -> bool:
        async with self.database.unit_of_work() as uow:
            result = await uow.session.execute(
                delete(SlackOAuthStateRow).where(
                    SlackOAuthStateRow.state == state[:64], SlackOAuthStateRow.expires_at > self.clock()
                )
            )
            await uow.commit()
        return bool(result.rowcount)  # type: ignore[attr-defined]
