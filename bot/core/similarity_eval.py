"""Labelled recurrence sets, and the precision and recall of a `Matcher` on them.

A set is one TOML file per team (schema: `bench/data/recurrence/README.md`): the team's history of
missteps with lessons, then new missteps, each labelled with the earlier number it repeats, or
with none when it is new. Both the tests (`tests/matching/`) and the bench (`bench/matcher.py`)
score matchers here, so they measure exactly what the bot does: the same documents as
`/retro oops` builds, and only the top suggestion counts, as in its reply.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.core.similarity import Document, Matcher, misstep_document


@dataclass(frozen=True, slots=True)
class Entry:
    """An earlier misstep of the team, with the lesson it taught."""

    number: int
    what: str
    goal: str | None
    tags: tuple[str, ...]
    lesson: str

    def document(self) -> Document:
        return misstep_document(self.number, self.what, self.goal, self.tags, self.lesson)


@dataclass(frozen=True, slots=True)
class Case:
    """A new misstep, and the earlier number it repeats (`None`: it is new)."""

    what: str
    goal: str | None
    tags: tuple[str, ...]
    repeats: int | None

    def document(self) -> Document:
        return misstep_document(0, self.what, self.goal, self.tags)


@dataclass(frozen=True, slots=True)
class Team:
    name: str
    split: str
    """`tune` (thresholds were chosen on it), `holdout` (never tuned on) or `test`."""
    history: tuple[Entry, ...]
    cases: tuple[Case, ...]


def load_team(path: Path) -> Team:
    """One team's file; a label that names no earlier misstep is an error, not a silent miss."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    history = tuple(
        Entry(h["number"], h["what"], h.get("goal"), tuple(h.get("tags", ())), h["lesson"])
        for h in data["history"]
    )
    cases = tuple(
        Case(c["what"], c.get("goal"), tuple(c.get("tags", ())), c.get("repeats")) for c in data["new"]
    )
    numbers = {h.number for h in history}
    for case in cases:
        if case.repeats is not None and case.repeats not in numbers:
            raise ValueError(f"{path.name}: {case.what!r} repeats #{case.repeats}, which is not in history")
    return Team(data["name"], data["split"], history, cases)


def load_teams(folder: Path) -> list[Team]:
    return [load_team(path) for path in sorted(folder.glob("*.toml"))]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the matcher said about one case: the number it suggested, if any."""

    case: Case
    suggested: int | None

    @property
    def correct(self) -> bool:
        return self.suggested is not None and self.suggested == self.case.repeats


@dataclass(frozen=True, slots=True)
class Score:
    suggested: int
    correct: int
    repeats: int
    cases: int

    @property
    def precision(self) -> float:
        """Of the suggestions made, how many named the right earlier misstep (1.0 when none made)."""
        return self.correct / self.suggested if self.suggested else 1.0

    @property
    def recall(self) -> float:
        """Of the real repeats, how many got the right suggestion."""
        return self.correct / self.repeats if self.repeats else 1.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    @classmethod
    def of(cls, outcomes: Iterable[Outcome]) -> Score:
        outcomes = list(outcomes)
        return cls(
            suggested=sum(o.suggested is not None for o in outcomes),
            correct=sum(o.correct for o in outcomes),
            repeats=sum(o.case.repeats is not None for o in outcomes),
            cases=len(outcomes),
        )


def run(matcher: Matcher, teams: Sequence[Team]) -> Iterator[Outcome]:
    """Each new misstep against its own team's history, the way `/retro oops` asks."""
    for team in teams:
        documents = [entry.document() for entry in team.history]
        for case in team.cases:
            matches = matcher.suggest(case.document(), documents)
            yield Outcome(case, matches[0].key if matches else None)


def evaluate(matcher: Matcher, teams: Sequence[Team]) -> Score:
    return Score.of(run(matcher, teams))
