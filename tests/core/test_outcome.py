"""The outcome rule (DESIGN.md §2), one case per sentence of the rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.model import CheckAnswer, Outcome
from bot.core.outcome import Decision, OutcomeFacts, awaiting_verdict, decide_outcome, lesson_renews

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


# -- editing or renewing a lesson ------------------------------------------------------------


def test_a_first_lesson_renews() -> None:
    assert lesson_renews(OutcomeFacts())
    assert lesson_renews(OutcomeFacts(prompt_closed_at=day(4)))


def test_changing_a_lesson_with_no_failing_signal_since_is_an_edit() -> None:
    assert not lesson_renews(OutcomeFacts(lesson_at=day(1)))
    assert not lesson_renews(OutcomeFacts(lesson_at=day(1), checks=((day(15), CheckAnswer.UNSURE),)))
    assert not lesson_renews(OutcomeFacts(lesson_at=day(1), checks=((day(15), CheckAnswer.STUCK),)))
    assert not lesson_renews(OutcomeFacts(lesson_at=day(1), check_window_closed_at=day(22)))


def test_a_failing_signal_before_the_current_lesson_does_not_make_a_change_renew_it() -> None:
    assert not lesson_renews(OutcomeFacts(prompt_closed_at=day(4), lesson_at=day(10)))
    assert not lesson_renews(OutcomeFacts(lesson_at=day(20), confirmed_recurrences=(day(18),)))
    assert not lesson_renews(OutcomeFacts(lesson_at=day(20), checks=((day(15), CheckAnswer.RECURRED),)))


def test_a_lesson_after_a_failing_signal_since_the_current_one_renews() -> None:
    assert lesson_renews(OutcomeFacts(lesson_at=day(1), checks=((day(15), CheckAnswer.RECURRED),)))
    assert lesson_renews(OutcomeFacts(lesson_at=day(1), confirmed_recurrences=(day(1),)))
    stuck_then_repeat = OutcomeFacts(
        lesson_at=day(1), checks=((day(15), CheckAnswer.STUCK),), confirmed_recurrences=(day(20),)
    )
    assert lesson_renews(stuck_then_repeat)


def test_an_edit_leaves_the_decision_alone() -> None:
    """The reviewer's case: prompt closed, late lesson, `stuck`; the typo fix keeps `lesson_at`."""
    facts = OutcomeFacts(prompt_closed_at=day(4), lesson_at=day(10), checks=((day(24), CheckAnswer.STUCK),))
    assert not lesson_renews(facts)
    assert decide_outcome(facts) == Decision(Outcome.LEARNING, day(24))


def test_a_lesson_awaits_its_verdict_until_a_signal_speaks_after_it() -> None:
    assert not awaiting_verdict(OutcomeFacts())
    assert awaiting_verdict(OutcomeFacts(lesson_at=day(1)))
    assert awaiting_verdict(OutcomeFacts(lesson_at=day(1), checks=((day(15), CheckAnswer.UNSURE),)))
    assert awaiting_verdict(OutcomeFacts(prompt_closed_at=day(4), lesson_at=day(10)))
    assert not awaiting_verdict(OutcomeFacts(lesson_at=day(1), checks=((day(15), CheckAnswer.STUCK),)))
    assert not awaiting_verdict(OutcomeFacts(lesson_at=day(1), confirmed_recurrences=(day(9),)))
    assert not awaiting_verdict(OutcomeFacts(lesson_at=day(1), check_window_closed_at=day(22)))
