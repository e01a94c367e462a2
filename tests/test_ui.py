"""The chat (ui/): pilot tests against the real model and seeds index, a few with a stand-in bot, and
one run of `qa chat` in a real terminal (tmux)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from chat_pilot import ask, rendered_lines, rendered_segments, run_palette, wait_for
from fake_bot import FakeBot

from qa import Bot, QAError, build_index
from ui.app import AppState, ChatApp
from ui.commands import ChatCommands
from ui.screens import HelpScreen, SourceScreen
from ui.widgets import Exchange, Prompt

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
LONDON_DOC = "000_378f071c54286659.txt"
LONDON_QUESTION = "Who did Kishida and Nakatani meet in London?"
CAKE_QUESTION = "What is the recipe for chocolate cake?"


@pytest.fixture(scope="session")
def ui_seeds_bot(seed_index) -> Bot:
    """A Bot of its own over the shared real seeds index: the chat sets k and mode on it."""
    return Bot(seed_index).load()


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch) -> Path:
    """Never touch the user's real data directory."""
    folder = tmp_path / "data"
    monkeypatch.setenv("QA_DATA_DIR", str(folder))
    monkeypatch.setenv("QA_CONFIG_DIR", str(tmp_path / "config"))
    return folder


def run(coroutine):
    return asyncio.run(coroutine)


def chat(bot, **options) -> ChatApp:
    options.setdefault("animate", False)
    return ChatApp(bot=bot, **options)


# --- with the real model --------------------------------------------------------------------------


@pytest.mark.slow
def test_question_is_answered_with_the_expected_seed_passage_cited(ui_seeds_bot):
    async def scenario():
        app = chat(ui_seeds_bot)
        async with app.run_test(size=(120, 40)) as pilot:
            exchange = await ask(pilot, LONDON_QUESTION)
            assert exchange.answer is not None and not exchange.answer.abstained
            docs = [card.hit.passage.doc for card in exchange.cards]
            assert LONDON_DOC in docs
            assert "seeds/ · 5 documents · " in app.query_one("#corpus-info").visual.plain  # the manifest's count
            answer_shown = exchange.query_one(".answer").visual.plain
            assert "[1]" in answer_shown and "Hammond" in answer_shown
            timing = exchange.query_one(".timing").visual.plain
            assert "ms" in timing
            card = exchange.cards[docs.index(LONDON_DOC)]
            shown = "\n".join(rendered_lines(card))
            assert f"[{card.hit.rank}]" in shown and "Japan-United Kingdom Relations" in shown
            assert "2015-01-23" in shown and LONDON_DOC in shown
            assert f"{card.hit.score:.2f}" in shown
            # The supporting sentence is highlighted: some of the card's text has a background.
            body = card.query_one(".card-text")
            assert any(seg.style and seg.style.bgcolor for seg in rendered_segments(body))

    run(scenario())


@pytest.mark.slow
def test_source_viewer_opens_at_the_passage_and_esc_returns(ui_seeds_bot):
    async def scenario():
        app = chat(ui_seeds_bot)
        async with app.run_test(size=(100, 30)) as pilot:
            exchange = await ask(pilot, LONDON_QUESTION)
            await pilot.press("tab")
            assert app.focused is exchange.cards[0]
            await pilot.press("down")
            assert app.focused is exchange.cards[1]
            await pilot.press("up", "enter")
            await wait_for(pilot, lambda: isinstance(app.screen, SourceScreen), what="the source viewer")
            screen = app.screen
            hit = exchange.cards[0].hit
            source = ui_seeds_bot.source_text(hit.passage.doc)
            assert source[hit.passage.start : hit.passage.end] == hit.passage.text
            block = screen.query_one("#doc-passage").visual.plain
            assert hit.passage.text in block
            document = screen.query_one("#document")
            passage_widget = screen.query_one("#doc-passage")
            # scrolled so that the passage is on screen
            assert document.scroll_y <= passage_widget.virtual_region.y < document.scroll_y + document.size.height
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, SourceScreen), what="the chat")
            assert app.focused is exchange.cards[0]

    run(scenario())


