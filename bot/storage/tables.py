"""The schema. Alembic migrations in `bot/storage/migrations` are the source of truth for the
database; these declarations must match them (a test compares the two).

Every row that belongs to a team carries `team_id`, so every repository query can be scoped by
team without a join (DESIGN.md §5, tenancy).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend.

    SQLite has no timezone type and hands back naive values; PostgreSQL's `timestamptz` hands
    back aware ones. Storing naive UTC everywhere and re-attaching UTC on the way out keeps the
    records identical whichever database is behind them.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


Id = BigInteger().with_variant(Integer(), "sqlite")
"""SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids."""


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class WorkspaceRow(Base):
    """A Slack workspace, Discord guild or local terminal space. Sends stop while `stopped_at` is set."""

    __tablename__ = "workspaces"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200))
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stopped_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    __table_args__ = (UniqueConstraint("platform", "workspace"),)


class TeamRow(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    announce_missteps: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    misstep_seq: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    """The last team-scoped misstep number handed out; bumped atomically with UPDATE ... RETURNING."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    __table_args__ = (UniqueConstraint("platform", "workspace", "channel"),)


class TeamScheduleRow(Base):
    """A team's weekly schedules (retro round, digest), in the team's timezone."""

    __tablename__ = "team_schedules"
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    weekday: Mapped[int] = mapped_column(Integer)
    """0 = Monday ... 6 = Sunday."""
    at_minute: Mapped[int] = mapped_column(Integer)
    """Minutes after local midnight."""
    enabled: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))


class MemberRow(Base):
    __tablename__ = "members"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str | None] = mapped_column(String(64))
    """Chosen by the member with `/retro tz`; wins over the platform's."""
    platform_timezone: Mapped[str | None] = mapped_column(String(64))
    work_start_minute: Mapped[int | None] = mapped_column(Integer)
    work_end_minute: Mapped[int | None] = mapped_column(Integer)
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    __table_args__ = (UniqueConstraint("platform", "workspace", "user_id"),)


