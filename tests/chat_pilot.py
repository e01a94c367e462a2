"""Driving the chat in Textual's test pilot: wait for the app, ask a question, run a palette command,
read what a widget draws."""

from __future__ import annotations

import asyncio
import html
import re
import time
from collections.abc import Callable

from fake_bot import FakeBot

from ui.app import ChatApp


def chat(bot=None, **options) -> ChatApp:
    """The chat over bot (the stand-in by default), without animation."""
    options.setdefault("animate", False)
    return ChatApp(bot=bot or FakeBot(), **options)


def run(coroutine):
    return asyncio.run(coroutine)


async def wait_for(pilot, predicate: Callable[[], object], timeout: float = 30.0, what: str = "condition") -> None:
    """Let the app run until predicate() is true (thread workers finish on their own time)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await pilot.pause(0.05)
    await pilot.pause()


async def ask(pilot, question: str, timeout: float = 30.0):
    """Type a question, press Enter, and wait for its reply; returns the Exchange widget."""
    from ui.widgets import Exchange

    app = pilot.app
    before = len(app.query(Exchange))
    app.query_one("#prompt").value = question
    await pilot.press("enter")
    await wait_for(pilot, lambda: len(app.query(Exchange)) > before, timeout, "the question to appear")
    exchange = app.query(Exchange).last()
    await wait_for(pilot, lambda: exchange.answer is not None or exchange.error is not None, timeout, "the reply")
    await wait_for(pilot, lambda: len(exchange.cards) == len(exchange.answer.hits) if exchange.answer else True,
                   timeout, "the cards")
    # The reply is scrolled into view after a refresh; a screenshot taken before that is a race, and
    # so is a key pressed before the screen's layout has that scroll (Tab, say, would scroll a card it
    # sees off screen to the centre).
    await wait_for(pilot, lambda: exchange.revealed or not exchange.is_attached, timeout, "the reply to be scrolled into view")
    await wait_for(pilot, lambda: not exchange.is_attached or _laid_out(exchange), timeout, "the layout to show the scrolled reply")
    return exchange


def _laid_out(widget) -> bool:
    """The screen's last layout puts widget where its container's current scroll puts it."""
    container = widget.parent
    return widget.region.y == container.content_region.y + widget.virtual_region.y - round(container.scroll_y)


async def run_palette(pilot, text: str) -> None:
    """Open the command palette, enter text and run the first command it offers once its search is
    done (the palette's own worker), then let the command start."""
    from textual.command import CommandInput, CommandList, CommandPalette
    from textual.worker import WorkerState

    app = pilot.app
    await pilot.press("ctrl+p")
    await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), what="the command palette")
    palette = app.screen
    palette.query_one(CommandInput).value = text
    await pilot.pause()

    def offered() -> bool:
        searching = any(worker.group == CommandPalette._GATHER_COMMANDS_GROUP and worker.state in (WorkerState.PENDING, WorkerState.RUNNING)
                        for worker in palette.workers)
        return not searching and palette.query_one(CommandList).highlighted is not None

    await wait_for(pilot, offered, what=f"the palette to offer a command for {text!r}")
    await pilot.press("enter")
    await wait_for(pilot, lambda: app.screen is not palette, what="the palette to close")


def _strips(widget):
    from textual.geometry import Region

    width, height = widget.outer_size
    return widget.render_lines(Region(0, 0, width, height))


def rendered_lines(widget) -> list[str]:
    """The characters a widget and its descendants draw (border and title included), line by line."""
    lines = ["".join(segment.text for segment in strip) for strip in _strips(widget)]
    for child in widget.query("*"):
        lines += rendered_lines_of_one(child)
    return lines


def rendered_lines_of_one(widget) -> list[str]:
    return ["".join(segment.text for segment in strip) for strip in _strips(widget)]


def rendered_segments(widget):
    """The styled segments a widget draws (without its descendants)."""
    return [segment for strip in _strips(widget) for segment in strip]


_SVG_TEXT = re.compile(r'<text class="[^"]*" x="([\d.]+)" y="[\d.]+" textLength="[\d.]+" clip-path="url\(#[^)]*-line-(\d+)\)">([^<]*)</text>')


def screen_lines(app) -> list[str]:
    """The characters on the screen, line by line, as a screenshot shows them (overlays and clipping included)."""
    rows: dict[int, list[tuple[int, str]]] = {}
    for match in _SVG_TEXT.finditer(app.export_screenshot()):
        column = round(float(match.group(1)) / 12.2)  # Textual's screenshots draw a cell 12.2 units wide
        rows.setdefault(int(match.group(2)), []).append((column, html.unescape(match.group(3)).replace("\xa0", " ")))
    lines = []
    for row in range(app.size.height):
        line = ""
        for column, text in sorted(rows.get(row, [])):
            line = line.ljust(column) + text
        lines.append(line)
    return lines
