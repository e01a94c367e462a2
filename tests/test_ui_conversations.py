"""Conversations: kept across restarts, cleared and brought back, reopened and deleted."""

from __future__ import annotations

import pytest
from chat_pilot import ask, chat, rendered_lines, run, wait_for
from fake_bot import FakeBot
from textual.widgets import OptionList

from ui.conversations import ConversationStore
from ui.screens import ConversationsScreen
from ui.widgets import Exchange

LONDON_Q = "Who did they meet in London?"

pytestmark = pytest.mark.usefixtures("chat_dirs")


def test_a_conversation_survives_a_restart_with_its_answers_k_mode_and_theme(chat_dirs):
    data, _ = chat_dirs

    async def first_run():
        app = chat()
        async with app.run_test(size=(100, 30)) as pilot:
            await ask(pilot, LONDON_Q)
            app.set_k(3)
            app.set_mode("bm25")
            await ask(pilot, "and who attended?")
            app.theme = "solarized-light"
            await pilot.pause()

    async def second_run():
        bot = FakeBot()
        app = chat(bot)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            exchanges = list(app.query(Exchange))
            assert [e.question for e in exchanges] == [LONDON_Q, "and who attended?"]
            assert exchanges[0].answer is not None and "Hammond" in exchanges[0].query_one(".answer").visual.plain
            assert [card.hit.passage.doc for card in exchanges[0].cards][:1] == ["london-meeting.txt"]
            assert exchanges[1].mode == "bm25" and exchanges[1].k == 3
            assert app.k == 3 and app.retrieval_mode == "bm25" and app.theme == "solarized-light"
            assert not app.query(".reply-status")  # nothing waits: the replies are the kept ones
            # A follow-up carries on the reopened conversation.
            follow_up = await ask(pilot, "when was it?")
            assert follow_up.history == (LONDON_Q, "and who attended?")

    run(first_run())
    assert (data / "conversations.sqlite3").is_file()
    run(second_run())
    store = ConversationStore(data)
    [kept] = store.conversations()
    assert kept.turns == 3 and kept.title == LONDON_Q
    store.close()


def test_clear_can_be_undone_new_starts_afresh_and_earlier_ones_can_be_reopened_or_deleted():
    async def scenario():
        app = chat()
        async with app.run_test(size=(100, 30)) as pilot:
            await ask(pilot, LONDON_Q)
            first = app.conversation_id
            await pilot.press("ctrl+l")
            await pilot.pause()
            assert not app.query(Exchange) and "Ctrl+Z" in app.notices[-1]
            assert app.conversations.conversations() == []
            await pilot.press("ctrl+z")
            await pilot.pause()
            assert [e.question for e in app.query(Exchange)] == [LONDON_Q] and app.conversation_id == first
            await pilot.press("ctrl+n")
            await pilot.pause()
            assert not app.query(Exchange) and app.conversation_id is None
            await ask(pilot, "and who attended?")
            assert len(app.conversations.conversations()) == 2
            await pilot.press("ctrl+o")
            await wait_for(pilot, lambda: isinstance(app.screen, ConversationsScreen), what="the list")
            listed = "\n".join(rendered_lines(app.screen))
            assert LONDON_Q in listed and "and who attended?" in listed
            await pilot.press("down", "enter")  # the older one
            await wait_for(pilot, lambda: not isinstance(app.screen, ConversationsScreen), what="the chat")
            assert [e.question for e in app.query(Exchange)] == [LONDON_Q] and app.conversation_id == first
            await pilot.press("ctrl+o")
            await wait_for(pilot, lambda: isinstance(app.screen, ConversationsScreen), what="the list")
            await pilot.press("down", "delete", "escape")
            await pilot.pause()
            assert [c.title for c in app.conversations.conversations()] == ["and who attended?"]
            assert not app.query(Exchange)

    run(scenario())


def test_the_list_of_no_conversations_is_one_sentence_without_an_empty_box():
    async def scenario():
        app = chat()
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("ctrl+o")
            await wait_for(pilot, lambda: isinstance(app.screen, ConversationsScreen), what="the list")
            assert not app.screen.query_one(OptionList).display
            assert app.screen.query_one("#no-conversations").display
            await pilot.press("escape")
            await ask(pilot, LONDON_Q)
            await pilot.press("ctrl+o")
            await wait_for(pilot, lambda: isinstance(app.screen, ConversationsScreen), what="the list")
            assert app.screen.query_one(OptionList).display and not app.screen.query_one("#no-conversations").display
            await pilot.press("delete")  # the last one: the list gives way to the sentence
            await pilot.pause()
            assert not app.screen.query_one(OptionList).display and app.screen.query_one("#no-conversations").display

    run(scenario())


def test_a_restart_reopens_the_conversation_shown_last():
    async def first_run():
        app = chat()
        async with app.run_test(size=(100, 30)) as pilot:
            await ask(pilot, LONDON_Q)
            await pilot.press("ctrl+n")
            await ask(pilot, "and who attended?")
            await pilot.press("ctrl+o")
            await wait_for(pilot, lambda: isinstance(app.screen, ConversationsScreen), what="the list")
            await pilot.press("down", "enter")  # the older one
            await wait_for(pilot, lambda: not isinstance(app.screen, ConversationsScreen), what="the chat")

    async def second_run():
        app = chat()
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            assert [e.question for e in app.query(Exchange)] == [LONDON_Q]

    run(first_run())
    run(second_run())
