"""Splitting a document into paragraph passages with exact spans, a title, a date and sections.

The rules are general layout rules, not rules for particular files:
- the header is the run of short lines before the first body line; it holds the title, the date
  and captions, and none of it is a passage;
- a line echoed by a "Back to …" link is a breadcrumb, not the title;
- list items start new paragraphs even on consecutive lines;
- a short unpunctuated line that introduces indented or following text is a heading;
- navigation links, "PhotoN" captions and the colon-ended form labels that end a page are furniture.

No text is lost: header lines and guessed headings stay in the passages (a short line may as well
be the start of a hard-wrapped sentence); a guessed heading also names the section of what follows.
Only the header's photo captions, and its lines that are nothing but the title or the date (which
every passage carries) when they stand apart from the text, are left out.
Formats with structure of their own (HTML, DOCX) bring their title and heading lines, and these
rules do not guess them; Markdown adds front matter, `#` and underlined (setext) headings, and
fenced code blocks, which stay whole. Explicit headings are the section of the passages under them.
Markdown's badges, images, MyST labels `(name)=`, link reference definitions, rules and lines of
bare HTML tags are furniture. Every line left out of the passages is listed, with why, in `dropped`.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field

from qa.dates import find_date
from qa.formats import Extracted
from qa.schema import Passage
from qa.sentences import sentence_spans
from qa.text import LIST_MARKER

# Bump when the output of split_document changes, so indexes built by older rules are rebuilt.
# 2: formats, pages, code blocks; 3: lower-case text splits into sentences; 4: no lost text (header
# lines and guessed headings stay in passages), Markdown furniture and setext headings; 5: short
# blocks of a section merged, a list kept with the line that introduces it, PDFs read by PDFium.
SPLITTER_VERSION = "5"

MAX_WINDOW_WORDS = 150  # all-MiniLM-L6-v2 reads 256 word pieces; leave room for title and section.
# Consecutive short blocks of one section (list items, table rows, short paragraphs) are merged into
# one passage of up to this many words: a lone line that shares a question's words otherwise
# outranks the paragraph that answers it. Measured in docs/formats.md.
MERGE_TARGET_WORDS = 100

# Why a line is in no passage: each reason docs/formats lists (page furniture and structure).
SECTION_HEADING = "section heading"  # an explicit heading: the section of the passages under it
DROPPED_ON_PURPOSE = frozenset({
    SECTION_HEADING, "title", "date", "heading underline", "front matter", "badge", "image", "label", "link reference", "rule",
    "html tag", "navigation", "caption", "form label",
})
_MD_IMAGE = r"!\[[^\]]*\]\([^)]*\)"
_MD_FURNITURE = (
    ("badge", re.compile(rf"(?:\[{_MD_IMAGE}\]\([^)]*\)\s*)+")),  # linked images: CI and version badges
    ("image", re.compile(rf"(?:{_MD_IMAGE}\s*)+")),
    ("label", re.compile(r"\(\s*[\w.:-]+\s*\)=")),  # a MyST target label
    ("link reference", re.compile(r"\[[^\]]+\]:\s*\S+(?:\s+[\"'(].*)?")),
    ("rule", re.compile(r"(?:[-*_]\s*){3,}")),
    ("html tag", re.compile(r"(?:</?[a-zA-Z][^>]*>\s*)+")),  # only tags, no text: <div align="center">
)
_SETEXT = re.compile(r"=+|-+")
_LINK_LINE = re.compile(r"(?:<?https?://\S+>?|!?\[[^\]]*\]\([^)]*\)|[\s|·,•-])+")
# A line that is a date and nothing else: "November 7, 2023", "Posted On: 8th January 2016".
_DATE_ONLY = re.compile(
    r"(?:(?:posted|published|updated|dated?|on)\b:?|\d{1,4}(?:st|nd|rd|th)?|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
    r"|(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?|[\s,/.()–-])+",
    re.IGNORECASE,
)
_ADDRESS_OR_NUMBER = re.compile(r"\d|://|@|www\.")
_INLINE_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_HEADING = re.compile(r"(#{1,6})\s+(.+?)\s*#*\s*$")
_NAVIGATION = re.compile(r"(?:back|return|go|skip)\s+to\b", re.IGNORECASE)
_CAPTION = re.compile(r"(?:photo|image|picture|figure|fig\.?|video)\s*\d*", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?…][\"”’')\]]*$")
_CLOSED_END = re.compile(r"[.!?…:;,\"”’)\]]$")
_TRAILING_NUMBER = re.compile(r"\s*\d+$")
_FENCE = re.compile(r"(`{3,}|~{3,})")


@dataclass(frozen=True, slots=True)
class _Line:
    start: int  # offset of the first non-space character
    end: int  # offset after the last non-space character
    indent: int
    text: str
    kind: str = ""  # "furniture": a line left out, blanked; "header": a header line kept as text

    @property
    def words(self) -> int:
        return len(self.text.split())

    @property
    def is_list_item(self) -> bool:
        marker = LIST_MARKER.match(self.text)
        return marker is not None and marker.end() < len(self.text)

    @property
    def is_short(self) -> bool:
        return self.words <= 15 and len(self.text) <= 120

    def is_body(self, starts_block: bool) -> bool:
        """Looks like running text rather than a title, date or caption (captions can be long,
        but they are not sentences and they sit in a run of lines with no blank line between)."""
        if self.words >= 5 and _SENTENCE_END.search(self.text):
            return True
        return self.words >= 25 or (self.words >= 16 and starts_block)


@dataclass(frozen=True, slots=True)
class DocumentLayout:
    title: str
    date: str | None
    passages: list[Passage]
    # (start, end, why) of each non-blank line left out of the passages: header, heading, furniture…
    dropped: list[tuple[int, int, str]] = field(default_factory=list)


def split_document(
    doc: str, text: str, max_words: int = MAX_WINDOW_WORDS, *, extracted: Extracted | None = None
) -> DocumentLayout:
    """Passages of one document; for each, text[passage.start:passage.end] == passage.text.
    extracted, when given, is what the document's format says of it (extracted.text is text)."""
    if extracted is None:
        extracted = Extracted(text=text, markdown=doc.lower().endswith((".md", ".markdown")))
    dropped: list[tuple[int, int, str]] = []
    lines = _lines(text)
    markdown_headings: dict[int, tuple[int, str]] = {}
    if extracted.headings is not None:
        body = lines
        headings = extracted.headings
        first_heading = next((line.text for line in body if line.start in headings), None)
        title = extracted.title or first_heading or _fallback_title(doc, [])
        date = extracted.date
    else:
        headings = None
        before = len(lines)
        front_matter, lines = _front_matter(text, lines)
        if len(lines) < before:
            dropped.append((0, lines[0].start if lines else len(text), "front matter"))
        if extracted.markdown:
            lines, markdown_headings = _markdown_structure(lines, dropped)
        breadcrumbs = {m.group(1).lower() for line in lines if (m := _breadcrumb_target(line.text))}
        kept = _drop_trailing_furniture(lines, dropped)
        header, body = _split_header(kept, extracted.markdown)
        header_title, date = _title_and_date([line for line in header if line.text], breadcrumbs)
        md_title = _first_md_heading(body, markdown_headings) if extracted.markdown else None
        title = front_matter.get("title") or md_title or header_title or extracted.title or _fallback_title(doc, [line for line in header if line.text])
        body = _header_back_to_body(header, body[0] if body else None, breadcrumbs, title, dropped) + body
        date = find_date(front_matter.get("date", "")) or date or extracted.date
    pages = extracted.page_starts
    blocks = list(_paragraphs(text, body, title, max_words, extracted.markdown, headings, dropped, markdown_headings,
                              extracted.headings_in_text))
    ocr = dict(extracted.ocr_pages)
    passages = []
    for start, end, section in _merged(text, blocks, dropped, pages, max_words):
        page = bisect_right(pages, start) if pages else None
        passages.append(Passage(doc=doc, title=title, date=date, section=section, start=start, end=end, text=text[start:end],
                                page=page, ocr=ocr.get(page) if page is not None else None))
    return DocumentLayout(title=title, date=date, passages=passages, dropped=sorted(dropped))


