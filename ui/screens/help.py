"""The help screen: every key, grouped by where it works."""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from ui.render import Palette
from ui.screens.panel import titled

# (keys, what they do), by where they work, for the keys that are not in the user's keymap; the
# configurable ones (ui/keys.py) are listed from the app's live bindings, so a keys.toml shows.
FIXED_KEYS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "Anywhere",
        [
            ("Ctrl+P", "command palette: collections, re-index, k, retrieval mode, abstain below, conversations, export (to a path), theme"),
            ("Esc", "back to the prompt / close this screen"),
        ],
    ),
    (
        "Prompt",
        [
            ("Enter", "ask the question (follow-ups use the conversation so far)"),
            ("Shift+Enter  Ctrl+J", "new line (the prompt grows)"),
            ("↑  ↓", "earlier / later questions (on the first / last line)"),
            ("Home  End", "in an empty prompt: to the first question / the latest reply"),
            ("Tab  Shift+Tab", "to the first / last cited passage of the latest reply"),
        ],
    ),
    (
        "Cited passage",
        [
            ("↑  ↓", "previous / next passage"),
            ("Tab  Shift+Tab", "next / previous passage or the prompt"),
            ("Enter  double click", "open the whole source document at the passage"),
            ("any character", "goes to the prompt: start typing a new question"),
        ],
    ),
    (
        "Source viewer",
        [
            ("↑ ↓ PgUp PgDn", "scroll the document"),
            ("p", "back to the passage"),
            ("c", "copy the citation and the passage text"),
            ("Esc  q", "back to the chat"),
        ],
    ),
    (
        "Mouse",
        [
            ("drag", "select text (in the terminal, hold Shift to use its own selection)"),
            ("Ctrl+C", "copy the selected text"),
            ("click  wheel", "focus a passage / scroll"),
        ],
    ),
]


def help_table(palette: Palette, configurable: list[tuple[str, str]], config_note: str) -> Table:
    """Every key, grouped by where it works; descriptions wrap in their own column. The configurable
    keys come first, each with its [id] for keys.toml."""
    (anywhere, fixed), *others = FIXED_KEYS
    groups = [(anywhere, configurable + fixed), *others]
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True)
    table.add_column(ratio=1)
    for index, (group, rows) in enumerate(groups):
        if index:
            table.add_row(Text(""), Text(""))
        table.add_row(Text(group, style=Style(color=palette.accent, bold=True)), Text(""))
        for keys, description in rows:
            table.add_row(Text(keys, style=Style(bold=True)), Text(description))
    table.add_row(Text(""), Text(""))
    table.add_row(Text(""), Text(config_note, style=Style(color=palette.muted), overflow="fold"))
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,f1,question_mark", "dismiss", "Close", show=True),
    ]

    def __init__(self, palette: Palette, configurable: list[tuple[str, str]], config_note: str) -> None:
        super().__init__()
        self.palette = palette
        self.configurable = configurable
        self.config_note = config_note

    def compose(self) -> ComposeResult:
        with titled(VerticalScroll(id="help-panel"), "Keys", "Esc closes"):
            yield Static(help_table(self.palette, self.configurable, self.config_note), id="help-text")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#help-panel").focus()

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
