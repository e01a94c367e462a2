"""The chat's widgets: the prompt, an exchange (question and reply) and the passage cards."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, ClassVar, cast

from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import App
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widget import AwaitMount, Widget
from textual.widgets import Static, TextArea

from qa import DEFAULT_MODE, Answer, Hit
from qa.text import printable
from ui.conversations import QuestionHistory
from ui.render import (
    Palette,
    answer_text,
    card_meta,
    card_title,
    clipboard_text,
    distinct_hits,
    literal,
    passage_text,
    score_bar,
)

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

if TYPE_CHECKING:
    from ui.app import ChatApp


def chat_app(widget: Widget) -> ChatApp:
    """The app a widget runs in, typed as the chat (Posting's pattern: no import cycle at run time)."""
    return cast("ChatApp", widget.app)


class Spinner(Static):
    """A one-line status with a spinner; static (no timer) when the app does not animate."""

    def __init__(self, label: str = "", *, animate: bool = True, **kwargs) -> None:
        super().__init__("", markup=False, **kwargs)
        self._label = label
        self._frame = 0
        self._spinning = animate
        self._timer: Timer | None = None

    def on_mount(self) -> None:
        self._draw()
        if self._spinning:
            self._timer = self.set_interval(0.08, self._tick)

    def spin(self, spinning: bool) -> None:
        """Pause the animation while the spinner is hidden (no wake-ups when idle)."""
        if self._timer is not None:
            self._timer.resume() if spinning else self._timer.pause()

    def set_label(self, label: str) -> None:
        self._label = label
        self._draw()

    def _tick(self) -> None:
        self._frame = (self._frame + 1) % len(SPINNER)
        self._draw()

    def _draw(self) -> None:
        mark = SPINNER[self._frame] if self._spinning else "…"
        self.update(Text.assemble((mark, "bold"), " ", self._label))


class Prompt(TextArea):
    """The question box. Enter sends; Shift+Enter or Ctrl+J starts a new line and the box grows;
    Up/Down on the first/last line recall earlier questions, from this run and earlier ones;
    Home/End in an empty box scroll the conversation to its top / latest reply."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "recall(-1)", "Earlier question", show=False),
        Binding("down", "recall(1)", "Later question", show=False),
        Binding("home", "home", "Line start", show=False),
        Binding("end", "end", "Line end", show=False),
        Binding("tab", "app.focus_cards(1)", "Cited passages", show=False),
        Binding("shift+tab", "app.focus_cards(-1)", "Cited passages", show=False),
    ]

    class Submitted(Message):
        def __init__(self, prompt: Prompt, value: str) -> None:
            super().__init__()
            self.prompt = prompt
            self.value = value

        @property
        def control(self) -> Prompt:
            return self.prompt

    def __init__(self, history: QuestionHistory, *, placeholder: str = "", id: str | None = None) -> None:
        super().__init__(soft_wrap=True, tab_behavior="focus", placeholder=placeholder, id=id, compact=False)
        self.questions = history
        self._recall_index: int | None = None
        self._draft = ""

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
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.post_message(self.Submitted(self, self.text))
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
            chat_app(self).action_scroll_transcript_to(-1)

    def action_end(self) -> None:
        if self.text:
            self.action_cursor_line_end()
        else:
            chat_app(self).action_scroll_transcript_to(1)

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


def copy_citation(app: App, hit: Hit) -> None:
    """Copy the mouse selection when there is one, else the hit's citation and text."""
    selected = app.screen.get_selected_text()
    if selected:
        app.copy_to_clipboard(selected)
        app.notify("Copied the selected text", markup=False, timeout=2)
        return
    app.copy_to_clipboard(clipboard_text(hit))
    app.notify(f"Copied [{hit.rank}] {printable(hit.passage.doc)}", markup=False, timeout=2)


class PassageCard(Vertical, can_focus=True):
    """One cited passage: [n], title, date, section, score, and the text with the support highlighted."""

    # No letter keys: every printable character typed on a card goes to the prompt.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open"),
        Binding("ctrl+c", "copy", "Copy", id="copy"),
        Binding("up", "step(-1)", "Previous card", show=False),
        Binding("down", "step(1)", "Next card", show=False),
        Binding("escape", "app.focus_prompt", "Back to prompt", show=False),
    ]

    class Open(Message):
        """The user asked to read the card's source document."""

        def __init__(self, card: PassageCard) -> None:
            super().__init__()
            self.card = card

    class TypeAhead(Message):
        """A character typed on a card: it belongs in the prompt."""

        def __init__(self, character: str) -> None:
            super().__init__()
            self.character = character

    def __init__(self, answer: Answer, hit: Hit, palette: Palette, *, closest: bool = False, bar: bool = True) -> None:
        super().__init__(classes="card closest" if closest else "card")
        self.answer = answer
        self.hit = hit
        self.palette = palette
        self.bar = bar

    def compose(self):
        yield Static(card_meta(self.hit, self.palette), classes="card-meta")
        yield Static(passage_text(self.answer, self.hit, self.palette), classes="card-text")

    def on_mount(self) -> None:
        self._draw_border()

    def _draw_border(self) -> None:
        self.border_title = card_title(self.hit, self.palette)
        self.border_subtitle = score_bar(self.hit.score, self.palette, bar=self.bar)

    def recolor(self, palette: Palette) -> None:
        """Draw again in a new theme's colours."""
        self.palette = palette
        self.query_one(".card-meta", Static).update(card_meta(self.hit, palette))
        self.query_one(".card-text", Static).update(passage_text(self.answer, self.hit, palette))
        self._draw_border()

    def action_open(self) -> None:
        self.post_message(self.Open(self))

    def on_click(self, event: events.Click) -> None:
        if event.chain >= 2:  # a double click opens the source; a single one focuses the card
            self.action_open()

    def action_copy(self) -> None:
        copy_citation(self.app, self.hit)

    def action_step(self, step: int) -> None:
        cards = list(self.screen.query(PassageCard))
        index = cards.index(self) + step
        if 0 <= index < len(cards):
            cards[index].focus()
        elif index >= len(cards):
            chat_app(self).action_focus_prompt()

    def on_key(self, event: events.Key) -> None:
        character = event.character
        if event.is_printable and character:
            event.stop()
            event.prevent_default()
            self.post_message(self.TypeAhead(character))


