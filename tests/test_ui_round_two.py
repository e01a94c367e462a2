"""The chat's keys, queue, re-index progress, cards, conversations, key config and export, with the
stand-in bot of ui_conftest_helpers (no model: the fast tier)."""

from __future__ import annotations

import asyncio
import sys
import threading
from dataclasses import replace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # for ui_conftest_helpers, whatever pytest's import mode

from ui_conftest_helpers import (
    LONDON,
    NEXT,
    TOKYO,
    FakeBot,
    ask,
    rendered_lines,
    run_palette,
    sentence,
    wait_for,
)

from qa import Answer, Bot, Hit
from ui.app import AppState, ChatApp
from ui.commands import ChatCommands
from ui.conversations import ConversationStore
from ui.render import Palette, score_bar
from ui.screens import ConversationsScreen, HelpScreen
from ui.widgets import Exchange, Prompt

LONDON_Q = "Who did they meet in London?"


@pytest.fixture(autouse=True)
def dirs(tmp_path, monkeypatch) -> tuple[Path, Path]:
    data, config = tmp_path / "data", tmp_path / "config"
    monkeypatch.setenv("QA_DATA_DIR", str(data))
    monkeypatch.setenv("QA_CONFIG_DIR", str(config))
    return data, config


def chat(bot=None, **options) -> ChatApp:
    options.setdefault("animate", False)
    return ChatApp(bot=bot or FakeBot(), **options)


def run(coroutine):
    return asyncio.run(coroutine)


# --- keys -------------------------------------------------------------------------------------------


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


# --- the queue, the index, progress ------------------------------------------------------------------


