"""Reading documents faithfully: no text lost, no page furniture in passages, tables read as rows,
plain warnings, and `qa inspect`. Fast: no model is loaded."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from format_fixtures import make_docx_nested_table, make_table_pdf, make_zip
from hypothesis import given
from hypothesis import strategies as st

from qa.chunking import DROPPED_ON_PURPOSE, split_document
from qa.formats import FormatError, extract
from qa.index import build_index

REPO = Path(__file__).resolve().parent.parent


def layout_of(name: str, data: bytes):
    extracted = extract(name, data)
    return extracted, split_document(name, extracted.text, extracted=extracted)


def uncovered(text: str, spans) -> str:
    """The non-space characters of text that lie in none of the spans."""
    covered = bytearray(len(text))
    for start, end in spans:
        covered[start:end] = b"\x01" * (end - start)
    return "".join(char for i, char in enumerate(text) if not covered[i] and not char.isspace())


def passage_spans(layout):
    return [(p.start, p.end) for p in layout.passages]


# ---- the no-lost-text property, per format -------------------------------------------------------

# Words with the shapes that trip layout rules: capitalised, quoted, numbered, all capitals.
_WORD = st.sampled_from(['"Licensor"', "shall", "mean", "the", "Work", "Section", "4.", "(a)", "LICENSE",
                         "Version", "2.0,", "TERMS", "and", "conditions", "of", "use.", "You",
                         "may", "copy", "it;", "Grand", "total", "2,730", "Overview", "Notes:", "http://example.org/"])
_PARAGRAPH = st.tuples(st.lists(_WORD, min_size=1, max_size=60), st.integers(12, 80), st.integers(0, 6))


def _wrapped(paragraphs) -> str:
    blocks = []
    for words, width, indent in paragraphs:
        lines = textwrap.wrap(" ".join(words), width=width) or [words[0]]
        blocks.append("\n".join(" " * indent + line for line in lines))
    return "\n\n".join(blocks) + "\n"


@given(st.lists(_PARAGRAPH, min_size=1, max_size=12), st.sampled_from([150, 20]))
def test_hard_wrapped_text_loses_no_character(paragraphs, max_words):
    """Every line of a hard-wrapped text is in a passage: short lines that might be headings, the
    header's lines, and all. These words make no navigation line, and no date line (after which a
    phrase could be a photo caption). Left out: a colon-ended last line ("Notes:"), a form label by
    the furniture rules, and the title line when it stands apart (every passage carries the title)."""
    text = _wrapped(paragraphs)
    layout = split_document("licence.txt", text, max_words)
    assert uncovered(text, passage_spans(layout) + [(start, end) for start, end, _ in layout.dropped]) == ""
    for start, end, why in layout.dropped:
        assert (why == "form label" and text[start:end].endswith(":")) or (why == "title" and text[start:end] == layout.title)


_TOKEN = st.integers(0, 10**6).map(lambda n: f"w{n}")
_MD_BLOCK = st.one_of(
    st.lists(_TOKEN, min_size=1, max_size=30).map(lambda ws: ("text", "\n".join(textwrap.wrap(" ".join(ws), 30)))),
    st.tuples(st.integers(1, 6), _TOKEN).map(lambda t: ("heading", f"{'#' * t[0]} Heading {t[1]}")),
    st.tuples(st.sampled_from("=-"), _TOKEN).map(lambda t: ("heading", f"Heading {t[1]}\n{t[0] * 12}")),
    st.lists(_TOKEN, min_size=1, max_size=5).map(lambda ws: ("text", "\n".join(f"- item {w}" for w in ws))),
    st.lists(_TOKEN, min_size=1, max_size=5).map(lambda ws: ("text", "\n".join(f"{i}. item {w}" for i, w in enumerate(ws, 1)))),
    st.just(("furniture", "[![Build status](https://ci.example.org/badge.svg)](https://ci.example.org/)")),
    st.just(("furniture", "![logo](docs/logo.png)")),
    st.just(("furniture", "(repeatability)=")),
    st.just(("furniture", "[INSTALL]: INSTALL")),
    st.lists(_TOKEN, min_size=1, max_size=4).map(lambda ws: ("text", "```\n" + "\n".join(ws) + "\n```")),
)


@given(st.booleans(), st.lists(_MD_BLOCK, min_size=1, max_size=14))
def test_markdown_loses_nothing_but_its_furniture_and_headings(front_matter, blocks):
    text = ("---\ntitle: A title\n---\n\n" if front_matter else "") + "\n\n".join(block for _, block in blocks) + "\n"
    layout = split_document("README.md", text)
    dropped = [(start, end) for start, end, why in layout.dropped]
    assert {why for _, _, why in layout.dropped} <= DROPPED_ON_PURPOSE
    assert uncovered(text, passage_spans(layout) + dropped) == ""
    in_passages = " ".join(p.text for p in layout.passages)
    for kind, block in blocks:  # every word of the text blocks is cited; no furniture is
        if kind == "text":
            assert all(word in in_passages for word in block.split() if word.startswith("w"))
        elif kind == "furniture":
            assert block not in in_passages
    heading_lines = {line for kind, block in blocks if kind == "heading" for line in block.split("\n")}
    for start, end, why in layout.dropped:  # what is left out as a heading is a heading the text wrote
        if why in ("section heading", "heading underline"):
            assert text[start:end] in heading_lines


_HTML_BLOCK = st.one_of(
    st.lists(_TOKEN, min_size=1, max_size=30).map(lambda ws: ("text", f"<p>{' '.join(ws)}</p>")),
    _TOKEN.map(lambda w: ("heading", f"<h2>Part {w}</h2>")),
    st.lists(_TOKEN, min_size=1, max_size=4).map(lambda ws: ("text", "<ul>" + "".join(f"<li>item {w} is here</li>" for w in ws) + "</ul>")),
    st.tuples(_TOKEN, _TOKEN).map(lambda t: ("text", f"<table><tr><td>Label {t[0]}</td><td>{t[1]}</td></tr></table>")),
    _TOKEN.map(lambda w: ("furniture", f'<p>Before <img src="a.png" alt="logo{w}"> after</p>')),
    st.lists(_TOKEN, min_size=3, max_size=6).map(
        lambda ws: ("furniture", "<table><tr><td><b>Menu</b><ul>" + "".join(f'<li><a href="{w}.html">nav{w}</a></li>' for w in ws) + "</ul></td></tr></table>")),
)


@given(st.lists(_HTML_BLOCK, min_size=1, max_size=12))
def test_html_loses_no_content_and_keeps_menus_and_alt_text_out(blocks):
    if not any(kind == "text" for kind, _ in blocks):
        blocks = [*blocks, ("text", "<p>w1 w2 w3</p>")]
    page = "<html><head><title>T</title></head><body>" + "".join(block for _, block in blocks) + "</body></html>"
    extracted, layout = layout_of("page.html", page.encode())
    dropped = [(start, end) for start, end, _ in layout.dropped]
    assert {why for _, _, why in layout.dropped} <= DROPPED_ON_PURPOSE
    assert uncovered(extracted.text, passage_spans(layout) + dropped) == ""
    in_passages = " ".join(p.text for p in layout.passages)
    for kind, block in blocks:
        words = [w for w in block.replace("<", " <").replace(">", "> ").split() if w.startswith("w")]
        if kind == "text":
            assert all(word in in_passages for word in words)
    assert "logo" not in in_passages and "nav" not in in_passages and "Menu" not in in_passages


# ---- real-file regressions -----------------------------------------------------------------------

LICENCE = """\
                                 Apache License
                           Version 2.0, January 2004
                        http://www.apache.org/licenses/

   TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION

   1. Definitions.

      "License" shall mean the terms and conditions for use, reproduction,
      and distribution as defined by Sections 1 through 9 of this document.

      "Licensor" shall mean the copyright owner or entity authorized by
      the copyright owner that is granting the License.

      "Legal Entity" shall mean the union of the acting entity and all
      other entities that control, are controlled by, or are under common
      control with that entity.
