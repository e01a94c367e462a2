"""Assembling the text of a structured document (HTML, DOCX) from its blocks, one per line group."""

from __future__ import annotations

import re

from qa.formats import Extracted

_SPACE = re.compile(r"[ \t\r\n\f\v\u00a0]+")


def collapse(text: str) -> str:
    """Runs of whitespace as one space, as a browser or a word processor lays the words out."""
    return _SPACE.sub(" ", text).strip()


HEADED_COLUMNS = 3  # a table this wide or wider has column headers that each row carries


def row_text(cells: list[str], header: list[str] | None = None) -> str:
    """A table row on one line, so that a value stays beside its label: "Grand total: 2,730" for a
    label and a value, the cells separated by " | " otherwise. Merged cells repeat their text in every
    grid cell they span; they are read once. With the table's header row (as many cells, three or
    more), each cell carries its column's header: "Capital: Vienna | Area: 83,879"."""
    if header is not None and len(header) == len(cells) >= HEADED_COLUMNS:
        pairs: list[str] = []
        for name, cell in zip((collapse(h) for h in header), (collapse(c) for c in cells), strict=True):
            pair = f"{name}: {cell}" if name and name != cell else cell
            if cell and (not pairs or pairs[-1] != pair):
                pairs.append(pair)
        return " | ".join(pairs)
    seen: list[str] = []
    for cell in (collapse(c) for c in cells):
        if cell and (not seen or seen[-1] != cell):
            seen.append(cell)
    if len(seen) == 2:
        label, value = seen
        return f"{label} {value}" if label.endswith(":") else f"{label}: {value}"
    return " | ".join(seen)


class BlockText:
    """Paragraphs separated by a blank line; headings on their own line, their offsets remembered."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self.headings: dict[int, int] = {}
        self.dropped: list[tuple[str, str]] = []

    def drop(self, why: str, text: str) -> None:
        """Remember text left out on purpose (page furniture), for `qa inspect`."""
        if text := collapse(text):
            self.dropped.append((why, text[:200]))

    def paragraph(self, text: str) -> None:
        self._add(text)

    def heading(self, text: str, level: int) -> None:
        text = text.strip()
        if text:
            self.headings[self._length + (2 if self._parts else 0)] = level
            self._add(text)

    def list_item(self, text: str) -> None:
        self._add(f"• {text.strip()}" if text.strip() else "")

    def preformatted(self, text: str) -> None:
        lines = [line.rstrip() for line in text.strip("\n").splitlines()]
        self._add("\n".join(line for line in lines))

    def _add(self, text: str) -> None:
        text = text.strip("\n")
        if not text.strip():
            return
        if self._parts:
            self._parts.append("\n\n")
            self._length += 2
        self._parts.append(text)
        self._length += len(text)

    def build(self, title: str | None, date: str | None) -> Extracted:
        return Extracted(text="".join(self._parts), title=title, date=date, headings=dict(self.headings),
                         dropped=tuple(self.dropped))
