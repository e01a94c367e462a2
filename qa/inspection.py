"""How one document is read: what `qa inspect FILE` shows when an answer is missing.

The file goes through the same reader and splitter as `qa index`, without a model or an index: its
title, date and sections, every passage with its character span (and page), the lines the splitter
left out of the passages and why, and what the format's reader left out of the text and why.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from qa.chunking import split_document
from qa.corpus import SourceFile, read_document
from qa.errors import CorpusError
from qa.formats import format_of
from qa.text import printable

PREVIEW_CHARS = 160


@dataclass(frozen=True, slots=True)
class InspectedPassage:
    start: int
    end: int
    page: int | None
    section: str | None
    text: str
    ocr: float | None = None  # read by OCR from a scanned page: the engine's confidence


@dataclass(frozen=True, slots=True)
class LeftOut:
    why: str
    text: str
    start: int | None = None  # offsets in the text, for lines the splitter left out
    end: int | None = None


@dataclass(frozen=True, slots=True)
class Inspection:
    doc: str
    format: str
    characters: int
    title: str
    date: str | None
    sections: tuple[str, ...]
    passages: tuple[InspectedPassage, ...]
    left_out_by_splitter: tuple[LeftOut, ...]
    left_out_by_reader: tuple[LeftOut, ...]
    ocr_pages: tuple[tuple[int, float], ...] = ()  # (page, confidence) of the pages read by OCR

    def to_dict(self) -> dict:
        return asdict(self)


def inspect_file(path: Path) -> Inspection:
    """Read and split one file as indexing would; CorpusError says why when it cannot be read."""
    path = Path(path)
    kind = format_of(path.name)
    if kind is None:
        raise CorpusError(f"{path.name}: not a supported format; qa reads .txt, .md, .html, .pdf and .docx files")
    try:
        stat = path.stat()
    except OSError as error:
        raise CorpusError(f"{path}: cannot read ({error.strerror})") from error
    if not path.is_file():
        raise CorpusError(f"{path}: not a file")
    document = read_document(SourceFile(doc=path.name, path=path, size=stat.st_size, mtime_ns=stat.st_mtime_ns))
    text = document.text
    layout = split_document(path.name, text, extracted=document.extracted)
    sections: list[str] = []
    for passage in layout.passages:
        if passage.section and passage.section not in sections:
            sections.append(passage.section)
    return Inspection(
        doc=path.name, format=kind, characters=len(text), title=layout.title, date=layout.date,
        sections=tuple(sections),
        passages=tuple(InspectedPassage(p.start, p.end, p.page, p.section, p.text, p.ocr) for p in layout.passages),
        left_out_by_splitter=tuple(LeftOut(why, text[start:end], start, end) for start, end, why in layout.dropped),
        left_out_by_reader=tuple(LeftOut(why, dropped) for why, dropped in document.extracted.dropped),
        ocr_pages=document.extracted.ocr_pages,
    )


def render_inspection(inspection: Inspection, write=print) -> None:
    """The inspection as plain lines; document text is shown literally (control characters escaped)."""
    def show(text: str) -> str:
        flat = " ".join(text.split())
        return printable(flat if len(flat) <= PREVIEW_CHARS else flat[: PREVIEW_CHARS - 1] + "…")

    write(f"{printable(inspection.doc)} ({inspection.format}, {inspection.characters:,} characters of text)")
    if inspection.ocr_pages:
        pages = ", ".join(f"{page} ({confidence:.0%})" for page, confidence in inspection.ocr_pages)
        write(f"read by OCR (the engine's confidence): page{'s' if len(inspection.ocr_pages) > 1 else ''} {pages}")
    write(f"title: {printable(inspection.title)}")
    write(f"date: {inspection.date or '(none found)'}")
    write(f"sections ({len(inspection.sections)}):")
    for section in inspection.sections:
        write(f"  {printable(section)}")
    write(f"passages ({len(inspection.passages)}):")
    for n, passage in enumerate(inspection.passages, 1):
        where = f"characters {passage.start}–{passage.end}" + (f", page {passage.page}" if passage.page else "")
        where += f", OCR {passage.ocr:.0%}" if passage.ocr is not None else ""
        section = f" · § {printable(passage.section)}" if passage.section else ""
        write(f"  [{n}] {where}{section}")
        write(f"      {show(passage.text)}")
    write(f"left out of the passages ({len(inspection.left_out_by_splitter)}):")
    for item in inspection.left_out_by_splitter:
        write(f"  characters {item.start}–{item.end}, {item.why}: {show(item.text)}")
    write(f"left out of the text by the {inspection.format} reader ({len(inspection.left_out_by_reader)}):")
    for item in inspection.left_out_by_reader:
        write(f"  {item.why}: {show(item.text) if item.text else '(not text)'}")
