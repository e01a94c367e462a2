"""Replies: passages shown once, score bars, the recommended mode's hint."""

from __future__ import annotations

from dataclasses import replace

import pytest
from chat_pilot import ask, chat, rendered_segments, run
from fake_bot import LONDON, NEXT, TOKYO, FakeBot, sentence
from rich.color import Color

from qa import Answer, AnswerSentence, Hit
from ui.render import Palette, score_bar

LONDON_Q = "Who did they meet in London?"

pytestmark = pytest.mark.usefixtures("chat_dirs")


class RepeatingBot(FakeBot):
    """A document that repeats a line: two hits with the same text; the answer cites the second."""

    def ask(self, question, history=(), k=5, mode=None):
        self.calls.append((question, tuple(history), k))
        duplicate = replace(NEXT, start=NEXT.start + 1000, end=NEXT.end + 1000)  # the same line, later in the file
        hits = (Hit(1, 0.6, LONDON), Hit(2, 0.5, NEXT), Hit(3, 0.5, duplicate), Hit(4, 0.3, TOKYO))
        cited = sentence(NEXT, NEXT.text, 3)
        return Answer(question=question, sentences=(cited,), hits=hits[:k], abstained=False, search_ms=0.0)


def test_passages_with_the_same_text_from_the_same_document_are_shown_once():
    async def scenario():
        app = chat(RepeatingBot())
        async with app.run_test(size=(100, 40)) as pilot:
            exchange = await ask(pilot, "When is the next meeting?")
            cards = exchange.cards
            assert [card.hit.rank for card in cards] == [1, 2, 3]
            assert [card.hit.passage.doc for card in cards] == [LONDON.doc, NEXT.doc, TOKYO.doc]
            assert sum(card.hit.passage.text == NEXT.text for card in cards) == 1
            assert exchange.query_one(".answer").visual.plain.endswith("[2]")  # the citation follows its card
            # A search under a millisecond (a repeated question) is not shown as "0 ms".
            timing = exchange.query_one(".timing").visual.plain
            assert "search cached" in timing and " 0 ms" not in timing and "answered in" in timing

    run(scenario())


def test_score_bars_are_on_the_absolute_scale_and_only_for_cosine_scores():
    palette = Palette()
    assert score_bar(0.5, palette).plain.startswith("████    ")
    assert score_bar(0.12, palette).plain.startswith("█       ")  # a weak top hit is not a full bar
    assert score_bar(2.2, palette, bar=False).plain == "score 2.20"

    async def scenario():
        app = chat()
        async with app.run_test(size=(100, 40)) as pilot:
            exchange = await ask(pilot, "What is the recipe for chocolate cake?")  # abstains, top score 0.12
            assert "█" not in str(exchange.cards[0].border_subtitle)  # fused scores: a number, no bar
            app.set_mode("dense")
            exchange = await ask(pilot, "What is the recipe for chocolate cake?")
            assert "█       " in str(exchange.cards[0].border_subtitle)  # 0.12 of a full bar: one cell

    run(scenario())


class ModeSensitiveBot(FakeBot):
    """Answers in the recommended mode, abstains in bm25."""

    def ask(self, question, history=(), k=5, mode=None):
        if mode == "bm25":
            question = "cake"
        return super().ask(question, history, k, mode)


def test_a_reply_in_another_mode_says_when_the_recommended_mode_answers_differently():
    async def scenario():
        app = chat(ModeSensitiveBot())
        async with app.run_test(size=(100, 40)) as pilot:
            exchange = await ask(pilot, LONDON_Q)
            assert not exchange.query(".mode-hint")
            app.set_mode("bm25")
            exchange = await ask(pilot, LONDON_Q)
            assert exchange.answer.abstained
            hint = exchange.query_one(".mode-hint").visual.plain
            assert "recommended mode, fused, answers this from london-meeting.txt" in hint

    run(scenario())


def test_a_reply_that_abstains_says_so_in_the_words_of_qa_ask():
    async def scenario():
        app = chat()
        async with app.run_test(size=(100, 30)) as pilot:
            exchange = await ask(pilot, "What is the recipe for chocolate cake?")
            assert exchange.answer.abstained
            assert exchange.query_one(".answer").visual.plain == "The documents don't answer this question."

    run(scenario())


class HeadingBot(FakeBot):
    """An answer quoted from a document whose sentence starts with a bracketed heading."""

    def ask(self, question, history=(), k=5, mode=None):
        text = "[Reference]\nThe four ministers agreed to hold the next meeting in Tokyo."
        passage = replace(NEXT, text=text, end=NEXT.start + len(text))
        return Answer(question=question, sentences=(AnswerSentence(text, 1, passage.start, passage.end),),
                      hits=(Hit(1, 0.5, passage),), abstained=False, search_ms=3.0)


def test_brackets_of_the_document_in_an_answer_do_not_look_like_its_citation_markers():
    async def scenario():
        app = chat(HeadingBot())
        async with app.run_test(size=(100, 30)) as pilot:
            exchange = await ask(pilot, "Where is the next meeting?")
            segments = rendered_segments(exchange.query_one(".answer"))
            label = next(s.style for s in segments if s.text.strip() == "[Reference]")
            marker = next(s.style for s in segments if s.text.strip() == "[1]")
            assert label.color == Color.parse(app.palette.muted) and label.italic and not label.bold
            assert marker.bold and marker.color == Color.parse(app.palette.citation)

    run(scenario())
