"""Snapshots of the chat (pytest-textual-snapshot). They use the stand-in bot of fake_bot.py, so
they do not move when the model or the ranking changes; timings are hidden and nothing animates.

Update them after an intended change of the look with: pytest tests/test_ui_snapshots.py --snapshot-update
"""

from __future__ import annotations

import threading

import pytest
from chat_pilot import ask, wait_for
from fake_bot import FakeBot

from qa import QAError
from ui.app import AppState, ChatApp
from ui.screens import HelpScreen, SourceScreen
from ui.widgets import PassageCard

LONDON = "Who did Kishida and Nakatani meet in London?"


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_DATA_DIR", str(tmp_path / "data"))
    # The help screen shows the config path: a fixed one keeps the screenshot independent of tmp_path.
    monkeypatch.setenv("QA_CONFIG_DIR", "/nonexistent/qa-config")


def chat(bot: FakeBot | None = None) -> ChatApp:
    return ChatApp(bot=bot or FakeBot(), show_timings=False, animate=False)


async def answered(pilot, question: str = LONDON) -> None:
    await ask(pilot, question)


def test_chat_with_an_answer(snap_compare):
    assert snap_compare(chat(), terminal_size=(120, 40), run_before=answered)


def test_chat_at_80x24(snap_compare):
    assert snap_compare(chat(), terminal_size=(80, 24), run_before=answered)


def test_chat_at_200x50_with_a_follow_up(snap_compare):
    async def run_before(pilot):
        await ask(pilot, LONDON)
        await ask(pilot, "and who attended?")

    assert snap_compare(chat(), terminal_size=(200, 50), run_before=run_before)


def test_not_found_reply(snap_compare):
    async def run_before(pilot):
        await ask(pilot, "What is the recipe for chocolate cake?")

    assert snap_compare(chat(), terminal_size=(100, 30), run_before=run_before)


def test_focused_card(snap_compare):
    async def run_before(pilot):
        await ask(pilot, LONDON)
        await pilot.press("tab", "down")

    assert snap_compare(chat(), terminal_size=(100, 30), run_before=run_before)


async def focused_card(pilot) -> None:
    await ask(pilot, LONDON)
    await pilot.press("tab", "down")


def test_focused_card_at_60x20_keeps_quit_and_help_in_the_footer(snap_compare):
    assert snap_compare(chat(), terminal_size=(60, 20), run_before=focused_card)


def test_focused_card_at_80x24_keeps_quit_and_help_in_the_footer(snap_compare):
    assert snap_compare(chat(), terminal_size=(80, 24), run_before=focused_card)


async def source_viewer(pilot) -> None:
    await ask(pilot, LONDON)
    await pilot.press("tab", "enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, SourceScreen), what="the source viewer")


def test_source_viewer_at_60x20(snap_compare):
    assert snap_compare(chat(), terminal_size=(60, 20), run_before=source_viewer)


def test_source_viewer(snap_compare):
    assert snap_compare(chat(), terminal_size=(100, 30), run_before=source_viewer)


def test_markup_in_documents_is_shown_literally(snap_compare):
    async def run_before(pilot):
        await ask(pilot, "Does markup show?")
        pilot.app.query(PassageCard).first().focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, SourceScreen), what="the source viewer")
        await pilot.press("escape")

    assert snap_compare(chat(), terminal_size=(100, 30), run_before=run_before)


def test_help_screen(snap_compare):
    async def run_before(pilot):
        await wait_for(pilot, lambda: pilot.app.state is AppState.READY, what="loading")
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HelpScreen), what="the help screen")

    assert snap_compare(chat(), terminal_size=(100, 40), run_before=run_before)


def test_loading_with_a_question_waiting(snap_compare):
    gate = threading.Event()

    class Gated(ChatApp):
        def on_unmount(self) -> None:
            super().on_unmount()
            gate.set()  # let the stand-in's load() return once the screenshot is taken

    app = Gated(bot=FakeBot(load_gate=gate), show_timings=False, animate=False)

    async def run_before(pilot):
        await pilot.press(*"Who did they meet?", "enter")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_broken_index_message(snap_compare):
    bot = FakeBot(load_error=QAError(
        "the index in embeddings was built with model other-model, not all-MiniLM-L6-v2; "
        "rebuild it with: qa index seeds --index-dir embeddings --model all-MiniLM-L6-v2"))

    async def run_before(pilot):
        await wait_for(pilot, lambda: pilot.app.state is AppState.BROKEN, what="the load to fail")

    assert snap_compare(chat(bot), terminal_size=(80, 24), run_before=run_before)
