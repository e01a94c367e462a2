"""Hostile text in the chat: Rich markup, ANSI escapes, control, right-to-left and zero-width characters,
and a 10,000-character unbroken line, in documents, metadata and questions. They must render as the
characters they are and leave the layout alone (Pilot checks and snapshots).

Update these snapshots after an intended change of the look with:
    pytest tests/test_ui_hostile.py --snapshot-update
"""

from __future__ import annotations

import asyncio

import pytest
from chat_pilot import ask, rendered_lines, wait_for
from fake_bot import FakeBot
from rich.cells import cell_len

from qa import Answer, AnswerSentence, Hit, Passage
from ui.app import AppState, ChatApp
from ui.screens import SourceScreen
from ui.widgets import PassageCard

LONG_LINE = "".join(chr(ord("a") + i % 26) for i in range(10_000))
HOSTILE_DOC = (
    "Report [bold red]title[/]\n\n"
    "The first page says [link=file:///etc/passwd]click[/link] and \x1b[2J\x1b[Hcleared \x1b]0;pwned\x07 the screen, "
    "rang \x07 a bell, backspaced\x08\x08 and \r returned.\n\n"
    "Right to left: \u202eevil.exe\u202c, Arabic مرحبا بالعالم and Hebrew שלום; zero\u200bwidth\ufeff joins.\n\n"
    f"{LONG_LINE}\n"
)
QUESTION = "What does [bold]the hostile[/] report say \x1b[31m\u202e?"


def _span(doc: str, snippet: str) -> tuple[int, int]:
    start = doc.index(snippet)
    return start, start + len(snippet)


def _passage(snippet: str, page: int) -> Passage:
    start, end = _span(HOSTILE_DOC, snippet)
    return Passage(doc="hostile [i]x[/i]\u202e.pdf", title="Report [bold red]title[/]", date=None,
                   section="[u]Sec\x1b[1mtion[/u]", start=start, end=end, text=snippet, page=page)


FIRST = _passage(HOSTILE_DOC.split("\n\n")[1], 1)
SECOND = _passage(HOSTILE_DOC.split("\n\n")[2], 2)
LONG = _passage(LONG_LINE, 3)


class HostileBot(FakeBot):
    """The stand-in bot, answering any 'hostile' question from the hostile document."""

    def ask(self, question, history=(), k=5, mode=None):
        if "hostile" not in question:
            return super().ask(question, history, k, mode)
        self.calls.append((question, tuple(history), k))
        hits = (Hit(1, 0.7, FIRST), Hit(2, 0.5, SECOND), Hit(3, 0.4, LONG))
        sentence = FIRST.text.split(" the screen")[0]
        start = HOSTILE_DOC.index(sentence)
        return Answer(question=question, sentences=(AnswerSentence(sentence, 1, start, start + len(sentence)),),
                      hits=hits[:k], abstained=False, search_ms=1.0, history=tuple(history))

    def source_text(self, doc):
        return HOSTILE_DOC if doc == FIRST.doc else super().source_text(doc)


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("QA_CONFIG_DIR", str(tmp_path / "config"))


def chat() -> ChatApp:
    return ChatApp(bot=HostileBot(), show_timings=False, animate=False)


def _no_raw_controls(lines: list[str]) -> None:
    for line in lines:
        assert not any(ch in line for ch in "\x1b\x07\x08\r\x00\u202e\u202c\u200b\ufeff"), repr(line[:80])


def test_hostile_text_renders_as_characters_and_keeps_the_layout():
    asyncio.run(_hostile_scenario())


async def _hostile_scenario():
    app = chat()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.state is AppState.READY, what="loading")
        exchange = await ask(pilot, QUESTION)
        await pilot.pause()
        cards = list(app.query(PassageCard))
        assert len(cards) == 3
        lines = rendered_lines(exchange)
        shown = "\n".join(lines)
        _no_raw_controls(lines)
        assert "[bold]the hostile[/] report say \\x1b[31m\\u202e?" in shown  # the question, literally
        assert "[link=file:///etc/passwd]click[/link]" in shown and "\\x1b[2J\\x1b[Hcleared" in shown
        assert "Report [bold red]title[/]" in shown and "[u]Sec\\x1b[1mtion[/u]" in shown
        assert "hostile [i]x[/i]\\u202e.pdf · p. 1" in shown
        assert "\\u202eevil.exe\\u202c" in shown and "مرحبا بالعالم" in shown and "zero\\u200bwidth\\ufeff" in shown
        for line in rendered_lines(app.screen):
            assert cell_len(line) <= 100  # the 10,000-character line is wrapped, not widening anything
        assert app.screen.size.width == 100
        long_card = cards[2]
        assert long_card.outer_size.width <= 100 and LONG_LINE[:60] in "".join(rendered_lines(long_card))

        long_card.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SourceScreen), what="the source viewer")
        await pilot.pause()
        viewer = rendered_lines(app.screen)
        _no_raw_controls(viewer)
        assert all(cell_len(line) <= 100 for line in viewer)
        header = "\n".join(rendered_lines(app.screen.query_one("#source-header")))
        assert "p. 3" in header and f"characters {LONG.start:,}–{LONG.end:,} of {len(HOSTILE_DOC):,}" in header
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, SourceScreen), what="the chat")


def test_hostile_answer_snapshot(snap_compare):
    async def run_before(pilot):
        await ask(pilot, QUESTION)

    assert snap_compare(chat(), terminal_size=(100, 30), run_before=run_before)


def test_hostile_source_viewer_snapshot(snap_compare):
    async def run_before(pilot):
        await ask(pilot, QUESTION)
        pilot.app.query(PassageCard).first().focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, SourceScreen), what="the source viewer")

    assert snap_compare(chat(), terminal_size=(100, 30), run_before=run_before)