def _merged(
    text: str, blocks: list[tuple[int, int, str | None]], dropped: list[tuple[int, int, str]], pages: tuple[int, ...], max_words: int
) -> Iterator[tuple[int, int, str | None]]:
    """Consecutive blocks of one section joined while they fit in MERGE_TARGET_WORDS (a list with
    the line that introduces it, up to max_words); a heading-like line left alone goes with the block
    after it. Blocks never join across a heading (the section changes), text left out, a page
    break, a code block or the windows of a long paragraph. A joined passage spans its blocks and
    the whitespace between them."""
    target = min(MERGE_TARGET_WORDS, max_words)
    gap_starts = sorted(start for start, _, _ in dropped)
    group: list[tuple[int, int, str | None]] = []
    words = 0

    def joinable(before: tuple[int, int, str | None], after: tuple[int, int, str | None], total: int) -> bool:
        if after[0] < before[1] or _is_code(text, before) or _is_code(text, after):
            return False
        i = bisect_left(gap_starts, before[1])
        if i < len(gap_starts) and gap_starts[i] < after[0]:
            return False  # text left out lies between them
        if pages and bisect_right(pages, before[1]) != bisect_right(pages, after[0]):
            return False
        if before[2] != after[2]:
            return len(group) == 1 and _heading_like(text[before[0] : before[1]]) and total <= max_words
        if total <= target:
            return True
        introduced = any(text[s:e].rstrip().endswith(":") for s, e, _ in group)
        return introduced and LIST_MARKER.match(text[after[0] : after[1]]) is not None and total <= max_words

    for block in blocks:
        count = len(text[block[0] : block[1]].split())
        if group and joinable(group[-1], block, words + count):
            group.append(block)
            words += count
            continue
        if group:
            yield group[0][0], group[-1][1], group[-1][2]
        group, words = [block], count
    if group:
        yield group[0][0], group[-1][1], group[-1][2]


