"""The team's history as a file: CSV for spreadsheets, JSON that round-trips, Markdown to read.

Anonymous authors are left out of every format. The JSON carries everything else (timestamps,
states, people by platform id and name) so `retro import` can rebuild a team from it.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.messages import Attachment
from bot.core.model import Check, Lesson, Member, Misstep, Recurrence, Team
from bot.core.render import ANSWER_LABELS, OUTCOME_LABELS
from bot.storage.unit_of_work import UnitOfWork

EXPORT_FORMAT = "retro-export"
EXPORT_VERSION = 1


@dataclass(frozen=True, slots=True)
class TeamHistory:
    team: Team
    missteps: tuple[Misstep, ...]
    lessons: dict[int, Lesson]
    checks: tuple[Check, ...]
    recurrences: tuple[Recurrence, ...]
    people: dict[int, Member]

    def author(self, misstep: Misstep) -> Member | None:
        """The author, never for an anonymous misstep."""
        if misstep.anonymous or misstep.author_id is None:
            return None
        return self.people.get(misstep.author_id)


async def load_history(uow: UnitOfWork, team: Team) -> TeamHistory:
    missteps = uow.missteps(team.id)
    steps = await missteps.all()
    lessons = {lesson.misstep_id: lesson for _, lesson in await missteps.with_lessons()}
    checks = await missteps.all_checks()
    recurrences = await missteps.all_recurrences()
    people_ids = (
        {m.author_id for m in steps if m.author_id is not None and not m.anonymous}
        | {lesson.owner_id for lesson in lessons.values()}
        | {c.answered_by for c in checks if c.answered_by is not None}
    )
    return TeamHistory(
        team=team,
        missteps=tuple(steps),
        lessons=lessons,
        checks=tuple(checks),
        recurrences=tuple(recurrences),
        people=await uow.members.by_ids(people_ids),
    )


def export_file(history: TeamHistory, fmt: str, now: datetime) -> Attachment:
    slug = "".join(ch if ch.isalnum() else "-" for ch in history.team.name.lower()).strip("-") or "team"
    stem = f"retro-{slug}-{now:%Y%m%d}"
    if fmt == "json":
        body = json.dumps(to_json(history, now), ensure_ascii=False, indent=2).encode()
        return Attachment(f"{stem}.json", body, "application/json")
    if fmt == "md":
        return Attachment(f"{stem}.md", to_markdown(history).encode(), "text/markdown")
    return Attachment(f"{stem}.csv", to_csv(history).encode(), "text/csv")


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _person(member: Member | None) -> dict[str, str] | None:
    return None if member is None else {"user_id": member.user_id, "display_name": member.display_name}


def to_json(history: TeamHistory, now: datetime) -> dict[str, Any]:
    team = history.team
    checks: dict[int, list[Check]] = defaultdict(list)
    for c in history.checks:
        checks[c.misstep_id].append(c)
    numbers = {m.id: m.number for m in history.missteps}
    people = history.people
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": now.isoformat(),
        "team": {
            "platform": team.ref.platform,
            "workspace": team.ref.workspace,
            "channel": team.ref.channel,
            "name": team.name,
            "timezone": team.timezone,
            "announce_missteps": team.announce_missteps,
            "created_at": team.created_at.isoformat(),
        },
        "missteps": [
            {
                "number": m.number,
                "what": m.what,
                "goal": m.goal,
                "depth": m.depth.value,
                "tags": list(m.tags),
                "anonymous": m.anonymous,
                "author": _person(history.author(m)),
                "created_at": m.created_at.isoformat(),
                "prompt_state": m.prompt_state.value,
                "outcome": m.outcome.value,
                "outcome_at": _iso(m.outcome_at),
                "lesson": _lesson_json(history.lessons.get(m.id), people),
                "checks": [
                    {
                        "answer": c.answer.value,
                        "answered_by": _person(people.get(c.answered_by) if c.answered_by else None),
                        "answered_at": c.answered_at.isoformat(),
                    }
                    for c in checks[m.id]
                ],
            }
            for m in history.missteps
        ],
        "recurrences": [
            {
                "misstep": numbers[r.misstep_id],
                "earlier": numbers[r.earlier_id],
                "status": r.status.value,
                "score": r.score,
                "created_at": r.created_at.isoformat(),
                "decided_at": _iso(r.decided_at),
            }
            for r in history.recurrences
        ],
    }


def _lesson_json(lesson: Lesson | None, people: dict[int, Member]) -> dict[str, Any] | None:
    if lesson is None:
        return None
    return {
        "text": lesson.text,
        "commitment": lesson.commitment,
        "owner": _person(people.get(lesson.owner_id)) or {"user_id": "", "display_name": lesson.owner_name},
        "created_at": lesson.created_at.isoformat(),
        "updated_at": lesson.updated_at.isoformat(),
    }


CSV_COLUMNS = (
    "number",
    "logged_at",
    "depth",
    "what",
    "goal",
    "tags",
    "anonymous",
    "author",
    "lesson",
    "next_time",
    "owner",
    "checks",
    "repeats",
    "repeated_by",
    "outcome",
    "outcome_at",
)


def _links(history: TeamHistory) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    numbers = {m.id: m.number for m in history.missteps}
    repeats: dict[int, list[str]] = defaultdict(list)
    repeated_by: dict[int, list[str]] = defaultdict(list)
    for r in history.recurrences:
        note = "" if r.status.value == "confirmed" else f" ({r.status.value})"
        repeats[r.misstep_id].append(f"#{numbers[r.earlier_id]}{note}")
        repeated_by[r.earlier_id].append(f"#{numbers[r.misstep_id]}{note}")
    return repeats, repeated_by


def to_csv(history: TeamHistory) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    repeats, repeated_by = _links(history)
    checks: dict[int, list[Check]] = defaultdict(list)
    for c in history.checks:
        checks[c.misstep_id].append(c)
    for m in history.missteps:
        lesson = history.lessons.get(m.id)
        author = history.author(m)
        writer.writerow(
            [
                m.number,
                m.created_at.isoformat(),
                m.depth.value,
                _cell(m.what),
                _cell(m.goal or ""),
                " ".join(m.tags),
                "yes" if m.anonymous else "no",
                _cell(author.display_name) if author else "",
                _cell(lesson.text) if lesson else "",
                _cell(lesson.commitment or "") if lesson else "",
                _cell(lesson.owner_name) if lesson else "",
                "; ".join(f"{c.answered_at:%Y-%m-%d} {c.answer.value}" for c in checks[m.id]),
                " ".join(repeats[m.id]),
                " ".join(repeated_by[m.id]),
                m.outcome.value,
                m.outcome_at.isoformat() if m.outcome_at else "",
            ]
        )
    return out.getvalue()


def _cell(value: str) -> str:
    # A cell starting with = + - @ is run as a formula by spreadsheet apps (CSV injection);
    # a leading apostrophe makes them show it as text.
    return "'" + value if value[:1] in {"=", "+", "-", "@", "\t", "\r"} else value


def to_markdown(history: TeamHistory) -> str:
    team = history.team
    repeats, repeated_by = _links(history)
    checks: dict[int, list[Check]] = defaultdict(list)
    for c in history.checks:
        checks[c.misstep_id].append(c)
    lines = [f"# {team.name}: retro history", "", f"{len(history.missteps)} missteps.", ""]
    for m in history.missteps:
        lesson = history.lessons.get(m.id)
        author = history.author(m)
        lines.append(f"## #{m.number} ({m.depth.value}) {_md(m.what)}")
        lines.append("")
        by = "anonymously" if m.anonymous else f"by {_md(author.display_name)}" if author else ""
        lines.append(f"- Logged {m.created_at:%Y-%m-%d} {by}".rstrip())
        if m.goal:
            lines.append(f"- Goal: {_md(m.goal)}")
        if m.tags:
            lines.append(f"- Tags: {' '.join('`#' + t + '`' for t in m.tags)}")
        if lesson:
            lines.append(f"- Lesson: {_md(lesson.text)}")
            if lesson.commitment:
                lines.append(f"- Next time: {_md(lesson.commitment)} (owner: {_md(lesson.owner_name)})")
        for c in checks[m.id]:
            lines.append(f"- Check {c.answered_at:%Y-%m-%d}: {ANSWER_LABELS[c.answer]}")
        if repeats[m.id]:
            lines.append(f"- Repeats {', '.join(repeats[m.id])}")
        if repeated_by[m.id]:
            lines.append(f"- Repeated by {', '.join(repeated_by[m.id])}")
        lines.append(f"- Outcome: **{OUTCOME_LABELS[m.outcome]}**")
        lines.append("")
    return "\n".join(lines)


def _md(text: str) -> str:
    """Escape Markdown so typed text reads as typed."""
    return "".join("\\" + ch if ch in "\\`*_{}[]()<>#+-.!|" else ch for ch in text)
