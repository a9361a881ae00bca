"""Teams, their workspaces and their weekly schedules."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.model import Team, TeamRef
from bot.storage.tables import CheckRow, LessonRow, MemberRow, MisstepRow, TeamRow, WorkspaceRow


def team_record(row: TeamRow) -> Team:
    return Team(
        id=row.id,
        ref=TeamRef(row.platform, row.workspace, row.channel),
        name=row.name,
        timezone=row.timezone,
        created_at=row.created_at,
        announce_missteps=row.announce_missteps,
    )


class TeamRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def find(self, ref: TeamRef) -> Team | None:
        row = await self._session.scalar(
            select(TeamRow).where(
                TeamRow.platform == ref.platform,
                TeamRow.workspace == ref.workspace,
                TeamRow.channel == ref.channel,
            )
        )
        return None if row is None else team_record(row)

    async def get(self, team_id: int) -> Team | None:
        row = await self._session.get(TeamRow, team_id)
        return None if row is None else team_record(row)

    async def first_in_workspace(self, platform: str, workspace: str) -> Team | None:
        """The workspace's oldest team: on platforms where a workspace is one team (a Discord
        guild), the team, wherever its channel is."""
        row = await self._session.scalar(
            select(TeamRow)
            .where(TeamRow.platform == platform, TeamRow.workspace == workspace)
            .order_by(TeamRow.id)
            .limit(1)
        )
        return None if row is None else team_record(row)

    async def move(self, team_id: int, channel: str, name: str) -> None:
        """The team lives in another channel of its workspace from now on, with all its history."""
        await self._session.execute(
            update(TeamRow).where(TeamRow.id == team_id).values(channel=channel, name=name)
        )

    async def find_by_name(self, name: str) -> list[Team]:
        """Teams whose name or channel is `name` (for the command line's `--team`)."""
        rows = await self._session.scalars(
            select(TeamRow).where((TeamRow.name == name) | (TeamRow.channel == name)).order_by(TeamRow.id)
        )
        return [team_record(row) for row in rows]

    async def all(self) -> list[Team]:
        rows = await self._session.scalars(select(TeamRow).order_by(TeamRow.id))
        return [team_record(row) for row in rows]

    async def joined_by(self, member_id: int, limit: int) -> list[Team]:
        """Teams a member took part in (logged a misstep, recorded a lesson, answered a check),
        most recently active first. Never a team they have not touched: a private channel stays private."""
        activity = union_all(
            select(MisstepRow.team_id, MisstepRow.created_at.label("at")).where(
                MisstepRow.author_id == member_id
            ),
            select(LessonRow.team_id, LessonRow.updated_at).where(LessonRow.owner_id == member_id),
            select(CheckRow.team_id, CheckRow.answered_at).where(CheckRow.answered_by == member_id),
        ).subquery()
        latest = (
            select(activity.c.team_id, func.max(activity.c.at).label("at"))
            .group_by(activity.c.team_id)
            .subquery()
        )
        rows = await self._session.scalars(
            select(TeamRow)
            .join(latest, latest.c.team_id == TeamRow.id)
            .order_by(latest.c.at.desc(), TeamRow.id)
            .limit(limit)
        )
        return [team_record(row) for row in rows]

    async def add(self, ref: TeamRef, name: str, timezone: str, now: datetime) -> Team:
        await self._ensure_workspace(ref, now)
        row = TeamRow(
            platform=ref.platform,
            workspace=ref.workspace,
            channel=ref.channel,
            name=name,
            timezone=timezone,
            announce_missteps=False,
            misstep_seq=0,
            created_at=now,
        )
        self._session.add(row)
        await self._session.flush()
        return team_record(row)

    async def set_timezone(self, team_id: int, timezone: str) -> None:
        await self._session.execute(update(TeamRow).where(TeamRow.id == team_id).values(timezone=timezone))

    async def set_announce(self, team_id: int, announce: bool) -> None:
        await self._session.execute(
            update(TeamRow).where(TeamRow.id == team_id).values(announce_missteps=announce)
        )

    async def next_misstep_number(self, team_id: int) -> int:
        """Hand out the team's next `#N`: one atomic UPDATE ... RETURNING, safe across processes."""
        number = await self._session.scalar(
            update(TeamRow)
            .where(TeamRow.id == team_id)
            .values(misstep_seq=TeamRow.misstep_seq + 1)
            .returning(TeamRow.misstep_seq)
        )
        assert number is not None
        return number

    async def stop_workspace(self, platform: str, workspace: str, reason: str, now: datetime) -> None:
        """Stop every send to a workspace (app uninstalled, tokens revoked, bot left the guild).
        Its data stays until an admin deletes it."""
        await self._session.execute(
            update(WorkspaceRow)
            .where(WorkspaceRow.platform == platform, WorkspaceRow.workspace == workspace)
            .values(stopped_at=now, stopped_reason=reason[:200])
        )

    async def resume_workspace(self, platform: str, workspace: str) -> None:
        """Sends may go out again. Only a stopped workspace's row is written: Discord reports every
        guild as available on every connect."""
        await self._session.execute(
            update(WorkspaceRow)
            .where(
                WorkspaceRow.platform == platform,
                WorkspaceRow.workspace == workspace,
                WorkspaceRow.stopped_at.is_not(None),
            )
            .values(stopped_at=None, stopped_reason=None)
        )

    async def workspace_stopped(self, platform: str, workspace: str) -> bool:
        stopped = await self._session.scalar(
            select(WorkspaceRow.stopped_at).where(
                WorkspaceRow.platform == platform, WorkspaceRow.workspace == workspace
            )
        )
        return stopped is not None

    async def delete_workspace(self, platform: str, workspace: str) -> int:
        """Delete a workspace with its teams (and by cascade all their history) and its members.
        Returns the number of teams deleted."""
        teams = await self._session.execute(
            delete(TeamRow).where(TeamRow.platform == platform, TeamRow.workspace == workspace)
        )
        await self._session.execute(
            delete(MemberRow).where(MemberRow.platform == platform, MemberRow.workspace == workspace)
        )
        await self._session.execute(
            delete(WorkspaceRow).where(WorkspaceRow.platform == platform, WorkspaceRow.workspace == workspace)
        )
        return teams.rowcount or 0

    async def _ensure_workspace(self, ref: TeamRef, now: datetime) -> None:
        exists = await self._session.scalar(
            select(WorkspaceRow.id).where(
                WorkspaceRow.platform == ref.platform, WorkspaceRow.workspace == ref.workspace
            )
        )
        if exists is None:
            self._session.add(WorkspaceRow(platform=ref.platform, workspace=ref.workspace, created_at=now))
            await self._session.flush()
