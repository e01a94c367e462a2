"""Near-topic questions: the real model over a small document. A question that
names the document's own people, places and facts but asks what it does not say is abstained on;
the questions it does answer are answered, with the sentence that holds the fact first."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

LIBRARY = """# The Alder Street Library

The Alder Street Library opened in 1964 in the centre of Brackwell. It was designed by the
architect Helen Marsh, who also planned the town's covered market.

The library holds about 40,000 books and a collection of local maps going back to 1820. Its
reading room seats sixty people and is open every day except Sunday.

In 2010 a children's wing was added to the building, paid for by the town council. The wing has
its own reading room and a small theatre used for school plays.

Since 2015 the library has lent laptops to students for up to two weeks at a time. Borrowers need a
library card, which is free for residents of Brackwell.
"""

ANSWERED = [
    ("Who designed the Alder Street Library?", "Helen Marsh"),  # "It was designed by…": the sentence refers back
    ("When was the children's wing added?", "2010"),
    ("How many books does the library hold?", "40,000"),
    ("How long can students borrow a laptop?", "two weeks"),
]

# Written with the document, before the bot was run on them: each uses its names and facts.
NEAR_MISSES = [
    "Who designed the children's wing?",  # the library's architect is named, the wing's is not
    "When did the Alder Street Library close?",  # it opened; nothing says it closed
    "How much did the town council pay for the covered market?",  # the council paid for the wing
    "How many laptops were lent in 2015?",  # lending began in 2015; no count is given
]


@pytest.fixture(scope="module")
def library_bot(tmp_path_factory):
    from qa import Bot, build_index

    corpus = tmp_path_factory.mktemp("library")
    (corpus / "alder-street-library.md").write_text(LIBRARY, encoding="utf-8")
    index = tmp_path_factory.mktemp("library-index")
    build_index(corpus, index)
    return Bot(index).load()


@pytest.mark.parametrize("question, fact", ANSWERED)
def test_questions_the_document_answers_are_answered_with_the_fact_first(library_bot, question, fact):
    answer = library_bot.ask(question)
    assert not answer.abstained
    assert fact in answer.sentences[0].text


@pytest.mark.xfail(strict=True, reason="near-topic abstention is an open gap (docs/experiments-abstention.md, the reader)")
def test_questions_on_the_documents_topic_that_it_does_not_answer_are_mostly_abstained_on(library_bot):
    abstained = [q for q in NEAR_MISSES if library_bot.ask(q).abstained]
    assert len(abstained) >= len(NEAR_MISSES) // 2, abstained


@pytest.mark.parametrize("asked, changed", [
    ("Who designed the Alder Street Library?", NEAR_MISSES[0]),
    pytest.param("When was the children's wing added?", NEAR_MISSES[1], marks=pytest.mark.xfail(
        strict=True, reason="'opened in 1964' reads as an answer to when it closed: the same gap as above")),
])
def test_a_near_miss_is_less_confident_than_the_question_it_imitates(library_bot, asked, changed):
    # The same words, one fact changed: the confidence must drop.
    assert library_bot.ask(changed).confidence < library_bot.ask(asked).confidence
