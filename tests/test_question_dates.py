"""The time a question names, and which passages are of that time (no model needed)."""

from __future__ import annotations

from qa.question_dates import of_named_time, ordinals, speaks_of, years_by_title_ordinal, years_named, years_spoken_of
from qa.schema import Passage


def _passage(text: str, date: str | None, title: str = "Report") -> Passage:
    return Passage(doc=f"{title}.txt", title=title, date=date, section=None, start=0, end=len(text), text=text)


def test_years_named_are_the_questions_own():
    assert years_named("Who attended the 2023 meeting?") == {"2023"}
    assert years_named("What did it cost, 2,023 dollars or 3.2023?") == frozenset()


def test_a_passage_speaks_of_the_years_it_writes_and_of_its_documents_day():
    assert years_spoken_of(_passage("The plant opened in 1998 and closed later.", None)) == {"1998"}
    # Names the day its document is dated, without the year: it tells what happened that day.
    assert years_spoken_of(_passage("On November 7, the board met in Oslo.", "2023-11-07")) == {"2023"}
    assert years_spoken_of(_passage("The 7th of November was cold.", "2023-11-07")) == {"2023"}
    # Another day of the year, or no date at all, says nothing about the document's year.
    assert years_spoken_of(_passage("On November 8, the board met in Oslo.", "2023-11-07")) == frozenset()
    assert years_spoken_of(_passage("The board met in Oslo.", "2023-11-07")) == frozenset()


def test_speaks_of_marks_the_passages_of_a_year():
    spoken = [frozenset({"2023"}), frozenset(), frozenset({"1998", "2023"})]
    assert speaks_of(spoken, frozenset({"2023"})).tolist() == [1.0, 0.0, 1.0]
    assert speaks_of(spoken, frozenset({"1999"})).tolist() == [0.0, 0.0, 0.0]


def test_ordinals_in_words_and_digits():
    assert ordinals("Who spoke at the fifth summit and the 3rd one?") == {5, 3}
    assert ordinals("Who spoke at the summit?") == frozenset()


def test_a_dated_documents_title_ordinal_names_its_year():
    passages = [
        _passage("Opening remarks.", "2019-05-02", title="Third Annual Harvest Festival"),
        _passage("Closing remarks.", "2022-06-11", title="Sixth Annual Harvest Festival"),
        _passage("Undated notes.", None, title="Second draft"),
    ]
    assert years_by_title_ordinal(passages) == {3: {"2019"}, 6: {"2022"}}


def test_of_named_time_keeps_the_passages_of_the_year_asked_about():
    passages = [_passage("The council met.", "2021-03-01"), _passage("The council met.", "2023-04-02"),
                _passage("Looking back at 2023, the council grew.", "2024-01-01")]
    assert of_named_time("Who chaired the 2023 council?", passages) == [False, True, True]
    assert of_named_time("Who chaired the council?", passages) == [False, False, False]


def test_no_time_rule_for_passages_of_undated_documents():
    passages = [_passage("The council met in 2023.", None), _passage("The council met.", None)]
    assert of_named_time("Who chaired the 2023 council?", passages) == [False, False]
