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

The current lesson's clock (`lesson_at`) starts when it is first recorded, and again only when a
lesson replaces it after a failing signal (`lesson_renews`); anything else is an edit, which
changes its words but neither its clock nor what it has already earned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.model import CheckAnswer, Outcome


@dataclass(frozen=True, slots=True)
class OutcomeFacts:
    """What the rule reads about one misstep: when its current lesson began, its answers, its
    confirmed repeats and its windows. Loaded by `TeamMissteps.outcome_facts`."""

    lesson_at: datetime | None = None
    """When the current lesson's clock started (recorded, or renewed; see `lesson_renews`); None
    without a lesson. An edit leaves it."""
    prompt_closed_at: datetime | None = None
    """When the prompt and reminder window closed with no lesson."""
    checks: tuple[tuple[datetime, CheckAnswer], ...] = ()
    confirmed_recurrences: tuple[datetime, ...] = ()
    """When each recurrence linking a later misstep to this one was confirmed."""
    check_window_closed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome, and when the signal that decided it happened (what the digest counts by)."""

    outcome: Outcome
    at: datetime | None
    """When the deciding signal happened (None for `open`)."""


def _failing_signals(facts: OutcomeFacts) -> list[datetime]:
    failing = list(facts.confirmed_recurrences)
    if facts.prompt_closed_at is not None:
        failing.append(facts.prompt_closed_at)
    failing.extend(at for at, answer in facts.checks if answer is CheckAnswer.RECURRED)
    return failing


def decide_outcome(facts: OutcomeFacts) -> Decision:
    """Decide a misstep's outcome from its facts. Pure: same facts, same decision."""
    signals = [(at, Outcome.FAILING) for at in _failing_signals(facts)]
    for at, answer in facts.checks:
        if answer is CheckAnswer.STUCK and facts.lesson_at is not None and at >= facts.lesson_at:
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


def lesson_renews(facts: OutcomeFacts) -> bool:
    """Whether a lesson saved now, given the misstep's facts before it, starts a new clock.

    It does when there is no lesson yet, or when a failing signal (a confirmed repeat, a
    `recurred` answer, the prompt window closing) came at or after the current lesson's
    `lesson_at`: that lesson did not stick, and the one replacing it needs its own check. Anything
    else is an edit (a typo, a sharper commitment): `lesson_at` and the check planned for it stay,
    so fixing a word never undoes a `stuck` answer or a closed check window.
    """
    lesson_at = facts.lesson_at
    return lesson_at is None or any(at >= lesson_at for at in _failing_signals(facts))


def awaiting_verdict(facts: OutcomeFacts) -> bool:
    """Whether the current lesson still waits to be shown stuck or not: it exists and no signal,
    learning or failing, has spoken since its `lesson_at` (so its follow-up check is still owed)."""
    if facts.lesson_at is None:
        return False
    decided_at = decide_outcome(facts).at
    # The latest signal decides, so a decision older than the lesson means none came after it.
    return decided_at is None or decided_at < facts.lesson_at
