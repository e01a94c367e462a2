"""One question of the conversation and its reply."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import AwaitMount
from textual.widgets import Static

from qa import DEFAULT_MODE, Answer
from ui.render import Palette, answer_text, counted, literal
from ui.widgets.passage_card import PassageCard
from ui.widgets.spinner import Spinner


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
        self.elapsed_ms = 0.0  # from sending the question to the bot to its answer, measured by the session
        self.revealed = False  # scrolled into view after its reply came
        self._animated = animate
        self._status_label = status
        self._reply: list[Static | PassageCard] = []  # a reply given before the widget was composed
        self._composed = False
        self._mounting: AwaitMount | None = None

    def _question_text(self) -> Text:
        return Text.assemble(("❯ ", Style(color=self.palette.accent, bold=True)), literal(self.question))

    def compose(self) -> ComposeResult:
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
        """What the reply took, measured around the whole question; the search part as the bot
        measured it, or "cached" when that was under a millisecond (a repeated question). The bot's
        confidence that the documents answer comes before it, when it had a sentence to weigh."""
        assert self.answer is not None
        search = f"search {self.answer.search_ms:,.0f} ms" if self.answer.search_ms >= 1 else "search cached"
        took = f"{self.elapsed_ms:,.0f} ms" if self.elapsed_ms >= 1 else "under 1 ms"
        confidence = f"confidence {self.answer.confidence:.2f} · " if self.answer.confidence is not None else ""
        return f"{counted(len(self.answer.hits), 'passage')} · {self.mode} · {confidence}answered in {took} ({search})"

    def show_answer(self, answer: Answer, *, show_timings: bool, mode_hint: str | None = None, named: bool = False) -> None:
        """Show the reply; named: the cards' citations name their collection."""
        self.answer = answer
        widgets: list[Static | PassageCard] = []
        palette = self.palette
        if answer.abstained:
            widgets.append(
                Static(
                    Text(answer.text, style=Style(color=palette.warning, bold=True)),  # the library's wording, as qa ask
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
        widgets += [PassageCard(answer, hit, palette, closest=answer.abstained, bar=bars, named=named) for hit in answer.hits]
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
