"""HTML pages: the main content only, through selectolax (the Lexbor HTML5 parser).

Left out on purpose, and listed by `qa inspect`:
- navigation, headers, footers, asides, forms, scripts and styles (by element or ARIA role);
- link lists: a table, list or division of at least three links whose link text is at least half
  of its text: menus, tables of contents, "related links" (old pages lay their menus out in tables);
- image alt text: it names a picture ("GNOME2 Logo"), it is not a sentence of the page.
`<main>` or `<article>` is preferred when the page has one. Headings become sections, `<title>` (or
the first `<h1>`) the title, and the publication date comes from the usual meta tags. A table row
whose cells hold no blocks of their own is one line, its cells side by side ("Grand total: 2,730").
"""

from __future__ import annotations

import re

from qa.dates import find_date
from qa.formats import Deadline, Extracted, FormatError, Limits
from qa.formats.blocks import BlockText, collapse, row_text

_DROPPED = (
    "script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form", "svg",
    "iframe", "button", "select", "textarea", "object", "canvas", "dialog", "menu",
)
_DROPPED_ROLES = ("navigation", "banner", "contentinfo", "complementary", "search", "menu", "dialog")
_BLOCKS = {
    "p", "div", "section", "article", "main", "blockquote", "table", "tr", "ul", "ol", "dl", "dt", "dd",
    "figure", "figcaption", "address", "details", "summary", "caption", "td", "th", "body", "center", "hr",
}
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_DATE_META = (
    "article:published_time", "og:published_time", "datepublished", "date", "dc.date", "dc.date.issued",
    "dcterms.date", "dcterms.created", "pubdate", "publish_date", "publication_date", "sailthru.date",
    "article.published", "parsely-pub-date",
)
# Elements whose end tag may be left out; they never nest deeply in the parser's tree.
_OPTIONAL_END = {"p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "tbody", "thead", "tfoot",
                 "colgroup", "rb", "rt", "rp", "rtc", "caption", "html", "head", "body"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr",
         "param", "keygen", "command", "basefont", "frame", "isindex"}
# Phrasing elements nest cheaply in the parser (opening a block element scans the open elements).
_PHRASING = {"a", "abbr", "b", "bdi", "bdo", "big", "cite", "code", "data", "dfn", "em", "font", "i", "kbd",
             "label", "mark", "nobr", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "sup",
             "time", "tt", "u", "var"}
# Containers that are menus when most of their text is link text.
_LINK_LIST_CONTAINERS = {"table", "tbody", "tr", "td", "th", "ul", "ol", "dl", "div", "section", "center", "menu"}
MIN_LIST_LINKS = 3
LINK_LIST_DENSITY = 0.5
MENU_CAPTION_CHARS = 40  # non-space characters beside a link list that are its caption ("Main Menu")
# Elements that make a table cell a layout box rather than a value: such rows are read block by block.
_ROW_BREAKERS = "table, p, div, ul, ol, dl, pre, blockquote, h1, h2, h3, h4, h5, h6"
_TAG = re.compile(rb"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*?(/?)>")


def extract_html(data: bytes, limits: Limits, deadline: Deadline) -> Extracted:
    from selectolax.lexbor import LexborHTMLParser

    if b"\x00" in data[:8192]:
        raise FormatError("binary file, not HTML")
    depth = nesting_depth(data)
    if depth > limits.max_html_depth:
        raise FormatError(f"HTML nested {depth:,} elements deep, more than the limit of {limits.max_html_depth:,}")
    tree = LexborHTMLParser(_decode(data))
    title = _title(tree)
    date = _date(tree)
    dropped: list[tuple[str, str]] = []
    for node in tree.css(", ".join(_DROPPED) + ", " + ", ".join(f'[role="{r}"]' for r in _DROPPED_ROLES)
                         + ', [hidden], [aria-hidden="true"]'):
        text = collapse(node.text(deep=True)) if node.tag not in ("script", "style", "template", "svg") else ""
        dropped.append((f"<{node.tag}> element", text[:200]))
        node.decompose()
    root = tree.css_first("main") or tree.css_first("[role=main]") or tree.css_first("article") or tree.body or tree.root
    if root is None:
        raise FormatError("no text in the page's main content")
    blocks = BlockText()
    blocks.dropped = dropped
    _walk(root, blocks, deadline, _link_lists(root))
    extracted = blocks.build(title=title, date=date)
    if not extracted.text.strip():  # a page that is all links: read them rather than nothing
        blocks = BlockText()
        _walk(root, blocks, deadline, set())
        extracted = blocks.build(title=title, date=date)
    if not extracted.text.strip():
        raise FormatError("no text in the page's main content")
    return extracted


