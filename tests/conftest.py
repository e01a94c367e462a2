"""Shared fixtures: the seeds corpus, a real index of it built once, and a fast fake encoder."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from qa.encoders.hashing import HashingEncoder

# The tests' helper modules (fake_bot, chat_pilot) import as top-level modules, whatever pytest's import mode.
sys.path.insert(0, str(Path(__file__).parent))

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
# Fixtures that load the real model: every test using one is in the slow tier.
REAL_MODEL_FIXTURES = {"seed_index", "seed_bot", "ui_seeds_bot"}


def seed_folders(root: Path, parts: dict[str, slice]) -> dict[str, Path]:
    """Folders root/NAME, each holding its slice of the seeds' files (in name order)."""
    files = sorted(SEEDS.glob("*.txt"))
    folders = {}
    for name, part in parts.items():
        folder = folders[name] = root / name
        folder.mkdir(parents=True)
        for path in files[part]:
            shutil.copy(path, folder / path.name)
    return folders


def pytest_collection_modifyitems(config, items):
    for item in items:
        if REAL_MODEL_FIXTURES.intersection(item.fixturenames):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _real_model_only_in_slow_tests(request, monkeypatch):
    """The fast tier (`pytest -m "not slow"`) must never load the real model: a test that does
    fails here, in the test process, with the fix named (tests that run `qa` in a subprocess with
    the real model are marked slow by hand)."""
    if request.node.get_closest_marker("slow"):
        return

    def refuse(*args, **kwargs):
        raise AssertionError(f"{request.node.nodeid} loads the real embedding model: mark it @pytest.mark.slow")

    import qa.encoders.onnx_backend as onnx_backend
    import qa.encoders.torch_backend as torch_backend

    monkeypatch.setattr(onnx_backend.OnnxEncoder, "__init__", refuse)
    monkeypatch.setattr(torch_backend.SentenceTransformerEncoder, "__init__", refuse)


@pytest.fixture(autouse=True)
def _user_data_in_a_temporary_folder(tmp_path_factory, monkeypatch):
    """No test reads or writes the real user data directory (the collections registry, history):
    each gets its own, which the commands it runs in subprocesses inherit."""
    monkeypatch.setenv("QA_DATA_DIR", str(tmp_path_factory.mktemp("user-data")))


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


@pytest.fixture
def chat_dirs(tmp_path, monkeypatch) -> tuple[Path, Path]:
    """The chat's data and config folders, in tmp_path: a chat test never touches the user's."""
    data, config = tmp_path / "data", tmp_path / "config"
    monkeypatch.setenv("QA_DATA_DIR", str(data))
    monkeypatch.setenv("QA_CONFIG_DIR", str(config))
    return data, config


@pytest.fixture
def seed_collections(tmp_path, fake_factory):
    """A registry (qa.catalog.Catalog) of three collections over the seeds: "first" (three press
    releases) and "second" (the other two) indexed with the fake encoder, and "unbuilt", registered
    with one press release and no index yet."""
    from qa import build_index
    from qa.catalog import Catalog

    catalog = Catalog()
    for name, folder in seed_folders(tmp_path / "docs", {"first": slice(3), "second": slice(3, None), "unbuilt": slice(1)}).items():
        collection, _ = catalog.register(folder)
        if name != "unbuilt":
            build_index(collection.folder, collection.index_dir, encoder_factory=fake_factory)
    return catalog


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