"""


def test_hard_wrapped_licence_keeps_every_line_and_a_sentence_start_is_not_a_section():
    layout = split_document("LICENSE.txt", LICENCE)
    assert uncovered(LICENCE, passage_spans(layout)) == ""
    licensor = next(p for p in layout.passages if '"Licensor" shall mean' in p.text)
    assert '"Licensor" shall mean the copyright owner or entity authorized by\n' in licensor.text
    assert "that is granting the License." in licensor.text
    assert not any(p.section and "shall mean" in p.section for p in layout.passages)
    assert layout.title == "Apache License"


@pytest.mark.skipif(not Path("/usr/share/common-licenses/Apache-2.0").is_file(), reason="Debian's licence texts are not installed")
def test_the_installed_apache_licence_loses_no_character():
    text = Path("/usr/share/common-licenses/Apache-2.0").read_text(encoding="utf-8")
    layout = split_document("Apache-2.0.txt", text)
    assert uncovered(text, passage_spans(layout)) == ""


SETEXT_README = """\
[![Build status](https://github.com/example/tool/workflows/CI/badge.svg)](https://github.com/example/tool/actions)

Tool - a fast, scalable thing
=============================

Tool is a fast, scalable thing with an
unusually rich command set.

(repeatability)=
Where to send
-------------

Send patches to the mailing list; everyone is welcome to post.

[INSTALL]: INSTALL
"""


def test_setext_markdown_with_a_badge_line():
    layout = split_document("README.md", SETEXT_README)
    assert layout.title == "Tool - a fast, scalable thing"
    texts = [p.text for p in layout.passages]
    assert texts == ["Tool is a fast, scalable thing with an\nunusually rich command set.",
                     "Send patches to the mailing list; everyone is welcome to post."]
    assert layout.passages[1].section == "Where to send"
    assert {why for _, _, why in layout.dropped} == {"badge", "section heading", "heading underline", "label", "link reference"}


MENU_PAGE = """<html><head><title>FAQ</title></head><body>
<table><tr><td><a href="http://www.gnome.org/"><img src="gnome2.png" alt="GNOME2 Logo"></a>
<a href="http://www.w3.org/Status"><img src="w3c.png" alt="W3C logo"></a></td>
<td><h1>The C library for GNOME</h1><h2>FAQ</h2></td></tr></table>
<table><tr><td valign="top"><table><tr><td><center><b>Main Menu</b></center></td></tr>
<tr><td><ul><li><a href="index.html">Home</a></li><li><a href="intro.html">Introduction</a></li>
<li><a href="docs.html">Documentation</a></li><li><a href="bugs.html">Reporting bugs</a></li></ul></td></tr></table>
<table><tr><td><b>Related links</b></td></tr><tr><td><ul><li><a href="t.html">Tutorial</a></li>
<li><a href="m.html">Mail archive</a></li><li><a href="f.html">FTP</a></li></ul></td></tr></table></td>
<td><p>Usually the problem comes from the fact that the compiler doesn't get the right flags.
Use <img src="x.png" alt="level 4 algebra"> xslt-config --cflags to get them.</p>
<table><tr><td>Grand total</td><td>2,730</td></tr><tr><td>Tax</td><td>130</td></tr></table>
<p>Daniel Veillard</p></td></tr></table></body></html>"""


def test_html_menus_in_tables_and_alt_text_are_not_passages():
    extracted, layout = layout_of("faq.html", MENU_PAGE.encode())
    texts = [p.text for p in layout.passages]
    assert texts == [  # the short blocks of the one section, in one passage
        "Usually the problem comes from the fact that the compiler doesn't get the right flags. Use xslt-config --cflags to get them."
        "\n\nGrand total: 2,730\n\nTax: 130\n\nDaniel Veillard",
    ]
    assert {why for why, _ in extracted.dropped} == {"image alt text", "link list"}
    assert ("image alt text", "level 4 algebra") in extracted.dropped


@pytest.mark.skipif(not Path("/usr/share/doc/libxslt1-dev/html/FAQ.html").is_file(), reason="libxslt's HTML docs are not installed")
def test_the_installed_libxslt_faq_page_has_no_menu_passages():
    _, layout = layout_of("FAQ.html", Path("/usr/share/doc/libxslt1-dev/html/FAQ.html").read_bytes())
    assert len(layout.passages) <= 20  # 63 when every menu item was a passage
    assert not any(p.text in ("Home", "Main Menu", "Downloads") or "Logo" in p.text for p in layout.passages)
    assert any("xslt-config --cflags" in p.text for p in layout.passages)


def test_docx_nested_table_cells_are_read_as_rows():
    data = make_docx_nested_table([("Customer", "Jane Roe")], [("Grand total", "2,730"), ("Tax", "130")], "Repair estimate.")
    _, layout = layout_of("estimate.docx", data)
    rows = ["Repair estimate.", "Customer: Jane Roe", "Grand total: 2,730", "Tax: 130", "Signed by the workshop"]
    assert [p.text for p in layout.passages] == ["\n\n".join(rows)]  # short rows of one section: one passage


def test_pdf_table_written_column_by_column_is_read_as_rows():
    data = make_table_pdf("Estimate Totals", [("Parts", "1,900"), ("Labour", "700"), ("Grand total", "2,730")])
    extracted, layout = layout_of("estimate.pdf", data)
    assert extracted.text == "Estimate Totals\n\nParts: 1,900\nLabour: 700\nGrand total: 2,730"
    assert all(extracted.text[p.start : p.end] == p.text and p.page == 1 for p in layout.passages)


# ---- warnings ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "data", "message"), [
    ("garbage.docx", make_zip({"a.txt": b"hello"}), "not a valid DOCX file: no [Content_Types].xml"),
    ("noise.docx", b"PK\x03\x04 not really a zip", "not a valid DOCX file: not a zip archive"),
    ("empty.txt", b"", "empty file"),
    ("blank.md", b"  \n\n", "empty file"),
    ("broken.pdf", b"%PDF-1.4\n garbage", "not a valid PDF file (damaged, or another format with a .pdf name)"),
], ids=["garbage.docx", "noise.docx", "empty.txt", "blank.md", "broken.pdf"])  # the zip's bytes hold a timestamp
def test_bad_files_are_one_plain_line(name, data, message):
    with pytest.raises(FormatError) as caught:
        extract(name, data)
    assert str(caught.value) == message
    assert "Error" not in str(caught.value) and "\n" not in str(caught.value)


def test_an_empty_file_is_counted_as_skipped_not_indexed(tmp_path, fake_factory):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("A full sentence of body text that ends with a stop.\n", encoding="utf-8")
    (corpus / "empty.txt").write_bytes(b"")
    report = build_index(corpus, tmp_path / "idx", encoder_factory=fake_factory)
    assert report.files == 1 and report.warnings == report.skipped == ["empty.txt: skipped, empty file"]
    again = build_index(corpus, tmp_path / "idx", encoder_factory=fake_factory)
    assert not again.changed and again.files == 1 and again.warnings == [] and again.skipped == ["empty.txt: skipped, empty file"]


# ---- qa inspect ----------------------------------------------------------------------------------

def qa(*args):
    return subprocess.run([sys.executable, "-m", "qa", *map(str, args)], capture_output=True, text=True, cwd=REPO, check=False)


def test_qa_inspect_json_lists_passages_with_exact_spans_and_what_was_left_out(tmp_path):
    path = tmp_path / "README.md"
    path.write_text(SETEXT_README, encoding="utf-8")
    result = qa("inspect", path, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["title"] == "Tool - a fast, scalable thing" and report["format"] == "markdown"
    assert report["sections"] == ["Where to send"]
    assert all(SETEXT_README[p["start"] : p["end"]] == p["text"] for p in report["passages"])
    assert {item["why"] for item in report["left_out_by_splitter"]} == {"badge", "section heading", "heading underline", "label", "link reference"}
    assert report["left_out_by_reader"] == []


def test_qa_inspect_human_output_shows_pages_and_the_reader_s_drops(tmp_path):
    (tmp_path / "faq.html").write_text(MENU_PAGE, encoding="utf-8")
    result = qa("inspect", tmp_path / "faq.html")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:3] == ["faq.html (html, 201 characters of text)", "title: FAQ", "date: (none found)"]
    assert "passages (1):" in lines and "  [1] characters 30–201 · § The C library for GNOME" in lines
    assert "  image alt text: GNOME2 Logo" in lines
    assert any(line.startswith("  link list: Main Menu Home Introduction") for line in lines)
    (tmp_path / "t.pdf").write_bytes(make_table_pdf("Estimate Totals", [("Parts", "1,900"), ("Tax", "130")]))
    pdf = qa("inspect", tmp_path / "t.pdf").stdout.splitlines()
    assert pdf[pdf.index("passages (1):") + 1 :][:2] == ["  [1] characters 0–38, page 1", "      Estimate Totals Parts: 1,900 Tax: 130"]


def test_qa_inspect_of_a_bad_file_is_one_plain_error_line(tmp_path):
    (tmp_path / "bad.docx").write_bytes(make_zip({"a.txt": b"x"}))
    result = qa("inspect", tmp_path / "bad.docx")
    assert result.returncode == 1
    assert result.stderr == "error: bad.docx: skipped, not a valid DOCX file: no [Content_Types].xml\n"
