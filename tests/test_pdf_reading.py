"""PDFs read through PDFium: real generators' files (tests/fixtures/pdf, see its README), columns,
tables, running headers and footers, exact spans and pages, bad files, and scanned pages by OCR."""

from __future__ import annotations

import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from format_fixtures import make_pdf, make_report_pdf

from qa.chunking import split_document
from qa.formats import FormatError, extract
from qa.index import build_index
from qa.inspection import inspect_file

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "pdf"


def read(name: str):
    extracted = extract(name, (FIXTURES / name).read_bytes())
    return extracted, split_document(name, extracted.text, extracted=extracted)


def raw_page_texts(name: str) -> list[str]:
    """What PDFium itself gives for each page, with no layout: the reference for pages."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument((FIXTURES / name).read_bytes())
    # PDFium marks a hyphen that breaks a word at a line's end with U+FFFE; the word is one word
    return [" ".join(page.get_textpage().get_text_range().replace("\ufffe", "").split()) for page in document]


def letters(text: str) -> Counter[str]:
    return Counter(char for char in unicodedata.normalize("NFKC", text).lower() if char.isalnum())


def test_a_google_docs_export_reads_whole_words_and_each_table_row_carries_its_column_headers():
    extracted, layout = read("google-docs.pdf")
    lines = extracted.text.split("\n")
    assert "Beautiful is better than ugly." in lines
    assert "In the face of ambiguity, refuse the temptation to guess." in lines
    assert "Capital | Indonesia: Jakarta | Germany: Berlin | Austria: Vienna | France: Paris | Vatican: Vatican City" in lines
    assert layout.title == "PDF Example Document"


def test_two_column_pdftex_pages_are_read_column_by_column_and_prose_is_never_cut_into_cells():
    extracted, _ = read("pdftex-two-column.pdf")
    text = extracted.text
    # The left column's last paragraph on page 1 goes on at the top of the right column.
    assert "Vivamus viverra fermentum felis. Donec nonummy\npellentesque ante. Phasellus adipiscing semper elit." in text
    # Hyphenated words of the justified columns are whole again.
    assert "consectetuer adipiscing elit." in text and "adip-" not in text
    body = text[: extracted.page_starts[2]]
    assert " | " not in body and ".: " not in body  # no table in the prose
    table = text[extracted.page_starts[2] :]
    assert "Country | Population (millions) |" in table
    assert "Country: Finland | Population (millions): 5.5 |" in table and "Capital: Helsinki" in table


def test_every_passage_of_a_real_pdf_is_an_exact_span_and_cites_the_page_it_is_on():
    for name in ("google-docs.pdf", "pdftex-two-column.pdf"):
        extracted, layout = read(name)
        pages = raw_page_texts(name)
        assert layout.passages
        for passage in layout.passages:
            assert extracted.text[passage.start : passage.end] == passage.text
            last_word = passage.text.split()[-1]  # a cell's value or a word of the text, never a header label
            assert last_word in pages[passage.page - 1], (name, passage.page, passage.text[-60:])


def test_no_letter_of_an_independent_extraction_is_lost():
    """pypdf, another engine, reads the same letters and digits; ours has them all, or lists them as left out."""
    from pypdf import PdfReader

    for name in ("google-docs.pdf", "pdftex-two-column.pdf"):
        extracted, _ = read(name)
        theirs = letters("\n".join(page.extract_text() for page in PdfReader(FIXTURES / name).pages))
        ours = letters(extracted.text) + letters(" ".join(text for _, text in extracted.dropped))
        assert theirs - ours == Counter(), name


def test_running_headers_footers_and_page_numbers_are_left_out_and_listed_for_inspect(tmp_path):
    body = [["The harbour festival returns in June with boats and music.", "Tickets cost five pounds."],
            ["The committee approved the new library building on Main Street."],
            ["Parking is free on Sundays near the harbour."],
            ["Volunteers are welcome at the town hall."]]
    data = make_report_pdf(body, header="Harbour Council Annual Report 2024")
    extracted = extract("report.pdf", data)
    assert "Harbour Council Annual Report" not in extracted.text and "Page " not in extracted.text
    assert "Tickets cost five pounds." in extracted.text
    assert [text for _, text in extracted.dropped].count("Harbour Council Annual Report 2024") == 4
    assert {text for _, text in extracted.dropped} >= {"Page 1 of 4", "Page 4 of 4"}
    (tmp_path / "report.pdf").write_bytes(data)
    left_out = inspect_file(tmp_path / "report.pdf").left_out_by_reader
    assert any(item.why.startswith("page header") and item.text == "Harbour Council Annual Report 2024" for item in left_out)
    assert any(item.why.startswith("page number") and item.text == "Page 2 of 4" for item in left_out)


def test_a_line_that_repeats_on_few_pages_stays():
    data = make_report_pdf([["Summary of the year."], ["Summary of the year."], ["Another page."], ["Last page."]],
                           header="Annual Report", footer="")
    extracted = extract("report.pdf", data)
    assert extracted.text.count("Summary of the year.") == 2


def test_a_large_line_followed_by_text_is_a_heading_and_never_a_passage_alone():
    extracted, layout = read("pdftex-two-column.pdf")
    assert any(extracted.text[offset:].startswith("Abstract") for offset in extracted.headings)
    assert not any(p.text == "Abstract" for p in layout.passages)
    assert any(p.section == "Abstract" for p in layout.passages)


@pytest.mark.parametrize(("name", "data", "message"), [
    ("locked.pdf", (FIXTURES / "libreoffice-password.pdf").read_bytes(), "locked.pdf: skipped, the PDF is encrypted with a password"),
    ("broken.pdf", (FIXTURES / "google-docs.pdf").read_bytes()[:5000], "broken.pdf: skipped, not a valid PDF file (damaged, or another format with a .pdf name)"),
    ("huge.pdf", make_pdf([["page"]] * 2001), "huge.pdf: skipped, 2,001 pages, more than the limit of 2,000"),
    ("scan.pdf", make_pdf([None]),
     "scan.pdf: skipped, no text layer in 1 page, only images (a scanned PDF? install the OCR extra to read it: pip install 'qa-bot[ocr]')"),
], ids=["password", "pdfium-fails", "2001-pages", "image-only-without-ocr"])
def test_a_bad_pdf_is_one_plain_line_and_the_build_goes_on(tmp_path, fake_factory, monkeypatch, name, data, message):
    monkeypatch.setattr("qa.formats.ocr.available", lambda: False)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / name).write_bytes(data)
    (corpus / "notes.txt").write_text("The harbour festival returns in June with boats and music.\n", encoding="utf-8")
    report = build_index(corpus, tmp_path / "index", encoder_factory=fake_factory)
    assert report.warnings == [message]
    assert report.files == 1 and report.passages == 1


def test_a_2000_page_pdf_is_read_whole_with_every_page_cited():
    extracted = extract("long.pdf", make_pdf([[f"This is page {n} of the long report."] for n in range(1, 2001)]))
    assert len(extracted.page_starts) == 2000
    layout = split_document("long.pdf", extracted.text, extracted=extracted)
    assert [p.page for p in layout.passages] == list(range(1, 2001))
    assert layout.passages[-1].text == "This is page 2000 of the long report."


def test_reading_a_long_pdf_moves_the_build_progress_page_by_page(tmp_path, fake_factory):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "long.pdf").write_bytes(make_pdf([[f"Page {n} has its own sentence about boats."] for n in range(1, 41)]))
    seen: list[tuple[int, int]] = []
    build_index(corpus, tmp_path / "index", encoder_factory=fake_factory, progress=lambda done, total: seen.append((done, total)))
    total = seen[-1][1]
    assert seen[-1][0] == total
    assert len({done for done, _ in seen if 0 < done < total}) >= 20  # moves while the pages are read
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


@pytest.mark.slow
def test_a_scanned_page_is_read_by_ocr_cited_by_page_and_marked_with_the_engine_confidence(tmp_path, monkeypatch):
    pytest.importorskip("rapidocr_onnxruntime", reason="the ocr extra is not installed")
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path))
    extracted, layout = read("scanned-linnsequencer.pdf")
    assert extracted.ocr_pages and extracted.ocr_pages[0][0] == 1 and extracted.ocr_pages[0][1] > 0.8
    assert "LinnSequencer" in extracted.text and "MIDI" in extracted.text
    assert layout.passages and all(p.page == 1 and p.ocr == extracted.ocr_pages[0][1] for p in layout.passages)
    assert all(extracted.text[p.start : p.end] == p.text for p in layout.passages)
    assert any("110,000 notes" in p.text for p in layout.passages)
    again, _ = read("scanned-linnsequencer.pdf")  # the viewer's read: the same text, from the cache
    assert again == extracted


def test_a_long_scan_is_read_page_by_page_by_ocr_with_progress_and_each_passage_marked(tmp_path, fake_factory, monkeypatch):
    """The OCR engine is faked here (the real one is tested above): 20 image-only pages, each read
    by OCR, move the build's progress as they are read."""
    from qa.formats import ocr
    from qa.formats.pdf import _Segment

    monkeypatch.setattr(ocr, "available", lambda: True)
    monkeypatch.setattr(ocr, "read_page", lambda page, digest, number: (
        [_Segment(f"Scanned page {number} tells of the harbour festival.", 72, 400, 700, 712)], 0.9))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "scan.pdf").write_bytes(make_pdf([None] * 20))
    seen: list[int] = []
    report = build_index(corpus, tmp_path / "index", encoder_factory=fake_factory, progress=lambda done, total: seen.append(done))
    assert report.passages == 20 and report.warnings == []
    assert len({done for done in seen if 0 < done < seen[-1]}) >= 10
    (corpus / "scan.pdf").rename(tmp_path / "scan.pdf")
    inspection = inspect_file(tmp_path / "scan.pdf")
    assert inspection.ocr_pages[0] == (1, 0.9) and inspection.passages[5].page == 6 and inspection.passages[5].ocr == 0.9


def test_without_text_the_reason_is_said():
    with pytest.raises(FormatError, match="no text in 1 page"):
        extract("blank.pdf", make_pdf([[]]))
