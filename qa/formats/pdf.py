"""PDF files through pypdf: the text layer of each page, in reading order, with paragraph breaks.

pypdf gives the lines of a page but no blank lines between paragraphs, so the vertical position of
each line is read as well: a gap clearly wider than the page's usual line spacing is a paragraph
break. Words hyphenated across a line break are re-joined. Pages are separated by a blank line,
so no passage spans two pages, and each passage is cited with the page it is on.

Tables are often written column by column (all the labels, then all the values), which a text
extractor reads as a list of labels followed by a list of values. A short line whose position lies
back up the page, on the height of a short line already read, is a cell of that line's row: the
row is then one line, "Grand total: 2,730", so that a value stays beside its label.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from itertools import pairwise

from qa.dates import find_date
from qa.formats import Deadline, Extracted, FormatError, Limits
from qa.formats.blocks import row_text

_HYPHENATED = re.compile(r"(\w)-\n[ \t]*(?=[a-z])")
_BLANK_RUNS = re.compile(r"\n{3,}")


def extract_pdf(data: bytes, limits: Limits, deadline: Deadline) -> Extracted:
    import logging

    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # malformed files are reported once, as a skip
    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise FormatError("not a PDF file (no %PDF header)")
    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted and not reader.decrypt(""):
        raise FormatError("the PDF is encrypted with a password")
    count = len(reader.pages)
    if count > limits.max_pdf_pages:
        raise FormatError(f"{count:,} pages, more than the limit of {limits.max_pdf_pages:,}")
    pieces: list[str] = []
    page_starts: list[int] = []
    length = 0
    chars = 0
    for page in reader.pages:
        deadline.check()
        text = _page_text(page)
        chars += len(text)
        if chars > limits.max_text_chars:
            raise FormatError(f"more than {limits.max_text_chars:,} characters of text")
        if pieces:
            pieces.append("\n\n")
            length += 2
        page_starts.append(length)
        pieces.append(text)
        length += len(text)
    text = "".join(pieces)
    if not text.strip():
        raise FormatError(f"no text layer in {count} page{'s' if count != 1 else ''} (a scanned PDF? run OCR on it first)")
    metadata: Mapping[str, object] = reader.metadata or {}
    first_line = next(line.strip() for line in text.splitlines() if line.strip())
    title = _metadata_text(metadata, "/Title") or first_line[:120]
    date = _pdf_date(_metadata_text(metadata, "/CreationDate"))
    # No headings are guessed in a PDF: its short lines are as often table cells or wrapped text as
    # headings, and every line stays in a passage so that nothing on a page is lost.
    return Extracted(text=text, title=title, date=date, headings={}, page_starts=tuple(page_starts))


def _page_text(page) -> str:
    lines: list[tuple[str, float]] = []  # each line's text and the height it starts at
    current: list[str] = []
    height: float | None = None

    def visit(text, cm, tm, font, size) -> None:
        nonlocal height
        if not text:
            return
        if height is None:
            height = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        for i, part in enumerate(text.split("\n")):
            if i:
                lines.append(("".join(current), height if height is not None else 0.0))
                current.clear()
                height = None
            if part:
                if height is None:
                    height = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                current.append(part)

    plain = page.extract_text(visitor_text=visit) or ""
    if current:
        lines.append(("".join(current), height or 0.0))
    if " ".join(text for text, _ in lines).split() != plain.split():
        return _clean(plain)  # the visitor saw the text otherwise than the extractor: keep pypdf's lines
    return _clean(_with_paragraph_breaks(_rows(lines)))


CELL_MAX_WORDS = 5  # a table cell, and a row of them before another cell joins it
SAME_HEIGHT = 2.0  # points between baselines that count as one row


def _rows(lines: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """Lines read back up the page that sit on the height of a short line already read join its row."""
    rows: list[list[str]] = []
    heights: list[float] = []
    for text, height in lines:
        target = None
        if heights and height >= heights[-1] - SAME_HEIGHT and len(text.split()) <= CELL_MAX_WORDS:
            target = next((i for i, h in enumerate(heights) if abs(h - height) <= SAME_HEIGHT
                           and len(" ".join(rows[i]).split()) <= CELL_MAX_WORDS * 2), None)
        if target is None:
            rows.append([text])
            heights.append(height)
        else:
            rows[target].append(text)
    return [(row_text(cells) if len(cells) > 1 else cells[0], height) for cells, height in zip(rows, heights, strict=True)]


def _with_paragraph_breaks(lines: list[tuple[str, float]]) -> str:
    gaps = [previous[1] - line[1] for previous, line in pairwise(lines) if previous[1] - line[1] > 0]
    # The line spacing of the page: a low quantile of the gaps, as paragraph gaps can be as many as lines.
    usual = sorted(gaps)[len(gaps) // 4] if gaps else 0.0
    out: list[str] = []
    for i, (text, height) in enumerate(lines):
        if i and usual > 0 and lines[i - 1][1] - height > usual * 1.5:
            out.append("")
        out.append(text.rstrip())
    return "\n".join(out)


def _clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = _HYPHENATED.sub(r"\1", text)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return _BLANK_RUNS.sub("\n\n", text).strip("\n")


def _metadata_text(metadata, key: str) -> str | None:
    try:
        value = metadata.get(key)
    except Exception:
        return None
    text = str(value).strip() if value else ""
    return text[:300] or None


def _pdf_date(value: str | None) -> str | None:
    """PDF dates look like D:20240131120000Z."""
    if not value:
        return None
    match = re.match(r"(?:D:)?(\d{4})(\d{2})(\d{2})", value)
    return find_date(f"{match.group(1)}-{match.group(2)}-{match.group(3)}") if match else None
