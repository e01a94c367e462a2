"""The chat's widgets: the prompt, an exchange (question and reply) and the passage cards."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Static

from qa import Answer, Hit
from ui.render import (
    Palette,
    answer_text,
    card_meta,
    card_title,
    clipboard_text,
    literal,
    passage_text,
    score_bar,
)
from ui.store import QuestionHistory

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class Spinner(Static):
    """A one-line status with a spinner; static (no timer) when the app does not animate."""

    def __init__(self, label: str = "", *, animate: bool = True, **kwargs) -> None:
        super().__init__("", markup=False, **kwargs)
        self._label = label
        self._frame = 0
        self._animate = animate
        self._timer: Timer | None = None

    def on_mount(self) -> None:
        self._draw()
        if self._animate:
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
        mark = SPINNER[self._frame] if self._animate else "…"
        self.update(Text.assemble((mark, "bold"), " ", self._label))


class Prompt(Input):
    """The question box: Enter sends; Up/Down recall earlier questions, from this run and earlier ones."""

    BINDINGS = [
        Binding("up", "recall(-1)", "Earlier question", show=False),
        Binding("down", "recall(1)", "Later question", show=False),
        Binding("tab", "app.focus_cards(1)", "Cited passages", show=False),
        Binding("shift+tab", "app.focus_cards(-1)", "Cited passages", show=False),
    ]

    def __init__(self, history: QuestionHistory, **kwargs) -> None:
        super().__init__(**kwargs)
        self.history = history
        self._recall_index: int | None = None
        self._draft = ""

    def action_recall(self, step: int) -> None:
        entries = self.history.entries
        if not entries:
            return
        if self._recall_index is None:
            if step > 0:
                return
            self._draft = self.value
            index = len(entries) - 1
        else:
            index = self._recall_index + step
        if index < 0:
            self.app.bell()
            return
        if index >= len(entries):
            self._recall_index = None
            self._show(self._draft)
            return
        self._recall_index = index
        self._show(entries[index])

    def forget_recall(self) -> None:
        self._recall_index = None
        self._draft = ""

    def _show(self, value: str) -> None:
        self.value = value
        self.cursor_position = len(value)


class PassageCard(Vertical, can_focus=True):
    """One cited passage: [n], title, date, section, score, and the text with the support highlighted."""

    BINDINGS = [
        Binding("enter", "open", "Open source"),
        Binding("c", "copy", "Copy"),
        Binding("up,k", "step(-1)", "Previous card", show=False),
        Binding("down,j", "step(1)", "Next card", show=False),
        Binding("escape", "app.focus_prompt", "Back to prompt", show=False),
    ]
    _BOUND_CHARACTERS = frozenset("cjk?")

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

    def __init__(self, answer: Answer, hit: Hit, palette: Palette, *, closest: bool = False, scale: float = 1.0) -> None:
        super().__init__(classes="card closest" if closest else "card")
        self.answer = answer
        self.hit = hit
        self.palette = palette
        self.scale = scale

    def compose(self):
        yield Static(card_meta(self.hit, self.palette), classes="card-meta")
        yield Static(passage_text(self.answer, self.hit, self.palette), classes="card-text")

    def on_mount(self) -> None:
        self._draw_border()

    def _draw_border(self) -> None:
        self.border_title = card_title(self.hit, self.palette)
        self.border_subtitle = score_bar(self.hit.score, self.palette, scale=self.scale)

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
        self.app.copy_to_clipboard(clipboard_text(self.hit))
        self.app.notify(f"Copied [{self.hit.rank}] {self.hit.passage.doc} to the clipboard", markup=False, timeout=3)

    def action_step(self, step: int) -> None:
        cards = list(self.screen.query(PassageCard))
        index = cards.index(self) + step
        if 0 <= index < len(cards):
            cards[index].focus()
        elif index >= len(cards):
            self.app.action_focus_prompt()

    def on_key(self, event: events.Key) -> None:
        character = event.character
        if event.is_printable and character and character not in self._BOUND_CHARACTERS:
            event.stop()
            event.prevent_default()
            self.post_message(self.TypeAhead(character))


class Exchange(Vertical):
    """A question and, once it comes, its reply."""

    def __init__(
        self, question: str, history: tuple[str, ...], palette: Palette, *, status: str = "Searching…", animate: bool = True
    ) -> None:
        super().__init__(classes="exchange")
        self.question = question
        self.history = history
        self.palette = palette
        self.answer: Answer | None = None
        self.error: str | None = None
        self.mode = "dense"  # the retrieval mode its search used
        self.revealed = False  # scrolled into view after its reply came
        self._animate = animate
        self._status_label = status

    def _question_text(self) -> Text:
        return Text.assemble(("❯ ", Style(color=self.palette.accent, bold=True)), literal(self.question))

    def compose(self):
        yield Static(self._question_text(), classes="question")
        yield Spinner(self._status_label, animate=self._animate, classes="reply-status")

    def set_status(self, label: str) -> None:
        self._status_label = label
        for spinner in self.query(Spinner):
            spinner.set_label(label)

    def _clear_status(self) -> None:
        for spinner in self.query(Spinner):
            spinner.remove()

    def show_error(self, message: str) -> None:
        self.error = message
        self._clear_status()
        self.mount(Static(Text(message, style=Style(color=self.palette.error)), classes="reply-error"))

    def show_answer(self, answer: Answer, *, show_timings: bool, cosine_scores: bool = True) -> None:
        """Show the reply; `cosine_scores` is False for modes whose scores have no fixed scale (bars then
        compare the passages with the top one)."""
        self.answer = answer
        self._clear_status()
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
        if show_timings:
            count = len(answer.hits)
            widgets.append(
                Static(
                    Text(f"{count} passage{'s' if count != 1 else ''}{'' if self.mode == 'dense' else f' · {self.mode}'}"
                         f" · searched in {answer.search_ms:.0f} ms", end=""),
                    classes="timing",
                )
            )
        if answer.hits:
            label = "Closest passages — not an answer" if answer.abstained else "Sources"
            widgets.append(Static(Text(label, end=""), classes="cards-label closest" if answer.abstained else "cards-label"))
        top = max((hit.score for hit in answer.hits), default=1.0)
        scale = 1.0 if cosine_scores else top
        widgets += [PassageCard(answer, hit, palette, closest=answer.abstained, scale=scale) for hit in answer.hits]
        self.mount_all(widgets)

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
