"""Where the chat keeps its files: one app name ("qa") for data and config, as the cache uses.

Environment overrides are read when a path is asked for, never at import.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "qa"
DATA_DIR_ENV = "QA_DATA_DIR"
CONFIG_DIR_ENV = "QA_CONFIG_DIR"


def data_dir() -> Path:
    """$QA_DATA_DIR, else the platform's user data directory (e.g. ~/.local/share/qa)."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    """$QA_CONFIG_DIR, else the platform's user config directory (e.g. ~/.config/qa)."""
    override = os.environ.get(CONFIG_DIR_ENV)
    if override:
        return Path(override).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME, appauthor=False))
