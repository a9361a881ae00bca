"""Scheduled items, team schedules and deliveries.

`TeamAgenda` plans and cancels one team's items. `Outbox` is the delivery side that ticks use:
it claims due items across teams (each item carries its team, and everything it loads for an item
is that item's team's), records deliveries and settles them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Insert, and_, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.core.model import (
    Depth,
    ItemKind,
    ItemStatus,
    Lesson,
    LessonPromptState,
    Member,
    Misstep,
    ScheduledItem,
    Team,
    TeamSchedule,
    WeeklyTime,
)
from bot.core.timeutil import minute_to_time, time_to_minute
from bot.storage.repositories.members import member_record
from bot.storage.repositories.missteps import lessons_by_misstep, misstep_record, tags_by_misstep
from bot.storage.repositories.teams import team_record
from bot.storage.tables import (
    DeliveryRow,
    MemberRow,
    MisstepRow,
    ScheduledItemRow,
    TeamRow,
    TeamScheduleRow,
    WorkspaceRow,
)

Item = ScheduledItemRow
PENDING = ItemStatus.PENDING.value


def item_record(row: Any) -> ScheduledItem:
    """A record from an ORM row or a RETURNING row (both have the columns as attributes)."""
    return ScheduledItem(
        id=row.id,
        team_id=row.team_id,
        platform=row.platform,
        kind=ItemKind(row.kind),
        status=ItemStatus(row.status),
        due_at=row.due_at,
        run_at=row.run_at,
        created_at=row.created_at,
        misstep_id=row.misstep_id,
        member_id=row.member_id,
        occurrence=row.occurrence,
        window_start=row.window_start,
        lead_id=row.lead_id,
        attempts=row.attempts,
        claimed_by=row.claimed_by,
        lease_until=row.lease_until,
        last_error=row.last_error,
        sent_at=row.sent_at,
    )


class DeliveryState:
    SENDING = "sending"
    """Handed to the sender; a crash now leaves it like this (in flight)."""
    RETRYING = "retrying"
    """The last attempt failed in a way that means it did not arrive; it will be tried again."""
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"

    COUNTED = (SENDING, RETRYING, SENT, UNKNOWN)
    """The states that count against the no-nagging cap: everything but a message that never went."""


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    item_id: int
    occurrence: int
    state: str
    member_id: int | None


@dataclass(frozen=True, slots=True)
class NewItem:
    """An item to plan; `TeamAgenda.plan` and the tick's follow-ups (`Outbox.plan`) insert these."""

    team_id: int
    platform: str
    kind: ItemKind
    due_at: datetime
    misstep_id: int | None = None
    member_id: int | None = None
    occurrence: int = 0
    window_start: datetime | None = None
    run_at: datetime | None = None
    """When a tick may take it, if later than `due_at` (the recipient is paused)."""

    def values(self, now: datetime) -> dict[str, Any]:
        return {
            "team_id": self.team_id,
            "platform": self.platform,
            "kind": self.kind.value,
            "misstep_id": self.misstep_id,
            "member_id": self.member_id,
            "occurrence": self.occurrence,
            "due_at": self.due_at,
            "run_at": self.run_at or self.due_at,
            "window_start": self.window_start,
            "status": PENDING,
            "attempts": 0,
            "created_at": now,
        }


def _plan_statement(session: AsyncSession) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING: planning what is already pending (the partial unique
    indexes: one pending item of a kind per misstep, one pending weekly post of a kind per team)
    does nothing, so two processes or a retried command cannot stack prompts."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(Item).on_conflict_do_nothing()
    return sqlite.insert(Item).on_conflict_do_nothing()


async def plan_items(session: AsyncSession, items: Sequence[NewItem], now: datetime) -> None:
    if items:
        await session.execute(_plan_statement(session), [item.values(now) for item in items])


async def unbundle(session: AsyncSession, which: ColumnElement[bool]) -> None:
    """Put the bundled items among `which` back in the queue, each to be taken on its own. One
    whose step was planned again meanwhile (a pending twin: a renewed lesson's check) is cancelled
    instead: the twin replaces it, and two could not both be pending."""
    twin = aliased(Item)
    replanned = (
        select(twin.id)
        .where(twin.misstep_id == Item.misstep_id, twin.kind == Item.kind, twin.status == PENDING)
        .exists()
    )
    bundled = (Item.status == ItemStatus.BUNDLED.value, which)
    options = {"synchronize_session": False}
    await session.execute(
        update(Item)
        .where(*bundled, replanned)
        .values(status=ItemStatus.CANCELLED.value, lead_id=None, last_error="planned again meanwhile"),
        execution_options=options,
    )
    await session.execute(
        update(Item).where(*bundled).values(status=PENDING, lead_id=None), execution_options=options
    )


