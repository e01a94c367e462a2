"""The question as the retrievers and the answer read it (qa.query.Query): checked once, read with
the conversation only when it leans on it, and encoded once however many parts of the bot read it.
Fake encoder: these test the seam, not retrieval quality."""

from __future__ import annotations

import numpy as np
import pytest

from qa import Bot, build_index
from qa.errors import QuestionError
from qa.query import MAX_QUESTION_CHARS, Query
from qa.ranking import MODES, Retrievers
from qa.ranking.base import mode


@pytest.fixture
def bot(corpus, index_dir, fake_factory):
    build_index(corpus, index_dir, encoder_factory=fake_factory)
    return Bot(index_dir, encoder_factory=fake_factory).load()


def test_a_question_is_stripped_and_an_empty_or_huge_one_is_refused_in_one_line():
    assert Query.of("  Who met in Tokyo?\n").text == "Who met in Tokyo?"
    with pytest.raises(QuestionError, match="the question is empty"):
        Query.of(" \n\t")
    with pytest.raises(QuestionError, match=f"too long: {MAX_QUESTION_CHARS + 1:,} characters"):
        Query.of("a" * (MAX_QUESTION_CHARS + 1))


def test_a_query_keeps_the_conversation_only_when_the_question_leans_on_it():
    earlier = ["What did they agree about GCAP?", "  "]
    assert Query.of("and when must it be ready?", earlier).history == ("What did they agree about GCAP?",)
    assert Query.of("Who attended the 2023 meeting in London?", earlier).history == ()


def test_fused_ranking_closeness_and_sentence_cosines_share_one_encoding_of_the_question(bot, fake_encoder):
    before = fake_encoder.encoded
    bot.ask("Which companies will the Foreign Secretary visit in Japan?", mode="fused")
    assert fake_encoder.encoded - before == 1  # ranking, closeness and the selector's cosines read one vector

    before = fake_encoder.encoded
    bot.ask("and when must it be ready?", ["What did they agree about GCAP?"])
    # The follow-up and the question before it (the blended vector), then both as one text (closeness).
    assert fake_encoder.encoded - before == 3


def test_every_mode_ranks_a_query_and_reads_its_history(bot, fake_encoder):
    retrievers = Retrievers(bot.index, fake_encoder)
    alone = Query("when must the fighter aircraft be ready?")
    follow_up = Query("when must the fighter aircraft be ready?", ("Which companies will the Foreign Secretary visit?",))
    for name in MODES:
        ranking = retrievers.get(name).rank(alone, 10)[:10]
        assert 0 < len(ranking) <= 10 and [s for _, s in ranking] == sorted((s for _, s in ranking), reverse=True), name
        assert retrievers.get(name).rank(follow_up, 10)[:10] != ranking, name  # the earlier question's topic counts


def test_bm25_reads_the_question_and_the_one_before_it():
    assert Query("when?", ("What about GCAP aircraft?",)).bm25_tokens() == Query("What about GCAP aircraft? when?").bm25_tokens()
    assert "gcap" in Query("when?", ("What about GCAP aircraft?",)).bm25_tokens()


def test_a_query_vector_is_the_unit_blend_of_the_question_and_the_earlier_ones(fake_encoder):
    query = Query("the budget", ("the launch", "the team"))
    vectors = fake_encoder.encode(["the budget", "the team", "the launch"])  # most recent first
    blended = vectors[0] + 0.5 * vectors[1] + 0.25 * vectors[2]
    np.testing.assert_allclose(query.vector(fake_encoder)[0], blended / np.linalg.norm(blended), atol=1e-6)
    assert query.vector(fake_encoder) is query.vector(fake_encoder)


def test_a_mode_registered_once_is_offered_everywhere_and_a_second_registration_is_refused(bot, fake_encoder):
    @mode("first-passage", "the lowest passage id first: a test mode")
    def first_passage(parts):
        class FirstPassage:
            def rank(self, query, depth):
                return [(int(pid), 1.0) for pid in parts.index.ids[:depth]]

        return FirstPassage()

    try:
        assert "first-passage" in MODES and MODES["first-passage"].summary.startswith("the lowest")
        answer = bot.ask("Who met in London?", mode="first-passage", k=2)
        assert [hit.passage_id for hit in answer.hits] == [int(pid) for pid in bot.index.ids[:2]]
        with pytest.raises(ValueError, match="registered twice"):
            mode("first-passage", "again")(first_passage)
    finally:
        del MODES["first-passage"]
