"""Key bindings the user can change, from `keys.toml` in the user config directory (as Posting and
Harlequin do). Each configurable binding has an id; the file maps ids to Textual key names:

    [keys]
    quit = "ctrl+q"
    help = "f1,question_mark"
    export = "ctrl+e"

The ids and their defaults are listed by the help screen (F1) and in `KEY_IDS` below.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

KEYS_FILE = "keys.toml"

# id: what it does (the help screen and the error message for an unknown id use these)
KEY_IDS: dict[str, str] = {
    "quit": "quit",
    "help": "this help",
    "reindex": "re-index the corpus (builds the index when there is none)",
    "clear": "clear the conversation (undo with the undo key)",
    "undo": "bring back the conversation just cleared",
    "new": "start a new conversation (the current one is kept)",
    "conversations": "earlier conversations: reopen or delete",
    "export": "export the conversation as Markdown to the data directory",
    "scroll-up": "scroll the conversation up a page",
    "scroll-down": "scroll the conversation down a page",
    "scroll-top": "to the first question",
    "scroll-latest": "to the latest reply",
    "copy": "copy the citation and passage text (on a cited passage or in the source viewer)",
}


@dataclass(frozen=True)
class KeyConfig:
    keymap: dict[str, str] = field(default_factory=dict)
    problems: tuple[str, ...] = ()
    path: Path | None = None


def load_keys(directory: Path) -> KeyConfig:
    """The user's keymap; a missing file is no keymap, a broken one is a one-line problem each."""
    path = Path(directory) / KEYS_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return KeyConfig(path=path)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        return KeyConfig(problems=(f"{path}: not read ({error}); using the default keys",), path=path)
    table = data.get("keys", {})
    if not isinstance(table, dict):
        return KeyConfig(problems=(f"{path}: [keys] must be a table of id = \"key\"; using the default keys",), path=path)
    keymap: dict[str, str] = {}
    problems: list[str] = []
    for key_id, keys in table.items():
        if key_id not in KEY_IDS:
            problems.append(f"{path}: unknown key id {key_id!r}; known ids: {', '.join(KEY_IDS)}")
        elif not isinstance(keys, str) or not keys.strip():
            problems.append(f"{path}: {key_id} must be a string of key names, e.g. \"ctrl+e\"")
        else:
            keymap[key_id] = ",".join(part.strip() for part in keys.split(",") if part.strip())
    return KeyConfig(keymap, tuple(problems), path)


_KEY_NAMES = {"question_mark": "?", "pageup": "PgUp", "pagedown": "PgDn", "escape": "Esc", "delete": "Del"}


def key_label(keys: str) -> str:
    """Textual key names as the help shows them: "ctrl+home,f1" -> "Ctrl+Home  F1"."""
    def one(key: str) -> str:
        parts = key.strip().split("+")
        return "+".join(_KEY_NAMES.get(part, part.upper() if len(part) == 1 or part[:1] == "f" and part[1:].isdigit()
                                       else part.capitalize()) for part in parts)

    return "  ".join(one(key) for key in keys.split(",") if key.strip())
