"""PDF files through PDFium (pypdfium2): the text of each page laid out from its character boxes.

PDFium gives every character of a page with its box. Characters are grouped into segments (a run
of one line, broken where the line jumps or leaves a wide gap), and the segments are put in reading
order:
- a page whose segments leave a vertical gutter with prose on both sides, side by side (most lines
  of four words or more), is read column by column; lines that cross the gutter (a title, an
  abstract) are read where they stand;
- segments that share a line are one row: a table row, its cells joined as in the other formats
  ("label: value", or "a | b | c"); prose is never split into cells: a line breaks into cells only
  at a gap wider than a line height (three times a justified line's widest space) where the cell
  lines up with a cell of a nearby line (a table's column), or at a gap three line heights wide;
- a gap between lines clearly wider than the column's usual line spacing, an indented first line,
  or a change of font size starts a paragraph; a line in a font clearly larger than the body's,
  followed by body text, is a heading: it names the section and stays in the text;
- a word hyphenated across a line break is re-joined when the next line starts in lower case.

Lines at the top or bottom of the page that repeat on most pages (running headers and footers, page
numbers) are left out of the text and listed in `Extracted.dropped`, so `qa inspect` shows them.
Pages are separated by a blank line, so no passage spans two pages, and each passage is cited with
its page. A page with no text layer but an image is read by OCR when the `ocr` extra is installed
(qa.formats.ocr); its text is laid out by the same rules.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import re
import zlib
from collections import Counter
from dataclasses import dataclass, field

from qa.dates import find_date
from qa.formats import Deadline, Extracted, FormatError, Limits
from qa.formats.blocks import HEADED_COLUMNS, row_text

OCR_EXTRA_HINT = "install the OCR extra to read it: pip install 'qa-bot[ocr]'"
HYPHENS = "-\u00ad\ufffe\x02"  # a hyphen, the soft hyphen, and the markers PDFium gives a hyphen at a line's end
GAP_LINE_HEIGHTS = 1.0  # a horizontal gap wider than a line height may part two cells (a space is a third of one)
WIDE_GAP_LINE_HEIGHTS = 3.0  # a gap this wide always does
HEADER_WORDS = 6  # a column header is a short label
ALIGNED = 2.0  # points: a cell that starts where cells of nearby lines start is a table's column
HEADING_SIZE = 1.2  # a line this many times the body's size, or more, is a heading
PARAGRAPH_GAP = 1.4  # a baseline distance this many times the usual one starts a paragraph
EDGE_SHARE = 0.5  # a top or bottom line repeated on at least this share of the pages is furniture
EDGE_MIN_PAGES = 3
EDGE_LINES = 4  # lines from the top and from the bottom of a page that may be a running header or footer
MAX_INFLATED_BYTES = 75 << 20  # what one stream may inflate to
_STREAM = re.compile(rb"(?<!end)stream\r?\n")
_CHUNK = 1 << 16
_NUMBER_ONLY = re.compile(r"(?:page\s*)?[-–—(\[]?\s*(?:\d+|[ivxlcdm]+)\s*(?:(?:of|/)\s*\d+)?\s*[-–—)\]]?", re.IGNORECASE)
_DIGITS = re.compile(r"\d+")
_FILE_TITLE = re.compile(r"(?:microsoft\s+(?:word|powerpoint)\s+-\s+.*|.*\.(?:docx?|pptx?|indd|odt|tex|dvi|rtf|txt|pdf)|untitled.*)", re.IGNORECASE)


@dataclass(slots=True)
class _Segment:
    """A run of characters on one line of a page; coordinates in points, y upwards."""

    text: str
    x0: float
    x1: float
    bottom: float
    top: float

    @property
    def height(self) -> float:
        return self.top - self.bottom

    @property
    def words(self) -> int:
        return len(self.text.split())


@dataclass(slots=True)
class _Piece:
    segment: _Segment
    follows: bool  # goes on from the piece before it, on the same line, after a gap


@dataclass(slots=True)
class _Line:
    text: str
    x0: float
    x1: float
    bottom: float
    top: float
    size: float
    cells: int
    region: int  # lines of one column run share a region
    hyphenated: bool = False  # ends with a hyphen that may join the next line's word


@dataclass(slots=True)
class _Page:
    lines: list[_Line]
    height: float
    ocr: float | None = None  # the OCR engine's mean confidence, when the page was read by OCR
    duplicates: list[str] = field(default_factory=list)  # text drawn twice at one place, read once


def extract_pdf(data: bytes, limits: Limits, deadline: Deadline) -> Extracted:
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise FormatError("not a PDF file (no %PDF header)")
    _check_inflation(data, deadline)
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        if getattr(error, "err_code", None) in (raw.FPDF_ERR_PASSWORD, raw.FPDF_ERR_SECURITY):
            raise FormatError("the PDF is encrypted with a password") from error
        raise FormatError("not a valid PDF file (damaged, or another format with a .pdf name)") from error
    try:
        count = len(document)
        if count > limits.max_pdf_pages:
            raise FormatError(f"{count:,} pages, more than the limit of {limits.max_pdf_pages:,}")
        pages, images_unread = _read_pages(document, data, count, limits, deadline)
        metadata = _metadata(document)
    finally:
        document.close()
    return _assemble(pages, metadata, count, images_unread)


def _check_inflation(data: bytes, deadline: Deadline) -> None:
    """PDFium inflates a compressed stream whole, in memory, with no limit of its own: a stream that
    inflates past MAX_INFLATED_BYTES (a decompression bomb) makes the file one plain skip instead."""
    for match in _STREAM.finditer(data):
        inflater = zlib.decompressobj()
        position, inflated = match.end(), 0
        try:
            while not inflater.eof and position < len(data):
                chunk = data[position : position + _CHUNK]
                position += len(chunk)
                inflated += len(inflater.decompress(chunk, MAX_INFLATED_BYTES))
                while inflater.unconsumed_tail and inflated <= MAX_INFLATED_BYTES:
                    inflated += len(inflater.decompress(inflater.unconsumed_tail, MAX_INFLATED_BYTES))
                if inflated > MAX_INFLATED_BYTES:
                    raise FormatError(f"a stream inflates to more than {MAX_INFLATED_BYTES // (1 << 20)} MB (a decompression bomb?)")
                deadline.check()
        except zlib.error:
            continue  # not deflated (an image's own coding, plain text): PDFium reads it as stored


def _read_pages(document, data: bytes, count: int, limits: Limits, deadline: Deadline) -> tuple[list[_Page], int]:
    """Every page's lines; pages with no text layer are read by OCR when it is installed, and
    counted in images_unread when it is not."""
    from qa.formats import ocr

    digest = ""
    pages: list[_Page] = []
    chars = 0
    images_unread = 0
    for number in range(count):
        deadline.check()
        page = document[number]
        try:
            height = page.get_height()
            segments = _segments(page)
            confidence = None
            if not segments and _has_image(page):
                if ocr.available():
                    deadline.extend(ocr.SECONDS_PER_PAGE)  # a scan is read at OCR's pace, not a text layer's
                    digest = digest or hashlib.sha256(data).hexdigest()
                    segments, confidence = ocr.read_page(page, digest, number + 1)
                else:
                    images_unread += 1
            chars += sum(len(s.text) for s in segments)
            if chars > limits.max_text_chars:
                raise FormatError(f"more than {limits.max_text_chars:,} characters of text")
            segments, duplicates = _without_duplicates(segments)
            pages.append(_Page(_lines(segments, number), height, confidence, duplicates))
        finally:
            page.close()
        deadline.advance(number + 1, count)
    return pages, images_unread


def _has_image(page) -> bool:
    import pypdfium2.raw as raw

    return any(True for _ in page.get_objects(filter=[raw.FPDF_PAGEOBJ_IMAGE], max_depth=3))


def _segments(page) -> list[_Segment]:
    """The page's characters as segments, in PDFium's order."""
    return _cells(_pieces(page))


def _upright(x0: float, x1: float, bottom: float, top: float, turn: int) -> tuple[float, float, float, float]:
    """A box of text turned by quarter turns (PDFium's angle: clockwise), in coordinates where it
    reads left to right: text set sideways is laid out as lines like any other."""
    if turn == 1:  # reads downwards: x' = -y, y' = x
        return -top, -bottom, x0, x1
    if turn == 2:
        return -x1, -x0, -top, -bottom
    if turn == 3:  # reads upwards: x' = y, y' = -x
        return bottom, top, -x1, -x0
    return x0, x1, bottom, top


def _cells(pieces: list[_Piece]) -> list[_Segment]:
    """Pieces that go on along one line joined again, but where the gap is a table's column."""
    edges = [(p.segment.x0, p.segment.x1, p.segment.bottom, p.segment.height) for p in pieces]
    out: list[_Segment] = []
    for piece in pieces:
        segment = piece.segment
        if piece.follows and out:
            before = out[-1]
            wide = segment.x0 - before.x1 > WIDE_GAP_LINE_HEIGHTS * max(segment.height, before.height)
            # a column of cells: left-aligned (the next cell starts where cells of a nearby line start)
            # or right-aligned (figures: the cell before the gap ends where others end; not the cell
            # after it, whose end may be the margin that every justified line ends at)
            aligned = sum(1 for x0, x1, bottom, height in edges
                          if height / 2 < abs(bottom - segment.bottom) < 8 * height
                          and (abs(x0 - segment.x0) <= ALIGNED or abs(x1 - before.x1) <= ALIGNED))
            if not wide and aligned < 1:
                out[-1] = _Segment(f"{before.text} {segment.text}", before.x0, max(before.x1, segment.x1),
                                   min(before.bottom, segment.bottom), max(before.top, segment.top))
                continue
        out.append(segment)
    return out


def _pieces(page) -> list[_Piece]:
    """The page's characters as pieces: runs of one line without a wide gap, in PDFium's order.
    PDFium is asked as little as it can be per character (its calls are most of a page's time):
    the text in one call, then each character's box, and its angle only where a run starts or
    leaves its line."""
    import ctypes

    import pypdfium2.raw as raw

    textpage = page.get_textpage()
    try:
        handle = textpage.raw
        count = raw.FPDFText_CountChars(handle)
        units = ctypes.create_string_buffer(2 * (count + 1))
        written = raw.FPDFText_GetText(handle, 0, count, ctypes.cast(units, ctypes.POINTER(ctypes.c_ushort)))
        codes = memoryview(units.raw[: 2 * max(written - 1, 0)]).cast("H")  # one UTF-16 unit per character
        rect = raw.FS_RECTF()
        box_of = raw.FPDFText_GetLooseCharBox
        angle_of = raw.FPDFText_GetCharAngle
        out: list[_Piece] = []
        chars: list[str] = []
        x0 = x1 = bottom = top = 0.0  # the current piece's box
        last_x0 = last_x1 = 0.0
        follows = False  # whether the next piece goes on along the same line
        quarter = 0  # quarter turns of the current piece's text: a table turned on its side reads upright
        high = 0

        def close(same_line: bool = False) -> None:
            nonlocal follows
            text = "".join(chars).strip()
            if text:
                out.append(_Piece(_Segment(text, x0, x1, bottom, top), follows))
            follows = same_line and bool(text)
            chars.clear()

        for i in range(min(count, len(codes))):
            code = codes[i]
            if 0xD800 <= code < 0xDC00:
                high = code
                continue
            if 0xDC00 <= code < 0xE000:
                code = 0x10000 + ((high - 0xD800) << 10) + (code - 0xDC00) if high else 0xFFFD
            high = 0
            if code == 10 or code == 13:
                close()
                continue
            char = chr(code)
            if char.isspace():  # PDFium's own spaces between words come here too
                if chars and chars[-1] != " ":
                    chars.append(" ")
                continue
            if code < 0x20 and code != 0x02:
                continue
            box_of(handle, i, rect)
            left, right, low, high_y = rect.left, rect.right, rect.bottom, rect.top
            if chars and right - left <= 0 and high_y - low <= 0:
                chars.append(char)  # a ligature's second letter, which has no box of its own
                continue
            if low > high_y:
                low, high_y = high_y, low
            if not chars or quarter:
                turn = round(angle_of(handle, i) / (math.pi / 2)) % 4
            else:
                turn = 0
            if turn:
                left, right, low, high_y = _upright(left, right, low, high_y, turn)
            if chars:
                height = max(top - bottom, high_y - low, 1.0)
                overlap = min(high_y, top) - max(low, bottom)
                # off the line, or back before the previous letter: another run of text
                # (a ligature's letters share one box, so they do not go back)
                if overlap < 0.5 * min(high_y - low, top - bottom) or left < last_x0 - height:
                    if not quarter and round(angle_of(handle, i) / (math.pi / 2)) % 4:
                        turn = round(angle_of(handle, i) / (math.pi / 2)) % 4
                        left, right, low, high_y = _upright(rect.left, rect.right, min(rect.bottom, rect.top), max(rect.bottom, rect.top), turn)
                    close()
                elif left - last_x1 > GAP_LINE_HEIGHTS * height:
                    close(same_line=True)
                elif turn != quarter:
                    close()
            quarter = turn
            if not chars:
                x0, x1, bottom, top = left, right, low, high_y
            else:
                x0 = left if left < x0 else x0
                x1 = right if right > x1 else x1
                bottom = low if low < bottom else bottom
                top = high_y if high_y > top else top
            last_x0, last_x1 = left, right
            chars.append(char)
        close()
        return out
    finally:
        textpage.close()


def _without_duplicates(segments: list[_Segment]) -> tuple[list[_Segment], list[str]]:
    """Text drawn twice at the same place (a shadow, faked bold) is read once; the copies are listed."""
    seen: set[tuple[str, int, int]] = set()
    kept: list[_Segment] = []
    copies: list[str] = []
    for segment in segments:
        key = (segment.text, round(segment.x0 / 3), round(segment.bottom / 3))
        if key in seen:
            copies.append(segment.text)
        else:
            seen.add(key)
            kept.append(segment)
    return kept, copies


def _lines(segments: list[_Segment], page_number: int) -> list[_Line]:
    """The segments in reading order, those that share a line joined into one row."""
    lines: list[_Line] = []
    region = [page_number * 1000]

    def emit(group: list[_Segment]) -> None:
        region[0] += 1
        header: list[_Segment] | None = None  # the first row of a table: the column headers of the rows below
        for row in _rows(group):
            row.sort(key=lambda s: s.x0)
            texts = [s.text for s in row]
            if len(texts) == 1:
                text, header = texts[0], None
            elif header is None:
                # a description that reads on from its term in lower case ("-c, --check  checks the
                # syntax only") is one line of text, not a label and its value
                text = " ".join(texts) if len(texts) == 2 and texts[1][:1].islower() else row_text(texts)
                if len(texts) >= HEADED_COLUMNS and all(s.words <= HEADER_WORDS for s in row):
                    header = row
            else:
                text = row_text(texts, [_header_over(cell, header) for cell in row])
            hyphenated = len(text) > 1 and text[-1] in HYPHENS and text[-2].isalpha()
            lines.append(_Line(text=text, x0=row[0].x0, x1=max(s.x1 for s in row), bottom=min(s.bottom for s in row),
                               top=max(s.top for s in row), size=max(s.height for s in row), cells=len(row), region=region[0],
                               hyphenated=hyphenated))

    _in_reading_order(segments, emit)
    return lines


def _header_over(cell: _Segment, header: list[_Segment]) -> str:
    """The header cell above a cell: the one its span overlaps most (none: an unheaded column)."""
    best, most = "", 0.0
    for candidate in header:
        overlap = min(cell.x1, candidate.x1) - max(cell.x0, candidate.x0)
        if overlap > most:
            best, most = candidate.text, overlap
    return best


def _rows(segments: list[_Segment]) -> list[list[_Segment]]:
    """Segments grouped by line, top to bottom; a segment joins a row it overlaps by half its height."""
    rows: list[list[_Segment]] = []
    bands: list[tuple[float, float]] = []
    for segment in sorted(segments, key=lambda s: -s.top):
        for i, (bottom, top) in enumerate(bands[-3:], start=max(0, len(bands) - 3)):
            overlap = min(top, segment.top) - max(bottom, segment.bottom)
            if overlap >= 0.5 * min(segment.height, top - bottom):
                rows[i].append(segment)
                bands[i] = (min(bottom, segment.bottom), max(top, segment.top))
                break
        else:
            rows.append([segment])
            bands.append((segment.bottom, segment.top))
    return rows


def _in_reading_order(segments: list[_Segment], emit, depth: int = 0) -> None:
    """Columns left to right when a gutter with prose on both sides divides the segments; the
    segments that cross the gutter split the page into bands, each read column by column."""
    gutter = _gutter(segments) if depth < 4 and len(segments) >= 6 else None
    if gutter is None:
        if segments:
            emit(segments)
        return
    left: list[_Segment] = []
    right: list[_Segment] = []

    def flush() -> None:
        _in_reading_order(left, emit, depth + 1)
        _in_reading_order(right, emit, depth + 1)
        left.clear()
        right.clear()

    for segment in sorted(segments, key=lambda s: -s.top):
        if segment.x1 <= gutter:
            left.append(segment)
        elif segment.x0 >= gutter:
            right.append(segment)
        else:
            flush()
            emit([segment])
    flush()


def _gutter(segments: list[_Segment]) -> float | None:
    """An x that few segments cross and that has prose columns on both sides, or None."""
    best: tuple[int, float] | None = None
    for candidate in sorted({s.x1 + 0.5 for s in segments}):
        left = [s for s in segments if s.x1 <= candidate]
        right = [s for s in segments if s.x0 >= candidate]
        if len(left) < 3 or len(right) < 3:
            continue
        crossing = len(segments) - len(left) - len(right)
        if crossing > 0.5 * len(segments):
            continue
        if not (_prose(left) and _prose(right)) or _side_by_side(left, right) < 3:
            continue
        if best is None or crossing < best[0]:
            best = (crossing, candidate)
    return best[1] if best else None


def _side_by_side(left: list[_Segment], right: list[_Segment]) -> int:
    """How many segments on the right share a line with one on the left: columns stand side by
    side, where lines that merely end early or start late do not."""
    bands = sorted((s.bottom, s.top) for s in left)
    count = 0
    for segment in right:
        middle = (segment.bottom + segment.top) / 2
        i = bisect.bisect_right(bands, (middle, float("inf")))
        if any(bottom <= middle <= top for bottom, top in bands[max(0, i - 8) : i]):
            count += 1
    return count


def _prose(segments: list[_Segment]) -> bool:
    """Most segments are runs of words, as in a column of text, rather than table cells or labels
    (OCR may run words together: a long run of characters counts too)."""
    return sum(1 for s in segments if s.words >= 4 or len(s.text) >= 25) >= 0.6 * len(segments)


def _assemble(pages: list[_Page], metadata: dict[str, str], count: int, images_unread: int) -> Extracted:
    edges, dropped = _repeated_edges(pages)
    sizes: Counter[float] = Counter()
    for page in pages:
        for line in page.lines:
            sizes[round(line.size, 1)] += len(line.text)
    body = sizes.most_common(1)[0][0] if sizes else 0.0
    heading_sizes = sorted({round(line.size, 1) for page in pages for line in page.lines if _is_heading(line, body)}, reverse=True)
    _, title_lines = _title_lines(pages)  # the title is every passage's, not a section of the first page
    pieces: list[str] = []
    page_starts: list[int] = []
    headings: dict[int, int] = {}
    ocr_pages: list[tuple[int, float]] = []
    length = 0
    for number, page in enumerate(pages):
        if pieces and not pieces[-1].endswith("\n\n"):
            pieces.append("\n\n")
            length += 2
        page_starts.append(length)
        if page.ocr is not None:
            ocr_pages.append((number + 1, page.ocr))
        dropped.extend(("text drawn twice at one place, read once", copy) for copy in page.duplicates)
        lines = [line for i, line in enumerate(page.lines) if (number, i) not in edges]
        previous: _Line | None = None
        usual = _usual_spacing(lines)
        # OCR boxes measure the ink of each line, not its type size: no heading is guessed from them
        scanned = page.ocr is not None
        page_headings = set() if scanned else _headings(lines, body) - title_lines
        left: dict[int, float] = {}
        for line in lines:
            left[line.region] = min(left.get(line.region, line.x0), line.x0)
        for line in lines:
            heading = id(line) in page_headings
            if previous is not None:
                if previous.hyphenated and line.text[:1].islower() and not heading:
                    pieces[-1] = pieces[-1][:-1]
                    length -= 1
                    separator = ""
                elif _starts_paragraph(previous, line, usual, left, page_headings, scanned):
                    separator = "\n\n"
                else:
                    separator = "\n"
                pieces.append(separator)
                length += len(separator)
            text = line.text
            if heading:
                headings[length] = 1 + heading_sizes.index(round(line.size, 1))
            pieces.append(text)
            length += len(text)
            previous = line
    text = "".join(pieces).rstrip()
    text = text.replace("\ufffe", "-").replace("\x02", "-")
    if not text.strip():
        pages_word = f"{count} page{'s' if count != 1 else ''}"
        if images_unread:
            raise FormatError(f"no text layer in {pages_word}, only images (a scanned PDF? {OCR_EXTRA_HINT})")
        raise FormatError(f"no text in {pages_word}")
    title = metadata.get("Title")
    if not title or _FILE_TITLE.fullmatch(title):
        title = _first_page_title(pages) or next(line.strip() for line in text.splitlines() if line.strip())[:120]
    date = _pdf_date(metadata.get("CreationDate"))
    if images_unread:
        dropped.append(("image-only pages, not read (the OCR extra is not installed)", f"{images_unread} of {count} pages"))
    return Extracted(text=text, title=title[:300], date=date, headings=headings, page_starts=tuple(page_starts),
                     dropped=tuple(dropped), ocr_pages=tuple(ocr_pages), headings_in_text=True)


def _first_page_title(pages: list[_Page]) -> str | None:
    """The lines in the largest type on the first page with text, read together (a title set on
    two lines is one title); type with fewer than four letters is a logo or an initial, not a title.
    A running header may repeat the title: it is still the title, though left out of the text."""
    return _title_lines(pages)[0]


def _title_lines(pages: list[_Page]) -> tuple[str | None, set[int]]:
    """The first page's title (see _first_page_title) and the ids of its lines."""
    for page in pages:
        lines = page.lines
        for size in sorted({line.size for line in lines}, reverse=True):
            run: list[_Line] = []
            for line in lines:
                if abs(line.size - size) <= 0.5:
                    run.append(line)
                elif run:
                    break
            title = " ".join(line.text for line in run)
            if sum(char.isalpha() for char in title) >= 4:
                return title[:120], {id(line) for line in run}
        if lines:
            return None, set()
    return None, set()


def _headings(lines: list[_Line], body: float) -> set[int]:
    """ids of the lines that are headings: large lines with body text after them before a line as
    large (on a poster every line is large, and none of them heads anything)."""
    found: set[int] = set()
    for i, line in enumerate(lines):
        if not _is_heading(line, body):
            continue
        for later in lines[i + 1 :]:
            if not _is_heading(later, body):
                found.add(id(line))
                break
            if later.size >= line.size - 0.5:
                break
    return found


def _is_heading(line: _Line, body: float) -> bool:
    return (body > 0 and line.size >= HEADING_SIZE * body and line.cells == 1 and len(line.text.split()) <= 12
            and not line.text.rstrip().endswith((".", ",", ";")))


def _usual_spacing(lines: list[_Line]) -> float:
    gaps = sorted(a.bottom - b.bottom for a, b in zip(lines, lines[1:], strict=False)
                  if a.region == b.region and 0 < a.bottom - b.bottom < 3 * max(a.size, b.size))
    return gaps[len(gaps) // 4] if gaps else 0.0


def _starts_paragraph(previous: _Line, line: _Line, usual: float, left: dict[int, float], headings: set[int], scanned: bool = False) -> bool:
    if id(line) in headings or id(previous) in headings:
        return True
    if not scanned and abs(line.size - previous.size) > 0.15 * max(line.size, previous.size):
        return True
    if line.region != previous.region:
        # text that flows on into the next column goes on in lower case after an unfinished line
        return not (line.text[:1].islower() and not previous.text.endswith((".", "!", "?", ":")))
    if 0.5 * line.size < line.x0 - left[line.region] < 4 * line.size:
        return True  # an indented first line
    distance = previous.bottom - line.bottom
    return distance <= 0 or (usual > 0 and distance > PARAGRAPH_GAP * usual)


def _repeated_edges(pages: list[_Page]) -> tuple[set[tuple[int, int]], list[tuple[str, str]]]:
    """(page, line) of the top and bottom lines that repeat on most pages (digits aside: page
    numbers change), and what was left out, once per distinct line, for `qa inspect`."""
    if len(pages) < EDGE_MIN_PAGES:
        return set(), []
    candidates: dict[str, list[tuple[int, int, str, str]]] = {}
    for number, page in enumerate(pages):
        if not page.lines:
            continue
        order = sorted(range(len(page.lines)), key=lambda i: -page.lines[i].top)
        middle = page.height / 2
        for where, indexes in (("header", order[:EDGE_LINES]), ("footer", order[::-1][:EDGE_LINES])):
            for i in indexes:
                line = page.lines[i]
                if (line.bottom > middle) != (where == "header"):
                    continue
                key = where + ":" + _DIGITS.sub("#", " ".join(line.text.lower().split()))
                candidates.setdefault(key, []).append((number, i, where, line.text))
    needed = max(EDGE_MIN_PAGES, EDGE_SHARE * len(pages))
    repeated = [found for found in candidates.values() if len({number for number, *_ in found}) >= needed]
    # A page's only lines are its text, however alike the pages are ("This is page 3 of the report").
    left = Counter(number for number, page in enumerate(pages) for _ in page.lines)
    for found in repeated:
        left.subtract(number for number, *_ in found)
    bare = {number for number, count in left.items() if count <= 0}
    edges: set[tuple[int, int]] = set()
    dropped: list[tuple[str, str]] = []
    for found in repeated:
        found = [item for item in found if item[0] not in bare]
        on_pages = {number for number, *_ in found}
        if len(on_pages) < needed:
            continue
        where, text = found[0][2], found[0][3]
        kind = "page number" if _NUMBER_ONLY.fullmatch(text.strip()) else f"page {where}"
        # every occurrence is listed: nothing leaves the text unsaid
        dropped.extend((f"{kind}, repeated on {len(on_pages)} of {len(pages)} pages", line) for _, _, _, line in found)
        edges.update((number, i) for number, i, *_ in found)
    return edges, dropped


def _metadata(document) -> dict[str, str]:
    try:
        found = document.get_metadata_dict(skip_empty=True)
    except Exception:
        return {}
    return {key: str(value).strip() for key, value in found.items() if str(value).strip()}


def _pdf_date(value: str | None) -> str | None:
    """PDF dates look like D:20240131120000Z."""
    if not value:
        return None
    match = re.match(r"(?:D:)?(\d{4})(\d{2})(\d{2})", value)
    return find_date(f"{match.group(1)}-{match.group(2)}-{match.group(3)}") if match else None


