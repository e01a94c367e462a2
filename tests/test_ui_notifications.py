"""Notifications: the library's notices, and long messages shown whole at narrow widths."""

from __future__ import annotations

import asyncio
import re

import pytest
from chat_pilot import chat, run, screen_lines, wait_for

from ui.app import AppState

pytestmark = pytest.mark.usefixtures("chat_dirs")

LONG_NOTICES = [
    ("Indexed 4 files, 10 passages in 0.2 s (embedded 1, reused 3)", "Re-index", "information"),
    ('keys.toml: new = "": new must be a string of key names, e.g. new = "ctrl+e"; new stays Ctrl+N', "", "warning"),
    ("/home/someone/.local/share/qa/exports/qa-conversation-20261201-231205.md", "Exported the conversation to", "information"),
]


def test_a_library_notice_sent_from_a_worker_thread_is_shown_as_a_toast():
    async def scenario():
        app = chat()
        async with app.run_test(size=(80, 24)) as pilot:
            await asyncio.to_thread(app.notice, "corpus changed since the index was built; updating it")
            await wait_for(pilot, lambda: app.notices, what="the notice")
            assert app.notices == ["corpus changed since the index was built; updating it"]

    run(scenario())


async def show_long_notices(pilot) -> None:
    await wait_for(pilot, lambda: pilot.app.state is AppState.READY, what="loading")
    for message, title, severity in LONG_NOTICES:
        pilot.app.notify(message, title=title, severity=severity, markup=False, timeout=60)
    await pilot.pause(0.3)


@pytest.mark.parametrize("size", [(60, 20), (80, 24)], ids=["60x20", "80x24"])
def test_a_long_notification_is_wrapped_whole_not_cut(size):
    async def scenario():
        app = chat()
        async with app.run_test(size=size, notifications=True) as pilot:
            await show_long_notices(pilot)
            assert len(app.screen.query("Toast")) == len(LONG_NOTICES)
            # What the screen shows right of the toasts' edge, without spaces (a wrapped line breaks anywhere).
            shown = "".join(line.split("▌", 1)[1] for line in screen_lines(app) if "▌" in line)
            for message, title, _ in LONG_NOTICES:
                assert re.sub(r"\s+", "", title + message) in re.sub(r"\s+", "", shown), (size, shown)

    run(scenario())


@pytest.mark.parametrize("size", [(60, 20), (80, 24)], ids=["60x20", "80x24"])
def test_snapshot_long_notifications(snap_compare, size):
    assert snap_compare(chat(show_timings=False), terminal_size=size, run_before=show_long_notices)
