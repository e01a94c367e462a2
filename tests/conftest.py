"""Shared fixtures: the seeds corpus, a real index of it built once, and a fast fake encoder."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"


class HashingEncoder:
    """A fast stand-in for the real model, for tests of indexing logic (never of retrieval quality):
    bag of hashed words, so texts sharing words are close."""

    dimension = 64

    def __init__(self, name: str = "all-MiniLM-L6-v2") -> None:
        self.name = name
        self.encoded = 0

    def encode(self, texts, batch_size=32):
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                vectors[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension] += 1.0
        vectors[:, 0] += 1e-3
        self.encoded += len(texts)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture
def fake_encoder() -> HashingEncoder:
    return HashingEncoder()


@pytest.fixture
def fake_factory(fake_encoder):
    return lambda spec: fake_encoder


@pytest.fixture
def corpus(tmp_path) -> Path:
    """A writable copy of the seeds corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture
def index_dir(tmp_path) -> Path:
    return tmp_path / "index"


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory) -> Path:
    """The seeds corpus indexed with the real model, built once per test session."""
    from qa import build_index

    index = tmp_path_factory.mktemp("seed-index")
    build_index(SEEDS, index)
    return index


@pytest.fixture(scope="session")
def seed_bot(seed_index):
    """A loaded Bot over the real seeds index (the model is loaded once per session)."""
    from qa import Bot

    return Bot(seed_index).load()


# Property tests stay quick in the suite; HYPOTHESIS_PROFILE=thorough runs many more examples.
from hypothesis import settings  # noqa: E402

settings.register_profile("suite", max_examples=60, deadline=None)
settings.register_profile("thorough", max_examples=3000, deadline=None)
settings.load_profile(__import__("os").environ.get("HYPOTHESIS_PROFILE", "suite"))
