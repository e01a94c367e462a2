"""Word files (.docx) through python-docx: paragraphs and tables in order, headings as sections.

A .docx is a zip archive, so its members' sizes are checked before anything is decompressed: an
archive that would expand past the limits (a zip bomb) is skipped unopened.
"""

from __future__ import annotations

import io
import re
import zipfile

from qa.formats import Deadline, Extracted, FormatError, Limits
from qa.formats.blocks import BlockText, collapse

_HEADING_STYLE = re.compile(r"heading\s*(\d)", re.IGNORECASE)


def check_zip(data: bytes, limits: Limits) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        raise FormatError("not a valid .docx (not a zip archive)") from error
    with archive:
        members = archive.infolist()
        unzipped = sum(member.file_size for member in members)
        zipped = sum(member.compress_size for member in members)
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
            for row in item.rows:
                cells = [collapse(cell.text) for cell in row.cells]
                blocks.paragraph(" | ".join(_unique(c for c in cells if c)))
            continue
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
    properties = document.core_properties
    created = properties.created
    # python-docx's own blank template carries its creation date (2013); it is not the document's.
    template_date = properties.author == "python-docx" and created is not None and created.year == 2013
    date = created.date().isoformat() if created and not template_date else None
    extracted = blocks.build(title=title, date=date)
    if not extracted.text.strip():
        raise FormatError("no text in the document")
    return extracted


def _unique(cells):
    """Merged cells repeat their text in every grid cell they span."""
    seen: list[str] = []
    for cell in cells:
        if not seen or seen[-1] != cell:
            seen.append(cell)
    return seen
