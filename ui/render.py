"""Rich `Text` builders for the chat: literal document text, highlights, score bars, Markdown export.

Everything a document or a user wrote goes through `literal()`: it becomes a `Text` built from the
characters themselves (never parsed as markup) with control characters (ANSI escapes among them)
shown as visible `\\x1b` text rather than obeyed.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from rich.style import Style
from rich.text import Text

from qa import Answer, Hit
from qa.text import (
    CONTROL as _CONTROL,  # the characters qa.text.printable() shows as escapes
)
from qa.text import printable, question_terms
from qa.text import term_spans as qa_term_spans
from ui.conversations import Turn


@dataclass(frozen=True)
class Palette:
    """Concrete colours (rich styles need them) taken from the app's current theme."""

    accent: str = "#FEA62B"
    citation: str = "#FFC473"
    muted: str = "#8A8A8A"
    support_bg: str = "#593E19"
    passage_bg: str = "#1B2A38"
    warning: str = "#FEA62B"
    error: str = "#B93C5B"
    bar: str = "#0178D4"
    bar_empty: str = "#303030"

    @property
    def term(self) -> Style:
        return Style(bold=True, underline=True)

    @property
    def support(self) -> Style:
        return Style(bgcolor=self.support_bg)

    @property
    def control(self) -> Style:
        return Style(color=self.muted, italic=True)


def palette_from_variables(variables: dict[str, str]) -> Palette:
    """A palette from `App.get_css_variables()`; colours with alpha are blended onto the background."""
    from textual.color import Color

    default = Palette()

    def solid(name: str, fallback: str) -> str:
        try:
            background = Color.parse(variables.get("background", "#121212"))
            return (background + Color.parse(variables[name])).hex6
        except Exception:  # a variable missing or not a colour ("auto 60%")
            return fallback

    return Palette(
        accent=solid("accent", default.accent),
        citation=solid("text-accent", default.citation),
        muted=solid("foreground-muted", default.muted),
        support_bg=solid("warning-muted", default.support_bg),
        passage_bg=solid("primary-muted", default.passage_bg),
        warning=solid("text-warning", default.warning),
        error=solid("error", default.error),
        bar=solid("primary", default.bar),
        bar_empty=solid("panel", default.bar_empty),
    )


def counted(count: int, noun: str) -> str:
    """"1 passage", "2,647 passages": every count the chat shows has thousands separators."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


# --- literal text -------------------------------------------------------------------------------

Span = tuple[int, int, Style]


def literal(text: str, spans: Iterable[Span] = (), style: Style | str = "", control_style: Style | None = None) -> Text:
    """`text` as characters, with `spans` (offsets into `text`) styled; control characters made visible."""
    pieces: list[str] = []
    positions: list[int] = []  # original offset of each control character
    growth: list[int] = []  # characters added by the replacements up to and including that one
    shown_at: list[tuple[int, int]] = []
    added = 0
    previous = 0
    for match in _CONTROL.finditer(text):
        pieces.append(text[previous : match.start()])
        shown = printable(match.group())
        start = match.start() + added
        pieces.append(shown)
        shown_at.append((start, start + len(shown)))
        added += len(shown) - 1
        positions.append(match.start())
        growth.append(added)
        previous = match.end()
    pieces.append(text[previous:])

    def moved(offset: int) -> int:
        index = bisect_left(positions, offset)  # control characters strictly before `offset`
        return offset + (growth[index - 1] if index else 0)

    result = Text("".join(pieces), style=style, end="")
    for start, end, span_style in spans:
        start, end = max(0, start), min(len(text), end)
        if start < end:
            result.stylize(span_style, moved(start), moved(end))
    if control_style is not None:
        for start, end in shown_at:
            result.stylize(control_style, start, end)
    return result


# --- question terms -----------------------------------------------------------------------------


def term_spans(text: str, terms: frozenset[str], style: Style) -> list[Span]:
    """The words of text that share a stem with the question's terms (qa.question_terms), styled."""
    return [(start, end, style) for start, end in qa_term_spans(text, terms)]


# --- answers and passages -----------------------------------------------------------------------


def support_ranges(answer: Answer, hit: Hit) -> list[tuple[int, int]]:
    """Offsets, in the hit's document, of the answer sentences that fall inside this passage."""
    passage = hit.passage
    ranges = []
    for sentence in answer.sentences:
        if not 1 <= sentence.citation <= len(answer.hits):
            continue
        cited = answer.hits[sentence.citation - 1].passage
        if cited.doc != passage.doc:
            continue
        start, end = max(sentence.start, passage.start), min(sentence.end, passage.end)
        if start < end:
            ranges.append((start, end))
    return ranges


def passage_text(answer: Answer, hit: Hit, palette: Palette) -> Text:
    """The passage, its supporting sentences highlighted and the question's terms emphasised."""
    passage = hit.passage
    spans: list[Span] = [
        (start - passage.start, end - passage.start, palette.support) for start, end in support_ranges(answer, hit)
    ]
    spans += term_spans(passage.text, question_terms(answer.question), palette.term)
    return literal(passage.text, spans, control_style=palette.control)


# Brackets in a document's own text ("[Reference]", a footnote's "[3]"): in an answer they would read
# as its citation markers, so they are drawn muted, and a marker stands out in bold and colour.
_DOCUMENT_BRACKETS = re.compile(r"\[[^\[\]\n]{1,60}\]")


