"""The question queue while the index loads, an --index-dir that is a file, and the re-index progress."""

from __future__ import annotations

import threading

import pytest
from chat_pilot import chat, rendered_lines, run, wait_for
from fake_bot import FakeBot

from qa import Bot
from ui.app import AppState
from ui.widgets import Exchange, Prompt

pytestmark = pytest.mark.usefixtures("chat_dirs")


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
