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
    prompt_closed_at: datetime | None = None
    """When the lesson prompt and its reminder went unanswered (a fact the outcome rule reads)."""
    check_window_closed_at: datetime | None = None
    """When the follow-up check's window closed (a fact the outcome rule reads)."""


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
    renewed_at: datetime
    """When its clock started: recorded, or replaced after a failing signal. Edits leave it."""


@dataclass(frozen=True, slots=True)
class Check:
    """One answer to a follow-up check: did the lesson stick?"""

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
    decided_by: int | None = None


@dataclass(frozen=True, slots=True)
class MisstepStory:
    """One misstep with everything that happened to it, for `/retro status #N` and exports."""

    misstep: Misstep
    lesson: Lesson | None = None
    checks: tuple[Check, ...] = ()
    recurrences: tuple[Recurrence, ...] = field(default=())
    numbers: dict[int, int] = field(default_factory=dict)
    """Team-scoped numbers of the missteps the recurrences point at, by misstep id."""


class ItemKind(StrEnum):
    """What a scheduled item is. Every one is a row with a due time (DESIGN.md §4)."""

    LESSON_PROMPT = "lesson_prompt"
    LESSON_REMINDER = "lesson_reminder"
    LESSON_CLOSE = "lesson_close"
    """Not a message: the prompt and its reminder went unanswered, the misstep becomes failing."""
    CHECK = "check"
    CHECK_CLOSE = "check_close"
    """Not a message: the check's window closes (learning, unless a recurrence was linked)."""
    RETRO_ROUND = "retro_round"
    ROUND_SUMMARY = "round_summary"
    DIGEST = "digest"

    @property
    def private(self) -> bool:
        """Sent to one member's private messages (and counted against the no-nagging cap)."""
        return self in {ItemKind.LESSON_PROMPT, ItemKind.LESSON_REMINDER, ItemKind.CHECK}

    @property
    def sends(self) -> bool:
        """False for the items that only close a window and send nothing."""
        return self not in {ItemKind.LESSON_CLOSE, ItemKind.CHECK_CLOSE}


WEEKLY_KINDS = (ItemKind.RETRO_ROUND, ItemKind.DIGEST)
"""The team's weekly posts, each on the team's own schedule."""


class ItemStatus(StrEnum):
    PENDING = "pending"
    """Waiting for its time (or claimed by a tick right now, or waiting to be retried)."""
    BUNDLED = "bundled"
    """Riding along in another item's message (several prompts for one member, one message)."""
    SENT = "sent"
    DONE = "done"
    """A window-closing item did its work."""
    CANCELLED = "cancelled"
    """No longer needed: the lesson came in, the check was answered, the schedule changed."""
    MISSED = "missed"
    """Found too late after a restart (past the grace period) and not sent."""
    FAILED = "failed"
    """The platform refused it for good, or it kept failing; `last_error` says why."""
    UNKNOWN = "unknown"
    """A crash caught it mid-send on a platform that cannot drop repeats: maybe delivered, never resent."""


@dataclass(frozen=True, slots=True)
class WeeklyTime:
    """A time in the week, in some timezone: Friday 15:00 is ``WeeklyTime(4, time(15, 0))``."""

    weekday: int
    """0 = Monday ... 6 = Sunday."""
    at: time


@dataclass(frozen=True, slots=True)
class TeamSchedule:
    """When one of the team's weekly posts goes out, in the team's timezone."""

    kind: ItemKind
    when: WeeklyTime
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class ScheduledItem:
    """Something the bot sends (or closes) on its own at `due_at`."""

    id: int
    team_id: int
    platform: str
    kind: ItemKind
    status: ItemStatus
    due_at: datetime
    """When it is due, as planned."""
    run_at: datetime
    """When a tick may take it: the due time, or the end of a wait (a pause, working hours, the
    no-nagging cap, a retry)."""
    created_at: datetime
    misstep_id: int | None = None
    member_id: int | None = None
    """The member a private prompt goes to; None for channel posts."""
    occurrence: int = 0
    """Which round of its kind this is: the second check after `unsure` is 1; weekly posts count up."""
    window_start: datetime | None = None
    """For a round summary: when the round's window opened."""
    lead_id: int | None = None
    """For a bundled item: the item whose message carries it."""
    attempts: int = 0
    claimed_by: str | None = None
    lease_until: datetime | None = None
    last_error: str | None = None
    sent_at: datetime | None = None

    @property
    def delivery_key(self) -> str:
        """The key a send carries, so a platform that can drop a repeat by key (Discord's nonce) does."""
        return f"retro-{self.id}-{self.occurrence}"