def _is_code(text: str, block: tuple[int, int, str | None]) -> bool:
    return _FENCE.match(text, block[0]) is not None


def _heading_like(block: str) -> bool:
    """One short line without a sentence's end: a heading or a label, not a passage of its own."""
    return "\n" not in block and len(block.split()) <= 10 and not _CLOSED_END.search(block)


def _markdown_structure(lines: list[_Line], dropped: list[tuple[int, int, str]]) -> tuple[list[_Line], dict[int, tuple[int, str]]]:
    """Markdown's own structure outside code blocks: headings (`#` and underlined) by line offset,
    as (level, text); furniture lines (badges, images, labels…) blanked and listed in dropped."""
    out = list(lines)
    found: dict[int, tuple[int, str]] = {}
    fence: str | None = None
    for i, line in enumerate(lines):
        if fence is not None:
            if line.text.startswith(fence) and line.text.strip(fence[0]) == "":
                fence = None
            continue
        if opening := _FENCE.match(line.text):
            fence = opening.group(1)
            continue
        if not line.text:
            continue
        if md := _MD_HEADING.match(line.text):
            found[line.start] = (len(md.group(1)), _inline_text(md.group(2)))
            continue
        previous = out[i - 1] if i else None
        if (_SETEXT.fullmatch(line.text) and previous is not None and previous.text and previous.start not in found
                and not previous.is_list_item and (i < 2 or not out[i - 2].text)):
            found[previous.start] = (1 if line.text[0] == "=" else 2, _inline_text(previous.text))
            dropped.append((line.start, line.end, "heading underline"))
            out[i] = _blank(line)
            continue
        for why, pattern in _MD_FURNITURE:
            if pattern.fullmatch(line.text):
                dropped.append((line.start, line.end, why))
                out[i] = _blank(line)
                break
    return out, found


def _blank(line: _Line) -> _Line:
    """A furniture line, left out: it ends the paragraph before it, like a blank line."""
    return _Line(start=line.start, end=line.start, indent=0, text="", kind="furniture")


def _inline_text(text: str) -> str:
    """Heading text without its Markdown links and emphasis: "[libcbor](https://…)" reads "libcbor"."""
    text = _INLINE_LINK.sub(lambda m: m.group(1), text)
    return text.strip().strip("*_`").strip() or text.strip()