def _link_lists(root) -> set[int]:
    """The containers (by mem_id) that are link lists, found in one pass from the leaves up. A list
    found is left out of its ancestors' counts, so that a page's content beside a long menu is kept;
    a container left with a few words besides its link lists ("Main Menu") goes with them."""
    stats: dict[int, tuple[int, int, int, bool]] = {}  # mem_id -> (characters, link characters, links, holds a list)
    found: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        if not done:
            stack.append((node, True))
            stack.extend((child, False) for child in node.iter(include_text=True))
            continue
        if node.tag == "-text":
            stats[node.mem_id] = (len("".join((node.text_content or "").split())), 0, 0, False)
            continue
        chars = link_chars = links = 0
        holds_list = False
        for child in node.iter(include_text=True):
            c, lc, n, held = stats.pop(child.mem_id, (0, 0, 0, False))
            chars, link_chars, links, holds_list = chars + c, link_chars + lc, links + n, holds_list or held
        if node.tag == "a" and node.attributes.get("href") is not None and chars:
            link_chars, links = chars, links + 1
        dense = links >= MIN_LIST_LINKS and link_chars >= LINK_LIST_DENSITY * chars
        if node.tag in _LINK_LIST_CONTAINERS and (dense or (holds_list and chars < MENU_CAPTION_CHARS)):
            found.add(node.mem_id)
            stats[node.mem_id] = (0, 0, 0, True)
        else:
            stats[node.mem_id] = (chars, link_chars, links, holds_list)
    return found


def nesting_depth(data: bytes) -> int:
    """How deep the page's block elements nest, read from the tags alone (cheap, before parsing)."""
    depth = deepest = 0
    for match in _TAG.finditer(data):
        name = match.group(2).decode("ascii").lower()
        if name in _VOID or name in _OPTIONAL_END or name in _PHRASING or match.group(3):
            continue
        if match.group(1):
            depth = max(0, depth - 1)
        else:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


def _decode(data: bytes) -> str:
    head = data[:2048].lower()
    match = re.search(rb"charset=[\"']?([a-z0-9_-]+)", head)
    for encoding in ([match.group(1).decode()] if match else []) + ["utf-8"]:
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("cp1252", errors="replace")


def _title(tree) -> str | None:
    for selector in ("title", "h1", 'meta[property="og:title"]'):
        node = tree.css_first(selector)
        if node is not None:
            text = collapse(node.attributes.get("content") or "" if node.tag == "meta" else node.text(deep=True))
            if text:
                return text[:300]
    return None


def _date(tree) -> str | None:
    for node in tree.css("meta"):
        attributes = node.attributes
        key = (attributes.get("property") or attributes.get("name") or attributes.get("itemprop") or "").lower()
        if key in _DATE_META and (found := _meta_date(attributes.get("content") or "")):
            return found
    for node in tree.css("time[datetime]"):
        if found := _meta_date(node.attributes.get("datetime") or ""):
            return found
    return None


def _meta_date(value: str) -> str | None:
    """Meta dates are mostly ISO 8601 timestamps (2024-03-05T10:00:00Z); some are written out."""
    return find_date(value[:10] if re.match(r"\d{4}-\d{2}-\d{2}", value) else value)


def _walk(root, blocks: BlockText, deadline: Deadline, link_lists: set[int]) -> None:
    """Depth-first over the tree without recursion (pages can nest deeply), gathering each block's text."""
    inline: list[str] = []

    def end_block() -> None:
        text = collapse("".join(inline))
        inline.clear()
        blocks.paragraph(text)

    stack = [(root, False)]
    visited = 0
    headers: dict[int, list[str]] = {}  # each table's first row, by the table's node
    while stack:
        node, leaving = stack.pop()
        tag = node.tag
        if leaving:
            if tag in _BLOCKS or tag == "li":
                end_block()
            continue
        visited += 1
        if visited % 2000 == 0:
            deadline.check()
        if tag == "-text":
            inline.append(node.text_content or "")
            continue
        if tag == "br":
            inline.append("\n")
            continue
        if not node.is_element_node:
            continue
        if node.mem_id in link_lists:
            end_block()
            blocks.drop("link list", node.text(deep=True, separator=" "))
            continue
        if tag == "tr" and node.css_first(_ROW_BREAKERS) is None:
            end_block()
            cells = [cell.text(deep=True, separator=" ") for cell in node.iter() if cell.tag in ("td", "th")]
            table = node.parent
            while table is not None and table.tag != "table":
                table = table.parent
            key = table.mem_id if table is not None else 0
            blocks.paragraph(row_text(cells, headers.get(key)))
            headers.setdefault(key, cells)  # a table's first row heads its columns
            continue
        if tag in _HEADINGS:
            end_block()
            blocks.heading(collapse(node.text(deep=True)), _HEADINGS[tag])
            continue
        if tag == "pre":
            end_block()
            blocks.preformatted(node.text(deep=True))
            continue
        if tag == "li":
            end_block()
            item = collapse(node.text(deep=True)) if not node.css_first("ul, ol, p, div") else ""
            if item:
                blocks.list_item(item)
                continue
        if tag == "img" and (alt := (node.attributes.get("alt") or "").strip()):
            blocks.drop("image alt text", alt)
            continue
        if tag in _BLOCKS or tag == "li":
            end_block()
        stack.append((node, True))
        children = list(node.iter(include_text=True))
        stack.extend((child, False) for child in reversed(children))
    end_block()
