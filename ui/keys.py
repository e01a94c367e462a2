"""Key bindings the user can change, from `keys.toml` in the user config directory (as Posting and
Harlequin do). Each configurable binding has an id; the file maps ids to Textual key names:

    [keys]
    quit = "ctrl+q"
    help = "f1,f2"
    export = "ctrl+e"

The ids and their defaults are listed by the help screen (F1) and in `KEY_IDS` below. Every key of
the file is checked before it is used: a key name Textual does not know, a key a terminal cannot
send, a key the chat itself needs or one that another id has is refused with one line saying why,
and that id keeps its default key.
"""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import cache
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

DEFAULT_KEYS: dict[str, str] = {
    "quit": "ctrl+q",
    "help": "f1",
    "reindex": "ctrl+r",
    "clear": "ctrl+l",
    "undo": "ctrl+z",
    "new": "ctrl+n",
    "conversations": "ctrl+o",
    "export": "ctrl+s",
    "scroll-up": "pageup",
    "scroll-down": "pagedown",
    "scroll-top": "ctrl+home",
    "scroll-latest": "ctrl+end",
    "copy": "ctrl+c",
}

# The chat's own keys, which keys.toml cannot take: what each does.
BUILT_IN: dict[str, str] = {
    "ctrl+p": "opens the command palette",
    "escape": "goes back to the prompt and closes screens",
    "enter": "asks the question and opens a passage",
    "tab": "moves between the prompt and the cited passages",
    "shift+tab": "moves between the prompt and the cited passages",
    "up": "recalls earlier questions and steps through the passages",
    "down": "recalls later questions and steps through the passages",
    "left": "moves the prompt's cursor",
    "right": "moves the prompt's cursor",
    "home": "moves the prompt's cursor or scrolls to the first question",
    "end": "moves the prompt's cursor or scrolls to the latest reply",
    "backspace": "deletes in the prompt",
    "delete": "deletes in the prompt",
    "ctrl+j": "starts a new line in the prompt",
    "shift+enter": "starts a new line in the prompt",
}

# Keys a terminal sends as the same bytes as another key: a binding to them never fires.
SENT_AS: dict[str, str] = {
    "ctrl+h": "Backspace",
    "ctrl+i": "Tab",
    "ctrl+m": "Enter",
    "ctrl+left_square_bracket": "Esc",
}

MODIFIERS = ("ctrl", "alt", "shift", "super", "hyper", "meta")
_PLAIN = {"home", "end", "up", "down", "left", "right", "tab", "enter", "insert"}  # shown as their names
_SHOWN = {"question_mark": "?", "pageup": "PgUp", "pagedown": "PgDn", "escape": "Esc", "delete": "Del",
          "backspace": "Backspace", "space": "Space"}


class KeyRefused(ValueError):
    """Why a key from keys.toml cannot be used."""


# Textual is imported when a key is checked, not with this module: the chat's session (no Textual)
# names the keys bound in its messages.
@cache
def _textual_keys() -> frozenset[str]:
    """Every key Textual names, with modifiers ("ctrl+a", "f1", "pageup")."""
    from textual.keys import Keys

    return frozenset({key.value for key in Keys} | {"ctrl+at", "ctrl+space"})  # Ctrl+Space arrives as Ctrl+@


@cache
def _named() -> frozenset[str]:
    """Textual's names of the keys that are not characters (f1, pageup, home…)."""
    bases = {key.rsplit("+", 1)[-1] for key in _textual_keys()}
    return frozenset(base for base in bases if len(base) > 1 and not base.startswith("<")) - {"ctrl-at", "return", "at"}


def _character(name: str) -> str | None:
    """The character a key name stands for: "a" for "a", "?" for "question_mark"; None for other names."""
    if len(name) == 1:
        return name
    from textual.keys import REPLACED_KEYS, key_to_character

    return key_to_character(REPLACED_KEYS.get(name, name))


def _normalized(key: str) -> str:
    """A key as Textual names it ("Ctrl+E" -> "ctrl+e", "?" -> "question_mark"); raises KeyRefused when it names no key."""
    parts = key.strip().split("+")
    *modifiers, base = [part.strip() for part in parts]
    modifiers = [m.lower() for m in modifiers]
    if not base or any(m not in MODIFIERS for m in modifiers) or len(set(modifiers)) != len(modifiers):
        raise KeyRefused(f'"{key.strip()}" is not a key name (e.g. "ctrl+e", "f2", "pageup")')
    if len(base) == 1:
        character = base
    elif base.lower() in _named() or base.lower() == "space":
        return "+".join([*modifiers, base.lower()])
    else:
        character = _character(base.lower()) or ""
    # A key is a character a keyboard types (ASCII), or one of Textual's named keys: "banana" names 🍌.
    if len(character) != 1 or not character.isascii() or not character.isprintable():
        raise KeyRefused(f'"{key.strip()}" is not a key name (e.g. "ctrl+e", "f2", "pageup")')
    if character.isalnum():
        name = character.lower() if modifiers else character
    else:
        name = unicodedata.name(character).lower().replace("-", "_").replace(" ", "_") if character != " " else "space"
        name = {"hyphen_minus": "minus", "plus_sign": "plus", "low_line": "underscore", "solidus": "slash",
                "reverse_solidus": "backslash", "commercial_at": "at"}.get(name, name)
    return "+".join([*modifiers, name])


