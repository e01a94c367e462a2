"""Keys from keys.toml and the help that lists them."""

from __future__ import annotations

import pytest
from chat_pilot import ask, chat, rendered_lines, run

from ui.screens import HelpScreen

LONDON_Q = "Who did they meet in London?"

pytestmark = pytest.mark.usefixtures("chat_dirs")


def test_keys_from_the_toml_file_rebind_and_the_help_lists_them(chat_dirs):
    _, config = chat_dirs
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
