"""The source viewer: a cited passage in its whole document."""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.geometry import Size
from textual.screen import Screen
from textual.widgets import Footer, Static

from qa import Answer, Hit
from ui.events import SourceView
from ui.render import Palette, card_title, cited_doc, literal, question_terms, support_ranges, term_spans
from ui.widgets.passage_card import copy_citation


class SourceScreen(Screen[None]):
    """The whole source document, scrolled to the passage, the passage and its support highlighted."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back"),
        Binding("c,ctrl+c", "copy", "Copy"),
        Binding("p", "to_passage", "Passage"),
    ]

    def __init__(self, answer: Answer, hit: Hit, view: SourceView, palette: Palette, named: bool = False) -> None:
        super().__init__()
        self.answer = answer
        self.hit = hit
        self.named = named  # the citation names the passage's collection
        self.view = view
        self.source = view.text
        self.palette = palette

    def _location(self) -> str:
        """Where the passage is: the characters it spans now, and, when the document changed, where it was cited."""
        view = self.view
        cited = f"{view.cited[0]:,}–{view.cited[1]:,}"
        if view.found is None:
            return f"cited at characters {cited}; the document has changed since"
        where = f"characters {view.found[0]:,}–{view.found[1]:,} of {len(self.source):,}"
        return f"{where} (cited at {cited}; the document changed)" if view.changed else where

    def compose(self) -> ComposeResult:
        passage = self.hit.passage
        palette = self.palette
        meta = [passage.date, passage.section and f"§ {passage.section}", cited_doc(self.hit, self.named), passage.page_label,
                self._location()]
        with Vertical(id="source-header"):
            yield Static(card_title(self.hit, palette), id="source-title")
            yield Static(literal(" · ".join(m for m in meta if m), style=Style(color=palette.muted)), id="source-meta")
        before, block, after = self._parts() if self.view.found is not None else self._quote_as_it_was()
        with VerticalScroll(id="document"):
            if self.view.found is None:
                yield Static(Text(
                    "This document has changed since the answer: the quoted passage is no longer in it. "
                    "The quote as it was, then the document as it is now:", style=Style(color=palette.warning, bold=True)),
                    id="doc-changed")
            for content, part_id in ((before, "doc-before"), (block, "doc-passage"), (after, "doc-after")):
                widget = Static(content, classes="doc-part", id=part_id)
                widget.display = part_id == "doc-passage" or bool(content.plain.strip())
                yield widget
        yield Footer(compact=True)

    def _quote_as_it_was(self) -> tuple[Text, Text, Text]:
        """The passage as the answer quoted it, its support highlighted, and the document as it is now,
        without a highlight: nothing in it is the quote any more."""
        passage = self.hit.passage
        palette = self.palette
        terms = question_terms(self.answer.question)
        spans = [(0, len(passage.text), Style(bgcolor=palette.passage_bg))]
        spans += [(s - passage.start, e - passage.start, palette.support) for s, e in support_ranges(self.answer, self.hit)]
        spans += term_spans(passage.text, terms, palette.term)
        quote = literal(passage.text, spans, control_style=palette.control)
        now = literal(self.source, term_spans(self.source, terms, palette.term), control_style=palette.control)
        return Text(""), quote, now

    def _parts(self) -> tuple[Text, Text, Text]:
        """The document split at the lines that hold the passage, so the passage block keeps its lines whole."""
        text = self.source
        assert self.view.found is not None
        start, end = self.view.found
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
        highlights += [(s, e, palette.support) for s, e in self.view.support]
        before = part(0, max(0, line_start - 1)) if line_start > 0 else Text("")
        after = part(line_end + 1, len(text)) if line_end < len(text) else Text("")
        return before, part(line_start, line_end, highlights), after

    def on_mount(self) -> None:
        self.query_one("#document").focus()
        self.call_after_refresh(self.action_to_passage)
        self._passage_seen = True  # the passage is in view, as it opens
        self._seen_size: Size | None = None
        self.watch(self.query_one("#document", VerticalScroll), "scroll_y", self._scrolled, init=False)

    def _scrolled(self, _scroll_y: float) -> None:
        """Whether the passage is in view, as the reader left it (not while a resize is laid out)."""
        document = self.query_one("#document", VerticalScroll)
        if self._seen_size is not None and document.size != self._seen_size:
            return
        self._seen_size = document.size
        passage = self.query_one("#doc-passage").virtual_region
        top, bottom = document.scroll_y, document.scroll_y + document.scrollable_content_region.height
        self._passage_seen = passage.y < bottom and passage.y + passage.height > top

    def on_resize(self, event: events.Resize) -> None:
        """The lines wrap anew: a passage that was in view is brought back into view."""
        def back() -> None:
            if self._passage_seen:
                self.action_to_passage()
            self._seen_size = self.query_one("#document", VerticalScroll).size

        self.call_after_refresh(back)

    def action_to_passage(self) -> None:
        document = self.query_one("#document", VerticalScroll)
        if self.view.found is None:  # the quote as it was is at the top, under the sentence saying so
            document.scroll_home(animate=False)
            return
        passage = self.query_one("#doc-passage")
        document.scroll_to(y=max(0, passage.virtual_region.y - 2), animate=False)

    def action_copy(self) -> None:
        copy_citation(self.app, self.hit, self.named)

    def action_close(self) -> None:
        self.dismiss(None)
