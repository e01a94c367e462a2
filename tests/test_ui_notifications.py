"""Notifications: the library's notices."""

from __future__ import annotations

import asyncio

import pytest
from chat_pilot import chat, run, wait_for

pytestmark = pytest.mark.usefixtures("chat_dirs")


def test_a_library_notice_sent_from_a_worker_thread_is_shown_as_a_toast():
    async def scenario():
        app = chat()
        async with app.run_test(size=(80, 24)) as pilot:
            await asyncio.to_thread(app.notice, "corpus changed since the index was built; updating it")
            await wait_for(pilot, lambda: app.notices, what="the notice")
            assert app.notices == ["corpus changed since the index was built; updating it"]

    run(scenario())
