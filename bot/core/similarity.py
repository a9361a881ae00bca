"""Spotting repeats: does a new misstep look like an earlier one that already had a lesson?

One small interface, `Matcher`, so a better matcher can replace the lexical one without touching
the engine. A matcher only *suggests*; a person confirms (DESIGN.md §2, recurrence).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Document:
    """A misstep as a matcher sees it."""

    key: int
    text: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Match:
    key: int
    score: float
    """Similarity in [0, 1]."""


class Matcher(Protocol):
    name: str

    def rank(self, query: Document, documents: Sequence[Document]) -> list[Match]:
        """Every document with a positive score, best first."""
        ...

    def suggest(self, query: Document, documents: Sequence[Document]) -> list[Match]:
        """The documents similar enough to call the query a likely repeat, best first."""
        ...


_STOPWORDS = frozenset(
    """a an and are as at be been but by did do does for from had has have he her his i if in into is
    it its me my no not of on or our out so than that the their them then there these they this to
    too up us was we were what when which who will with you your again just also got get very""".split()
)
_WORD = re.compile(r"[a-z0-9]+")
_SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "ied", "ers", "er", "ed", "es", "s")


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)]
            return stem + "y" if suffix in {"ies", "ied"} else stem
    return word


def tokens(text: str) -> list[str]:
    """Normalised content words: accents folded, lower case, stop words dropped, light stemming."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return [_stem(w) for w in _WORD.findall(folded) if w not in _STOPWORDS and len(w) > 1]


def _terms(doc: Document) -> Counter[str]:
    terms = Counter(tokens(doc.text))
    terms.update(f"#{tag.lower()}" for tag in doc.tags)
    return terms


class LexicalMatcher:
    """TF-IDF cosine similarity over normalised words and tags.

    IDF is computed over the team's own history, so words every misstep uses ("deploy" in an ops
    team) count for little and distinctive ones ("migration", "ScoopIt") count for a lot.
    """

    name = "lexical"

    def __init__(self, threshold: float = 0.35, tag_weight: float = 1.0) -> None:
        self.threshold = threshold
        self.tag_weight = tag_weight

    def rank(self, query: Document, documents: Sequence[Document]) -> list[Match]:
        if not documents:
            return []
        doc_terms = [_terms(d) for d in documents]
        query_terms = _terms(query)
        df: Counter[str] = Counter()
        for terms in doc_terms:
            df.update(terms.keys())
        n = len(documents) + 1

        def vector(terms: Counter[str]) -> dict[str, float]:
            return {
                t: (1 + math.log(c))
                * math.log((n + 1) / (df[t] + 1))
                * (self.tag_weight if t[0] == "#" else 1.0)
                for t, c in terms.items()
            }

        q = vector(query_terms)
        q_norm = math.sqrt(sum(v * v for v in q.values()))
        if q_norm == 0:
            return []
        matches = []
        for doc, terms in zip(documents, doc_terms, strict=True):
            d = vector(terms)
            d_norm = math.sqrt(sum(v * v for v in d.values()))
            if d_norm == 0:
                continue
            dot = sum(w * d[t] for t, w in q.items() if t in d)
            if dot > 0:
                matches.append(Match(doc.key, dot / (q_norm * d_norm)))
        matches.sort(key=lambda m: (-m.score, m.key))
        return matches

    def suggest(self, query: Document, documents: Sequence[Document]) -> list[Match]:
        return [m for m in self.rank(query, documents) if m.score >= self.threshold]
