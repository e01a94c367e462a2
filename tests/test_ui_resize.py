"""Resizing the terminal keeps the reader's place: in the conversation and in the source viewer."""

from __future__ import annotations

import pytest
from chat_pilot import ask, chat, run, wait_for

from ui.screens import SourceScreen
from ui.widgets import Exchange

pytestmark = pytest.mark.usefixtures("chat_dirs")

QUESTIONS = ["Who did they meet in London?", "and who attended?", "Who met in London again?"]


def exchange_at_top(app) -> Exchange:
    """The first exchange that shows at the top of the conversation's view."""
    top = app.query_one("#transcript").scroll_y
    return next(e for e in app.query(Exchange) if e.virtual_region.y + e.virtual_region.height > top)


def test_a_resize_and_back_keeps_the_latest_answer_in_view():
    async def scenario():
        app = chat()
        async with app.run_test(size=(80, 24)) as pilot:
            for question in QUESTIONS:
                latest = await ask(pilot, question)
            assert exchange_at_top(app) is latest
            transcript = app.query_one("#transcript")
            for size in [(60, 20), (80, 24), (120, 40), (80, 24)]:
                await pilot.resize_terminal(*size)
                await pilot.pause()
                await pilot.pause()
                if transcript.scroll_y < transcript.max_scroll_y:  # where the view can reach it, it is at the top
                    assert exchange_at_top(app) is latest, size
                else:  # a larger window ends the conversation above it: its question is in view
                    top = transcript.scroll_y
                    assert top <= latest.virtual_region.y < top + transcript.scrollable_content_region.height, size

    run(scenario())


def test_a_resize_keeps_the_viewers_passage_in_view():
    async def scenario():
        app = chat()
        async with app.run_test(size=(60, 20)) as pilot:
            await ask(pilot, QUESTIONS[0])
            await pilot.press("shift+tab", "enter")  # the last card: a passage far down its document
            await wait_for(pilot, lambda: isinstance(app.screen, SourceScreen), what="the viewer")
            await pilot.pause()
            viewer = app.screen
            document, passage = viewer.query_one("#document"), viewer.query_one("#doc-passage")

            def passage_in_view() -> bool:
                top, bottom = document.scroll_y, document.scroll_y + document.scrollable_content_region.height
                return top <= passage.virtual_region.y < bottom

            assert passage_in_view()
            for size in [(40, 12), (60, 20), (30, 10)]:
                await pilot.resize_terminal(*size)
                await pilot.pause()
                await pilot.pause()
                assert passage_in_view(), size

    run(scenario())


@pytest.mark.parametrize("first, then", [((80, 24), (60, 20)), ((60, 20), (80, 24))], ids=["80x24-to-60x20", "60x20-to-80x24"])
def test_snapshot_the_viewer_after_a_resize(snap_compare, first, then):
    async def run_before(pilot):
        await ask(pilot, QUESTIONS[0])
        await pilot.press("shift+tab", "enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, SourceScreen), what="the viewer")
        await pilot.pause()
        await pilot.resize_terminal(*then)
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(chat(show_timings=False), terminal_size=first, run_before=run_before)
