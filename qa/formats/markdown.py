"""Markdown files: the text as written. Front matter, `#` headings and fenced code blocks are read
by qa.chunking (the citation offsets refer to the file itself, so nothing is rewritten here)."""

from __future__ import annotations

from qa.formats import Deadline, Extracted, Limits
from qa.formats.text import decode_utf8


def extract_markdown(data: bytes, limits: Limits, deadline: Deadline) -> Extracted:
    return Extracted(text=decode_utf8(data), markdown=True)
