"""The source viewer and the help screen."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, TypeVar

from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from qa import Answer, Hit
from ui.render import (
    Palette,
    card_title,
    literal,
    question_terms,
    support_ranges,
    term_spans,
)
from ui.widgets import copy_citation

W = TypeVar("W", bound=Widget)

# (keys, what they do), by where they work, for the keys that are not in the user's keymap; the
# configurable ones (ui/keys.py) are listed from the app's live bindings, so a keys.toml shows.
FIXED_KEYS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "Anywhere",
        [
            ("Ctrl+P", "command palette: re-index, k, retrieval mode, conversations, export (to a path), theme"),
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


def titled(panel: W, title: str, subtitle: str) -> W:
    """A bordered panel of a modal screen, with its title and the keys that close it."""
    panel.border_title = title
    panel.border_subtitle = subtitle
    return panel


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


class SourceScreen(Screen[None]):
    """The whole source document, scrolled to the passage, the passage and its support highlighted."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back"),
        Binding("c,ctrl+c", "copy", "Copy"),
        Binding("p", "to_passage", "Passage"),
    ]

    def __init__(self, answer: Answer, hit: Hit, source: str, palette: Palette) -> None:
        super().__init__()
        self.answer = answer
        self.hit = hit
        self.source = source
        self.palette = palette

    def compose(self) -> ComposeResult:
        passage = self.hit.passage
        palette = self.palette
        meta = [passage.date, passage.section and f"§ {passage.section}", passage.doc, passage.page_label,
                f"characters {passage.start}–{passage.end} of {len(self.source):,}"]
        with Vertical(id="source-header"):
            yield Static(card_title(self.hit, palette), id="source-title")
            yield Static(literal(" · ".join(m for m in meta if m), style=Style(color=palette.muted)), id="source-meta")
        before, block, after = self._parts()
        with VerticalScroll(id="document"):
            for content, part_id in ((before, "doc-before"), (block, "doc-passage"), (after, "doc-after")):
                widget = Static(content, classes="doc-part", id=part_id)
                widget.display = part_id == "doc-passage" or bool(content.plain.strip())
                yield widget
        yield Footer(compact=True)

    def _parts(self) -> tuple[Text, Text, Text]:
        """The document split at the lines that hold the passage, so the passage block keeps its lines whole."""
        text = self.source
        passage = self.hit.passage
        start, end = max(0, min(passage.start, len(text))), max(0, min(passage.end, len(text)))
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", end)
        if line_end == -1:
            line_end = len(text)
        palette = self.palette
        terms = question_terms(self.answer.question)

        def part(a: int, b: int, spans=()) -> Text:
            chunk = text[a:b]
            local = [(s - a, e - a, style) for s, e, style in spans]
            local += term_spans(chunk, terms, palette.term)
            return literal(chunk, local, control_style=palette.control)

        highlights = [(start, end, Style(bgcolor=palette.passage_bg))]
        highlights += [(s, e, palette.support) for s, e in support_ranges(self.answer, self.hit)]
        before = part(0, max(0, line_start - 1)) if line_start > 0 else Text("")
        after = part(line_end + 1, len(text)) if line_end < len(text) else Text("")
        return before, part(line_start, line_end, highlights), after

    def on_mount(self) -> None:
        self.query_one("#document").focus()
        self.call_after_refresh(self.action_to_passage)

    def action_to_passage(self) -> None:
        document = self.query_one("#document", VerticalScroll)
        passage = self.query_one("#doc-passage")
        document.scroll_to(y=max(0, passage.virtual_region.y - 2), animate=False)

    def action_copy(self) -> None:
        copy_citation(self.app, self.hit)

    def action_close(self) -> None:
        self.dismiss(None)


class ConversationsScreen(ModalScreen[int | None]):
    """The kept conversations, the latest first: Enter reopens one, Delete removes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss_none", "Close"),
        Binding("delete,d", "delete", "Delete"),
    ]

    def __init__(self, conversations: list[tuple[int, str]], delete: Callable[[int], None]) -> None:
        super().__init__()
        self.conversations = conversations
        self._delete = delete

    def compose(self) -> ComposeResult:
        with titled(Vertical(id="conversations-panel"), "Conversations", "Enter opens · Del deletes · Esc closes"):
            options = [Option(literal(label), id=str(cid)) for cid, label in self.conversations]
            yield OptionList(*options, id="conversation-list")
            if not options:
                yield Static("No earlier conversations yet.", id="no-conversations")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _open(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id or 0))

    def action_delete(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is None:
            return
        option = options.get_option_at_index(options.highlighted)
        self._delete(int(option.id or 0))
        options.remove_option_at_index(options.highlighted)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