def _header_back_to_body(
    header: list[_Line], first_body: _Line | None, breadcrumbs: set[str], title: str, dropped: list[tuple[int, int, str]]
) -> list[_Line]:
    """The header's lines stay in the passages, but for its breadcrumbs, its photo captions
    (numbered series, and the lines after the date line, but the title, that describe a picture in a
    phrase: three words or more, no digits, no address, not a sentence that goes on below) and the
    lines that are only its title or only its date, standing apart from any kept text (every passage
    carries both; a title line that runs on into text may be a sentence's start, and stays; a title
    is left out only beside a date line of its own, as articles have)."""
    lines = [line for line in header if line.text]
    series = _caption_series(lines)
    date_index = next((i for i, line in enumerate(lines) if find_date(line.text)), None)
    after_date = {line.start for line in lines[date_index + 1 :]} if date_index is not None else set()
    # A title line is metadata only in a header that also has a date line of its own (an article's).
    dated_apart = date_index is not None and lines[date_index].text != title
    sequence = [*header, first_body] if first_body is not None else list(header)
    reasons: list[str | None] = []
    for i, line in enumerate(header):
        why = None
        if line.text:
            below = sequence[i + 1] if i + 1 < len(sequence) else None
            goes_on = below is not None and below.text[:1].islower()
            why = _furniture_reason(line) or ("navigation" if line.text.lower() in breadcrumbs else None)
            described = (line.start in after_date and line.words >= 3 and line.text != title and not goes_on
                         and not _ADDRESS_OR_NUMBER.search(line.text))
            why = why or ("caption" if line.start in series or described else None)
            if why is None and line.text == title and dated_apart:
                why = "title?"
            elif why is None and _DATE_ONLY.fullmatch(line.text) and find_date(line.text):
                why = "date?"
        reasons.append(why)
    reasons.append(None if first_body is None or not first_body.text else "text")
    for i, why in enumerate(reasons[: len(header)]):
        if why in ("title?", "date?"):
            alone = all(reasons[j] not in (None, "text") or not sequence[j].text for j in (i - 1, i + 1) if 0 <= j < len(sequence))
            reasons[i] = why[:-1] if alone else None
    kept = []
    for line, why in zip(header, reasons[: len(header)], strict=True):  # the last reason is the body's
        if why:
            dropped.append((line.start, line.end, why))
            kept.append(_blank(line))
        else:
            kept.append(_Line(start=line.start, end=line.end, indent=line.indent, text=line.text, kind="header"))
    return kept


def _caption_series(header: list[_Line]) -> set[int]:
    """Offsets of captions numbered in a series ("Meeting 1", "Meeting 2"): a gallery's labels."""
    numbered = [(line, _TRAILING_NUMBER.sub("", line.text)) for line in header if _TRAILING_NUMBER.search(line.text)]
    labels: dict[str, set[str]] = {}
    for line, stem in numbered:
        labels.setdefault(stem, set()).add(line.text)
    return {line.start for line, stem in numbered if re.search(r"[^\W\d_]{2}", stem) and len(labels[stem]) > 1}