class GatedAsk(FakeBot):
    """Answers only when let through, so a queue can be watched."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ask_gate = threading.Semaphore(0)

    def ask(self, *args, **kwargs):
        self.ask_gate.acquire(timeout=30)
        return super().ask(*args, **kwargs)


def test_questions_queued_while_loading_say_what_they_wait_for_once_it_has_loaded():
    gate = threading.Event()
    bot = GatedAsk(load_gate=gate)

    async def scenario():
        app = chat(bot)
        async with app.run_test(size=(100, 30)) as pilot:
            for question in ("Who did they meet in London?", "and who attended?", "when was it?"):
                app.query_one(Prompt).value = question
                await pilot.press("enter")
            await pilot.pause()
            exchanges = list(app.query(Exchange))

            def status(exchange: Exchange) -> str:
                return exchange.query_one(".reply-status").visual.plain

            assert all("Waiting for the model" in status(e) for e in exchanges)
            gate.set()
            await wait_for(pilot, lambda: app.state is AppState.READY, what="loading")
            await pilot.pause()
            assert "Searching" in status(exchanges[0])
            assert "Queued: 1 question before this one" in status(exchanges[1])
            assert "Queued: 2 questions before this one" in status(exchanges[2])
            bot.ask_gate.release()
            await wait_for(pilot, lambda: exchanges[0].answer is not None, what="the first answer")
            await pilot.pause()
            assert "Searching" in status(exchanges[1]) and "Queued: 1 question before" in status(exchanges[2])
            bot.ask_gate.release()
            bot.ask_gate.release()
            await wait_for(pilot, lambda: exchanges[2].answer is not None, what="the last answer")

    run(scenario())


def test_an_index_dir_that_is_a_file_says_so_and_ctrl_r_does_not_try(tmp_path):
    not_a_folder = tmp_path / "index.txt"
    not_a_folder.write_text("not an index", encoding="utf-8")

    async def scenario():
        app = chat(Bot(not_a_folder))
        async with app.run_test(size=(120, 30)) as pilot:
            await wait_for(pilot, lambda: app.state is AppState.BROKEN, what="the load to fail")
            message = app.query_one("#welcome").visual.plain
            assert "is a file, not a folder" in message and "--index-dir" in message
            assert "No index in" not in message and "Ctrl+R" not in message
            await pilot.press("ctrl+r")
            await pilot.pause()
            assert app.state is AppState.BROKEN
            assert "is a file, not a folder" in app.notices[-1]
            assert not any("File exists" in note for note in app.notices)
        assert not_a_folder.read_text(encoding="utf-8") == "not an index"

    run(scenario())


class GatedBuild(FakeBot):
    """A re-index that reports half of its work done, then waits."""

    def __init__(self) -> None:
        super().__init__()
        self.halfway = threading.Event()
        self.finish = threading.Event()

    def reindex(self, corpus_dir=None, progress=None):
        progress(0, 1000)
        progress(500, 1000)
        self.halfway.set()
        self.finish.wait(30)
        return super().reindex(corpus_dir, progress)


def test_the_reindex_progress_bar_shows_the_builds_own_count():
    bot = GatedBuild()

    async def scenario():
        app = chat(bot)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: app.state is AppState.READY, what="loading")
            await pilot.press("ctrl+r")
            await wait_for(pilot, lambda: bot.halfway.is_set(), what="half of the build")
            bar = app.query_one("#progress")
            await wait_for(pilot, lambda: bar.display and bar.percentage == 0.5, what="the bar at 50 %")
            shown = "".join(rendered_lines(bar))
            assert "50%" in shown and "--%" not in shown
            assert "embedding the passages" in app.query_one("#status-text").visual.plain
            bot.finish.set()
            await wait_for(pilot, lambda: app.state is AppState.READY, what="the re-index")
            assert not bar.display

    run(scenario())


# --- replies -------------------------------------------------------------------------------------------


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


def test_the_header_counts_indexed_documents_and_says_how_many_were_skipped():
    async def scenario():
        app = chat()
        async with app.run_test(size=(120, 30)) as pilot:
            await wait_for(pilot, lambda: app.state is AppState.READY, what="loading")
            info = app.query_one("#corpus-info").visual.plain
            assert "3 documents (1 skipped) · 5 passages" in info

    run(scenario())


# --- the palette -----------------------------------------------------------------------------------------


def test_the_palette_explains_each_mode_and_lists_a_typed_k_once():
    async def scenario():
        app = chat()
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: app.state is AppState.READY, what="loading")
            provider = ChatCommands(app.screen)
            listed = {name: help_text for name, help_text, _ in provider._commands()}
            modes = {name: text for name, text in listed.items() if name.startswith("Retrieval mode")}
            assert len(modes) == 3 and all(30 < len(text) <= 70 for text in modes.values())  # one line at 80 columns
            assert [name for name, text in modes.items() if "(recommended)" in text] == ["Retrieval mode: fused"]
            hits = [hit.text async for hit in provider.search("k 8")]
            assert hits.count("Set k = 8") == 1

    run(scenario())


# --- conversations ----------------------------------------------------------------------------------------


def test_a_conversation_survives_a_restart_with_its_answers_k_mode_and_theme(dirs):
    data, _ = dirs

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


# --- keys from keys.toml, the help ----------------------------------------------------------------------


def test_keys_from_the_toml_file_rebind_and_the_help_lists_them(dirs):
    _, config = dirs
    config.mkdir(parents=True)
    (config / "keys.toml").write_text('[keys]\nexport = "ctrl+e"\nhelp = "f2"\nnot_a_key = "x"\n', encoding="utf-8")

    async def scenario():
        app = chat()
        async with app.run_test(size=(120, 50)) as pilot:
            await ask(pilot, LONDON_Q)
            assert any("unknown key id 'not_a_key'" in note for note in app.notices)
            await pilot.press("f2")
            assert isinstance(app.screen, HelpScreen)
            text = "\n".join(rendered_lines(app.screen.query_one("#help-text")))
            assert "Ctrl+E" in text and "[export]" in text and "F2" in text
            assert "select text" in text and "Ctrl+C" in text and "keys.toml" in text
            await pilot.press("escape")
            await pilot.press("ctrl+e")
            await pilot.pause()
            assert any(note.endswith(".md") for note in app.notices)

    run(scenario())


# --- export -------------------------------------------------------------------------------------------------


def test_export_goes_to_the_data_directory_or_a_typed_path_and_records_mode_k_and_time(dirs, tmp_path, monkeypatch):
    data, _ = dirs
    monkeypatch.chdir(tmp_path)  # a short relative path to type: the palette types it key by key

    async def scenario():
        app = chat()
        async with app.run_test(size=(100, 30)) as pilot:
            await ask(pilot, LONDON_Q)
            app.set_mode("bm25")
            await ask(pilot, "What is the recipe for chocolate cake?")
            await pilot.press("ctrl+s")
            await pilot.pause()
            [written] = list((data / "exports").glob("qa-conversation-*.md"))
            assert app.notices[-1] == str(written.resolve())
            await run_palette(pilot, "export mine.md")
            assert (tmp_path / "mine.md").is_file() and app.notices[-1] == str((tmp_path / "mine.md").resolve())
            return written.read_text(encoding="utf-8")

    text = run(scenario())
    assert f"## {LONDON_Q}" in text
    assert "· mode fused · k 5 · answered in" in text and "· mode bm25 · k 5 · answered in" in text
    assert "_Asked 20" in text


def test_the_footer_keeps_quit_and_help_at_60_and_80_columns_with_a_card_focused():
    async def scenario(width: int, height: int):
        app = chat()
        async with app.run_test(size=(width, height)) as pilot:
            await ask(pilot, LONDON_Q)
            for focus in ("prompt", "card"):
                if focus == "card":
                    await pilot.press("tab")
                await pilot.pause()
                footer = "".join(rendered_lines(app.screen.query_one("Footer")))
                assert "Quit" in footer and "Help" in footer, (width, focus, footer)

    run(scenario(60, 20))
    run(scenario(80, 24))


def test_a_library_notice_sent_from_a_worker_thread_is_shown_as_a_toast():
    async def scenario():
        app = chat()
        async with app.run_test(size=(80, 24)) as pilot:
            await asyncio.to_thread(app.notice, "corpus changed since the index was built; updating it")
            await wait_for(pilot, lambda: app.notices, what="the notice")
            assert app.notices == ["corpus changed since the index was built; updating it"]

    run(scenario())
