"""Retrieval and answers with the real model and real FAISS over the seeds corpus."""

import pytest

from qa.errors import QuestionError

EXPECTED_FIRST = [
    ("Which companies will the Foreign Secretary visit in Japan?", "003_cc08bda86b037607.txt", "The visit to Japan is the final stop"),
    ("When must the next-generation fighter aircraft be developed?", "002_2d328a58dc4b1c4a.txt", "3. The four Ministers endorsed the progress of the Global Combat Air Program"),
    ("What did the ministers say about the Paris Agreement on climate change?", "001_fb4a3acd1f7de88d.txt", "19. The Ministers noted the importance of a stable security environment"),
    ("What did the ministers discuss about the Taliban in Afghanistan?", "004_914bec8da6e0b770.txt", "4. Furthermore, the two ministers exchanged views on the situation in Afghanistan"),
    ("How did the UK respond to ISIL taking Japanese citizens hostage?", "000_378f071c54286659.txt", "2. Regarding the taking hostage of Japanese citizens by ISIL"),
    ("What did Minister Motegi request regarding the abductions issue?", "004_914bec8da6e0b770.txt", "3. The two ministers also exchanged views"),
]


@pytest.mark.parametrize("question, doc, opening", EXPECTED_FIRST)
def test_plain_questions_find_the_expected_seed_passage_first(seed_bot, question, doc, opening):
    answer = seed_bot.ask(question)
    first = answer.hits[0].passage
    assert (first.doc, first.text[: len(opening)]) == (doc, opening)
    assert not answer.abstained


def test_answer_quotes_the_sentence_that_holds_the_fact_and_cites_it(seed_bot):
    answer = seed_bot.ask("Which companies will the Foreign Secretary visit in Japan?")
    assert answer.text.startswith("In Japan, the Foreign Secretary will visit Nissan HQ, Hitachi and the Japan Bank for International Cooperation (JBIC). [1]")
    source = (seed_bot.source_text(answer.hits[0].passage.doc))
    for sentence in answer.sentences:
        cited = answer.hits[sentence.citation - 1].passage
        assert source[sentence.start : sentence.end] == sentence.text
        assert cited.start <= sentence.start < sentence.end <= cited.end


def test_every_answer_sentence_comes_from_the_passage_it_cites(seed_bot):
    for question, _, _ in EXPECTED_FIRST:
        answer = seed_bot.ask(question, k=5)
        for sentence in answer.sentences:
            assert sentence.text in answer.hits[sentence.citation - 1].passage.text


def test_question_the_documents_do_not_answer_abstains_but_lists_closest_passages(seed_bot):
    answer = seed_bot.ask("What is a good recipe for chocolate cake?")
    assert answer.abstained and answer.sentences == ()
    assert answer.text == "The documents don't answer this question."
    assert len(answer.hits) == 5


def test_follow_up_is_understood_from_history(seed_bot):
    alone = seed_bot.ask("What other countries were on that trip?")
    followed = seed_bot.ask("What other countries were on that trip?", history=["Why did Philip Hammond travel to Tokyo in January 2016?"])
    assert followed.hits[0].passage.text.startswith("The visit to Japan is the final stop of a three-country tour")
    assert "China and the Philippines" in followed.text
    assert alone.hits[0].passage.doc != "003_cc08bda86b037607.txt" or alone.hits[0].score < followed.hits[0].score


def test_k_limits_the_cited_passages(seed_bot):
    assert len(seed_bot.ask("North Korea nuclear test", k=2).hits) == 2


def test_json_shape_matches_the_contract(seed_bot):
    data = seed_bot.ask("When must the next-generation fighter aircraft be developed?").to_dict()
    assert set(data) == {"question", "answer", "abstained", "passages"}
    first = data["passages"][0]
    assert set(first) == {"rank", "score", "doc", "title", "date", "section", "text", "start", "end"}
    assert (first["rank"], first["date"], first["section"]) == (1, "2023-11-07", "2. Security and defense cooperation")
    assert "[1]" in data["answer"]


@pytest.mark.parametrize("question, message", [("", "empty"), ("   \n\t", "empty"), ("x" * 100_000, "too long: 100,000 characters")])
def test_empty_or_huge_questions_are_refused(seed_bot, question, message):
    with pytest.raises(QuestionError, match=message):
        seed_bot.ask(question)


@pytest.mark.parametrize("mode", ["fused", "dense", "bm25", "hybrid", "rrf"])
def test_every_retrieval_mode_finds_a_keyword_query_and_answers_from_it(seed_bot, mode):
    answer = seed_bot.ask("Combined Task Force 151 counter-piracy", mode=mode)
    assert answer.hits[0].passage.text.startswith("8. The Ministers welcomed international cooperation in counter-piracy")
    assert "Combined Task Force 151" in answer.text


def test_unknown_retrieval_mode_is_refused(seed_bot):
    from qa import QAError

    with pytest.raises(QAError, match="unknown retrieval mode 'sparse'; choose one of: fused, dense, bm25, hybrid, rrf"):
        seed_bot.ask("anything", mode="sparse")
