"""Turning a file of any supported format into the text that passages and citations refer to.

Each format module reads bytes and returns an `Extracted`: the document's text as the viewer shows
it, plus what the format itself says about title, date, headings and pages. Parsing stops at the
per-file limits in `Limits`, and every failure is a `FormatError` whose message says why the file
was skipped; nothing a file contains can raise anything else out of `extract`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from qa.errors import CorpusError

SUFFIXES = {
    ".txt": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}


class FormatError(CorpusError):
    """A file could not be read as its format; str() is the reason, without the file name."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-file bounds on the work one document may cost; a file beyond any of them is skipped."""

    max_file_bytes: int = 20 * 1024 * 1024  # on disk
    max_text_chars: int = 10_000_000  # extracted text
    max_pdf_pages: int = 2_000
    max_unzipped_bytes: int = 100 * 1024 * 1024  # all members of a .docx together
    max_zip_ratio: int = 200  # uncompressed / compressed size of a .docx
    max_html_depth: int = 2_000  # element nesting; the HTML parser slows quadratically past this
    max_seconds: float = 60.0  # checked between pages and blocks


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class Extracted:
    """A document's text and the structure its format gives it.

    headings maps the offset of a heading line to its level (1 = top); None means the format has
    no structure of its own and the plain-text layout rules find title, headings and furniture.
    page_starts holds the offset where each page begins (PDF), in order; empty when unpaged.
    dropped lists what the format left out of text on purpose, as (why, the text left out): page
    furniture such as navigation, link lists and image alt text (see `qa inspect`).
    ocr_pages lists the pages read by OCR, as (1-based page, the engine's mean confidence 0-1).
    headings_in_text: the headings are a guess (PDF: a larger font), so each stays in the text, at
    the start of the passage after it, as well as naming its section.
    """

    text: str
    title: str | None = None
    date: str | None = None
    headings: dict[int, int] | None = None
    page_starts: tuple[int, ...] = field(default=())
    markdown: bool = False
    dropped: tuple[tuple[str, str], ...] = field(default=())
    ocr_pages: tuple[tuple[int, float], ...] = field(default=())
    headings_in_text: bool = False


Progress = Callable[[int, int], None]  # (parts of the file read, parts in all): pages of a PDF


class Deadline:
    """Bounds the time one file may take; formats call check() between pages or blocks, and
    advance() after each page, which reports how far a long file has got."""

    def __init__(self, seconds: float, progress: Progress | None = None) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.progress = progress
        self.interrupted: BaseException | None = None  # what the progress callback raised

    def check(self) -> None:
        if time.monotonic() > self.end:
            raise FormatError(f"took longer than the {self.seconds:g} s limit per file")

    def extend(self, seconds: float) -> None:
        """More time for work that is slow by nature (a page read by OCR)."""
        self.seconds += seconds
        self.end += seconds

    def advance(self, done: int, total: int) -> None:
        if self.progress is None:
            return
        try:
            self.progress(done, total)
        except BaseException as error:  # the caller's own stop (the chat closing): not the file's fault
            self.interrupted = error
            raise


def format_of(name: str) -> str | None:
    """The format a file name stands for, or None when it is not a supported document."""
    dot = name.rfind(".")
    return SUFFIXES.get(name[dot:].lower()) if dot >= 0 else None


def extract(name: str, data: bytes, limits: Limits = DEFAULT_LIMITS, progress: Progress | None = None) -> Extracted:
    """The text of a file from its bytes; raises FormatError saying why when it cannot be read.
    progress, when given, is called as pages are read (PDF), with (pages read, pages)."""
    kind = format_of(name)
    if kind is None:
        raise FormatError("not a supported format")
    if len(data) > limits.max_file_bytes:
        raise FormatError(f"larger than {limits.max_file_bytes // (1024 * 1024)} MB")
    if not data.strip():
        raise FormatError("empty file")
    deadline = Deadline(limits.max_seconds, progress)
    if kind == "text":
        from qa.formats.text import extract_text as reader
    elif kind == "markdown":
        from qa.formats.markdown import extract_markdown as reader
    elif kind == "html":
        from qa.formats.html import extract_html as reader
    elif kind == "pdf":
        from qa.formats.pdf import extract_pdf as reader
    else:
        from qa.formats.docx import extract_docx as reader
    try:
        extracted = reader(data, limits, deadline)
    except FormatError:
        raise
    except Exception as error:
        if error is deadline.interrupted:
            raise  # the caller stopped the reading (the chat closed): not the file's fault
        if isinstance(error, RecursionError):
            raise FormatError("nested too deeply to parse") from error
        if isinstance(error, MemoryError):
            raise FormatError("too large to parse in memory") from error
        # a parser library's own error on a malformed file: its text means nothing to a reader
        raise FormatError(f"not a valid {kind.upper()} file (damaged, or another format with a .{kind} name)") from error
    if len(extracted.text) > limits.max_text_chars:
        raise FormatError(f"more than {limits.max_text_chars:,} characters of text")
    if not extracted.text.strip():
        raise FormatError("no text in the file")
    return extracted
