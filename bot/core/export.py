"""The team's history as a file: CSV for spreadsheets, JSON that round-trips, Markdown to read.

Anonymous authors are left out of every format. The JSON carries everything else (timestamps,
states, people by platform id and name) so `retro import` can rebuild a team from it.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.core.messages import Attachment
from bot.core.model import (
    Check,
    CheckAnswer,
    Depth,
    Lesson,
    LessonPromptState,
    Member,
    Misstep,
    Outcome,
    Recurrence,
    RecurrenceStatus,
    Team,
    TeamRef,
)
from bot.core.render import ANSWER_LABELS, OUTCOME_LABELS
from bot.core.timeutil import valid_timezone

if TYPE_CHECKING:
    from bot.storage.repositories.history import Progress
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


async def load_history(uow: UnitOfWork, team: Team, progress: Progress | None = None) -> TeamHistory:
    """The team's whole history, read a page at a time; `progress(done, total)` hears of each page."""
    total = await uow.history.count(team.id) if progress else 0
    steps: list[Misstep] = []
    lessons: dict[int, Lesson] = {}
    checks: list[Check] = []
    recurrences: list[Recurrence] = []
    async for page in uow.history.pages(team.id):
        steps += page.missteps
        lessons |= page.lessons
        checks += page.checks
        recurrences += page.recurrences
        if progress:
            progress(len(steps), total)
    people_ids = (
        {m.author_id for m in steps if m.author_id is not None and not m.anonymous}
        | {lesson.owner_id for lesson in lessons.values()}
        | {c.answered_by for c in checks if c.answered_by is not None}
        | {r.decided_by for r in recurrences if r.decided_by is not None}
    )
    return TeamHistory(
        team=team,
        missteps=tuple(steps),
        lessons=lessons,
        checks=tuple(checks),
        recurrences=tuple(sorted(recurrences, key=lambda r: r.id)),
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
                "prompt_closed_at": _iso(m.prompt_closed_at),
                "check_window_closed_at": _iso(m.check_window_closed_at),
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
                "decided_by": _person(people.get(r.decided_by) if r.decided_by else None),
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
        "renewed_at": lesson.renewed_at.isoformat(),
    }


class ExportError(ValueError):
    """The file is not a retro JSON export that this version can read."""


def from_json(data: Any) -> TeamHistory:
    """The history in an export written by `to_json` (parsed JSON), for `retro import`.

    Its ids are its own: a misstep's id is its number, a person's is their place in the file.
    `HistoryRepository.restore` maps them to new rows. Raises `ExportError` on anything else.
    """
    header = (data.get("format"), data.get("version")) if isinstance(data, Mapping) else None
    if header != (EXPORT_FORMAT, EXPORT_VERSION):
        raise ExportError(f"not a {EXPORT_FORMAT} version {EXPORT_VERSION} file")
    try:
        return _history_from_json(data)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ExportError(f"malformed export ({type(error).__name__}: {error})") from None


def _history_from_json(data: Mapping[str, Any]) -> TeamHistory:
    raw_team = data["team"]
    if not valid_timezone(raw_team["timezone"]):
        # Every schedule and digest of the team reads it; a bad one would fail them all later.
        raise ValueError(f"unknown timezone {str(raw_team['timezone'])[:40]!r}")
    ref = TeamRef(raw_team["platform"], raw_team["workspace"], raw_team["channel"])
    team = Team(
        id=0,
        ref=ref,
        name=raw_team["name"],
        timezone=raw_team["timezone"],
        created_at=_at(raw_team["created_at"]),
        announce_missteps=bool(raw_team["announce_missteps"]),
    )
    people: dict[str, Member] = {}

    def person_id(raw: Mapping[str, str]) -> int:
        user_id = raw["user_id"]
        if user_id not in people:
            people[user_id] = Member(
                len(people) + 1, ref.platform, ref.workspace, user_id, raw["display_name"]
            )
        return people[user_id].id

    def person(raw: Mapping[str, str] | None) -> int | None:
        return None if raw is None else person_id(raw)

    missteps: list[Misstep] = []
    checks: list[Check] = []
    lessons: dict[int, Lesson] = {}
    for raw in data["missteps"]:
        number = int(raw["number"])
        missteps.append(
            Misstep(
                id=number,
                team_id=0,
                number=number,
                what=raw["what"],
                goal=raw["goal"],
                depth=Depth(raw["depth"]),
                tags=tuple(sorted(raw["tags"])),
                anonymous=bool(raw["anonymous"]),
                author_id=person(raw["author"]),
                created_at=_at(raw["created_at"]),
                prompt_state=LessonPromptState(raw["prompt_state"]),
                outcome=Outcome(raw["outcome"]),
                outcome_at=_when(raw["outcome_at"]),
                prompt_closed_at=_when(raw["prompt_closed_at"]),
                check_window_closed_at=_when(raw["check_window_closed_at"]),
            )
        )
        if (lesson := raw["lesson"]) is not None:
            lessons[number] = Lesson(
                id=number,
                team_id=0,
                misstep_id=number,
                text=lesson["text"],
                commitment=lesson["commitment"],
                owner_id=person_id(lesson["owner"]),
                owner_name=lesson["owner"]["display_name"],
                created_at=_at(lesson["created_at"]),
                updated_at=_at(lesson["updated_at"]),
                renewed_at=_at(lesson["renewed_at"]),
            )
        checks += [
            Check(
                id=len(checks) + i + 1,
                team_id=0,
                misstep_id=number,
                answer=CheckAnswer(check["answer"]),
                answered_by=person(check["answered_by"]),
                answered_at=_at(check["answered_at"]),
            )
            for i, check in enumerate(raw["checks"])
        ]
    recurrences = tuple(
        Recurrence(
            id=i,
            team_id=0,
            misstep_id=int(raw["misstep"]),
            earlier_id=int(raw["earlier"]),
            status=RecurrenceStatus(raw["status"]),
            score=float(raw["score"]),
            created_at=_at(raw["created_at"]),
            decided_at=_when(raw["decided_at"]),
            decided_by=person(raw["decided_by"]),
        )
        for i, raw in enumerate(data["recurrences"], 1)
    )
    return TeamHistory(
        team=team,
        missteps=tuple(missteps),
        lessons=lessons,
        checks=tuple(checks),
        recurrences=recurrences,
        people={member.id: member for member in people.values()},
    )


def _at(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    if at.tzinfo is None:
        raise ValueError(f"time without a timezone: {text!r}")
    return at


def _when(text: str | None) -> datetime | None:
    return None if text is None else _at(text)


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
    lines = [f"# {_md(team.name)}: retro history", "", f"{len(history.missteps)} missteps.", ""]
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
