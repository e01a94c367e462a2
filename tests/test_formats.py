"""Each document format read into text with a title, date, sections and pages, and cited exactly."""

from __future__ import annotations

import pytest
from format_fixtures import make_docx, make_pdf

from qa import Bot, build_index
from qa.chunking import split_document
from qa.errors import CorpusError
from qa.formats import FormatError, extract

HTML_PAGE = b"""<!doctype html><html><head><meta charset="utf-8"><title>Harbour Festival</title>
<meta property="article:published_time" content="2024-03-05T10:00:00Z"><style>p{color:red}</style></head>
<body><nav><a href="/">Home</a> | <a href="/news">News</a></nav><header>City Council site</header>
<main><h1>Harbour Festival</h1><p>The harbour festival returns in <b>June</b> with boats and music.</p>
<h2>Tickets</h2><p>Tickets cost five pounds<br>and children go free.</p>
<h3>Where to buy</h3><ul><li>At the town hall.</li><li>Online from May.</li></ul>
<pre>opening  times
  10:00-18:00</pre></main>
<aside>Related: parking</aside><footer>Copyright 2024 City Council</footer><script>track()</script></body></html>"""


def passages_of(name: str, data: bytes):
    extracted = extract(name, data)
    return extracted, split_document(name, extracted.text, extracted=extracted)


def test_html_keeps_main_content_with_title_date_and_heading_sections():
    extracted, layout = passages_of("festival.html", HTML_PAGE)
    text = extracted.text
    for furniture in ("Home", "City Council site", "parking", "Copyright", "track()", "color:red"):
        assert furniture not in text
    assert layout.title == "Harbour Festival" and layout.date == "2024-03-05"
    by_text = {p.text: p.section for p in layout.passages}
    assert by_text["The harbour festival returns in June with boats and music."] is None
    assert by_text["Tickets cost five pounds and children go free."] == "Tickets"
    # the list and the short block after it, under one heading, are one passage; pre keeps its spacing
    assert by_text["• At the town hall.\n\n• Online from May.\n\nopening  times\n  10:00-18:00"] == "Tickets › Where to buy"


def test_html_title_falls_back_to_h1_and_the_encoding_is_read_from_the_meta_tag():
    page = '<html><head><meta charset="windows-1252"></head><body><h1>Café notes</h1><p>Crème brûlée is good.</p></body></html>'
    _, layout = passages_of("cafe.htm", page.encode("cp1252"))
    assert layout.title == "Café notes" and [p.text for p in layout.passages] == ["Crème brûlée is good."]


def test_pdf_passages_carry_their_page_and_hyphenated_words_are_rejoined():
    data = make_pdf([
        ["Annual Report", "", "The committee met in March to discuss the", "budget and approved the new library build-",
         "ing on Main Street.", "", "A second paragraph on the first page."],
        ["The second page talks about the harbour and its boats."],
    ], info_title="Council Annual Report")
    extracted, layout = passages_of("report.pdf", data)
    assert layout.title == "Council Annual Report"
    pages = {p.text: p.page for p in layout.passages}
    assert pages == {  # the short blocks of page 1 in one passage; none spans the page break
        "Annual Report\n\nThe committee met in March to discuss the\nbudget and approved the new library building on Main Street."
        "\n\nA second paragraph on the first page.": 1,
        "The second page talks about the harbour and its boats.": 2,
    }
    assert extracted.page_starts[1] == extracted.text.index("The second page")


def test_image_only_pdf_without_the_ocr_extra_is_skipped_naming_the_extra_and_no_empty_index(tmp_path, fake_factory, monkeypatch):
    monkeypatch.setattr("qa.formats.ocr.available", lambda: False)
    corpus = tmp_path / "scans"
    corpus.mkdir()
    (corpus / "scan.pdf").write_bytes(make_pdf([None, None]))
    with pytest.raises(FormatError, match="no text layer in 2 pages"):
        extract("scan.pdf", (corpus / "scan.pdf").read_bytes())
    with pytest.raises(CorpusError, match="no indexable text"):
        build_index(corpus, tmp_path / "index", encoder_factory=fake_factory)
    assert not (tmp_path / "index" / "manifest.json").exists()
    (corpus / "notes.txt").write_text("Some notes that make a sentence of body text.\n", encoding="utf-8")
    report = build_index(corpus, tmp_path / "index", encoder_factory=fake_factory)
    assert report.warnings == ["scan.pdf: skipped, no text layer in 2 pages, only images (a scanned PDF? install the OCR extra to read it: pip install 'qa-bot[ocr]')"]