class Exchange(Vertical):
    """A question and, once it comes, its reply."""

    def __init__(
        self, question: str, history: tuple[str, ...], palette: Palette, *, status: str = "Searching…",
        animate: bool = True, mode: str = DEFAULT_MODE, k: int = 5,
    ) -> None:
        super().__init__(classes="exchange")
        self.question = question
        self.history = history
        self.palette = palette
        self.answer: Answer | None = None
        self.error: str | None = None
        self.mode = mode  # the retrieval mode its search used
        self.k = k
        self.asked_at = time.time()
        self.elapsed_ms = 0.0  # from sending the question to the bot to its answer, measured by the chat
        self.revealed = False  # scrolled into view after its reply came
        self._animated = animate
        self._status_label = status
        self._reply: list[Static | PassageCard] = []  # a reply given before the widget was composed
        self._composed = False
        self._mounting: AwaitMount | None = None

    def _question_text(self) -> Text:
        return Text.assemble(("❯ ", Style(color=self.palette.accent, bold=True)), literal(self.question))

    def compose(self):
        self._composed = True
        yield Static(self._question_text(), classes="question")
        if self._reply:  # a reopened conversation: the reply is known already
            yield from self._reply
        elif self.answer is None and self.error is None:
            yield Spinner(self._status_label, animate=self._animated, classes="reply-status")

    def _show(self, widgets: list[Static | PassageCard]) -> None:
        if self._composed:
            self._clear_status()
            self._mounting = self.mount_all(widgets)
        else:
            self._reply = widgets

    async def reply_mounted(self) -> None:
        """Wait until the reply's widgets are mounted (their size is known after the next refresh)."""
        if self._mounting is not None:
            await self._mounting

    def set_status(self, label: str) -> None:
        self._status_label = label
        for spinner in self.query(Spinner):
            spinner.set_label(label)

    def _clear_status(self) -> None:
        for spinner in self.query(Spinner):
            spinner.remove()

    def show_error(self, message: str) -> None:
        self.error = message
        self._show([Static(Text(message, style=Style(color=self.palette.error)), classes="reply-error")])

    def timing_text(self) -> str:
        """What the reply took, measured here around the whole question; the search part as the bot
        measured it, or "cached" when that was under a millisecond (a repeated question)."""
        assert self.answer is not None
        count = len(self.answer.hits)
        search = f"search {self.answer.search_ms:.0f} ms" if self.answer.search_ms >= 1 else "search cached"
        took = f"{self.elapsed_ms:.0f} ms" if self.elapsed_ms >= 1 else "under 1 ms"
        return f"{count} passage{'s' if count != 1 else ''} · {self.mode} · answered in {took} ({search})"

    def show_answer(self, answer: Answer, *, show_timings: bool, mode_hint: str | None = None) -> None:
        """Show the reply (passages with the same text from the same document shown once)."""
        answer = distinct_hits(answer)
        self.answer = answer
        widgets: list[Static | PassageCard] = []
        palette = self.palette
        if answer.abstained:
            widgets.append(
                Static(
                    Text.assemble(
                        ("The documents don't say. ", Style(color=palette.warning, bold=True)),
                        "No passage answers this question.",
                    ),
                    classes="answer abstained",
                )
            )
        else:
            widgets.append(Static(answer_text(answer, palette), classes="answer"))
        if mode_hint:
            widgets.append(Static(Text(mode_hint, end=""), classes="mode-hint"))
        if show_timings:
            widgets.append(Static(Text(self.timing_text(), end=""), classes="timing"))
        if answer.hits:
            label = "Closest passages — not an answer" if answer.abstained else "Sources"
            widgets.append(Static(Text(label, end=""), classes="cards-label closest" if answer.abstained else "cards-label"))
        bars = self.mode == "dense"  # only dense scores (cosines) have a fixed scale to draw a bar against
        widgets += [PassageCard(answer, hit, palette, closest=answer.abstained, bar=bars) for hit in answer.hits]
        self._show(widgets)

    def recolor(self, palette: Palette) -> None:
        """Draw again in a new theme's colours."""
        self.palette = palette
        self.query_one(".question", Static).update(self._question_text())
        if self.answer is not None and not self.answer.abstained:
            self.query_one(".answer", Static).update(answer_text(self.answer, palette))
        for card in self.cards:
            card.recolor(palette)

    @property
    def cards(self) -> list[PassageCard]:
        return list(self.query(PassageCard))
