from pathlib import Path

import pytest

from qa.chunking import split_document
from qa.dates import find_date
from qa.sentences import sentence_spans

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def seed(name_prefix: str):
    path = next(SEEDS.glob(f"{name_prefix}_*.txt"))
    text = path.read_text(encoding="utf-8")
    return text, split_document(path.name, text)


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_every_seed_passage_is_an_exact_span_of_its_source(prefix):
    text, layout = seed(prefix)
    assert layout.passages
    for passage in layout.passages:
        assert text[passage.start : passage.end] == passage.text
        assert passage.text == passage.text.strip() and passage.text


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_page_furniture_is_not_a_passage(prefix):
    _, layout = seed(prefix)
    for passage in layout.passages:
        assert "Back to " not in passage.text
        assert "Select a page to copy" not in passage.text
        assert "Select where in the level" not in passage.text
        assert not passage.text.startswith(("Photo", "Japan-United Kingdom Relations", "Press Releases"))


def test_a_numbered_list_stays_with_the_sentence_that_introduces_it_and_long_items_stand_alone():
    text, layout = seed("000")
    first = layout.passages[0]
    assert first.text.startswith("On ") and first.text.split("\n")[0].rstrip().endswith(":")
    assert "\n  1. The UK side stated" in first.text  # the introducing sentence and the first item
    assert [p.text[:3] for p in layout.passages[1:]] == ["2. ", "3. ", "4. ", "5. "]
    assert layout.passages[1].text.startswith("2. Regarding the taking hostage of Japanese citizens by ISIL")
    assert layout.date == "2015-01-23"


def test_nested_list_items_carry_their_heading_as_section():
    _, layout = seed("002")
    gcap = next(p for p in layout.passages if "Global Combat Air Program" in p.text)
    assert gcap.section == "2. Security and defense cooperation"
    assert gcap.text.startswith("3. The four Ministers endorsed")
    hamas = next(p for p in layout.passages if "Hamas" in p.text)
    assert hamas.section == "3. Regional affairs"
    opening = next(p for p in layout.passages if p.text.startswith("On November 7"))
    assert opening.section is None
    # a guessed heading names the section and stays in the text, at the start of what follows it
    general = next(p for p in layout.passages if p.text.startswith("1. General remarks"))
    assert general.section == "1. General remarks" and len(general.text) > len("1. General remarks")
    assert not any(p.text in ("1. General remarks", "[Reference]") for p in layout.passages)
    assert layout.title == "Fifth Japan-UK Foreign and Defence Ministers’ Meeting (“2+2”)"
    assert layout.date == "2023-11-07"
    # the header's lines that are only its title or date, and its photo captions, are left out, and said so
    assert not any("hands on top of each other" in p.text for p in layout.passages)
    reasons = [why for _, _, why in layout.dropped]
    assert reasons.count("caption") == 3 and reasons.count("title") == reasons.count("date") == 1


def test_title_is_found_in_caption_lines_and_breadcrumbs_are_not_titles():
    assert seed("001")[1].title == "Second Japan-UK Foreign and Defence Ministerial Meeting"
    assert seed("004")[1].title == "Japan-UK Foreign Ministers’ Meeting"
    assert seed("003")[1].title == "Foreign Secretary visits Japan to strengthen security cooperation"


def test_posted_on_date_with_ordinal_is_parsed():
    assert seed("003")[1].date == "2016-01-08"


def test_a_colon_lead_in_stays_with_the_quote_it_introduces():
    _, layout = seed("003")
    quote = next(p for p in layout.passages if "close allies" in p.text)
    assert quote.text.startswith("The Foreign Secretary said:")


def test_paragraph_longer_than_the_model_limit_is_split_into_overlapping_windows():
    text, layout = seed("001")
    windows = [p for p in layout.passages if p.start >= text.index("3. The Ministers recognised") and p.end <= text.index("4. The Ministers expressed")]
    assert len(windows) == 2
    assert all(len(w.text.split()) <= 150 for w in windows)
    assert windows[0].start < windows[1].start < windows[0].end  # they overlap
    assert windows[1].end == text.index("\n", windows[1].start)


def test_one_unpunctuated_huge_paragraph_is_cut_into_windows():
    text = "Heading\n\n" + " ".join(f"word{i}" for i in range(1000)) + "\n"
    layout = split_document("huge.txt", text)
    assert len(layout.passages) > 5
    covered = set()
    for p in layout.passages:
        assert text[p.start : p.end] == p.text
        assert len(p.text.split()) <= 150
        covered.update(p.text.split())
    assert covered == {f"word{i}" for i in range(1000)} | {"Heading"}  # the title line is text too: no date beside it


def test_markdown_headings_become_a_section_path_and_front_matter_gives_title_and_date():
    text = "---\ntitle: Notes on Tea\ndate: 2024-03-05\n---\n\n# Notes on Tea\n\nIntro paragraph here.\n\n## Green\n\n### Sencha\n\nSencha is steamed.\n\n## Black\n\nAssam is malty.\n"
    layout = split_document("notes/tea.md", text)
    assert layout.title == "Notes on Tea"
    assert layout.date == "2024-03-05"
    sections = {p.text: p.section for p in layout.passages}
    assert sections == {"Intro paragraph here.": None, "Sencha is steamed.": "Green › Sencha", "Assam is malty.": "Black"}


def test_windows_line_endings_keep_offsets_exact():
    text = "Title line\r\n\r\nFirst paragraph is here and it is long enough to be body text.\r\n\r\nSecond one.\r\n"
    layout = split_document("crlf.txt", text)
    # three short blocks of one section make one passage, the line breaks between them kept as written
    assert [p.text for p in layout.passages] == [text.rstrip("\r\n")]
    assert all(text[p.start : p.end] == p.text for p in layout.passages)
    assert layout.title == "Title line"


def test_document_without_title_falls_back_to_its_file_name():
    layout = split_document("dir/plain-notes.txt", "Just one sentence of body text that is here.\n")
    assert layout.title == "plain-notes"
    assert [p.text for p in layout.passages] == ["Just one sentence of body text that is here."]


def test_splitting_is_deterministic():
    text, layout = seed("002")
    assert split_document(layout.passages[0].doc, text) == layout


@pytest.mark.parametrize(
    "written, iso",
    [("January 23, 2015", "2015-01-23"), ("Posted On: 8th January 2016", "2016-01-08"), ("on 3 Feb. 2021", "2021-02-03"),
     ("2023-11-07", "2023-11-07"), ("Sept 1st, 2020", "2020-09-01"), ("no date here", None), ("February 30, 2020", None)],
)
def test_dates_are_normalised_to_iso(written, iso):
    assert find_date(written) == iso


def test_sentences_do_not_break_at_abbreviations_times_or_initials():
    text = "On January 21 (Wed.), from 1:00 p.m. to 3:00 p.m. (U.K. time), Mr. Fumio Kishida met H.E. Mr. Hammond. The UK side agreed. Next one!"
    spans = [text[s:e] for s, e in sentence_spans(text)]
    assert spans == [
        "On January 21 (Wed.), from 1:00 p.m. to 3:00 p.m. (U.K. time), Mr. Fumio Kishida met H.E. Mr. Hammond.",
        "The UK side agreed.",
        "Next one!",
    ]