class SpyBot:
    """Delegates to a real Bot and records the arguments of ask()."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot
        self.calls: list[tuple[str, tuple[str, ...]]] = []

    def ask(self, question, history=(), k=5, mode=None):
        self.calls.append((question, tuple(history)))
        return self._bot.ask(question, history, k=k, mode=mode)

    def __getattr__(self, name):
        return getattr(self._bot, name)


@pytest.mark.slow
def test_follow_up_question_gets_the_earlier_questions_as_history(ui_seeds_bot):
    async def scenario():
        spy = SpyBot(ui_seeds_bot)
        app = chat(spy)
        async with app.run_test(size=(100, 30)) as pilot:
            await ask(pilot, LONDON_QUESTION)
            follow_up = await ask(pilot, "and who attended?")
            assert spy.calls == [(LONDON_QUESTION, ()), ("and who attended?", (LONDON_QUESTION,))]
            assert follow_up.answer is not None and follow_up.answer.history == (LONDON_QUESTION,)
            assert follow_up.cards
            # Clearing the conversation starts a new one: no history.
            await pilot.press("ctrl+l")
            await pilot.pause()
            assert not app.query(Exchange)
            await ask(pilot, "and who attended?")
            assert spy.calls[-1] == ("and who attended?", ())

    run(scenario())


@pytest.mark.slow
def test_not_found_says_so_and_labels_the_closest_passages(ui_seeds_bot):
    async def scenario():
        app = chat(ui_seeds_bot)
        async with app.run_test(size=(100, 30)) as pilot:
            exchange = await ask(pilot, CAKE_QUESTION)
            assert exchange.answer.abstained
            assert exchange.query_one(".answer").visual.plain == "The documents don't answer this question."
            label = exchange.query_one(".cards-label").visual.plain
            assert "not an answer" in label
            assert exchange.cards and all(card.has_class("closest") for card in exchange.cards)

    run(scenario())


@pytest.mark.slow
def test_a_too_long_question_is_refused_at_the_librarys_limit_before_it_is_sent(ui_seeds_bot):
    async def scenario():
        app = chat(ui_seeds_bot)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: app.state is AppState.READY, what="loading")
            app.query_one(Prompt).value = "why " * 600
            await pilot.press("enter")
            await pilot.pause()
            assert not app.query(Exchange) and "too long" in app.notices[-1] and "limit 2,000" in app.notices[-1]
            await ask(pilot, LONDON_QUESTION)  # and the chat goes on

    run(scenario())


@pytest.mark.slow
def test_export_writes_markdown_with_the_citations(ui_seeds_bot, tmp_path):
    async def scenario():
        app = chat(ui_seeds_bot, export_dir=tmp_path / "exports")
        async with app.run_test(size=(100, 30)) as pilot:
            await ask(pilot, LONDON_QUESTION)
            await ask(pilot, CAKE_QUESTION)
            await pilot.press("ctrl+s")
            await pilot.pause()
            files = list((tmp_path / "exports").glob("qa-conversation-*.md"))
            assert len(files) == 1
            notes = app.notices
            assert any(str(files[0]) in note for note in notes)
            return files[0].read_text(encoding="utf-8")

    text = run(scenario())
    assert f"## {LONDON_QUESTION}" in text and f"## {CAKE_QUESTION}" in text
    assert "[1]" in text and LONDON_DOC in text and "characters" in text
    assert "Closest passages (not an answer)" in text


@pytest.mark.slow
def test_markup_and_escapes_in_documents_render_as_characters(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "markup.txt").write_text(
        "Tricky [bold]title[/bold]\n\nThe passage says [bold]x[/] [link=http://e]y[/link] \x1b[31mred and more.\n",
        encoding="utf-8",
    )
    index_dir = tmp_path / "index"
    build_index(corpus, index_dir)

    async def scenario():
        app = chat(Bot(index_dir))
        async with app.run_test(size=(100, 30)) as pilot:
            exchange = await ask(pilot, "What does the passage say?", timeout=60)
            card = next(c for c in exchange.cards if "[link=" in c.hit.passage.text)
            shown = "\n".join(rendered_lines(card))
            assert "[bold]x[/] [link=http://e]y[/link] \\x1b[31mred" in shown
            body = card.query_one(".card-text")
            for segment in rendered_segments(body):
                style = segment.style
                if style is None or not segment.text.strip():
                    continue
                assert not style.link, segment
                assert not (style.bold and segment.text.strip() in {"x", "y"}), segment
                assert style.color is None or style.color.name not in {"red", "color(1)"}, segment
            # The source viewer too.
            card.focus()
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, SourceScreen), what="the source viewer")
            viewer = "\n".join(rendered_lines(app.screen.query_one("#doc-passage")))
            assert "[bold]x[/] [link=http://e]y[/link] \\x1b[31mred" in viewer
            assert "Tricky [bold]title[/bold]" in "\n".join(rendered_lines(app.screen.query_one("#source-header")))

    run(scenario())


@pytest.mark.slow
def test_missing_index_gets_a_message_and_ctrl_r_builds_it_from_seeds(tmp_path, monkeypatch):
    """No traceback: a message with the fix, and the fix (Ctrl+R) works from inside the app."""
    monkeypatch.chdir(REPO)  # the default corpus folder, seeds/, is relative to the current directory
    index_dir = tmp_path / "no-index"

    async def scenario():
        app = chat(Bot(index_dir))
        async with app.run_test(size=(120, 30)) as pilot:
            await wait_for(pilot, lambda: app.state is AppState.BROKEN, what="the load to fail")
            welcome = app.query_one("#welcome")
            message = welcome.visual.plain
            assert welcome.has_class("error")
            assert message.startswith(f"No index in {index_dir}/") and "Ctrl+R" in message and "seeds/" in message
            assert "qa index" in message and "Traceback" not in message
            # A question asked now waits for an index.
            app.query_one(Prompt).value = LONDON_QUESTION
            await pilot.press("enter")
            await pilot.pause()
            waiting = app.query(Exchange).last()
            assert waiting.answer is None
            await pilot.press("ctrl+r")
            await wait_for(pilot, lambda: app.state is AppState.READY, timeout=90, what="the index to be built")
            await wait_for(pilot, lambda: waiting.answer is not None, timeout=30, what="the queued question")
            assert LONDON_DOC in [card.hit.passage.doc for card in waiting.cards]
            assert not app.query_one("#welcome").has_class("error")

    run(scenario())


# --- with the stand-in bot (no model) --------------------------------------------------------------


def test_first_paint_comes_before_the_model_and_a_question_typed_meanwhile_is_answered():
    gate = threading.Event()
    bot = FakeBot(load_gate=gate)

    async def scenario():
        app = chat(bot)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            assert app.state is AppState.LOADING
            assert app.query_one("#status").display
            assert "Loading" in app.query_one("#status-text").visual.plain
            app.query_one(Prompt).value = "Who did they meet in London?"
            await pilot.press("enter")
            await pilot.pause()
            exchange = app.query(Exchange).last()
            assert "Waiting for the model" in exchange.query_one(".reply-status").visual.plain
            assert bot.calls == []
            gate.set()
            await wait_for(pilot, lambda: exchange.answer is not None, what="the queued question")
            assert not app.query_one("#status").display
            assert bot.calls == [("Who did they meet in London?", (), 5)]

    run(scenario())


def test_the_ui_imports_no_torch():
    code = "import sys, ui.app; assert 'torch' not in sys.modules and 'sentence_transformers' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


def test_a_broken_index_message_is_shown_not_a_traceback():
    bot = FakeBot(load_error=QAError("the index in embeddings was built with model other-model, not all-MiniLM-L6-v2; "
                                     "rebuild it with: qa index seeds --index-dir embeddings"))

    async def scenario():
        app = chat(bot)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: app.state is AppState.BROKEN, what="the load to fail")
            message = app.query_one("#welcome").visual.plain
            assert "built with model other-model" in message and "Ctrl+R" in message
            await pilot.press("ctrl+r")
            await wait_for(pilot, lambda: app.state is AppState.READY, what="the re-index")
            await ask(pilot, "Who did they meet in London?")

    run(scenario())


def test_unexpected_errors_in_the_library_become_messages():
    bot = FakeBot(load_error=RuntimeError("disk on fire"))

    async def scenario():
        app = chat(bot)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: app.state is AppState.BROKEN, what="the load to fail")
            assert "RuntimeError: disk on fire" in app.query_one("#welcome").visual.plain
        assert app.return_code in (None, 0)

    run(scenario())


def test_questions_are_recalled_with_up_and_down_across_runs(data_dir):
    async def first_run():
        app = chat(FakeBot())
        async with app.run_test() as pilot:
            await ask(pilot, "Who did they meet in London?")
            await ask(pilot, "and who attended?")

    async def second_run():
        app = chat(FakeBot())
        async with app.run_test() as pilot:
            prompt = app.query_one(Prompt)
            prompt.value = "draft"
            await pilot.press("up")
            assert prompt.value == "and who attended?"
            await pilot.press("up")
            assert prompt.value == "Who did they meet in London?"
            await pilot.press("down")
            assert prompt.value == "and who attended?"
            await pilot.press("down")
            assert prompt.value == "draft"

    run(first_run())
    assert (data_dir / "history.jsonl").is_file()
    run(second_run())


def test_cards_copy_their_citation_and_typing_on_a_card_goes_to_the_prompt():
    async def scenario():
        app = chat(FakeBot())
        async with app.run_test(size=(100, 30)) as pilot:
            exchange = await ask(pilot, "Who did they meet in London?")
            await pilot.press("shift+tab")
            assert app.focused is exchange.cards[-1]
            await pilot.press("up", "ctrl+c")
            copied = app.clipboard
            assert copied.startswith("[2] Second Japan-UK Foreign and Defence Ministerial Meeting")
            assert "tokyo-meeting.txt" in copied and "The ministers met in Tokyo" in copied
            await pilot.press("w", "h")
            assert isinstance(app.focused, Prompt) and app.focused.value == "wh"
            await pilot.press("tab")
            assert app.focused is exchange.cards[0]
            await pilot.press("escape")
            assert isinstance(app.focused, Prompt)

    run(scenario())


def test_help_screen_opens_with_f1_and_question_mark_and_closes_with_esc():
    async def scenario():
        app = chat(FakeBot())
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("f1")
            assert isinstance(app.screen, HelpScreen)
            text = "\n".join(rendered_lines(app.screen.query_one("#help-text")))
            for key in ("Ctrl+P", "Ctrl+R", "Ctrl+L", "Ctrl+S", "Enter", "Esc"):
                assert key in text
            await pilot.press("escape")
            assert not isinstance(app.screen, HelpScreen)
            # In the prompt, ? is a character of the question...
            await pilot.press("?")
            assert app.query_one(Prompt).value == "?"
            # ...and on a card too (every character typed on a card goes to the prompt); F1 is help.
            await ask(pilot, "Who did they meet in London?")
            await pilot.press("tab", "?")
            assert isinstance(app.focused, Prompt) and app.focused.value.endswith("?")
            await pilot.press("tab", "f1")
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("question_mark")
            assert not isinstance(app.screen, HelpScreen)

    run(scenario())


def test_command_palette_sets_k_lists_modes_clears_and_reindexes():
    async def scenario():
        bot = FakeBot()
        app = chat(bot)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: app.state is AppState.READY, what="loading")
            await run_palette(pilot, "k 3")
            assert app.k == 3
            assert "k 3" in app.query_one("#settings").visual.plain
            await ask(pilot, "Who did they meet in London?")
            assert bot.calls[-1][2] == 3
            assert "fused" in app.query_one("#settings").visual.plain
            provider = ChatCommands(app.screen)
            listed = {name: help_text for name, help_text, _ in provider._commands()}
            assert listed["Retrieval mode: fused"].endswith("(recommended) (current)")
            assert listed["Set k = 3"].endswith("(current)") and not listed["Set k = 5"].endswith("(current)")
            assert not listed["Retrieval mode: bm25"].endswith("(current)")
            await run_palette(pilot, "mode bm25")
            assert app.retrieval_mode == "bm25"
            assert "k 3 · bm25" in app.query_one("#settings").visual.plain
            await ask(pilot, "Who did they meet in London?")
            # bm25, then fused to tell whether the recommended mode would answer differently
            assert bot.modes_asked[-3:] == ["fused", "bm25", "fused"]
            await run_palette(pilot, "clear")
            assert not app.query(Exchange)
            loads = bot.loads
            await run_palette(pilot, "re-index")
            await wait_for(pilot, lambda: app.state is AppState.READY, what="the re-index")
            assert any("Indexed 3 files" in n for n in app.notices)
            assert bot.loads == loads  # reindex() reloads the bot itself

    run(scenario())


def test_changing_the_theme_redraws_the_replies():
    async def scenario():
        app = chat(FakeBot())
        async with app.run_test(size=(100, 30)) as pilot:
            exchange = await ask(pilot, "Who did they meet in London?")
            before = app.palette
            app.theme = "textual-light"
            await pilot.pause()
            assert app.palette != before
            assert exchange.cards[0].palette == app.palette

    run(scenario())


# --- the real program in a real terminal -----------------------------------------------------------


def _tmux(*args: str, check: bool = True) -> str:
    result = subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=30)
    if check and result.returncode != 0:
        raise AssertionError(f"tmux {' '.join(args)} failed: {result.stderr}")
    return result.stdout


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not on PATH (apt-get install -y tmux)")
def test_qa_chat_in_a_real_terminal_answers_with_a_citation(ui_seeds_bot, tmp_path):
    qa = Path(sys.executable).with_name("qa")
    if not qa.exists():
        pytest.skip(f"the qa script is not installed next to {sys.executable}")
    session = f"qa-ui-test-{os.getpid()}"
    socket = str(tmp_path / "tmux.sock")
    command = (
        f"cd {REPO} && QA_DATA_DIR={tmp_path / 'data'} TERM=xterm-256color "
        f"{qa} chat --index-dir {ui_seeds_bot.index_dir}; sleep 30"
    )
    _tmux("-S", socket, "new-session", "-d", "-s", session, "-x", "120", "-y", "40", command)
    try:
        screen = ""
        deadline = time.monotonic() + 20
        while "Ask a question" not in screen and time.monotonic() < deadline:
            time.sleep(0.2)
            screen = _tmux("-S", socket, "capture-pane", "-p", "-t", session, check=False)
        assert "Ask a question" in screen, screen  # painted (the placeholder shows before the model loads)
        _tmux("-S", socket, "send-keys", "-t", session, "-l", LONDON_QUESTION)
        _tmux("-S", socket, "send-keys", "-t", session, "Enter")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            screen = _tmux("-S", socket, "capture-pane", "-p", "-t", session, check=False)
            if LONDON_DOC in screen:
                break
            time.sleep(0.3)
        assert LONDON_DOC in screen, screen
        assert "Sources" in screen and "[1]" in screen
        _tmux("-S", socket, "send-keys", "-t", session, "C-q")
    finally:
        _tmux("-S", socket, "kill-server", check=False)