class TeamAgenda:
    """One team's scheduled items and weekly schedules."""

    def __init__(self, session: AsyncSession, team_id: int) -> None:
        self._session = session
        self.team_id = team_id

    async def plan(self, item: NewItem, now: datetime) -> ScheduledItem:
        """Plan an item, or return the pending one of the same kind that is already planned."""
        if item.team_id != self.team_id:
            raise ValueError("an item belongs to the team whose agenda plans it")
        row = (
            await self._session.execute(
                _plan_statement(self._session).values(item.values(now)).returning(*Item.__table__.c)
            )
        ).first()
        if row is not None:
            return item_record(row)
        same = Item.misstep_id == item.misstep_id if item.misstep_id else Item.misstep_id.is_(None)
        existing = await self._session.scalar(
            select(Item).where(
                Item.team_id == self.team_id, Item.kind == item.kind.value, Item.status == PENDING, same
            )
        )
        assert existing is not None, "an insert that conflicted has a pending twin"
        return item_record(existing)

    async def pending(
        self,
        *,
        misstep_id: int | None = None,
        kinds: Iterable[ItemKind] | None = None,
        member_id: int | None = None,
    ) -> list[ScheduledItem]:
        query = select(Item).where(Item.team_id == self.team_id, Item.status == PENDING)
        if misstep_id is not None:
            query = query.where(Item.misstep_id == misstep_id)
        if kinds is not None:
            query = query.where(Item.kind.in_([k.value for k in kinds]))
        if member_id is not None:
            query = query.where(Item.member_id == member_id)
        rows = await self._session.scalars(query.order_by(Item.due_at, Item.id))
        return [item_record(row) for row in rows]

    async def cancel(
        self, kinds: Iterable[ItemKind], reason: str, now: datetime, *, misstep_id: int | None = None
    ) -> None:
        """Cancel pending items of these kinds (of one misstep, or the team's own posts). What is
        already underway (claimed by a tick, or waiting to retry a send) finishes as it is: a
        message half-handed to a platform is never abandoned midway."""
        underway = select(DeliveryRow.id).where(DeliveryRow.item_id == Item.id).exists()
        await self._session.execute(
            update(Item)
            .where(
                Item.team_id == self.team_id,
                Item.status == PENDING,
                or_(Item.lease_until.is_(None), Item.lease_until <= now),
                ~underway,
                Item.kind.in_([k.value for k in kinds]),
                Item.misstep_id == misstep_id if misstep_id is not None else Item.misstep_id.is_(None),
            )
            .values(status=ItemStatus.CANCELLED.value, last_error=reason, claimed_by=None, lease_until=None),
            execution_options={"synchronize_session": False},
        )

    async def latest(self, misstep_id: int, kind: ItemKind) -> ScheduledItem | None:
        """The most recently planned item of a kind for a misstep, cancelled ones aside."""
        row = await self._session.scalar(
            select(Item)
            .where(
                Item.team_id == self.team_id,
                Item.misstep_id == misstep_id,
                Item.kind == kind.value,
                Item.status != ItemStatus.CANCELLED.value,
            )
            .order_by(Item.id.desc())
            .limit(1)
        )
        return None if row is None else item_record(row)

    async def forget_recipient(self, misstep_id: int, kinds: Iterable[ItemKind]) -> None:
        """Erase who a misstep's prompts went to, and every bundle link that would still tell.
        What still rides in a message with one of them goes back to the queue rather than losing
        its message: a tick sends it on its own, or drops it if it is no longer needed."""
        ids = select(Item.id).where(
            Item.team_id == self.team_id,
            Item.misstep_id == misstep_id,
            Item.kind.in_([k.value for k in kinds]),
        )
        options = {"synchronize_session": False}
        await unbundle(self._session, or_(Item.lead_id.in_(ids), Item.id.in_(ids)))
        await self._session.execute(
            update(Item).where(Item.lead_id.in_(ids)).values(lead_id=None), execution_options=options
        )
        await self._session.execute(
            update(Item).where(Item.id.in_(ids)).values(member_id=None, lead_id=None),
            execution_options=options,
        )
        await self._session.execute(
            update(DeliveryRow).where(DeliveryRow.item_id.in_(ids)).values(member_id=None),
            execution_options=options,
        )

    async def schedules(self) -> dict[ItemKind, TeamSchedule]:
        """The team's own weekly schedules (kinds without a row follow the defaults)."""
        rows = await self._session.scalars(
            select(TeamScheduleRow).where(TeamScheduleRow.team_id == self.team_id)
        )
        return {ItemKind(row.kind): _schedule_record(row) for row in rows}

    async def save_schedule(self, schedule: TeamSchedule) -> None:
        row = await self._session.get(TeamScheduleRow, (self.team_id, schedule.kind.value))
        if row is None:
            row = TeamScheduleRow(team_id=self.team_id, kind=schedule.kind.value)
            self._session.add(row)
        row.weekday = schedule.when.weekday
        row.at_minute = time_to_minute(schedule.when.at)
        row.enabled = schedule.enabled
        await self._session.flush()

    async def undelivered(self, since: datetime, limit: int = 10) -> list[tuple[ScheduledItem, int | None]]:
        """Items that failed or may not have arrived, latest first, with their misstep's number."""
        rows = await self._session.execute(
            select(Item, MisstepRow.number)
            .outerjoin(MisstepRow, MisstepRow.id == Item.misstep_id)
            .where(
                Item.team_id == self.team_id,
                Item.status.in_([ItemStatus.FAILED.value, ItemStatus.UNKNOWN.value]),
                Item.due_at >= since,
            )
            .order_by(Item.due_at.desc(), Item.id.desc())
            .limit(limit)
        )
        return [(item_record(row), number) for row, number in rows]

    async def falls_before(self, author_id: int, since: datetime, before_number: int) -> int:
        """How many falls the author logged in this team since `since`, before misstep #before."""
        count = await self._session.scalar(
            select(func.count())
            .select_from(MisstepRow)
            .where(
                MisstepRow.team_id == self.team_id,
                MisstepRow.author_id == author_id,
                MisstepRow.depth == Depth.FALL.value,
                MisstepRow.created_at >= since,
                MisstepRow.number < before_number,
            )
        )
        return count or 0


