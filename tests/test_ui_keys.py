"""The chat's keys: paging the conversation, typing on a card, the prompt that grows."""

from __future__ import annotations

import pytest
from chat_pilot import ask, chat, run, wait_for
from fake_bot import FakeBot
from textual import events

from ui.app import AppState
from ui.screens import SourceScreen
from ui.widgets import Exchange, Prompt

LONDON_Q = "Who did they meet in London?"

pytestmark = pytest.mark.usefixtures("chat_dirs")


def test_fast_page_up_presses_each_scroll_a_page_and_home_end_reach_the_ends():
    async def scenario():
        app = chat()
        async with app.run_test(size=(80, 24)) as pilot:
            for _ in range(6):
                await ask(pilot, LONDON_Q)
            transcript = app.query_one("#transcript")
            transcript.scroll_end(animate=False)
            await pilot.pause()
            bottom = transcript.scroll_y
            page = transcript.scrollable_content_region.height
            assert bottom > 4 * page  # enough to scroll
            await pilot.press("pageup", "pageup", "pageup")  # sent at once, as a user holding the key
            assert transcript.scroll_y == pytest.approx(bottom - 3 * page, abs=1)
            await pilot.press("pagedown")
            assert transcript.scroll_y == pytest.approx(bottom - 2 * page, abs=1)
            assert app.query_one(Prompt).value == ""
            await pilot.press("home")  # an empty prompt: Home and End scroll the conversation
            assert transcript.scroll_y == 0
            await pilot.press("end")
            assert transcript.scroll_y == pytest.approx(bottom, abs=1)
            await pilot.press("ctrl+home")
            assert transcript.scroll_y == 0
            await pilot.press("ctrl+end")
            assert transcript.scroll_y == pytest.approx(bottom, abs=1)
            # With text in the prompt, Home moves its cursor instead.
            await pilot.press(*"abc", "home")
            assert app.query_one(Prompt).cursor_location == (0, 0) and transcript.scroll_y == pytest.approx(bottom, abs=1)

    run(scenario())


def test_typing_on_a_card_goes_to_the_prompt_letter_for_letter():
    async def scenario():
        app = chat()
        async with app.run_test(size=(100, 30)) as pilot:
            exchange = await ask(pilot, LONDON_Q)
            await pilot.press("tab")
            assert app.focused is exchange.cards[0]
            await pilot.press(*"kishida")  # k was "previous card"
            prompt = app.query_one(Prompt)
            assert app.focused is prompt and prompt.value == "kishida"
            notices = len(app.notices)
            await pilot.press("tab", *" compare")  # c was "copy"
            assert prompt.value == "kishida compare"
            assert len(app.notices) == notices and not app.clipboard
            # Copy is Ctrl+C on a card.
            await pilot.press("tab", "ctrl+c")
            assert app.clipboard.startswith("[1] Japan-UK Foreign and Defence Ministers' Meeting")

    run(scenario())


def test_the_prompt_grows_with_new_lines_and_sends_them_as_one_question():
    async def scenario():
        bot = FakeBot()
        app = chat(bot)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: app.state is AppState.READY, what="loading")
            prompt = app.query_one(Prompt)
            one_line = prompt.outer_size.height
            await pilot.press(*"Who did they meet", "ctrl+j", *"in London?", "shift+enter", *"And when?")
            await pilot.pause()
            assert prompt.value == "Who did they meet\nin London?\nAnd when?"
            assert prompt.outer_size.height == one_line + 2
            await pilot.press("enter")
            await wait_for(pilot, lambda: bot.calls, what="the question")
            assert bot.calls[0][0] == "Who did they meet\nin London?\nAnd when?"
            assert prompt.value == "" and prompt.outer_size.height == one_line

    run(scenario())


def test_an_over_long_question_shows_the_limit_as_it_is_typed_and_is_kept_not_sent():
    async def scenario():
        bot = FakeBot()
        app = chat(bot)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: app.state is AppState.READY, what="loading")
            prompt = app.query_one(Prompt)
            prompt.value = "why " * 450  # 1,799 characters once stripped: close to the limit
            await pilot.pause()
            assert str(prompt.border_subtitle) == "1,799 / 2,000 characters" and not prompt.has_class("-too-long")
            long_question = "why " * 600
            prompt.value = long_question
            await pilot.pause()
            assert str(prompt.border_subtitle) == "2,399 / 2,000 characters: too long" and prompt.has_class("-too-long")
            await pilot.press("enter")
            await pilot.pause()
            assert not app.query(Exchange) and bot.calls == []
            assert prompt.value == long_question  # kept, to be shortened
            assert app.notices[-1].startswith("The question is too long: 2,399 characters (limit 2,000)")
            prompt.value = "Who did they meet in London?"
            await pilot.pause()
            assert not prompt.border_subtitle
            await pilot.press("enter")
            await wait_for(pilot, lambda: bot.calls, what="the question")

    run(scenario())


def test_a_burst_of_typing_on_a_card_that_ends_in_enter_asks_it_and_a_paste_goes_to_the_prompt():
    async def scenario():
        bot = FakeBot()
        app = chat(bot)
        async with app.run_test(size=(100, 30)) as pilot:
            exchange = await ask(pilot, "Who did they meet in London?")
            await pilot.press("tab")
            assert app.focused is exchange.cards[0]
            # Sent as a terminal sends a fast burst: every key is in the app's queue before the first is handled.
            for key, character in [("w", "w"), ("h", "h"), ("o", "o"), ("backspace", None), ("enter", "\r")]:
                app.post_message(events.Key(key, character))
            await wait_for(pilot, lambda: len(bot.calls) == 2, what="the question typed on the card")
            assert bot.calls[-1][0] == "wh" and not isinstance(app.screen, SourceScreen)
            await ask(pilot, "and who attended?")
            await pilot.press("tab")
            app.post_message(events.Paste("when was it?"))
            await pilot.pause()
            prompt = app.query_one(Prompt)
            assert app.focused is prompt and prompt.value == "when was it?"

    run(scenario())


def test_an_enter_typed_before_the_first_paint_asks_the_question_not_a_new_line():
    async def scenario():
        bot = FakeBot()
        app = chat(bot)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: app.state is AppState.READY, what="loading")
            prompt = app.query_one(Prompt)
            prompt.value = "Who did they meet in London?"
            # Typed before the chat painted, while the terminal was still in line mode: Enter came as a line feed.
            early = events.Key("ctrl+j", "\n")
            early.time = 0.0
            app.post_message(early)
            await wait_for(pilot, lambda: bot.calls, what="the question")
            assert bot.calls[0][0] == "Who did they meet in London?" and prompt.value == ""
            await pilot.press(*"one", "ctrl+j", *"two")  # after the paint, Ctrl+J is a new line
            assert prompt.value == "one\ntwo"

    run(scenario())
