"""A cited passage of a reply."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Static

from qa import Answer, Hit
from qa.text import printable
from ui.messages import FocusPrompt, OpenSource, PromptKey, TypeAhead
from ui.render import Palette, card_meta, card_title, clipboard_text, passage_text, score_bar


def copy_citation(app: App, hit: Hit, named: bool = False) -> None:
    """Copy the mouse selection when there is one, else the hit's citation (naming its collection
    when named) and text."""
    selected = app.screen.get_selected_text()
    if selected:
        app.copy_to_clipboard(selected)
        app.notify("Copied the selected text", markup=False, timeout=2)
        return
    app.copy_to_clipboard(clipboard_text(hit, named))
    app.notify(f"Copied [{hit.rank}] {printable(hit.passage.doc)}", markup=False, timeout=2)


class PassageCard(Vertical, can_focus=True):
    """One cited passage: [n], title, date, section, score, and the text with the support highlighted."""

    # No letter keys: every printable character typed on a card goes to the prompt.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open"),
        Binding("ctrl+c", "copy", "Copy", id="copy"),
        Binding("up", "step(-1)", "Previous card", show=False),
        Binding("down", "step(1)", "Next card", show=False),
        Binding("escape", "to_prompt", "Back to prompt", show=False),
    ]

    def __init__(self, answer: Answer, hit: Hit, palette: Palette, *, closest: bool = False, bar: bool = True,
                 named: bool = False) -> None:
        super().__init__(classes="card closest" if closest else "card")
        self.answer = answer
        self.hit = hit
        self.palette = palette
        self.bar = bar
        self.named = named  # the citation names the passage's collection (several are asked)
        # A character typed here went to the prompt; keys of the same burst that still reach this card
        # before the prompt has the focus (Enter, Backspace) are the prompt's too.
        self._typing = False

    def compose(self) -> ComposeResult:
        yield Static(card_meta(self.hit, self.palette, self.named), classes="card-meta")
        yield Static(passage_text(self.answer, self.hit, self.palette), classes="card-text")

    def on_mount(self) -> None:
        self._draw_border()

    def _draw_border(self) -> None:
        self.border_title = card_title(self.hit, self.palette)
        self.border_subtitle = score_bar(self.hit.score, self.palette, bar=self.bar)

    def recolor(self, palette: Palette) -> None:
        """Draw again in a new theme's colours."""
        self.palette = palette
        self.query_one(".card-meta", Static).update(card_meta(self.hit, palette, self.named))
        self.query_one(".card-text", Static).update(passage_text(self.answer, self.hit, palette))
        self._draw_border()

    def action_open(self) -> None:
        self.post_message(OpenSource(self.answer, self.hit))

    def on_click(self, event: events.Click) -> None:
        if event.chain >= 2:  # a double click opens the source; a single one focuses the card
            self.action_open()

    def action_copy(self) -> None:
        copy_citation(self.app, self.hit, self.named)

    def action_to_prompt(self) -> None:
        self.post_message(FocusPrompt())

    def action_step(self, step: int) -> None:
        cards = list(self.screen.query(PassageCard))
        index = cards.index(self) + step
        if 0 <= index < len(cards):
            cards[index].focus()
        elif index >= len(cards):
            self.post_message(FocusPrompt())

    def on_focus(self) -> None:
        self._typing = False

    def on_key(self, event: events.Key) -> None:
        character = event.character
        if event.is_printable and character:
            event.stop()
            event.prevent_default()
            self._typing = True
            self.post_message(TypeAhead(character))
        elif self._typing and event.key in ("enter", "backspace"):
            event.stop()
            event.prevent_default()
            self.post_message(PromptKey(event.key))

    def on_paste(self, event: events.Paste) -> None:
        """A paste on a card is text for the prompt, as typing is."""
        event.stop()
        event.prevent_default()
        self._typing = True
        self.post_message(TypeAhead(event.text))
