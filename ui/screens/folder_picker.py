"""Pick the folder of documents to index, when the chat has no index and no folder to build it from."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree, Footer, Input, Static

from ui.render import literal
from ui.screens.panel import titled


class FolderScreen(ModalScreen[Path | None]):
    """A path to type (Enter indexes it) and the folders under it to browse (Enter on one takes it)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, why: str, start: Path) -> None:
        super().__init__()
        self.why = why
        self.start = start

    def compose(self) -> ComposeResult:
        with titled(Vertical(id="folder-panel"), "Index a folder of documents", "Enter indexes the folder · Esc cancels"):
            yield Static(literal(self.why), id="folder-why")
            yield Input(str(self.start), placeholder="a folder of .txt, .md, .html, .pdf, .docx files", id="folder-path")
            yield Static("", id="folder-problem")
            yield DirectoryTree(self.start, id="folder-tree")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#folder-problem").display = False
        self.query_one(Input).focus()

    @on(DirectoryTree.DirectorySelected)
    def _browsed(self, event: DirectoryTree.DirectorySelected) -> None:
        """A folder chosen in the tree goes into the path, to check and confirm with Enter."""
        path_input = self.query_one(Input)
        path_input.value = str(event.path)
        path_input.focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        path = Path(event.value.strip()).expanduser()
        if not path.is_dir():
            problem = self.query_one("#folder-problem", Static)
            problem.update(literal(f"{event.value.strip() or '(nothing typed)'} is not a folder"))
            problem.display = True
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)
