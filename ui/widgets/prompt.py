"""The question box."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import TextArea

from ui.conversations import QuestionHistory
from ui.messages import FocusCards, QuestionSubmitted, ScrollTranscript


class Prompt(TextArea):
    """The question box. Enter sends; Shift+Enter or Ctrl+J starts a new line and the box grows;
    Up/Down on the first/last line recall earlier questions, from this run and earlier ones;
    Home/End in an empty box scroll the conversation to its top / latest reply."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "recall(-1)", "Earlier question", show=False),
        Binding("down", "recall(1)", "Later question", show=False),
        Binding("home", "home", "Line start", show=False),
        Binding("end", "end", "Line end", show=False),
        Binding("tab", "to_cards(1)", "Cited passages", show=False),
        Binding("shift+tab", "to_cards(-1)", "Cited passages", show=False),
    ]

    def __init__(self, history: QuestionHistory, *, placeholder: str = "", id: str | None = None,
                 limit: int | None = None) -> None:
        super().__init__(soft_wrap=True, tab_behavior="focus", placeholder=placeholder, id=id, compact=False)
        self.questions = history
        self.limit = limit  # the longest question the library takes, in characters
        self._recall_index: int | None = None
        self._draft = ""
        self._painted_at: float | None = None  # on the clock that stamps key events

    def on_mount(self) -> None:
        self.call_after_refresh(self._painted)

    def _painted(self) -> None:
        self._painted_at = Message().time

    def _typed_before_paint(self, event: events.Key) -> bool:
        """Keys typed before the chat painted reached a terminal still in line mode, which turns Enter
        into a line feed: that Ctrl+J is the Enter it was typed as."""
        return self._painted_at is None or event.time < self._painted_at

    def _on_text_area_changed(self, event: TextArea.Changed) -> None:
        """Near the limit, the border counts the characters, so a long question is shortened before it is sent."""
        if self.limit is None:
            return
        length = len(self.text.strip())
        too_long = length > self.limit
        self.set_class(too_long, "-too-long")
        if too_long:
            self.border_subtitle = f"{length:,} / {self.limit:,} characters: too long"
        elif length >= self.limit * 0.8:
            self.border_subtitle = f"{length:,} / {self.limit:,} characters"
        else:
            self.border_subtitle = None

    @property
    def value(self) -> str:
        return self.text

    @value.setter
    def value(self, text: str) -> None:
        self.load_text(text)
        self.move_cursor(self.document.end)

    def insert_text_at_cursor(self, text: str) -> None:
        self.insert(text)

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter" or event.key == "ctrl+j" and self._typed_before_paint(event):
            event.stop()
            event.prevent_default()
            self.post_message(QuestionSubmitted(self.text))
            return
        if event.key in ("shift+enter", "ctrl+j"):
            event.stop()
            event.prevent_default()
            self.insert("\n")
            return
        await super()._on_key(event)

    def action_home(self) -> None:
        if self.text:
            self.action_cursor_line_start()
        else:
            self.post_message(ScrollTranscript(-1))

    def action_end(self) -> None:
        if self.text:
            self.action_cursor_line_end()
        else:
            self.post_message(ScrollTranscript(1))

    def action_to_cards(self, direction: int) -> None:
        self.post_message(FocusCards(direction))

    def action_recall(self, step: int) -> None:
        if (step < 0 and not self.cursor_at_first_line) or (step > 0 and not self.cursor_at_last_line):
            self.action_cursor_up() if step < 0 else self.action_cursor_down()
            return
        entries = self.questions.entries
        if not entries:
            return
        if self._recall_index is None:
            if step > 0:
                return
            self._draft = self.text
            index = len(entries) - 1
        else:
            index = self._recall_index + step
        if index < 0:
            self.app.bell()
            return
        if index >= len(entries):
            self._recall_index = None
            self.value = self._draft
            return
        self._recall_index = index
        self.value = entries[index]

    def forget_recall(self) -> None:
        self._recall_index = None
        self._draft = ""