def _lines(text: str) -> list[_Line]:
    lines, offset = [], 0
    for raw in text.splitlines(keepends=True):
        content = raw.rstrip("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
        stripped = content.strip()
        lead = len(content) - len(content.lstrip())
        start = offset + lead
        lines.append(_Line(start=start, end=start + len(stripped), indent=_indent_width(content[:lead]), text=stripped))
        offset += len(raw)
    return lines


def _indent_width(whitespace: str) -> int:
    return sum(4 if char == "\t" else 1 for char in whitespace)


def _front_matter(text: str, lines: list[_Line]) -> tuple[dict[str, str], list[_Line]]:
    """YAML-style front matter (--- … ---) at the top of a Markdown file: simple key: value pairs."""
    content = [i for i, line in enumerate(lines) if line.text]
    if not content or lines[content[0]].text != "---":
        return {}, lines
    for i in content[1:]:
        if lines[i].text in ("---", "..."):
            fields = {}
            for line in lines[content[0] + 1 : i]:
                key, sep, value = line.text.partition(":")
                if sep:
                    fields[key.strip().lower()] = value.strip().strip("\"'")
            return fields, lines[i + 1 :]
    return {}, lines


def _breadcrumb_target(text: str) -> re.Match | None:
    return re.fullmatch(r"(?:back|return)\s+to\s+(?:the\s+)?(.+?)\s*", text, re.IGNORECASE)


def _furniture_reason(line: _Line) -> str | None:
    if _NAVIGATION.match(line.text) and line.is_short:
        return "navigation"
    return "caption" if _CAPTION.fullmatch(line.text) else None


def _is_furniture(line: _Line) -> bool:
    return _furniture_reason(line) is not None


def _drop_trailing_furniture(lines: list[_Line], dropped: list[tuple[int, int, str]]) -> list[_Line]:
    """Drop the navigation links and form labels ("Select a page:") that end a page, back to the
    last content; a short line that is not furniture stays (a signature, a last list item)."""
    end = len(lines)
    while end > 0:
        line = lines[end - 1]
        if line.text:
            form_label = line.is_short and line.text.endswith(":") and not line.is_list_item
            why = _furniture_reason(line) or ("form label" if form_label else None)
            if why is None:
                break
            dropped.append((line.start, line.end, why))
        end -= 1
    return lines[:end]


def _split_header(lines: list[_Line], markdown: bool = False) -> tuple[list[_Line], list[_Line]]:
    """The header is the short lines before the first body line, list item, Markdown heading or code
    block; in Markdown, whose headings say what the title is, there is none."""
    if markdown:
        return [], lines
    for i, line in enumerate(lines):
        if not line.text:
            continue
        starts_block = i == 0 or not lines[i - 1].text
        if line.is_body(starts_block) or line.is_list_item or _MD_HEADING.match(line.text) or line.words > 30:
            return lines[:i], lines[i:]
    return [], lines


def _title_and_date(header: list[_Line], breadcrumbs: set[str]) -> tuple[str | None, str | None]:
    date_index = next((i for i, line in enumerate(header) if find_date(line.text)), None)
    date = find_date(header[date_index].text) if date_index is not None else None
    candidates = [
        (i, line.text)
        for i, line in enumerate(header)
        if i != date_index and line.text.lower() not in breadcrumbs and not _is_furniture(line)
        and not _LINK_LINE.fullmatch(line.text)
    ]
    before_date = [text for i, text in candidates if date_index is None or i < date_index]
    if before_date:
        return before_date[0], date
    captions = [text for _, text in candidates]
    return _title_from_captions(captions), date


def _title_from_captions(captions: list[str]) -> str | None:
    """Photo captions such as "Meeting 1", "Meeting 2" share a stem that names the event;
    otherwise a caption in Title Case is a name rather than a description."""
    stems = [_TRAILING_NUMBER.sub("", caption) for caption in captions]
    for stem in stems:
        if stem and stems.count(stem) > 1:
            return stem
    for caption in captions:
        words = [w for w in re.findall(r"[A-Za-z][\w’'-]*", caption) if len(w) > 3]
        if words and all(w[0].isupper() for w in words):
            return caption
    return None


def _first_md_heading(body: list[_Line], headings: dict[int, tuple[int, str]]) -> str | None:
    """A Markdown document's title: its first top-level heading, or its first heading of any level
    when that comes before any text."""
    top = next((text for _, (level, text) in sorted(headings.items()) if level == 1), None)
    if top:
        return top
    first = next((line for line in body if line.text), None)
    return headings[first.start][1] if first is not None and first.start in headings else None


def _fallback_title(doc: str, header: list[_Line]) -> str:
    if header:
        return header[0].text
    name = doc.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0]