def _refusal(key: str) -> str | None:
    """Why a (normalized) key cannot be bound by keys.toml, or None."""
    *modifiers, base = key.split("+")
    if key in SENT_AS:
        return f'a terminal sends {key_label(key)} as {SENT_AS[key]}, so it never arrives'
    if "ctrl" in modifiers and "shift" in modifiers and len(base) == 1:
        return f"most terminals send {key_label(key)} as {key_label('ctrl+' + base)}"
    character = _character(base)
    if modifiers == ["ctrl"] and character is not None and key not in _textual_keys() or "ctrl" in modifiers and base.isdigit():
        return f"most terminals cannot send {key_label(key)}"
    if character is not None and len(character) == 1 and not {"ctrl", "alt", "super", "hyper", "meta"} & set(modifiers):
        if "shift" in modifiers:
            return f"{key_label(key)} arrives as the character it types"
        return f"{key_label(key)} types a character in the prompt"
    if key in BUILT_IN:
        return f"{key_label(key)} is the chat's own key: it {BUILT_IN[key]}"
    return None


@dataclass(frozen=True)
class KeyConfig:
    keymap: dict[str, str] = field(default_factory=dict)  # id: its keys, for the ids keys.toml changed
    problems: tuple[str, ...] = ()
    path: Path | None = None

    def keys(self, key_id: str) -> str:
        """The keys bound to an id now, comma-separated."""
        return self.keymap.get(key_id, DEFAULT_KEYS[key_id])

    def label(self, key_id: str) -> str:
        """The first key bound to an id, as messages name it: "Ctrl+Z"."""
        return key_label(self.keys(key_id).split(",")[0])


def load_keys(directory: Path) -> KeyConfig:
    """The user's keymap; a missing file is no keymap, a broken one or a refused key a one-line problem each."""
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
    problems: list[str] = []
    wanted: dict[str, list[str]] = {}  # id: its keys, each a key name a terminal can send and the chat lets go
    shown: dict[str, str] = {}  # id: the value as the file gives it
    for key_id, keys in table.items():
        if key_id not in KEY_IDS:
            problems.append(f"{path.name}: unknown key id {key_id!r}; known ids: {', '.join(KEY_IDS)}")
            continue
        if not isinstance(keys, str) or not keys.strip():
            problems.append(f"{path.name}: {key_id} must be a string of key names, e.g. {key_id} = \"ctrl+e\"; "
                            f"{key_id} stays {key_label(DEFAULT_KEYS[key_id])}")
            continue
        shown[key_id] = keys
        try:
            normalized = [_normalized(key) for key in keys.split(",") if key.strip()]
            for key in normalized:
                reason = _refusal(key)
                if reason:
                    raise KeyRefused(reason)
        except KeyRefused as error:
            problems.append(f"{path.name}: {key_id} = \"{keys}\": {error}; {key_id} stays {key_label(DEFAULT_KEYS[key_id])}")
            continue
        wanted[key_id] = list(dict.fromkeys(normalized))
    keymap = _without_collisions(wanted, shown, path, problems)
    return KeyConfig(keymap, tuple(problems), path)


def _without_collisions(wanted: dict[str, list[str]], shown: dict[str, str], path: Path, problems: list[str]) -> dict[str, str]:
    """The ids whose keys no other id has, in the file's order; a refused id keeps its default keys,
    which may in turn take a key from an id accepted before it, so this runs until nothing changes."""
    accepted = dict(wanted)
    while True:
        refused: dict[str, str] = {}
        owner: dict[str, str] = {}
        for key_id, default in DEFAULT_KEYS.items():
            if key_id not in accepted:
                for key in default.split(","):
                    owner[key] = key_id
        for key_id, wanted_keys in accepted.items():
            taken = next((key for key in wanted_keys if key in owner), None)
            if taken is not None:
                refused[key_id] = f"{key_label(taken)} is already the key of {owner[taken]}"
                continue
            for key in wanted_keys:
                owner[key] = key_id
        if not refused:
            return {key_id: ",".join(keys) for key_id, keys in accepted.items()}
        for key_id, reason in refused.items():
            del accepted[key_id]
            problems.append(f"{path.name}: {key_id} = \"{shown[key_id]}\": {reason}; "
                            f"{key_id} stays {key_label(DEFAULT_KEYS[key_id])}")


def key_label(keys: str) -> str:
    """Textual key names as the help shows them: "ctrl+home,f1" -> "Ctrl+Home  F1"."""
    def one(key: str) -> str:
        parts = key.strip().split("+")
        *modifiers, base = parts
        if base in _SHOWN:
            shown = _SHOWN[base]
        elif len(base) == 1 or base[:1] == "f" and base[1:].isdigit():
            shown = base.upper()
        elif base in _PLAIN:
            shown = base.capitalize()
        else:  # a character's name: "plus" is +
            character = _character(base)
            shown = character if character is not None and len(character) == 1 and character.isascii() else base.capitalize()
        return "+".join([*(m.capitalize() for m in modifiers), shown])

    return "  ".join(one(key) for key in keys.split(",") if key.strip())
