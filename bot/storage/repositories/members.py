"""Members: people on a platform, shared by the teams of one workspace."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.model import Member, WorkingHours
from bot.core.timeutil import minute_to_time, time_to_minute
from bot.storage.tables import MemberRow


def member_record(row: MemberRow) -> Member:
    hours = None
    if row.work_start_minute is not None and row.work_end_minute is not None:
        hours = WorkingHours(minute_to_time(row.work_start_minute), minute_to_time(row.work_end_minute))
    return Member(
        id=row.id,
        platform=row.platform,
        workspace=row.workspace,
        user_id=row.user_id,
        display_name=row.display_name,
        timezone=row.timezone or row.platform_timezone,
        working_hours=hours,
        paused_until=row.paused_until,
    )


class MemberRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, member_id: int) -> Member | None:
        row = await self._session.get(MemberRow, member_id)
        return None if row is None else member_record(row)

    async def names(self, member_ids: Iterable[int]) -> dict[int, str]:
        ids = sorted(set(member_ids))
        if not ids:
            return {}
        rows = await self._session.execute(
            select(MemberRow.id, MemberRow.display_name).where(MemberRow.id.in_(ids))
        )
        return dict(rows.all())

    async def by_ids(self, member_ids: Iterable[int]) -> dict[int, Member]:
        ids = sorted(set(member_ids))
        if not ids:
            return {}
        rows = await self._session.scalars(select(MemberRow).where(MemberRow.id.in_(ids)))
        return {row.id: member_record(row) for row in rows}

    async def find(self, platform: str, workspace: str, user_id: str) -> Member | None:
        row = await self._find_row(platform, workspace, user_id)
        return None if row is None else member_record(row)

    async def upsert(
        self,
        platform: str,
        workspace: str,
        user_id: str,
        display_name: str,
        platform_timezone: str | None,
        now: datetime,
    ) -> Member:
        """The member as the platform describes them now, created on first sight."""
        row = await self._find_row(platform, workspace, user_id)
        if row is None:
            row = MemberRow(
                platform=platform,
                workspace=workspace,
                user_id=user_id,
                display_name=display_name,
                platform_timezone=platform_timezone,
                created_at=now,
            )
            self._session.add(row)
            await self._session.flush()
        else:
            if display_name and row.display_name != display_name:
                row.display_name = display_name
            if platform_timezone and row.platform_timezone != platform_timezone:
                row.platform_timezone = platform_timezone
        return member_record(row)

    async def set_timezone(self, member_id: int, timezone: str | None) -> None:
        await self._update(member_id, timezone=timezone)

    async def set_working_hours(self, member_id: int, hours: WorkingHours | None) -> None:
        await self._update(
            member_id,
            work_start_minute=None if hours is None else time_to_minute(hours.start),
            work_end_minute=None if hours is None else time_to_minute(hours.end),
        )

    async def set_paused_until(self, member_id: int, until: datetime | None) -> None:
        await self._update(member_id, paused_until=until)

    async def _update(self, member_id: int, **values: object) -> None:
        await self._session.execute(update(MemberRow).where(MemberRow.id == member_id).values(**values))

    async def _find_row(self, platform: str, workspace: str, user_id: str) -> MemberRow | None:
        return await self._session.scalar(
            select(MemberRow).where(
                MemberRow.platform == platform,
                MemberRow.workspace == workspace,
                MemberRow.user_id == user_id,
            )
        )