def _paragraphs(
    text: str,
    body: list[_Line],
    title: str,
    max_words: int,
    markdown: bool = False,
    known_headings: dict[int, int] | None = None,
    dropped: list[tuple[int, int, str]] | None = None,
    markdown_headings: dict[int, tuple[int, str]] | None = None,
    headings_in_text: bool = False,
) -> Iterator[tuple[int, int, str | None]]:
    """(start, end, section) of each paragraph, long ones cut into overlapping windows.
    known_headings (offset → level) replaces the guessing of headings for structured formats, as
    markdown_headings (offset → (level, text)) does for Markdown's; a guessed heading names the
    section and stays in the text, at the start of the paragraph after it, as a lead-in line does.
    Fenced code blocks in Markdown are one passage each, however long."""
    headings: list[tuple[int, str]] = []  # (level, heading text); level is indent or -depth for explicit ones
    current: list[_Line] = []
    pending: list[_Line] = []  # lead-in lines and guessed headings, the start of the next paragraph
    fence: str | None = None  # the marker of the open code block
    dropped = dropped if dropped is not None else []
    markdown_headings = markdown_headings or {}

    def section() -> str | None:
        return " › ".join(heading for _, heading in headings) or None

    def flush() -> Iterator[tuple[int, int, str | None]]:
        nonlocal current, pending
        if current:
            first = pending[0] if pending else current[0]
            pending = []
            for start, end in _windows(text, first.start, current[-1].end, max_words):
                yield start, end, section()
        current = []

    def release_pending() -> Iterator[tuple[int, int, str | None]]:
        """Lead-in lines with no paragraph after them are a paragraph of their own."""
        nonlocal pending
        if pending:
            yield from ((start, end, section()) for start, end in _windows(text, pending[0].start, pending[-1].end, max_words))
            pending = []

    for i, line in enumerate(body):
        if fence is not None:
            if line.text:
                current.append(line)
            if line.text.startswith(fence) and line.text.strip(fence[0]) == "" and len(current) > 1:
                yield (pending or current)[0].start, current[-1].end, section()
                current, pending, fence = [], [], None
            continue
        if markdown and (opening := _FENCE.match(line.text)):
            yield from flush()
            fence, current = opening.group(1), [line]
            continue
        if line.kind == "furniture":  # text left out: no passage may span it
            yield from flush()
            yield from release_pending()
            continue
        if not line.text:
            if len(current) == 1 and _is_lead_in(current[0]):
                pending, current = pending + current, []
            else:
                yield from flush()
            continue
        if why := _furniture_reason(line):
            yield from flush()
            yield from release_pending()
            dropped.append((line.start, line.end, why))
            continue
        explicit: tuple[int, str] | None = None
        if known_headings is not None:
            if line.start in known_headings:
                explicit = (known_headings[line.start], line.text)
        elif line.start in markdown_headings:
            explicit = markdown_headings[line.start]
        elif not markdown and line.kind != "header" and _is_heading(line, body, i):
            yield from flush()
            headings = [(lvl, h) for lvl, h in headings if lvl < line.indent]
            if line.text != title:
                headings.append((line.indent, line.text))
            pending.append(line)  # the line may as well start a sentence: it stays in the text
            continue
        if explicit is not None:
            yield from flush()
            if not headings_in_text:
                yield from release_pending()
                dropped.append((line.start, line.end, SECTION_HEADING))
            level = -7 + explicit[0]
            headings = [(lvl, h) for lvl, h in headings if lvl < level]
            if explicit[1] != title:
                headings.append((level, explicit[1]))
            if headings_in_text:
                pending.append(line)  # a guessed heading: the section, and the start of what follows
            continue
        if line.is_list_item and current:
            yield from flush()
        current.append(line)
    if fence is not None and current:  # a code block left open runs to the end of the document
        yield (pending or current)[0].start, current[-1].end, section()
        current, pending = [], []
    yield from flush()
    yield from release_pending()


def _is_lead_in(line: _Line) -> bool:
    """A short line ending in a colon ("The Minister said:") belongs with the paragraph it introduces."""
    return line.text.endswith(":") and line.is_short and not line.is_list_item


def _is_heading(line: _Line, body: list[_Line], i: int) -> bool:
    if not line.is_short or line.words > 10 or _CLOSED_END.search(line.text) and not line.text.endswith("]"):
        return False
    following = next((later for later in body[i + 1 :] if later.text), None)
    if following is None:
        return False
    if i + 1 < len(body) and following is body[i + 1] and following.text[:1].islower():
        return False  # the next line, right below, goes on with the same sentence
    if following.indent > line.indent:
        return True
    if line.is_list_item:
        return False
    previous_blank = i == 0 or not body[i - 1].text
    return previous_blank and (following.is_body(starts_block=True) or following.is_list_item)


def _windows(text: str, start: int, end: int, max_words: int) -> Iterator[tuple[int, int]]:
    """The paragraph itself, or overlapping windows of whole sentences when it is too long."""
    if len(text[start:end].split()) <= max_words:
        yield start, end
        return
    sentences = [(start + s, start + e) for s, e in sentence_spans(text[start:end])]
    pieces = [piece for s, e in sentences for piece in _cut_words(text, s, e, max_words)]
    first = 0
    while first < len(pieces):
        last, words = first, 0
        while last < len(pieces) and (last == first or words + _count_words(text, pieces[last]) <= max_words):
            words += _count_words(text, pieces[last])
            last += 1
        yield pieces[first][0], pieces[last - 1][1]
        if last >= len(pieces):
            return
        first = max(last - 1, first + 1)  # overlap by one sentence


def _count_words(text: str, span: tuple[int, int]) -> int:
    return len(text[span[0] : span[1]].split())


def _cut_words(text: str, start: int, end: int, max_words: int) -> Iterator[tuple[int, int]]:
    """A single sentence longer than the limit is cut at word boundaries."""
    words = [(m.start() + start, m.end() + start) for m in re.finditer(r"\S+", text[start:end])]
    step = max(1, max_words // 2)
    for i in range(0, len(words), step):
        chunk = words[i : i + step]
        yield chunk[0][0], chunk[-1][1]
