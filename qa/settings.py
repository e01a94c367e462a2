"""Every environment variable and user directory the bot reads, in one place.

Each value is read when it is asked for, never at import, so a test or a caller that sets an
environment variable sees it take effect. Directories follow the platform's conventions through
platformdirs, under one app name for the cache, the user data and the configuration.

| Variable        | Default                                   | What it sets                         |
|-----------------|-------------------------------------------|--------------------------------------|
| QA_INDEX_DIR    | `embeddings`                              | the index directory                  |
| QA_CACHE_DIR    | the user cache dir (`~/.cache/qa`)        | exported models, benchmark indexes   |
| QA_DATA_DIR     | the user data dir (`~/.local/share/qa`)   | history, conversations, exports, the named collections and their indexes |
| QA_CONFIG_DIR   | the user config dir (`~/.config/qa`)      | the chat's key bindings              |
| QA_ENCODER      | `auto`                                    | encoder back-end: auto, onnx, torch  |
| QA_MILVUS_TOKEN | none                                      | the token for a Milvus server        |
| QA_ABSTAIN_BELOW | the fitted threshold (qa/fitted.json)    | the bot says "the documents don't answer" below this confidence |
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "qa"
DEFAULT_INDEX_DIR = Path("embeddings")
DEFAULT_CORPUS_DIR = Path("seeds")


def _path_from_env(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else None


def index_dir() -> Path:
    """The index directory when none is given: $QA_INDEX_DIR, else `embeddings/`."""
    return _path_from_env("QA_INDEX_DIR") or DEFAULT_INDEX_DIR


def cache_dir() -> Path:
    """Where derived, re-creatable files go (exported models, benchmark indexes)."""
    from platformdirs import user_cache_dir

    return _path_from_env("QA_CACHE_DIR") or Path(user_cache_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    """Where the user's own records go (question history, conversations, exports)."""
    from platformdirs import user_data_dir

    return _path_from_env("QA_DATA_DIR") or Path(user_data_dir(APP_NAME, appauthor=False))


def collections_file() -> Path:
    """The registry of named collections (qa.collections): a JSON file in the user data directory."""
    return data_dir() / "collections.json"


def collections_dir() -> Path:
    """Where the indexes of named collections go when `qa index` is given no --index-dir."""
    return data_dir() / "collections"


def index_dir_from_env() -> Path | None:
    """$QA_INDEX_DIR when it is set: the one index every command reads, as before named collections."""
    return _path_from_env("QA_INDEX_DIR")


def config_dir() -> Path:
    """Where the user's configuration files are read from."""
    from platformdirs import user_config_dir

    return _path_from_env("QA_CONFIG_DIR") or Path(user_config_dir(APP_NAME, appauthor=False))


def encoder_backend() -> str:
    """The encoder back-end asked for: "auto" (default), "onnx" or "torch"."""
    return (os.environ.get("QA_ENCODER") or "auto").strip().lower()


def abstain_below() -> float | None:
    """The confidence (0 to 1) below which the bot abstains, when $QA_ABSTAIN_BELOW sets one."""
    value = os.environ.get("QA_ABSTAIN_BELOW")
    if value is None or not value.strip():
        return None
    return probability(value, "QA_ABSTAIN_BELOW")


def probability(value: str, name: str) -> float:
    """A threshold between 0 and 1 given as text; a QAError naming the setting otherwise."""
    from qa.errors import QAError

    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not 0.0 <= number <= 1.0:
        raise QAError(f"{name} must be a number from 0 to 1 (the confidence below which the bot abstains), not {value!r}")
    return number


def milvus_token() -> str | None:
    """The token sent to a Milvus server, if one is set."""
    return os.environ.get("QA_MILVUS_TOKEN") or None
