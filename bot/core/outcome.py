"""The one rule that decides whether a misstep ended as learning or failing (DESIGN.md §2).

The rule reads the misstep's history as a timeline of signals and lets the latest one speak:

* failing signals: the lesson prompt and its one reminder went unanswered (prompt closed with no
  lesson); a check answered `recurred`; a confirmed recurrence linked to this misstep.
* learning signals, only for the current lesson (at or after `lesson_at`): a check answered
  `stuck`; the check window closing with no failing signal since the lesson.
* `unsure` and a merely *suggested* recurrence are not signals at all.

No signal means `open`. Because the latest signal wins, a `failing` misstep becomes `learning`
when a lesson is added later and sticks, and a lesson that stuck can still be shown up by a
confirmed repeat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.model import CheckAnswer, Outcome


@dataclass(frozen=True, slots=True)
class OutcomeFacts:
    lesson_at: datetime | None = None
    """When the current lesson was recorded or last changed; None without a lesson."""
    prompt_closed_at: datetime | None = None
    """When the prompt and reminder window closed with no lesson."""
    checks: tuple[tuple[datetime, CheckAnswer], ...] = ()
    confirmed_recurrences: tuple[datetime, ...] = ()
    """When each recurrence linking a later misstep to this one was confirmed."""
    check_window_closed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    at: datetime | None
    """When the deciding signal happened (None for `open`)."""


def decide_outcome(facts: OutcomeFacts) -> Decision:
    """Decide a misstep's outcome from its facts. Pure: same facts, same decision."""
    signals: list[tuple[datetime, Outcome]] = []
    if facts.prompt_closed_at is not None:
        signals.append((facts.prompt_closed_at, Outcome.FAILING))
    signals.extend((at, Outcome.FAILING) for at in facts.confirmed_recurrences)
    for at, answer in facts.checks:
        if answer is CheckAnswer.RECURRED:
            signals.append((at, Outcome.FAILING))
        elif answer is CheckAnswer.STUCK and facts.lesson_at is not None and at >= facts.lesson_at:
            signals.append((at, Outcome.LEARNING))
    window = facts.check_window_closed_at
    if facts.lesson_at is not None and window is not None and window >= facts.lesson_at:
        failed_since_lesson = any(
            outcome is Outcome.FAILING and facts.lesson_at <= at <= window for at, outcome in signals
        )
        if not failed_since_lesson:
            signals.append((window, Outcome.LEARNING))
    if not signals:
        return Decision(Outcome.OPEN, None)
    # On a tie, failing wins: a repeat confirmed in the same instant as a "stuck" is the stronger news.
    at, outcome = max(signals, key=lambda s: (s[0], s[1] is Outcome.FAILING))
    return Decision(outcome, at)
