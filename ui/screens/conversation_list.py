"""The list of kept conversations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from ui.conversations import Conversation
from ui.render import counted, literal
from ui.screens.panel import titled


def conversation_label(conversation: Conversation) -> str:
    when = datetime.fromtimestamp(conversation.updated_at).strftime("%Y-%m-%d %H:%M")
    return f"{when}  {conversation.title}  ({counted(conversation.turns, 'question')}, k {conversation.k:,}, {conversation.mode})"


class ConversationsScreen(ModalScreen[int | None]):
    """The kept conversations, the latest first: Enter reopens one, Delete removes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss_none", "Close"),
        Binding("delete,d", "delete", "Delete"),
    ]

    def __init__(self, conversations: list[Conversation], delete: Callable[[int], None]) -> None:
        super().__init__()
        self.conversations = conversations
        self._delete = delete

    def compose(self) -> ComposeResult:
        with titled(Vertical(id="conversations-panel"), "Conversations", "Enter opens · Del deletes · Esc closes"):
            options = [Option(literal(conversation_label(c)), id=str(c.id)) for c in self.conversations]
            yield OptionList(*options, id="conversation-list")
            yield Static("No earlier conversations yet.", id="no-conversations")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._show_list()

    def _show_list(self) -> None:
        """The list when there is something in it, else the sentence alone (no empty box above it)."""
        options = self.query_one(OptionList)
        options.display = options.option_count > 0
        self.query_one("#no-conversations").display = not options.display
        if options.display:
            options.focus()

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
        self._show_list()

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
