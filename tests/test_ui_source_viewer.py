"""The source viewer when the document changed after the answer: it finds the quote where it is now,
or says the document changed and shows the quote as it was; it never highlights other text."""

from __future__ import annotations

import pytest
from chat_pilot import ask, chat, rendered_lines, rendered_segments, run, wait_for
from fake_bot import DOCUMENTS, LONDON, FakeBot
from rich.color import Color

from ui.screens import SourceScreen

LONDON_Q = "Who did they meet in London?"
SENTENCE = LONDON.text.split(". An overview")[0] + "."
MOVED = "A paragraph added at the top of the file since the answer.\n\n" + DOCUMENTS[LONDON.doc]
GONE = DOCUMENTS[LONDON.doc].replace("Mr. Philip Hammond", "Mr. Somebody Else")

pytestmark = pytest.mark.usefixtures("chat_dirs")


def highlighted(widget, *, support_only: bool = True) -> str:
    """The text the viewer highlights: the answer's sentences (support), or the passage too."""
    palette = widget.screen.palette
    colours = {Color.parse(palette.support_bg)} | (set() if support_only else {Color.parse(palette.passage_bg)})
    return "".join(s.text for s in rendered_segments(widget) if s.style and s.style.bgcolor in colours)


async def open_first_card(pilot):
    await pilot.press("tab", "enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, SourceScreen), what="the source viewer")
    return pilot.app.screen


def test_the_viewer_finds_the_quote_where_it_is_now_in_a_changed_document():
    bot = FakeBot()

    async def scenario():
        app = chat(bot)
        async with app.run_test(size=(100, 30)) as pilot:
            await ask(pilot, LONDON_Q)
            bot.documents[LONDON.doc] = MOVED
            viewer = await open_first_card(pilot)
            block = viewer.query_one("#doc-passage")
            assert LONDON.text in block.visual.plain
            assert SENTENCE.replace(" ", "") in highlighted(block).replace(" ", "")
            start = MOVED.index(LONDON.text)
            meta = viewer.query_one("#source-meta").visual.plain
            assert f"characters {start:,}–{start + len(LONDON.text):,} of {len(MOVED):,}" in meta
            assert f"(cited at {LONDON.start:,}–{LONDON.end:,}; the document changed)" in meta
            assert not viewer.query("#doc-changed")

    run(scenario())


def test_the_viewer_says_the_document_changed_and_shows_the_quote_as_it_was():
    bot = FakeBot()

    async def scenario():
        app = chat(bot)
        async with app.run_test(size=(100, 30)) as pilot:
            await ask(pilot, LONDON_Q)
            bot.documents[LONDON.doc] = GONE
            viewer = await open_first_card(pilot)
            assert "the quoted passage is no longer in it" in viewer.query_one("#doc-changed").visual.plain
            assert viewer.query_one("#doc-passage").visual.plain == LONDON.text  # the quote as it was
            now = viewer.query_one("#doc-after")
            assert now.visual.plain == GONE and highlighted(now, support_only=False) == ""  # the file as it is, nothing highlighted
            assert "cited at characters" in viewer.query_one("#source-meta").visual.plain

    run(scenario())


def test_a_reopened_conversation_opens_its_quotes_where_they_are_now(chat_dirs):
    async def first_run():
        app = chat()
        async with app.run_test(size=(100, 30)) as pilot:
            await ask(pilot, LONDON_Q)

    async def second_run():
        bot = FakeBot()
        bot.documents[LONDON.doc] = MOVED
        app = chat(bot)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            viewer = await open_first_card(pilot)
            assert SENTENCE.replace(" ", "") in highlighted(viewer.query_one("#doc-passage")).replace(" ", "")
            assert MOVED.index(LONDON.text) > LONDON.start

    run(first_run())
    run(second_run())


async def viewer_of_a_changed_document(pilot, document: str) -> None:
    await ask(pilot, LONDON_Q)
    pilot.app.session.bot.documents[LONDON.doc] = document
    await open_first_card(pilot)
    await pilot.pause()


def _snapshot_chat():
    return chat(show_timings=False)


@pytest.mark.parametrize("size", [(60, 20), (80, 24)], ids=["60x20", "80x24"])
def test_snapshot_the_viewer_when_the_quote_moved(snap_compare, size):
    async def run_before(pilot):
        await viewer_of_a_changed_document(pilot, MOVED)

    assert snap_compare(_snapshot_chat(), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [(60, 20), (80, 24)], ids=["60x20", "80x24"])
def test_snapshot_the_viewer_when_the_quote_is_gone(snap_compare, size):
    async def run_before(pilot):
        await viewer_of_a_changed_document(pilot, GONE)

    assert snap_compare(_snapshot_chat(), terminal_size=size, run_before=run_before)


def test_the_viewer_meta_line_wraps_at_60_columns_instead_of_cutting_the_characters():
    async def scenario():
        app = chat()
        async with app.run_test(size=(60, 20)) as pilot:
            await ask(pilot, LONDON_Q)
            viewer = await open_first_card(pilot)
            shown = " ".join(line.strip() for line in rendered_lines(viewer.query_one("#source-meta")))
            assert f"characters {LONDON.start:,}–{LONDON.end:,} of {len(DOCUMENTS[LONDON.doc]):,}" in shown

    run(scenario())


def test_a_corpus_folder_that_is_gone_is_said_at_load_and_a_card_names_its_file_as_it_is():
    bot = FakeBot()
    bot.manifest.corpus_found = False

    async def scenario():
        app = chat(bot)
        async with app.run_test(size=(100, 30)) as pilot:
            await ask(pilot, LONDON_Q)
            assert sum("/data/corpus/ is gone" in note for note in app.notices) == 1
            await pilot.press("tab", "enter")
            await pilot.pause()
            assert not isinstance(app.screen, SourceScreen)
            assert app.notices[-1] == "Cannot open london-meeting.txt: the corpus folder /data/corpus/ is gone"

    run(scenario())
