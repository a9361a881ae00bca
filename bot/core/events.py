"""What happened in a unit of work, for the parts that react to it (the scheduler plans follow-ups).

Handlers record events; the engine hands each one to every reaction inside the same transaction,
so a misstep and its scheduled lesson prompt are saved together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from bot.core.model import Check, Lesson, Member, Misstep, Team

if TYPE_CHECKING:
    from bot.storage.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class MisstepLogged:
    misstep: Misstep
    author: Member


@dataclass(frozen=True, slots=True)
class LessonRecorded:
    misstep: Misstep
    lesson: Lesson
    created: bool
    renewed: bool
    """Its clock started afresh (`outcome.lesson_renews`): new, or replacing one that did not
    stick. False for an edit, which keeps the check already planned."""


@dataclass(frozen=True, slots=True)
class CheckAnswered:
    misstep: Misstep
    check: Check


@dataclass(frozen=True, slots=True)
class RecurrenceConfirmed:
    misstep: Misstep
    earlier: Misstep


@dataclass(frozen=True, slots=True)
class RecurrenceDismissed:
    """A confirmed repeat was dismissed after all: what the confirmation stopped may resume."""

    misstep: Misstep
    earlier: Misstep


Event = MisstepLogged | LessonRecorded | CheckAnswered | RecurrenceConfirmed | RecurrenceDismissed


class Reaction(Protocol):
    """Reacts to an event inside the invocation's transaction; may return a short note for the
    person's reply ("I'll ask you what it taught you tomorrow at 09:00")."""

    async def __call__(self, uow: UnitOfWork, team: Team, event: Event) -> str | None: ...