def test_docx_headings_become_sections_and_the_title_style_the_title():
    data = make_docx([
        ("Title", "Tea Handbook"), ("", "An introduction to tea."), ("Heading 1", "Green tea"),
        ("", "Green tea is steamed or pan-fired."), ("Heading 2", "Sencha"), ("", "Sencha is the most common."),
        ("Heading 1", "Black tea"), ("List Bullet", "Assam is malty."),
    ])
    _, layout = passages_of("tea.docx", data)
    assert layout.title == "Tea Handbook"
    assert [(p.section, p.text) for p in layout.passages] == [
        (None, "An introduction to tea."),
        ("Green tea", "Green tea is steamed or pan-fired."),
        ("Green tea › Sencha", "Sencha is the most common."),
        ("Black tea", "• Assam is malty."),
    ]


def test_markdown_heading_path_front_matter_and_code_blocks_kept_whole():
    text = (
        "---\ntitle: Deploy notes\ndate: 2024-02-01\n---\n\n# Deploy notes\n\n## Servers\n\n### Staging\n\n"
        "Staging runs on two small machines.\n\n```bash\n# restart the service\n\nsystemctl restart qa\n```\n\n"
        "## Rollback\n\nRoll back with the previous tag.\n"
    )
    _, layout = passages_of("deploy.md", text.encode())
    assert layout.title == "Deploy notes" and layout.date == "2024-02-01"
    assert [(p.section, p.text) for p in layout.passages] == [
        ("Servers › Staging", "Staging runs on two small machines."),
        ("Servers › Staging", "```bash\n# restart the service\n\nsystemctl restart qa\n```"),
        ("Rollback", "Roll back with the previous tag."),
    ]


def test_every_format_keeps_the_citation_contract_through_the_bot(tmp_path, fake_factory):
    """The cited text is found at its offsets in the text Bot.source_text gives the viewer."""
    corpus = tmp_path / "mixed"
    corpus.mkdir()
    (corpus / "festival.html").write_bytes(HTML_PAGE)
    (corpus / "report.pdf").write_bytes(make_pdf([["Report", "", "Body text on page one."], ["Body text on page two."]]))
    (corpus / "tea.docx").write_bytes(make_docx([("Heading 1", "Green"), ("", "Green tea is steamed.")]))
    (corpus / "notes.md").write_text("# Notes\n\n## A\n\nSome text here.\n", encoding="utf-8")
    (corpus / "plain.txt").write_text("Plain text body sentence here.\n", encoding="utf-8")
    build_index(corpus, tmp_path / "index", encoder_factory=fake_factory)
    bot = Bot(tmp_path / "index", encoder_factory=fake_factory).load()
    passages = bot.index.passages
    assert {p.doc for p in passages} == {"festival.html", "report.pdf", "tea.docx", "notes.md", "plain.txt"}
    for passage in passages:
        assert bot.source_text(passage.doc)[passage.start : passage.end] == passage.text
    assert {p.page for p in passages if p.doc == "report.pdf"} == {1, 2}
    assert all(p.page is None for p in passages if p.doc != "report.pdf")
    hit = bot.ask("Body text on page two", k=5).hits
    assert any(h.passage.page == 2 and h.to_dict()["page"] == 2 for h in hit)


def test_plain_answers_cite_the_page_of_a_pdf(tmp_path, fake_factory, capsys):
    from qa.cli import _print_answer

    corpus = tmp_path / "pdfs"
    corpus.mkdir()
    (corpus / "harbour.pdf").write_bytes(make_pdf([["Harbour report"], ["The harbour festival takes place every June."]]))
    build_index(corpus, tmp_path / "index", encoder_factory=fake_factory)
    answer = Bot(tmp_path / "index", encoder_factory=fake_factory).load().ask("When is the harbour festival?", k=1)
    _print_answer(answer)
    assert "harbour.pdf, p. 2, characters" in capsys.readouterr().out
