"""Keys from keys.toml and the help that lists them."""

from __future__ import annotations

from pathlib import Path

import pytest
from chat_pilot import ask, chat, rendered_lines, run, wait_for
from textual.command import CommandPalette

from ui.app import AppState
from ui.commands import ChatCommands
from ui.keys import KeyConfig, load_keys
from ui.screens import HelpScreen
from ui.widgets import Exchange

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


def keys_file(config: Path, text: str) -> KeyConfig:
    config.mkdir(parents=True, exist_ok=True)
    (config / "keys.toml").write_text("[keys]\n" + text, encoding="utf-8")
    return load_keys(config)


def test_a_key_name_textual_does_not_know_is_refused_in_one_line_and_the_default_kept(tmp_path):
    keys = keys_file(tmp_path, 'help = "banana"\n')  # Textual would read it as the character 🍌
    assert keys.keymap == {} and keys.keys("help") == "f1"
    assert keys.problems == ('keys.toml: help = "banana": "banana" is not a key name (e.g. "ctrl+e", "f2", "pageup"); help stays F1',)


def test_keys_the_chat_needs_or_a_terminal_cannot_send_are_refused(tmp_path):
    keys = keys_file(tmp_path, 'clear = "ctrl+p"\nconversations = "ctrl+h"\nquit = "q"\nnew = "ctrl+shift+n"\nexport = "enter"\n')
    assert keys.keymap == {}
    assert [problem.split(": ", 2)[2] for problem in keys.problems] == [
        "Ctrl+P is the chat's own key: it opens the command palette; clear stays Ctrl+L",
        "a terminal sends Ctrl+H as Backspace, so it never arrives; conversations stays Ctrl+O",
        "Q types a character in the prompt; quit stays Ctrl+Q",
        "most terminals send Ctrl+Shift+N as Ctrl+N; new stays Ctrl+N",
        "Enter is the chat's own key: it asks the question and opens a passage; export stays Ctrl+S",
    ]
    assert all("\n" not in problem for problem in keys.problems)


def test_two_ids_cannot_share_a_key_and_a_key_given_up_by_its_id_can_be_taken(tmp_path):
    keys = keys_file(tmp_path, 'export = "ctrl+n"\nundo = "ctrl+e"\nreindex = "ctrl+e"\nnew = "ctrl+b"\n')
    assert keys.keymap == {"export": "ctrl+n", "undo": "ctrl+e", "new": "ctrl+b"}  # new gave up Ctrl+N
    assert keys.problems == ('keys.toml: reindex = "ctrl+e": Ctrl+E is already the key of undo; reindex stays Ctrl+R',)


def test_an_id_whose_key_is_refused_keeps_its_default_which_no_other_id_can_take(tmp_path):
    keys = keys_file(tmp_path, 'new = "ctrl+l"\nclear = "banana"\n')
    assert keys.keymap == {}
    assert "Ctrl+L is already the key of clear; new stays Ctrl+N" in keys.problems[1]


def test_key_names_are_read_as_textual_names_them(tmp_path):
    keys = keys_file(tmp_path, 'help = "F2, f3"\nexport = "Ctrl+E"\nscroll-top = "ctrl+backslash"\n')
    assert keys.keymap == {"help": "f2,f3", "export": "ctrl+e", "scroll-top": "ctrl+backslash"} and keys.problems == ()
    assert keys.label("help") == "F2" and keys.label("export") == "Ctrl+E"


def test_messages_and_hints_name_the_keys_bound_in_keys_toml(chat_dirs):
    _, config = chat_dirs
    keys_file(config, 'undo = "ctrl+u"\nclear = "ctrl+b"\nnew = "ctrl+t"\nconversations = "ctrl+g"\nhelp = "f2"\nreindex = "f5"\n')

    async def scenario():
        app = chat()
        async with app.run_test(size=(120, 40)) as pilot:
            await ask(pilot, LONDON_Q)
            assert "F2 lists every key" in app.query_one("#welcome").visual.plain
            listed = {name: help_text for name, help_text, _ in ChatCommands(app.screen)._commands()}
            assert listed["New conversation"].endswith("(Ctrl+T)") and listed["Earlier conversations"].endswith("(Ctrl+G)")
            assert listed["Clear the conversation"].endswith("(Ctrl+U brings it back) (Ctrl+B)")
            assert listed["Help: keys"].endswith("(F2)") and listed["Re-index the corpus"].endswith("(F5)")
            await pilot.press("ctrl+b")
            await pilot.pause()
            assert app.notices[-1] == "Deleted the conversation — Ctrl+U brings it back"
            await pilot.press("ctrl+u")
            await pilot.pause()
            assert [e.question for e in app.query(Exchange)] == [LONDON_Q]
            await pilot.press("ctrl+t")
            await pilot.pause()
            assert app.notices[-1] == "New conversation (Ctrl+G lists the earlier ones)"
            await pilot.press("f2")
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("f2")  # the help key closes the help too
            assert not isinstance(app.screen, HelpScreen)

    run(scenario())


def test_refused_keys_leave_the_default_keys_working_and_say_why(chat_dirs):
    _, config = chat_dirs
    keys_file(config, 'help = "banana"\nclear = "ctrl+p"\nconversations = "ctrl+h"\n')

    async def scenario():
        app = chat()
        async with app.run_test(size=(80, 24)) as pilot:
            await ask(pilot, LONDON_Q)
            assert sum("keys.toml" in note for note in app.notices) == 3
            footer = "".join(rendered_lines(app.screen.query_one("Footer")))
            assert "🍌" not in footer and "F1 Help" in footer and "^o Chats" in footer
            await pilot.press("f1")
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("f1")
            assert not isinstance(app.screen, HelpScreen)
            await pilot.press("ctrl+p")  # the palette, not clear
            await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), what="the palette")
            assert app.conversation_id is not None  # not cleared

    run(scenario())


def test_the_footer_keeps_its_order_and_names_rebound_keys_as_the_help_does(chat_dirs):
    _, config = chat_dirs
    keys_file(config, 'help = "f2"\nquit = "ctrl+x"\nnew = "f3"\n')

    async def scenario():
        app = chat()
        async with app.run_test(size=(100, 24)) as pilot:
            await wait_for(pilot, lambda: app.state is AppState.READY, what="loading")
            footer = "".join(rendered_lines(app.screen.query_one("Footer")))
            assert footer.index("Quit") < footer.index("Help") < footer.index("New") < footer.index("Chats"), footer
            assert "F2 Help" in footer and "F3 New" in footer and "f2" not in footer, footer

    run(scenario())
