"""Why the corpus files that are not in the index were skipped."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from ui.render import literal
from ui.screens.panel import titled


class SkippedFilesScreen(ModalScreen[None]):
    """One line a skipped file, as `qa index --verbose` lists them."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close"),
    ]

    def __init__(self, corpus: str, lines: list[str]) -> None:
        super().__init__()
        self.corpus = corpus
        self.lines = lines

    def compose(self) -> ComposeResult:
        with titled(VerticalScroll(id="skipped-panel"), f"Skipped files of {self.corpus}", "Esc closes"):
            text = "\n".join(self.lines) if self.lines else "No file of the corpus was skipped."
            yield Static(literal(text), id="skipped-text")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#skipped-panel").focus()

    def action_close(self) -> None:
        self.dismiss(None)
