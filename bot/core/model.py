"""The domain records: plain, frozen values that the storage returns and the engine reasons about.

Names follow the domain language of DESIGN.md §2. Nothing here knows about a chat platform or a
database; adapters and repositories translate to and from these records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from enum import StrEnum


class Depth(StrEnum):
    """How deep a misstep went; deeper ones get longer cool-downs and a gentler, private tone."""

    STUMBLE = "stumble"
    SETBACK = "setback"
    FALL = "fall"


class Outcome(StrEnum):
    """Where a misstep ended: failing = learning, or failing = failing."""

    OPEN = "open"
    LEARNING = "learning"
    FAILING = "failing"


class CheckAnswer(StrEnum):
    """The answer to a follow-up check: did the lesson stick?"""

    STUCK = "stuck"
    RECURRED = "recurred"
    UNSURE = "unsure"


class RecurrenceStatus(StrEnum):
    """A recurrence is only a suggestion until a person confirms it."""

    SUGGESTED = "suggested"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


class LessonPromptState(StrEnum):
    """How far the bot has gone asking the author for a lesson.

    `closed` means the prompt and its one reminder went unanswered: no more nagging, and the
    misstep is `failing` until someone adds a lesson anyway.
    """

    WAITING = "waiting"
    PROMPTED = "prompted"
    REMINDED = "reminded"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class TeamRef:
    """Where a team lives on its platform: the key an adapter knows a team by."""

    platform: str
    workspace: str
    channel: str


@dataclass(frozen=True, slots=True)
class WorkingHours:
    start: time = time(9, 0)
    end: time = time(17, 0)

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True, slots=True)
class Team:
    id: int
    ref: TeamRef
    name: str
    timezone: str
    created_at: datetime
    announce_missteps: bool = False


@dataclass(frozen=True, slots=True)
class Member:
    """A person on a platform. Timezone and hours are the member's own choice or `None`."""

    id: int
    platform: str
    workspace: str
    user_id: str
    display_name: str
    timezone: str | None = None
    working_hours: WorkingHours | None = None
    paused_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Misstep:
    """What went wrong. `author_id` is `None` once an anonymous author's address was erased."""

    id: int
    team_id: int
    number: int
    what: str
    goal: str | None
    depth: Depth
    tags: tuple[str, ...]
    anonymous: bool
    author_id: int | None
    created_at: datetime
    prompt_state: LessonPromptState
    outcome: Outcome
    outcome_at: datetime | None


@dataclass(frozen=True, slots=True)
class Lesson:
    """What a misstep taught, with the "next time we will ..." commitment and its named owner."""

    id: int
    team_id: int
    misstep_id: int
    text: str
    commitment: str | None
    owner_id: int
    owner_name: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Check:
    id: int
    team_id: int
    misstep_id: int
    answer: CheckAnswer
    answered_by: int | None
    answered_at: datetime


@dataclass(frozen=True, slots=True)
class Recurrence:
    """A link from a newer misstep to an earlier one whose lesson may not have stuck."""

    id: int
    team_id: int
    misstep_id: int
    earlier_id: int
    status: RecurrenceStatus
    score: float
    created_at: datetime
    decided_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class MisstepStory:
    """One misstep with everything that happened to it, for `/retro status #N` and exports."""

    misstep: Misstep
    lesson: Lesson | None = None
    checks: tuple[Check, ...] = ()
    recurrences: tuple[Recurrence, ...] = field(default=())
    numbers: dict[int, int] = field(default_factory=dict)
    """Team-scoped numbers of the missteps the recurrences point at, by misstep id."""
