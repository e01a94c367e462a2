"""Small documents of each format, built in code for the tests (nothing binary is committed)."""

from __future__ import annotations

import io


def make_pdf(pages: list[list[str] | None], info_title: str | None = None) -> bytes:
    """A PDF with one Helvetica text line per string, 14 pt apart; an empty string leaves a blank line
    (a paragraph gap) and a page given as None holds only an image, as a scanned page does (no text layer)."""
    objects = []
    def add(body):
        objects.append(body)
        return len(objects)
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    page_ids = []
    pages_id_placeholder = len(objects) + 1 + 2 * len(pages)
    for lines in pages:
        if lines is None:
            stream = b"q 100 0 0 100 50 600 cm BI /W 2 /H 2 /CS /G /BPC 8 ID \x00\xff\xff\x00 EI Q"
        else:
            ops = ["BT /F1 12 Tf 14 TL 72 720 Td"]
            for line in lines:
                esc = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
                ops.append(f"({esc}) Tj T*")
            ops.append("ET")
            stream = "\n".join(ops).encode("latin-1")
        content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        page_ids.append(add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>" % (pages_id_placeholder, font, content)))
    pages_id = add(b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % i for i in page_ids) + b"] /Count %d >>" % len(page_ids))
    assert pages_id == pages_id_placeholder
    catalog = add(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id)
    info = add(b"<< /Title (%s) >>" % info_title.encode()) if info_title else None
    return pdf_file(objects, catalog, info)


def pdf_file(objects: list[bytes], root: int, info: int | None = None) -> bytes:
    """Objects (numbered from 1 in order) written out as a PDF with its cross-reference table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    trailer = b"<< /Size %d /Root %d 0 R" % (len(objects) + 1, root) + (b" /Info %d 0 R" % info if info else b"") + b" >>"
    out += b"trailer\n" + trailer + b"\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def make_docx(blocks: list[tuple[str, str]], title: str | None = None) -> bytes:
    """A .docx from (style, text) pairs: style "Title", "Heading 1".."Heading 3", "List Bullet" or "" (body)."""
    import docx

    document = docx.Document()
    if title is not None:
        document.core_properties.title = title
    for style, text in blocks:
        if style.startswith("Heading"):
            document.add_heading(text, level=int(style.split()[-1]))
        elif style == "Title":
            document.add_heading(text, level=0)
        else:
            document.add_paragraph(text, style=style or None)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def zip_bomb(expanded_bytes: int = 300 * 1024 * 1024) -> bytes:
    """A small zip archive (named .docx by the tests) whose one member expands to expanded_bytes of zeros."""
    import zipfile

    buffer = io.BytesIO()
    block = b"\0" * (1 << 20)
    with (
        zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("word/document.xml", "w", force_zip64=True) as member,
    ):
        for _ in range(expanded_bytes >> 20):
            member.write(block)
    return buffer.getvalue()


def make_table_pdf(title: str, rows: list[tuple[str, str]]) -> bytes:
    """One page with a title line and a two-column table written column by column, as many report
    generators do: every label first, then every value at the same heights further right."""
    ops = ["BT /F1 12 Tf", f"1 0 0 1 72 740 Tm ({title}) Tj"]
    ops += [f"1 0 0 1 72 {700 - i * 16} Tm ({label}) Tj" for i, (label, _) in enumerate(rows)]
    ops += [f"1 0 0 1 300 {700 - i * 16} Tm ({value}) Tj" for i, (_, value) in enumerate(rows) if value]
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Page /Parent 4 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 1 0 R >> >> /Contents 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Catalog /Pages 4 0 R >>",
    ]
    return pdf_file(objects, 5)


def make_docx_nested_table(outer: list[tuple[str, str]], inner: list[tuple[str, str]], before: str) -> bytes:
    """A .docx with a paragraph, then a two-column table whose last row holds, in its first cell, a
    two-column table of its own (and text in its second cell)."""
    import docx

    document = docx.Document()
    document.add_paragraph(before)
    table = document.add_table(rows=len(outer) + 1, cols=2)
    for row, (label, value) in enumerate(outer):
        table.cell(row, 0).text, table.cell(row, 1).text = label, value
    nested = table.cell(len(outer), 0).add_table(rows=len(inner), cols=2)
    for row, (label, value) in enumerate(inner):
        nested.cell(row, 0).text, nested.cell(row, 1).text = label, value
    table.cell(len(outer), 1).text = "Signed by the workshop"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_zip(members: dict[str, bytes]) -> bytes:
    """A zip archive of the given members (a .docx that lacks the parts a Word file must have)."""
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def make_report_pdf(pages: list[list[str]], header: str, footer: str = "Page {n} of {count}") -> bytes:
    """A PDF whose every page has a running header at the top, its body lines, and a footer with its
    page number at the bottom, as word processors write them."""
    objects: list[bytes] = [b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    page_ids = []
    pages_id = 1 + 2 * len(pages) + 1
    for n, lines in enumerate(pages, 1):
        ops = ["BT /F1 9 Tf", f"1 0 0 1 72 760 Tm ({header}) Tj", "/F1 12 Tf"]
        ops += [f"1 0 0 1 72 {700 - i * 14} Tm ({line}) Tj" for i, line in enumerate(lines)]
        ops += ["/F1 9 Tf", f"1 0 0 1 280 40 Tm ({footer.format(n=n, count=len(pages))}) Tj", "ET"]
        stream = "\n".join(ops).encode("latin-1")
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        objects.append(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 1 0 R >> >> /Contents %d 0 R >>"
                       % (pages_id, len(objects)))
        page_ids.append(len(objects))
    objects.append(b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % i for i in page_ids) + b"] /Count %d >>" % len(page_ids))
    assert len(objects) == pages_id
    objects.append(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id)
    return pdf_file(objects, len(objects))
