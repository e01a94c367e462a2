"""The command palette's commands."""

from __future__ import annotations

import pytest
from chat_pilot import chat, run, run_palette, wait_for

from ui.app import AppState
from ui.commands import ChatCommands

pytestmark = pytest.mark.usefixtures("chat_dirs")


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


def test_typing_k_n_in_the_palette_sets_exactly_that_k():
    async def scenario():
        app = chat()
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: app.state is AppState.READY, what="loading")
            for typed, k in [("k 1", 1), ("k 2", 2), ("set k = 10", 10), ("k 12", 12)]:
                await run_palette(pilot, typed)
                assert app.k == k, typed

    run(scenario())
