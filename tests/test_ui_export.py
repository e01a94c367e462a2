"""Exporting the conversation as Markdown."""

from __future__ import annotations

import pytest
from chat_pilot import ask, chat, run, run_palette

LONDON_Q = "Who did they meet in London?"

pytestmark = pytest.mark.usefixtures("chat_dirs")


def test_export_goes_to_the_data_directory_or_a_typed_path_and_records_mode_k_and_time(chat_dirs, tmp_path, monkeypatch):
    data, _ = chat_dirs
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
