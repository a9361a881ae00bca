"""Keys of handled requests, so a platform's redelivery does nothing twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.tables import InvocationRow


class InvocationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def seen(self, key: str) -> bool:
        return (
            await self._session.scalar(select(InvocationRow.key).where(InvocationRow.key == key)) is not None
        )

    async def remember(self, key: str, team_id: int, now: datetime) -> None:
        """Record the key in the same transaction as the command's writes: both land or neither.
        A concurrent duplicate fails on the primary key and its transaction rolls back."""
        self._session.add(InvocationRow(key=key, team_id=team_id, created_at=now))
        await self._session.flush()

    async def forget_before(self, cutoff: datetime) -> int:
        """Forget keys recorded before `cutoff` (a range on the `created_at` index); returns how many."""
        result = await self._session.execute(delete(InvocationRow).where(InvocationRow.created_at < cutoff))
        return result.rowcount or 0
