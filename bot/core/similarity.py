"""Spotting repeats: does a new misstep look like an earlier one that already had a lesson?

One small interface, `Matcher`, so a better matcher can replace the lexical one without touching
the engine. A matcher only *suggests*; a person confirms (DESIGN.md §2, recurrence). A wrong
suggestion costs a person's attention and trust, a missed one only a chance, so every matcher
suggests at most one earlier misstep, and only when it is both close enough and clearly closer
than the runner-up (`confident`). How the thresholds were chosen: `bench/matcher.py`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import snowballstemmer

from bot.core.model import Lesson, Misstep


@dataclass(frozen=True, slots=True)
class Document:
    """A misstep as a matcher sees it."""

    key: int
    text: str
    tags: tuple[str, ...] = ()
    happened: str = ""
    """What happened and the goal, without the lesson: what a sentence-level matcher compares
    (`bot/core/mpnet.py`). Empty when the text is all there is, as in a `/retro lessons` search."""


@dataclass(frozen=True, slots=True)
class Match:
    key: int
    score: float
    """Similarity in [0, 1]."""


def misstep_document(
    key: int, what: str, goal: str | None, tags: Sequence[str], lesson: str | None = None
) -> Document:
    """What a matcher compares for one misstep: what happened, the goal, the lesson and the tags.

    The lesson helps because a repeat shares the earlier misstep's *cause*, and the lesson is where
    the team named it. The "next time" commitment is left out: it says what to do, not what went
    wrong, and on the evaluation it drew more wrong suggestions than right ones.
    """
    text = ". ".join(part for part in (what, goal, lesson) if part)
    return Document(key, text, tuple(tags), happened=". ".join(part for part in (what, goal) if part))


def document_of(misstep: Misstep, lesson: Lesson | None = None) -> Document:
    """The matcher's view of a stored misstep (and its lesson, for an earlier one)."""
    return misstep_document(
        misstep.id, misstep.what, misstep.goal, misstep.tags, lesson.text if lesson else None
    )


class Matcher(Protocol):
    name: str

    def rank(self, query: Document, documents: Sequence[Document]) -> list[Match]:
        """Every document with a positive score, best first."""
        ...

    def suggest(self, query: Document, documents: Sequence[Document]) -> list[Match]:
        """The one document the query likely repeats, if the matcher is confident; else nothing."""
        ...


def confident(ranked: Sequence[Match], threshold: float, margin: float) -> list[Match]:
    """The best match, when it reaches `threshold` and beats the runner-up by `margin`.

    The margin matters as much as the threshold: a new misstep on a familiar topic ("the deploy
    broke again, for another reason") sits close to several earlier ones at once, a repeat close
    to one.
    """
    if not ranked or ranked[0].score < threshold:
        return []
    runner_up = ranked[1].score if len(ranked) > 1 else 0.0
    return [ranked[0]] if ranked[0].score - runner_up >= margin else []


_STOPWORDS = frozenset(
    """a an and are as at be been but by did do does for from had has have he her his i if in into is
    it its me my no not of on or our out so than that the their them then there these they this to
    too up us was we were what when which who will with you your again just also got get very""".split()
)
_WORD = re.compile(r"[a-z0-9]+")

# Words teams use interchangeably for the same thing. Each line folds into its first word. Kept
# short and generic on purpose: a word that is only sometimes a synonym ("ship" orders, a CRM "sync",
# a "live" site, a "key" to the van) makes unrelated missteps look alike, which costs precision.
_SYNONYMS = """
deploy deployment release rollout
password credential login secret token passwd
laptop computer machine pc
meeting standup
expire expired lapse lapsed
leak leaked expose exposed
prod production
duplicate duplicated double twice
delete deleted remove removed
customer client
wrong incorrect
hire starter joiner newcomer
onboard onboarding induction
broke broken break crash crashed
late delay delayed
"""

_stemmer = snowballstemmer.stemmer("english")


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return _stemmer.stemWord(word)


def _synonym_map() -> dict[str, str]:
    folded = {}
    for line in _SYNONYMS.strip().splitlines():
        head, *rest = (_stem(word) for word in line.split())
        folded.update(dict.fromkeys(rest, head))
    return folded


_FOLD = _synonym_map()


def tokens(text: str) -> list[str]:
    """Normalised content words: accents folded, lower case, stop words dropped, stemmed (Snowball),
    common team synonyms folded together."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    stems = (_stem(w) for w in _WORD.findall(folded) if w not in _STOPWORDS and len(w) > 1)
    return [_FOLD.get(s, s) for s in stems]


def _terms(doc: Document) -> Counter[str]:
    terms = Counter(tokens(doc.text))
    terms.update(f"#{tag.lower()}" for tag in doc.tags)
    return terms


class LexicalMatcher:
    """TF-IDF cosine similarity over normalised words and tags.

    IDF is computed over the team's own history, so words every misstep uses ("deploy" in an ops
    team) count for little and distinctive ones ("migration", "ScoopIt") count for a lot. That is
    also what tells a repeat (same cause, in the same rare words) from a new misstep on a familiar
    topic. Paraphrases defeat it: it is precise but misses repeats told in other words.
    """

    name = "lexical"

    def __init__(self, threshold: float = 0.32, margin: float = 0.15, tag_weight: float = 1.0) -> None:
        self.threshold = threshold
        self.margin = margin
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
        return confident(self.rank(query, documents), self.threshold, self.margin)
