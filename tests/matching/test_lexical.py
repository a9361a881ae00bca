"""The lexical matcher: normalised words, tags and lessons, and only a confident suggestion."""

from __future__ import annotations

from bot.core.similarity import Document, LexicalMatcher, Match, confident, misstep_document, tokens

HISTORY = [
    misstep_document(
        1,
        "The nightly supplier CSV import put every row in one column",
        None,
        ("imports",),
        "The import trusted the delimiter and never validated the file.",
    ),
    misstep_document(
        2,
        "Standup ran 40 minutes because we solved problems in it",
        None,
        ("meetings",),
        "Park discussions until after standup.",
    ),
    misstep_document(
        3,
        "The TLS certificate of the dashboard expired on a Sunday",
        None,
        ("ops",),
        "Manual renewal gets forgotten.",
    ),
    misstep_document(
        4,
        "New starter waited a week for VPN access",
        "onboard Ana",
        ("onboarding",),
        "Access requests filed on the first day come too late.",
    ),
    misstep_document(
        5,
        "Sprint planning took three hours, tickets weren't refined",
        None,
        ("meetings",),
        "Planning with unrefined tickets turns into refinement.",
    ),
]


def suggested(text: str, tags: tuple[str, ...] = (), history: list[Document] = HISTORY) -> list[int]:
    return [m.key for m in LexicalMatcher().suggest(misstep_document(0, text, None, tags), history)]


def test_a_repeat_in_the_same_words_is_suggested() -> None:
    assert suggested("the supplier CSV import put all rows in a single column again") == [1]


def test_a_new_misstep_on_a_known_topic_is_not_suggested() -> None:
    assert suggested("the planning poker app was down so we estimated on paper", ("meetings",)) == []


def test_the_lesson_text_counts_so_a_repeat_told_by_its_cause_is_found() -> None:
    assert suggested("the delimiter changed and the import never validated the file") == [1]


def test_word_forms_accents_and_team_synonyms_are_the_same_word() -> None:
    assert tokens("Expired certificates, lapsed certificate") == tokens(
        "expire certificate lapse certificates"
    )
    assert tokens("the Déploiement") == tokens("the deploiement")
    assert tokens("release to production") == tokens("deploy to prod")


def test_nothing_is_suggested_from_an_empty_history_or_an_empty_misstep() -> None:
    assert suggested("anything", history=[]) == []
    assert suggested("the and of") == []


def test_ranking_puts_the_closest_first_and_leaves_out_unrelated_ones() -> None:
    ranked = LexicalMatcher().rank(Document(0, "certificate expired"), HISTORY)
    assert [m.key for m in ranked] == [3]


def test_a_suggestion_needs_the_threshold_and_a_clear_lead_over_the_runner_up() -> None:
    assert confident([Match(1, 0.6), Match(2, 0.3)], threshold=0.5, margin=0.2) == [Match(1, 0.6)]
    assert confident([Match(1, 0.6), Match(2, 0.5)], threshold=0.5, margin=0.2) == []
    assert confident([Match(1, 0.4)], threshold=0.5, margin=0.0) == []
    assert confident([Match(1, 0.5)], threshold=0.5, margin=0.2) == [Match(1, 0.5)]
    assert confident([], threshold=0.0, margin=0.0) == []