def answer_text(answer: Answer, palette: Palette) -> Text:
    """The extractive answer, each sentence followed by its [n] citation."""
    terms = question_terms(answer.question)
    muted = Style(color=palette.muted, italic=True)
    parts = []
    for sentence in answer.sentences:
        spans = [(m.start(), m.end(), muted) for m in _DOCUMENT_BRACKETS.finditer(sentence.text)]
        spans += term_spans(sentence.text, terms, palette.term)
        parts.append(Text.assemble(
            literal(sentence.text, spans, control_style=palette.control),
            " ",
            (f"[{sentence.citation}]", Style(color=palette.citation, bold=True)),
        ))
    return Text(" ", end="").join(parts)


_EIGHTHS = " ▏▎▍▌▋▊▉█"


def score_bar(score: float, palette: Palette, width: int = 8, bar: bool = True) -> Text:
    """A bar of `width` cells filled in proportion to the score on its absolute 0–1 scale, then the score.

    Only dense scores (cosine similarities) have such a scale; other modes' scores (BM25, fusions of
    z-scores or ranks) do not, and scaling them to the top hit would draw a full bar for a passage
    that is no answer at all, so they are shown as numbers only (bar=False)."""
    if not bar:
        return Text.assemble(("score ", Style(color=palette.muted)), (f"{score:.2f}", Style(color=palette.muted)))
    fraction = min(1.0, max(0.0, score))
    eighths = round(fraction * width * 8)
    full, part = divmod(eighths, 8)
    cells = ("█" * full + (_EIGHTHS[part] if part else "")).ljust(width)
    return Text.assemble(
        (cells, Style(color=palette.bar, bgcolor=palette.bar_empty)), " ", (f"{score:.2f}", Style(color=palette.muted))
    )


def card_title(hit: Hit, palette: Palette) -> Text:
    passage = hit.passage
    return Text.assemble(
        (f"[{hit.rank}]", Style(color=palette.citation, bold=True)), " ", (printable(passage.title or passage.doc), Style(bold=True))
    )


def cited_doc(hit: Hit, named: bool = False) -> str:
    """The document as a citation names it: with its collection first when named, as `qa ask`
    prints it ("[press] 003_….txt")."""
    return f"[{hit.collection}] {hit.passage.doc}" if named and hit.collection is not None else hit.passage.doc


def card_meta(hit: Hit, palette: Palette, named: bool = False) -> Text:
    """Date, section, document (after its collection, when named) and page, muted, on one line."""
    passage = hit.passage
    parts = [passage.date, passage.section and f"§ {passage.section}", cited_doc(hit, named), passage.page_label]
    return Text(" · ".join(printable(p) for p in parts if p), style=Style(color=palette.muted), end="")


def citation_line(hit: Hit, named: bool = False) -> str:
    """`[n] Title · date · § section — doc, characters a–b` (plain text, for copying and export);
    `— [collection] doc, …` when named."""
    passage = hit.passage
    meta = " · ".join(p for p in (passage.title, passage.date, passage.section and f"§ {passage.section}") if p)
    where = f"{cited_doc(hit, named)}, {passage.page_label}" if passage.page is not None else cited_doc(hit, named)
    return printable(f"[{hit.rank}] {meta} — {where}, characters {passage.start}–{passage.end}")


def clipboard_text(hit: Hit, named: bool = False) -> str:
    return f"{citation_line(hit, named)}\n\n{printable(hit.passage.text)}\n"


# --- export -------------------------------------------------------------------------------------


def markdown_export(turns: Sequence[Turn], *, corpus: str | None, when: datetime, collections: Sequence[str] = ()) -> str:
    """The conversation as Markdown: each question with its mode, k and time, its answer with [n]
    markers, and the cited passages. collections: those asked; citations name theirs when they are
    several, or the conversation's passages come from several."""
    lines = [f"# Conversation — {when:%Y-%m-%d %H:%M}", ""]
    if collections:
        lines += [f"Collections: {printable(', '.join(collections))}", ""]
    elif corpus:
        lines += [f"Documents: `{printable(corpus)}`", ""]
    cited = {hit.collection for turn in turns if turn.answer for hit in turn.answer.hits if hit.collection is not None}
    named = bool(cited) and (len(collections) > 1 or len(cited) > 1)
    for turn in turns:
        asked = datetime.fromtimestamp(turn.asked_at).strftime("%Y-%m-%d %H:%M:%S")
        lines += [f"## {_one_line(turn.question)}", "",
                  f"_Asked {asked} · mode {turn.mode} · k {turn.k} · answered in {turn.elapsed_ms:,.0f} ms_", ""]
        answer = turn.answer
        if answer is None:
            lines += [f"_{printable(turn.error or 'No answer.')}_", ""]
            continue
        if answer.abstained:
            lines += [answer.text, "", "Closest passages (not an answer):", ""]
        else:
            lines += [printable(answer.text), "", "Sources:", ""]
        for hit in answer.hits:
            lines += [f"- {citation_line(hit, named)} (score {hit.score:.2f})", ""]
            lines += ["  > " + line if line else "  >" for line in printable(hit.passage.text).splitlines()]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _one_line(text: str) -> str:
    return printable(" ".join(text.split()))
