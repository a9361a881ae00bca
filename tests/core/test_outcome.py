"""The outcome rule (DESIGN.md §2), one case per sentence of the rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.model import CheckAnswer, Outcome
from bot.core.outcome import OutcomeFacts, decide_outcome

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def test_nothing_happened_yet_is_open() -> None:
    assert decide_outcome(OutcomeFacts()).outcome is Outcome.OPEN


def test_a_lesson_alone_is_still_open() -> None:
    assert decide_outcome(OutcomeFacts(lesson_at=day(1))).outcome is Outcome.OPEN


def test_a_stuck_check_after_the_lesson_is_learning() -> None:
    decision = decide_outcome(OutcomeFacts(lesson_at=day(1), checks=((day(15), CheckAnswer.STUCK),)))
    assert decision.outcome is Outcome.LEARNING
    assert decision.at == day(15)


def test_the_check_window_closing_without_recurrence_is_learning() -> None:
    facts = OutcomeFacts(lesson_at=day(1), check_window_closed_at=day(29))
    assert decide_outcome(facts).outcome is Outcome.LEARNING


def test_no_lesson_after_prompt_and_reminder_is_failing() -> None:
    decision = decide_outcome(OutcomeFacts(prompt_closed_at=day(4)))
    assert decision.outcome is Outcome.FAILING
    assert decision.at == day(4)


def test_a_recurred_check_is_failing() -> None:
    facts = OutcomeFacts(lesson_at=day(1), checks=((day(15), CheckAnswer.RECURRED),))
    assert decide_outcome(facts).outcome is Outcome.FAILING


def test_a_confirmed_recurrence_is_failing_even_after_a_stuck_check() -> None:
    facts = OutcomeFacts(
        lesson_at=day(1), checks=((day(15), CheckAnswer.STUCK),), confirmed_recurrences=(day(20),)
    )
    assert decide_outcome(facts).outcome is Outcome.FAILING


def test_unsure_is_not_a_signal() -> None:
    facts = OutcomeFacts(lesson_at=day(1), checks=((day(15), CheckAnswer.UNSURE),))
    assert decide_outcome(facts).outcome is Outcome.OPEN


def test_a_window_closing_after_a_confirmed_recurrence_does_not_make_it_learning() -> None:
    facts = OutcomeFacts(lesson_at=day(1), confirmed_recurrences=(day(10),), check_window_closed_at=day(29))
    assert decide_outcome(facts).outcome is Outcome.FAILING


def test_a_failing_misstep_becomes_learning_when_a_later_lesson_sticks() -> None:
    facts = OutcomeFacts(prompt_closed_at=day(4), lesson_at=day(10), checks=((day(24), CheckAnswer.STUCK),))
    assert decide_outcome(facts).outcome is Outcome.LEARNING


def test_a_late_lesson_alone_does_not_lift_failing() -> None:
    assert decide_outcome(OutcomeFacts(prompt_closed_at=day(4), lesson_at=day(10))).outcome is Outcome.FAILING


def test_a_stuck_check_about_an_older_lesson_does_not_count_for_the_new_one() -> None:
    facts = OutcomeFacts(
        lesson_at=day(20),
        checks=((day(15), CheckAnswer.STUCK),),
        confirmed_recurrences=(day(18),),
    )
    assert decide_outcome(facts).outcome is Outcome.FAILING


def test_a_new_lesson_after_a_repeat_turns_learning_once_it_sticks() -> None:
    facts = OutcomeFacts(
        lesson_at=day(20),
        confirmed_recurrences=(day(18),),
        checks=((day(34), CheckAnswer.STUCK),),
    )
    assert decide_outcome(facts).outcome is Outcome.LEARNING


def test_a_repeat_and_a_stuck_answer_at_the_same_instant_count_as_failing() -> None:
    facts = OutcomeFacts(
        lesson_at=day(1), checks=((day(15), CheckAnswer.STUCK),), confirmed_recurrences=(day(15),)
    )
    assert decide_outcome(facts).outcome is Outcome.FAILING