class MisstepRow(Base):
    __tablename__ = "missteps"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    what: Mapped[str] = mapped_column(Text)
    goal: Mapped[str | None] = mapped_column(Text)
    depth: Mapped[str] = mapped_column(String(16))
    anonymous: Mapped[bool] = mapped_column(Boolean)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    """Erased for anonymous missteps once the lesson prompt no longer needs it."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    prompt_state: Mapped[str] = mapped_column(String(16))
    prompt_closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    check_window_closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(16))
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    __table_args__ = (
        UniqueConstraint("team_id", "number"),
        Index(None, "team_id", "created_at"),
        Index(None, "team_id", "outcome_at"),
        Index(None, "author_id"),
    )


class MisstepTagRow(Base):
    __tablename__ = "misstep_tags"
    misstep_id: Mapped[int] = mapped_column(ForeignKey("missteps.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    __table_args__ = (Index(None, "team_id", "tag"),)


class LessonRow(Base):
    __tablename__ = "lessons"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    misstep_id: Mapped[int] = mapped_column(ForeignKey("missteps.id", ondelete="CASCADE"), unique=True)
    text: Mapped[str] = mapped_column(Text)
    commitment: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    renewed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    """When the current lesson's clock started: the outcome rule's `lesson_at`, and what its
    follow-up check counts from. An edit moves `updated_at` only (`outcome.lesson_renews`)."""
    __table_args__ = (Index(None, "team_id", "updated_at"),)


class CheckRow(Base):
    __tablename__ = "checks"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    misstep_id: Mapped[int] = mapped_column(ForeignKey("missteps.id", ondelete="CASCADE"))
    answer: Mapped[str] = mapped_column(String(16))
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    __table_args__ = (Index(None, "misstep_id"), Index(None, "team_id", "answered_at"))


class RecurrenceRow(Base):
    __tablename__ = "recurrences"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    misstep_id: Mapped[int] = mapped_column(ForeignKey("missteps.id", ondelete="CASCADE"))
    """The newer misstep."""
    earlier_id: Mapped[int] = mapped_column(ForeignKey("missteps.id", ondelete="CASCADE"))
    """The earlier misstep whose lesson may not have stuck."""
    status: Mapped[str] = mapped_column(String(16))
    score: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    __table_args__ = (
        UniqueConstraint("misstep_id", "earlier_id"),
        Index(None, "earlier_id"),
        Index(None, "team_id", "decided_at"),
    )


class ScheduledItemRow(Base):
    """Something the bot will send on its own: a prompt, reminder, check, round or digest, or a
    window that closes. One row per occurrence; the next step is a new row.

    The database is the source of truth for what is due (DESIGN.md §4).
    """

    __tablename__ = "scheduled_items"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))
    """The team's platform: a process claims only what it has a sender for."""
    kind: Mapped[str] = mapped_column(String(24))
    misstep_id: Mapped[int | None] = mapped_column(ForeignKey("missteps.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    """The recipient of a private prompt; NULL for channel posts."""
    occurrence: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    run_at: Mapped[datetime] = mapped_column(UTCDateTime)
    """When a tick may take it: the due time, or the end of a wait (a pause, working hours, the
    no-nagging cap, a retry)."""
    window_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """A tick's claim lasts until then; after it (a crashed process) any tick may take the item."""
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("scheduled_items.id", ondelete="SET NULL"))
    """A bundled item points at the item whose message carries it."""
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    __table_args__ = (
        Index(None, "team_id", "status"),
        Index(None, "misstep_id"),
        Index(None, "member_id", "status"),
        # Almost every item has no lead: indexed only where there is one, or SQLite's statistics
        # would count all the NULLs as one value and make it scan the table for a bundle.
        Index(
            "ix_scheduled_items_lead_id",
            "lead_id",
            postgresql_where=text("lead_id IS NOT NULL"),
            sqlite_where=text("lead_id IS NOT NULL"),
        ),
        # The tick's claim reads only this index: its cost follows the number of due items, not
        # the number pending.
        Index(
            "ix_scheduled_items_pending_run_at",
            "run_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        # At most one pending item of a kind per misstep, and one pending weekly post of a kind per
        # team: planning the same thing twice (two processes, a retried command) cannot stack.
        Index(
            "uq_scheduled_items_pending_misstep_kind",
            "misstep_id",
            "kind",
            unique=True,
            postgresql_where=text("status = 'pending' AND misstep_id IS NOT NULL"),
            sqlite_where=text("status = 'pending' AND misstep_id IS NOT NULL"),
        ),
        Index(
            "uq_scheduled_items_pending_team_post",
            "team_id",
            "kind",
            unique=True,
            postgresql_where=text("status = 'pending' AND kind IN ('retro_round', 'digest')"),
            sqlite_where=text("status = 'pending' AND kind IN ('retro_round', 'digest')"),
        ),
    )


class DeliveryRow(Base):
    """One message handed (or being handed) to a platform: an item's occurrence, with any items
    bundled into it. The unique key makes a second send of the same occurrence impossible."""

    __tablename__ = "deliveries"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("scheduled_items.id", ondelete="CASCADE"))
    occurrence: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    """sending, retrying, sent, failed or unknown."""
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    """The recipient of a private message, for the no-nagging cap; NULL for channel posts."""
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    __table_args__ = (UniqueConstraint("item_id", "occurrence"), Index(None, "member_id", "created_at"))


class InvocationRow(Base):
    """Keys of requests already handled, so a platform's redelivery does nothing twice."""

    __tablename__ = "invocations"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    __table_args__ = (Index(None, "created_at"),)


class SlackInstallationRow(Base):
    """A Slack workspace's bot installation, in multi-workspace (OAuth) mode: the bot token the
    bot uses there, as slack-sdk's own installation stores keep it. Single-workspace mode (one
    `SLACK_BOT_TOKEN`) never writes here."""

    __tablename__ = "slack_installations"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(String(32), server_default=text("''"))
    """Empty outside Enterprise Grid (an empty string, not NULL, so the unique key holds)."""
    team_id: Mapped[str] = mapped_column(String(32), server_default=text("''"))
    """Empty for an org-wide installation."""
    app_id: Mapped[str | None] = mapped_column(String(32))
    bot_id: Mapped[str] = mapped_column(String(32))
    bot_user_id: Mapped[str] = mapped_column(String(32))
    bot_token: Mapped[str] = mapped_column(Text)
    bot_scopes: Mapped[str] = mapped_column(Text, server_default=text("''"))
    installer_user_id: Mapped[str | None] = mapped_column(String(32))
    is_enterprise_install: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    __table_args__ = (UniqueConstraint("enterprise_id", "team_id"),)


class SlackOAuthStateRow(Base):
    """OAuth `state` values handed out by the install page, each usable once before it expires."""

    __tablename__ = "slack_oauth_states"
    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    __table_args__ = (Index(None, "expires_at"),)
