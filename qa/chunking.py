"""Splitting a document into paragraph passages with exact spans, a title, a date and sections.

The rules are general layout rules, not rules for particular files:
- the header is the run of short lines before the first body line; it holds the title, the date
  and captions, and none of it is a passage;
- a line echoed by a "Back to …" link is a breadcrumb, not the title;
- list items start new paragraphs even on consecutive lines;
- a short unpunctuated line that introduces indented or following text is a heading;
- navigation links, "PhotoN" captions and the dangling short lines that end a page are furniture.

Formats with structure of their own (HTML, DOCX) bring their title and heading lines, and these
rules do not guess them; Markdown adds front matter, `#` headings and fenced code blocks, which
stay whole. Every line the rules leave out of the passages is listed, with why, in `dropped`.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field

from qa.dates import find_date
from qa.formats import Extracted
from qa.schema import Passage
from qa.sentences import sentence_spans

# Bump when the output of split_document changes, so indexes built by older rules are rebuilt.
SPLITTER_VERSION = "3"  # 2: formats, pages, code blocks; 3: lower-case text splits into sentences

MAX_WINDOW_WORDS = 150  # all-MiniLM-L6-v2 reads 256 word pieces; leave room for title and section.

_LIST_ITEM = re.compile(r"(?:\d{1,3}[.)]|[a-zA-Z][.)]|\([0-9a-zA-Z]{1,4}\)|[-*+•·–‣▪◦])\s+\S")
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

    @property
    def words(self) -> int:
        return len(self.text.split())

    @property
    def is_list_item(self) -> bool:
        return bool(_LIST_ITEM.match(self.text))

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
    if extracted.headings is not None:
        body = [line for line in lines]
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
        breadcrumbs = {m.group(1).lower() for line in lines if (m := _breadcrumb_target(line.text))}
        kept = _drop_trailing_furniture(lines, extracted.markdown)
        dropped += [(line.start, line.end, "trailing furniture") for line in lines[len(kept):] if line.text]
        header, body = _split_header(kept, extracted.markdown)
        dropped += [(line.start, line.end, "header") for line in header]
        title, date = _title_and_date(header, breadcrumbs)
        title = front_matter.get("title") or title or extracted.title or _first_md_heading(body) or _fallback_title(doc, header)
        date = find_date(front_matter.get("date", "")) or date or extracted.date
    pages = extracted.page_starts
    passages = [
        Passage(doc=doc, title=title, date=date, section=section, start=start, end=end, text=text[start:end],
                page=bisect_right(pages, start) if pages else None)
        for start, end, section in _paragraphs(text, body, title, max_words, extracted.markdown, headings, dropped)
    ]
    return DocumentLayout(title=title, date=date, passages=passages, dropped=sorted(dropped))


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


def _is_furniture(line: _Line) -> bool:
    if _NAVIGATION.match(line.text) and line.is_short:
        return True
    return bool(_CAPTION.fullmatch(line.text))


def _drop_trailing_furniture(lines: list[_Line], markdown: bool = False) -> list[_Line]:
    """Drop the short, unfinished lines that end a page (links, form labels), back to the last content."""
    end = len(lines)
    while end > 0:
        line = lines[end - 1]
        if markdown and _FENCE.match(line.text):
            break
        dangling = line.is_short and not line.is_list_item and not _MD_HEADING.match(line.text)
        dangling = dangling and (not _CLOSED_END.search(line.text) or line.text.endswith(":"))
        if line.text and not (dangling or _is_furniture(line)):
            break
        end -= 1
    return lines[:end]


def _split_header(lines: list[_Line], markdown: bool = False) -> tuple[list[_Line], list[_Line]]:
    """The header is the short lines before the first body line, list item, Markdown heading or code block."""
    for i, line in enumerate(lines):
        if not line.text:
            continue
        starts_block = i == 0 or not lines[i - 1].text
        fence = markdown and _FENCE.match(line.text)
        if line.is_body(starts_block) or line.is_list_item or _MD_HEADING.match(line.text) or line.words > 30 or fence:
            return [h for h in lines[:i] if h.text], lines[i:]
    return [], lines


def _title_and_date(header: list[_Line], breadcrumbs: set[str]) -> tuple[str | None, str | None]:
    date_index = next((i for i, line in enumerate(header) if find_date(line.text)), None)
    date = find_date(header[date_index].text) if date_index is not None else None
    candidates = [
        (i, line.text)
        for i, line in enumerate(header)
        if i != date_index and line.text.lower() not in breadcrumbs and not _is_furniture(line)
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


def _first_md_heading(body: list[_Line]) -> str | None:
    for line in body:
        if line.text:
            match = _MD_HEADING.match(line.text)
            return match.group(2) if match and len(match.group(1)) == 1 else None
    return None


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
) -> Iterator[tuple[int, int, str | None]]:
    """(start, end, section) of each paragraph, long ones cut into overlapping windows.
    known_headings (offset → level) replaces the guessing of headings for structured formats;
    fenced code blocks in Markdown are one passage each, however long."""
    headings: list[tuple[int, str]] = []  # (level, heading text); level is indent or -depth for Markdown
    current: list[_Line] = []
    pending_lead_in: _Line | None = None
    fence: str | None = None  # the marker of the open code block
    dropped = dropped if dropped is not None else []

    def section() -> str | None:
        return " › ".join(heading for _, heading in headings) or None

    def flush() -> Iterator[tuple[int, int, str | None]]:
        nonlocal current, pending_lead_in
        if current:
            first = pending_lead_in or current[0]
            pending_lead_in = None
            for start, end in _windows(text, first.start, current[-1].end, max_words):
                yield start, end, section()
        current = []

    def release_lead_in() -> Iterator[tuple[int, int, str | None]]:
        """A lead-in line with no paragraph after it is a paragraph of its own."""
        nonlocal pending_lead_in
        if pending_lead_in is not None:
            yield pending_lead_in.start, pending_lead_in.end, section()
            pending_lead_in = None

    for i, line in enumerate(body):
        if fence is not None:
            if line.text:
                current.append(line)
            if line.text.startswith(fence) and line.text.strip(fence[0]) == "" and len(current) > 1:
                yield current[0].start, current[-1].end, section()
                current, fence = [], None
            continue
        if markdown and (opening := _FENCE.match(line.text)):
            yield from flush()
            yield from release_lead_in()
            fence, current = opening.group(1), [line]
            continue
        if not line.text:
            if len(current) == 1 and _is_lead_in(current[0]) and pending_lead_in is None:
                pending_lead_in, current = current[0], []
            else:
                yield from flush()
            continue
        if _is_furniture(line):
            yield from flush()
            dropped.append((line.start, line.end, "furniture"))
            continue
        if known_headings is not None:
            md, is_heading = None, line.start in known_headings
        else:
            md = _MD_HEADING.match(line.text)
            is_heading = bool(md) or _is_heading(line, body, i)
        if is_heading:
            yield from flush()
            yield from release_lead_in()
            dropped.append((line.start, line.end, "heading"))
            if known_headings is not None:
                level = -7 + known_headings[line.start]
            else:
                level = -7 + len(md.group(1)) if md else line.indent
            heading = md.group(2) if md else line.text
            headings = [(lvl, h) for lvl, h in headings if lvl < level]
            if heading != title:
                headings.append((level, heading))
            continue
        if line.is_list_item and current:
            yield from flush()
        current.append(line)
    if fence is not None and current:  # a code block left open runs to the end of the document
        yield current[0].start, current[-1].end, section()
        current = []
    yield from flush()
    yield from release_lead_in()


def _is_lead_in(line: _Line) -> bool:
    """A short line ending in a colon ("The Minister said:") belongs with the paragraph it introduces."""
    return line.text.endswith(":") and line.is_short and not line.is_list_item


def _is_heading(line: _Line, body: list[_Line], i: int) -> bool:
    if not line.is_short or line.words > 10 or _CLOSED_END.search(line.text) and not line.text.endswith("]"):
        return False
    following = next((later for later in body[i + 1 :] if later.text), None)
    if following is None:
        return False
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
