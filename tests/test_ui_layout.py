"""The chrome: the header's counts and the footer at narrow widths."""

from __future__ import annotations

import pytest
from chat_pilot import ask, chat, rendered_lines, run, wait_for
from fake_bot import FakeBot

from qa import BuildReport
from ui.app import AppState

LONDON_Q = "Who did they meet in London?"

pytestmark = pytest.mark.usefixtures("chat_dirs")


def test_the_header_counts_indexed_documents_and_says_how_many_were_skipped():
    async def scenario():
        app = chat()
        async with app.run_test(size=(120, 30)) as pilot:
            await wait_for(pilot, lambda: app.state is AppState.READY, what="loading")
            info = app.query_one("#corpus-info").visual.plain
            assert "3 documents (1 skipped) · 5 passages" in info

    run(scenario())


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


class BigBot(FakeBot):
    """An index of thousands of passages, and a re-index that counts them."""

    def __init__(self) -> None:
        super().__init__()
        self.manifest.passage_count = 2647
        self.manifest.skipped = 1200

    def reindex(self, corpus_dir=None, progress=None):
        return BuildReport(files=4321, files_embedded=1000, files_reused=3321, passages=12345, passages_embedded=2000,
                           seconds=1234.5, changed=True)


def test_every_count_the_chat_shows_has_thousands_separators():
    async def scenario():
        app = chat(BigBot())
        async with app.run_test(size=(120, 30)) as pilot:
            await wait_for(pilot, lambda: app.state is AppState.READY, what="loading")
            assert "3 documents (1,200 skipped) · 2,647 passages" in app.query_one("#corpus-info").visual.plain
            await pilot.press("ctrl+r")
            await wait_for(pilot, lambda: app.state is AppState.READY and app.notices, what="the re-index")
            assert "Indexed 4,321 files, 12,345 passages in 1,234.5 s (embedded 1,000, reused 3,321)" in app.notices

    run(scenario())
