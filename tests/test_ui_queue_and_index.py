"""The question queue while the index loads, an --index-dir that is a file, the progress of a
re-index or of an update at load, the skipped files, and quitting while the index is written."""

from __future__ import annotations

import threading

import pytest
from chat_pilot import chat, rendered_lines, run, run_palette, screen_lines, wait_for
from fake_bot import FakeBot
from textual.widgets import Input

import ui.app
from qa import Bot, IndexMissingError
from ui.app import AppState
from ui.screens import FolderScreen, SkippedFilesScreen
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
    """A re-index that reports some of its work done (half by default), then waits."""

    def __init__(self, done: int = 500) -> None:
        super().__init__()
        self.done = done
        self.halfway = threading.Event()
        self.finish = threading.Event()

    def reindex(self, corpus_dir=None, progress=None):
        progress(0, 1000)
        progress(self.done, 1000)
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


def status_line(app) -> str:
    """The status line as the screen shows it (the row above the prompt's box)."""
    lines = screen_lines(app)
    prompt_top = app.query_one(Prompt).region.y
    return lines[prompt_top - 1]


def test_the_progress_bar_never_cuts_its_label_even_at_100_percent():
    bot = GatedBuild(done=1000)

    async def scenario():
        app = chat(bot)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: app.state is AppState.READY, what="loading")
            await pilot.press("ctrl+r")
            await wait_for(pilot, lambda: bot.halfway.is_set() and app.query_one("#progress").display, what="the bar")
            await pilot.pause()
            line = status_line(app)
            assert "Re-indexing: embedding the passages… " in line and line.rstrip().endswith("100%"), line
            assert " s " in line  # the seconds, whole, before the bar
            bot.finish.set()
            await wait_for(pilot, lambda: app.state is AppState.READY, what="the re-index")

    run(scenario())


class UpdatingLoad(FakeBot):
    """A load that finds the corpus changed: the library says so, then the build reports, then it ends."""

    def __init__(self) -> None:
        super().__init__()
        self.noticed, self.go, self.halfway, self.finish = (threading.Event() for _ in range(4))

    def load(self, progress=None):
        self.notice("The index is out of date: 200 files changed since it was built (a.md, b.md, c.md…); updating it…")
        self.noticed.set()
        self.go.wait(30)
        progress(500, 1000)
        self.halfway.set()
        self.finish.wait(30)
        return super().load()


def test_an_update_at_load_shows_what_it_does_the_seconds_and_the_builds_progress():
    bot = UpdatingLoad()

    async def scenario():
        app = chat(bot)
        bot.notice = app.notice
        async with app.run_test(size=(120, 30)) as pilot:
            await wait_for(pilot, lambda: bot.noticed.is_set(), what="the notice")
            label = app.query_one("#status-text")
            await wait_for(pilot, lambda: "200 files changed" in label.visual.plain, what="the status")
            assert "; updating it… " in label.visual.plain and label.visual.plain.endswith(" s")
            bot.go.set()
            bar = app.query_one("#progress")
            await wait_for(pilot, lambda: bar.display and bar.percentage == 0.5, what="the bar at 50 %")
            assert "Updating the index: embedding the passages… " in label.visual.plain
            bot.finish.set()
            await wait_for(pilot, lambda: app.state is AppState.READY, what="the load")
            assert not bar.display and not app.query_one("#status").display

    run(scenario())


def test_the_skipped_files_are_listed_from_the_palette_or_a_click_on_the_header():
    async def scenario():
        app = chat()
        async with app.run_test(size=(120, 30)) as pilot:
            await wait_for(pilot, lambda: app.state is AppState.READY, what="loading")
            await run_palette(pilot, "skipped")
            assert isinstance(app.screen, SkippedFilesScreen)
            shown = app.screen.query_one("#skipped-text").visual.plain
            assert shown == "scan [1].pdf: no text layer in 3 pages (a scanned PDF? run OCR on it first)"
            await pilot.press("escape")
            await pilot.click("#corpus-info")
            await wait_for(pilot, lambda: isinstance(app.screen, SkippedFilesScreen), what="the list")

    run(scenario())


def test_quitting_while_the_index_is_written_stops_at_once_and_says_so(monkeypatch, capsys):
    class QuitDuringReindex(ui.app.ChatApp):
        def run(self, **options):
            self.session.state = AppState.INDEXING  # as left by a Ctrl+Q during Ctrl+R
            return 0

    def exit_now(code):
        raise SystemExit(code)

    monkeypatch.setattr(ui.app, "ChatApp", lambda **options: QuitDuringReindex(bot=FakeBot(), **options))
    monkeypatch.setattr(ui.app.os, "_exit", exit_now)
    with pytest.raises(SystemExit) as stopped:
        ui.app.run_chat()
    assert stopped.value.code == 0
    assert "stopped writing the index; it is as it was before" in capsys.readouterr().err


def test_with_no_index_and_no_seeds_folder_ctrl_r_offers_to_pick_the_folder_to_index(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no seeds/ here
    documents = tmp_path / "notes"
    documents.mkdir()
    bot = FakeBot(load_error=IndexMissingError("no index in embeddings; build one with: qa index CORPUS_DIR"))

    async def scenario():
        app = chat(bot)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: app.state is AppState.BROKEN, what="the load to fail")
            assert "press Ctrl+R to pick the folder of documents to index" in app.query_one("#welcome").visual.plain
            app.query_one(Prompt).value = "Who did they meet in London?"
            await pilot.press("enter")
            await pilot.pause()
            assert "press Ctrl+R to pick the folder" in app.query(Exchange).last().query_one(".reply-status").visual.plain
            await pilot.press("ctrl+r")
            await wait_for(pilot, lambda: isinstance(app.screen, FolderScreen), what="the folder picker")
            assert app.state is AppState.BROKEN and "no seeds/ folder" in app.screen.query_one("#folder-why").visual.plain
            path_input = app.screen.query_one(Input)
            path_input.value = str(tmp_path / "missing")
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, FolderScreen) and "is not a folder" in app.screen.query_one("#folder-problem").visual.plain
            path_input.value = str(documents)
            await pilot.press("enter")
            await wait_for(pilot, lambda: app.state is AppState.READY, what="the index built from the folder")
            assert bot.reindexed == [documents]
            await wait_for(pilot, lambda: app.query(Exchange).last().answer is not None, what="the waiting question")

    run(scenario())
