"""Word files (.docx) through python-docx: paragraphs and tables in order, headings as sections.

A table row is one line, its cells side by side ("Grand total: 2,730"); a cell that holds tables of
its own is read block by block instead, its inner tables row by row, however deep they nest.
A .docx is a zip archive, so its members' sizes are checked before anything is decompressed: an
archive that would expand past the limits (a zip bomb) is skipped unopened.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from qa.formats import Deadline, Extracted, FormatError, Limits
from qa.formats.blocks import BlockText, collapse, row_text

_HEADING_STYLE = re.compile(r"heading\s*(\d)", re.IGNORECASE)


def check_zip(data: bytes, limits: Limits) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        raise FormatError("not a valid DOCX file: not a zip archive") from error
    with archive:
        members = archive.infolist()
        names = {member.filename for member in members}
        unzipped = sum(member.file_size for member in members)
        zipped = sum(member.compress_size for member in members)
    for required in ("[Content_Types].xml", "word/document.xml"):
        if required not in names:
            raise FormatError(f"not a valid DOCX file: no {required}")
    if unzipped > limits.max_unzipped_bytes:
        raise FormatError(f"expands to {unzipped / 2**20:,.0f} MB, more than the limit of {limits.max_unzipped_bytes / 2**20:,.0f} MB (a zip bomb?)")
    if zipped and unzipped / zipped > limits.max_zip_ratio and unzipped > 1_000_000:
        raise FormatError(f"compressed {unzipped / zipped:,.0f} to 1, more than the limit of {limits.max_zip_ratio} (a zip bomb?)")


def extract_docx(data: bytes, limits: Limits, deadline: Deadline) -> Extracted:
    check_zip(data, limits)
    import docx
    from docx.table import Table

    document = docx.Document(io.BytesIO(data))
    blocks = BlockText()
    title = collapse(document.core_properties.title or "") or None
    for n, item in enumerate(document.iter_inner_content()):
        if n % 500 == 0:
            deadline.check()
        if isinstance(item, Table):
            _table(item, blocks, Table)
            continue
        title = _paragraph(item, blocks, title)
    properties = document.core_properties
    created = properties.created
    # python-docx's own blank template carries its creation date (2013); it is not the document's.
    template_date = properties.author == "python-docx" and created is not None and created.year == 2013
    date = created.date().isoformat() if created and not template_date else None
    extracted = blocks.build(title=title, date=date)
    if not extracted.text.strip():
        raise FormatError("no text in the document")
    return extracted


def _paragraph(item, blocks: BlockText, title: str | None) -> str | None:
    """Add one paragraph by its style; returns the title, which a Title-styled paragraph may give."""
    text = collapse(item.text)
    style = (item.style.name if item.style is not None else "") or ""
    if style.lower() == "title":
        title = title or text or None
        blocks.heading(text, 1)
    elif match := _HEADING_STYLE.match(style):
        blocks.heading(text, int(match.group(1)))
    elif style.lower().startswith("list"):
        blocks.list_item(text)
    else:
        blocks.paragraph(text)
    return title


def _table(table, blocks: BlockText, table_type: Any) -> None:
    """Rows of plain cells as one line each; a row with a nested table, cell by cell, in document
    order and without recursion (tables can nest deeply)."""
    stack: list[Any] = [table]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            blocks.paragraph(item)
        elif isinstance(item, table_type):
            work: list = []
            header: list[str] | None = None  # the first row's cells: the column headers every later row carries
            for number, row in enumerate(item.rows):
                cells = row.cells
                if any(cell.tables for cell in cells):
                    for cell in _unique_cells(cells):
                        work.extend(cell.iter_inner_content())
                else:
                    texts = [cell.text for cell in cells]
                    work.append(row_text(texts, header))
                    if number == 0:
                        header = texts
            stack.extend(reversed(work))
        else:
            _paragraph(item, blocks, None)


def _unique_cells(cells):
    """A merged cell appears once per grid column it spans; read it once."""
    seen: list = []
    for cell in cells:
        if not any(cell._tc is other._tc for other in seen):
            seen.append(cell)
    return seen
