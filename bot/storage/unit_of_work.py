"""The unit of work: one transaction and the repositories that share it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.repositories.digest import TeamDigest
from bot.storage.repositories.history import HistoryRepository
from bot.storage.repositories.invocations import InvocationRepository
from bot.storage.repositories.members import MemberRepository
from bot.storage.repositories.missteps import TeamMissteps
from bot.storage.repositories.scheduling import Outbox, TeamAgenda
from bot.storage.repositories.teams import TeamRepository


class UnitOfWork:
    """Repositories over one session. Team data is reached only through `team(team_id)`."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.teams = TeamRepository(session)
        self.members = MemberRepository(session)
        self.invocations = InvocationRepository(session)
        self.history = HistoryRepository(session)
        self.outbox = Outbox(session)
        """The delivery side of scheduled items, for ticks (see `TeamAgenda` for one team's)."""

    def missteps(self, team_id: int) -> TeamMissteps:
        return TeamMissteps(self.session, team_id)

    def digest(self, team_id: int) -> TeamDigest:
        return TeamDigest(self.session, team_id)

    def agenda(self, team_id: int) -> TeamAgenda:
        return TeamAgenda(self.session, team_id)

    async def commit(self) -> None:
        await self.session.commit()