def _schedule_record(row: TeamScheduleRow) -> TeamSchedule:
    return TeamSchedule(
        kind=ItemKind(row.kind),
        when=WeeklyTime(row.weekday, minute_to_time(row.at_minute)),
        enabled=row.enabled,
    )


@dataclass
class Facts:
    """Everything a tick needs to decide about a batch of items, loaded in a few queries."""

    teams: dict[int, Team]
    stopped: dict[tuple[str, str], str]
    """(platform, workspace) -> why sends there are stopped."""
    missteps: dict[int, Misstep]
    lessons: dict[int, Lesson]
    members: dict[int, Member]
    schedules: dict[tuple[int, ItemKind], TeamSchedule]
    deliveries: dict[int, Delivery]
    """By lead item id."""
    bundled: dict[int, list[ScheduledItem]]
    """Items riding in a lead item's message, by lead item id."""
    recent_sends: dict[int, list[datetime]]
    """When each member's counted private messages went out, within the cap window."""


class Outbox:
    """The delivery side of the scheduled items (DESIGN.md §4)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @property
    def _postgres(self) -> bool:
        return self._session.get_bind().dialect.name == "postgresql"

    async def claim(
        self, now: datetime, platforms: Sequence[str], limit: int, token: str, lease: timedelta
    ) -> list[ScheduledItem]:
        """Claim up to `limit` due items in one statement, oldest first.

        ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING``: on PostgreSQL
        concurrent ticks skip each other's rows instead of waiting; SQLite runs the same single
        statement atomically under its one writer lock. A claimed item is taken again by any tick
        once the lease runs out (a crashed process).
        """
        due = (
            select(Item.id)
            .where(
                Item.status == PENDING,
                Item.run_at <= now,
                Item.platform.in_(platforms),
                or_(Item.lease_until.is_(None), Item.lease_until <= now),
            )
            .order_by(Item.run_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        result = await self._session.execute(
            update(Item)
            .where(Item.id.in_(due.scalar_subquery()))
            .values(lease_until=now + lease, claimed_by=token)
            .returning(*Item.__table__.c),
            execution_options={"synchronize_session": False},
        )
        return sorted((item_record(row) for row in result), key=lambda i: (i.run_at, i.due_at, i.id))

    async def release_member(self, member_id: int, now: datetime) -> int:
        """A member's pause ended early: each private item it held runs at `max(due_at, now)`,
        what was already due from now and the rest when due, not at the pause's end (a tick still
        fits it into their working hours and the cap). Member-wide, like the pause. Returns how
        many items the pause held."""
        held = (
            Item.member_id == member_id,
            Item.kind.in_([kind.value for kind in ItemKind if kind.private]),
            Item.status == PENDING,
            or_(Item.lease_until.is_(None), Item.lease_until <= now),
        )
        released = 0
        # Two statements rather than one `max`: each sets a plain value, the same on every backend.
        for when_due, run_at in ((Item.due_at <= now, now), (Item.due_at > now, Item.due_at)):
            result = await self._session.execute(
                update(Item).where(*held, when_due, Item.run_at > run_at).values(run_at=run_at),
                execution_options={"synchronize_session": False},
            )
            released += result.rowcount or 0
        return released

    async def lock_rows(self, member_ids: Iterable[int], misstep_ids: Iterable[int]) -> None:
        """Take row locks in one order everywhere (members, then missteps, then items) so that a
        tick and a command touching the same rows wait for each other instead of deadlocking, and
        so that two ticks count one member's private messages one after the other. SQLite needs
        none of this: a write transaction there already holds the database's only write lock."""
        if not self._postgres:
            return
        if ids := sorted(set(member_ids)):
            await self._session.execute(
                select(MemberRow.id).where(MemberRow.id.in_(ids)).order_by(MemberRow.id).with_for_update()
            )
        if ids := sorted(set(misstep_ids)):
            await self._session.execute(
                select(MisstepRow.id)
                .where(MisstepRow.id.in_(ids))
                .order_by(MisstepRow.id)
                .with_for_update(key_share=True)
            )

    async def lock_items(self, item_ids: Sequence[int]) -> None:
        """Lock items before their deliveries, the order every tick takes them in (PostgreSQL)."""
        if self._postgres and item_ids:
            await self._session.execute(
                select(Item.id).where(Item.id.in_(item_ids)).order_by(Item.id).with_for_update()
            )

    async def still_ours(self, item_ids: Sequence[int], token: str) -> list[ScheduledItem]:
        """The claimed items this tick still owns (a command may have cancelled one meanwhile, or
        a lease ran out and another tick took it), locked until the transaction ends."""
        if not item_ids:
            return []
        rows = await self._session.scalars(
            select(Item)
            .where(Item.id.in_(item_ids), Item.claimed_by == token, Item.status == PENDING)
            .order_by(Item.id)
            .with_for_update()
        )
        return [item_record(row) for row in rows]

    async def facts(
        self, items: Sequence[ScheduledItem], now: datetime, window: timedelta, *, sending: bool = True
    ) -> Facts:
        """What deciding about `items` needs, in a few queries. With `sending` false (settling
        after the sends) only what planning the next steps needs: no deliveries, riders or cap."""
        team_ids = {i.team_id for i in items}
        teams = {
            row.id: team_record(row)
            for row in await self._session.scalars(select(TeamRow).where(TeamRow.id.in_(team_ids)))
        }
        stopped: dict[tuple[str, str], str] = {}
        deliveries: dict[int, Delivery] = {}
        bundled: dict[int, list[ScheduledItem]] = defaultdict(list)
        recent: dict[int, list[datetime]] = defaultdict(list)
        if sending:
            stopped = await self._stopped({(t.ref.platform, t.ref.workspace) for t in teams.values()})
            deliveries = await self._deliveries(items)
            for row in await self._session.scalars(
                select(Item)
                .where(Item.lead_id.in_([i.id for i in items]), Item.status == ItemStatus.BUNDLED.value)
                .order_by(Item.due_at, Item.id)
            ):
                bundled[row.lead_id].append(item_record(row))
            recent = await self._recent_sends(
                {i.member_id for i in items if i.member_id and i.kind.private}, now - window
            )
        everything = [*items, *(b for group in bundled.values() for b in group)]
        missteps = await self._missteps({(i.team_id, i.misstep_id) for i in everything if i.misstep_id})
        lessons = await self._lessons(missteps.values())
        member_ids = {i.member_id for i in everything if i.member_id} | {
            lesson.owner_id for lesson in lessons.values()
        }
        members = {
            row.id: member_record(row)
            for row in await self._session.scalars(select(MemberRow).where(MemberRow.id.in_(member_ids)))
        }
        schedules = {
            (row.team_id, ItemKind(row.kind)): _schedule_record(row)
            for row in await self._session.scalars(
                select(TeamScheduleRow).where(TeamScheduleRow.team_id.in_(team_ids))
            )
        }
        return Facts(teams, stopped, missteps, lessons, members, schedules, deliveries, bundled, recent)

    async def _stopped(self, workspaces: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
        if not workspaces:
            return {}
        rows = await self._session.execute(
            select(WorkspaceRow.platform, WorkspaceRow.workspace, WorkspaceRow.stopped_reason).where(
                WorkspaceRow.workspace.in_({w for _, w in workspaces}), WorkspaceRow.stopped_at.is_not(None)
            )
        )
        return {(p, w): reason or "stopped" for p, w, reason in rows if (p, w) in workspaces}

    async def _deliveries(self, items: Sequence[ScheduledItem]) -> dict[int, Delivery]:
        occurrences = {i.id: i.occurrence for i in items}
        rows = await self._session.scalars(select(DeliveryRow).where(DeliveryRow.item_id.in_(occurrences)))
        return {
            row.item_id: Delivery(row.id, row.item_id, row.occurrence, row.state, row.member_id)
            for row in rows
            if row.occurrence == occurrences[row.item_id]
        }

    async def _recent_sends(self, member_ids: set[int], since: datetime) -> dict[int, list[datetime]]:
        recent: dict[int, list[datetime]] = defaultdict(list)
        if member_ids:
            rows = await self._session.execute(
                select(DeliveryRow.member_id, DeliveryRow.created_at).where(
                    DeliveryRow.member_id.in_(member_ids),
                    DeliveryRow.created_at > since,
                    DeliveryRow.state.in_(DeliveryState.COUNTED),
                )
            )
            for member_id, at in rows:
                recent[member_id].append(at)
        return recent

    async def _missteps(self, keys: set[tuple[int, int | None]]) -> dict[int, Misstep]:
        ids = [misstep_id for _, misstep_id in keys if misstep_id is not None]
        if not ids:
            return {}
        rows = list(await self._session.scalars(select(MisstepRow).where(MisstepRow.id.in_(ids))))
        tags = await tags_by_misstep(self._session, ids)
        # An item only ever sees a misstep of its own team.
        return {row.id: misstep_record(row, tags[row.id]) for row in rows if (row.team_id, row.id) in keys}

    async def _lessons(self, missteps: Iterable[Misstep]) -> dict[int, Lesson]:
        return await lessons_by_misstep(self._session, [m.id for m in missteps])

    # -- deliveries -----------------------------------------------------------------------

    async def add_deliveries(
        self, leads: Sequence[tuple[ScheduledItem, int | None]], now: datetime
    ) -> dict[int, int]:
        """Record that these items' messages are being handed over. Returns delivery ids by item.
        The unique (item, occurrence) key refuses a second record of the same message."""
        if not leads:
            return {}
        rows = await self._session.execute(
            insert(DeliveryRow).returning(DeliveryRow.id, DeliveryRow.item_id),
            [
                {
                    "item_id": item.id,
                    "occurrence": item.occurrence,
                    "state": DeliveryState.SENDING,
                    "member_id": member_id,
                    "created_at": now,
                }
                for item, member_id in leads
            ],
        )
        return {item_id: delivery_id for delivery_id, item_id in rows}

    async def set_delivery_state(
        self, delivery_ids: Sequence[int], state: str, now: datetime, reason: str | None = None
    ) -> None:
        if not delivery_ids:
            return
        finished = None if state in (DeliveryState.SENDING, DeliveryState.RETRYING) else now
        await self._session.execute(
            update(DeliveryRow)
            .where(DeliveryRow.id.in_(delivery_ids))
            .values(state=state, finished_at=finished, reason=reason),
            execution_options={"synchronize_session": False},
        )

    # -- settling items -------------------------------------------------------------------

    async def settle(
        self, item_ids: Sequence[int], status: ItemStatus, now: datetime, token: str, error: str | None = None
    ) -> list[ScheduledItem]:
        """End the items this tick still owns (pending and claimed by it) with `status`; returns
        those that moved. An item a command cancelled meanwhile, or another tick took over after
        our lease ran out, is left alone."""
        owned = (Item.id.in_(item_ids), Item.claimed_by == token, Item.status == PENDING)
        return await self._end(owned, status, now, error) if item_ids else []

    async def settle_riders(
        self, item_ids: Sequence[int], status: ItemStatus, now: datetime, error: str | None = None
    ) -> list[ScheduledItem]:
        """End items that rode in a message, the way its lead ended. They are named, not found by
        their lead: one put back in the queue while its message was in flight (its anonymous
        author was forgotten) went out in it all the same, unless a tick has taken it since."""
        rode = or_(
            Item.status == ItemStatus.BUNDLED.value,
            and_(Item.status == PENDING, or_(Item.lease_until.is_(None), Item.lease_until <= now)),
        )
        return await self._end((Item.id.in_(item_ids), rode), status, now, error) if item_ids else []

    async def unbundle(self, item_ids: Sequence[int]) -> None:
        """Take these items out of the message they ride in, back to the queue (`unbundle`)."""
        if item_ids:
            await unbundle(self._session, Item.id.in_(item_ids))

    async def _end(
        self, where: tuple[Any, ...], status: ItemStatus, now: datetime, error: str | None
    ) -> list[ScheduledItem]:
        values: dict[str, Any] = {"status": status.value, "claimed_by": None, "lease_until": None}
        if status in (ItemStatus.SENT, ItemStatus.DONE):
            values["sent_at"] = now
        if error is not None:
            values["last_error"] = error[:1000]
        result = await self._session.execute(
            update(Item).where(*where).values(**values).returning(*Item.__table__.c),
            execution_options={"synchronize_session": False},
        )
        return sorted((item_record(row) for row in result), key=lambda i: i.id)

    async def bundle(self, item_ids: Sequence[int], lead_id: int, token: str) -> None:
        """Let owned items ride in the message of `lead_id`."""
        if item_ids:
            await self._session.execute(
                update(Item)
                .where(Item.id.in_(item_ids), Item.claimed_by == token, Item.status == PENDING)
                .values(status=ItemStatus.BUNDLED.value, lead_id=lead_id, claimed_by=None, lease_until=None),
                execution_options={"synchronize_session": False},
            )

    async def advance_prompt_state(self, misstep_ids: Sequence[int], state: LessonPromptState) -> None:
        """Move missteps forward to `state` (prompted, reminded), never back."""
        earlier = {
            LessonPromptState.PROMPTED: [LessonPromptState.WAITING.value],
            LessonPromptState.REMINDED: [LessonPromptState.WAITING.value, LessonPromptState.PROMPTED.value],
        }[state]
        if misstep_ids:
            await self._session.execute(
                update(MisstepRow)
                .where(MisstepRow.id.in_(misstep_ids), MisstepRow.prompt_state.in_(earlier))
                .values(prompt_state=state.value),
                execution_options={"synchronize_session": False},
            )

    async def reschedule(
        self,
        moves: Sequence[tuple[int, datetime]],
        token: str,
        *,
        attempts: dict[int, int] | None = None,
        error: str | None = None,
    ) -> None:
        """Put owned items back to wait until a later time (a retry, a pause, the cap)."""
        for item_id, at in moves:
            values: dict[str, Any] = {"run_at": at, "claimed_by": None, "lease_until": None}
            if attempts is not None:
                values["attempts"] = attempts[item_id]
            if error is not None:
                values["last_error"] = error[:1000]
            await self._session.execute(
                update(Item)
                .where(Item.id == item_id, Item.claimed_by == token, Item.status == PENDING)
                .values(**values),
                execution_options={"synchronize_session": False},
            )

    async def plan(self, items: Sequence[NewItem], now: datetime) -> None:
        await plan_items(self._session, items, now)
