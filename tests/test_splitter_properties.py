"""Properties of the splitter over arbitrary Unicode text (hypothesis).

HYPOTHESIS_PROFILE=thorough raises the number of examples from 60 to 3,000 per property.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from qa.chunking import DROPPED_ON_PURPOSE, SECTION_HEADING, split_document
from qa.formats import Extracted

# Lines that exercise the layout rules, mixed with arbitrary text.
_SPECIAL_LINES = st.sampled_from([
    "", "", "---", "title: A title", "date: 2024-01-02", "# Heading", "## Sub heading", "### Third",
    "```", "```python", "~~~", "- a list item", "1. numbered item", "Back to top", "Photo 3", "Introduction",
    "The Minister said:", "  indented line under a heading", "January 5, 2020", "Return to the News",
    "A full sentence of body text that ends with a stop.", "word " * 40, "x" * 300,
])
_LINE = st.one_of(_SPECIAL_LINES, st.text(max_size=120))
_TEXT = st.one_of(st.text(max_size=600), st.lists(_LINE, max_size=40).map("\n".join))
_NAME = st.sampled_from(["doc.txt", "notes.md", "dir/page.txt"])


def _uncovered_content(text: str, spans: list[tuple[int, int]]) -> list[int]:
    covered = bytearray(len(text))
    for start, end in spans:
        covered[start:end] = b"\x01" * (end - start)
    return [i for i, char in enumerate(text) if not covered[i] and not char.isspace()]


@given(_NAME, _TEXT, st.sampled_from([150, 12, 3]))
def test_spans_are_exact_in_order_and_never_empty(name, text, max_words):
    layout = split_document(name, text, max_words)
    starts = [p.start for p in layout.passages]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    for passage in layout.passages:
        assert text[passage.start : passage.end] == passage.text
        assert passage.text.strip() and passage.text == passage.text.strip()


@given(_NAME, _TEXT, st.sampled_from([150, 12, 3]))
def test_no_content_character_is_lost_outside_the_lines_the_rules_drop(name, text, max_words):
    layout = split_document(name, text, max_words)
    passages = [(p.start, p.end) for p in layout.passages]
    dropped = [(start, end) for start, end, _ in layout.dropped]
    assert _uncovered_content(text, passages + dropped) == []
    for start, end, why in layout.dropped:  # a dropped line is never also cited
        assert why in DROPPED_ON_PURPOSE
        assert not any(s < end and start < e for s, e in passages), (why, text[start:end])


def _blocks(blocks: list[tuple[bool, str]]) -> tuple[str, dict[int, int]]:
    """The non-empty blocks, whitespace collapsed, joined by blank lines, and the offsets of those
    marked as headings (level 1)."""
    parts, headings, offset = [], {}, 0
    for is_heading, block in blocks:
        block = " ".join(block.split())
        if not block:
            continue
        if parts:
            parts.append("\n\n")
            offset += 2
        if is_heading:
            headings[offset] = 1
        parts.append(block)
        offset += len(block)
    return "".join(parts), headings


@given(st.lists(st.tuples(st.booleans(), st.text(min_size=1, max_size=80)), max_size=30))
def test_structured_formats_lose_nothing_but_their_headings(blocks):
    """HTML and DOCX text: blocks separated by blank lines, some of them known headings."""
    text, headings = _blocks(blocks)
    layout = split_document("page.html", text, extracted=Extracted(text=text, title="T", headings=headings))
    heading_lines = [(s, e) for s, e, why in layout.dropped if why == SECTION_HEADING]
    assert {s for s, _ in heading_lines} <= set(headings)
    assert _uncovered_content(text, [(p.start, p.end) for p in layout.passages] + [(s, e) for s, e, _ in layout.dropped]) == []
    for passage in layout.passages:
        assert text[passage.start : passage.end] == passage.text


@given(st.lists(st.tuples(st.booleans(), st.text(min_size=1, max_size=80)), max_size=30), st.sampled_from([150, 12, 3]))
def test_guessed_headings_stay_in_the_text_and_nothing_is_lost(blocks, max_words):
    """PDF text: its headings are a guess from the font size, so they name the section and stay in
    a passage; merged passages keep the text between their blocks."""
    text, headings = _blocks(blocks)
    extracted = Extracted(text=text, title="T", headings=headings, headings_in_text=True)
    layout = split_document("report.pdf", text, max_words, extracted=extracted)
    assert layout.dropped == []
    assert _uncovered_content(text, [(p.start, p.end) for p in layout.passages]) == []
    starts = [p.start for p in layout.passages]
    assert starts == sorted(starts)
    for passage in layout.passages:
        assert text[passage.start : passage.end] == passage.text and passage.text.strip()
