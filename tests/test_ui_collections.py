"""The chat over named collections: the header names them, the palette switches them, cards name
the collection of their passage; and the operating point set from the palette. The collections'
session logic is tested without the pilot in test_chat_session.py."""

from __future__ import annotations

import pytest
from chat_pilot import ask, chat, run, run_palette, wait_for
from fake_bot import FakeBot

from qa import Bot
from qa.catalog import info
from ui.app import AppState, ChatApp

HAMMOND_Q = "Which companies will the Foreign Secretary visit in Japan?"

pytestmark = pytest.mark.usefixtures("chat_dirs")


def _header(app) -> str:
    return app.query_one("#corpus-info").visual.plain


def test_the_palette_switches_between_one_collection_and_all_and_cards_name_theirs(seed_collections, fake_factory):
    first, second = (info(seed_collections.get(name)) for name in ("first", "second"))

    async def scenario():
        app = chat(Bot.for_collections(["first", "second"], encoder_factory=fake_factory))
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: app.state is AppState.READY, what="loading")
            assert _header(app) == f"first, second · 5 documents · {first.passages + second.passages:,} passages"
            await run_palette(pilot, "Collections: only second")
            await wait_for(pilot, lambda: app.session.collections == ("second",) and app.state is AppState.READY, what="the switch")
            assert _header(app) == f"second · 2 documents · {second.passages:,} passages"
            exchange = await ask(pilot, HAMMOND_Q)
            metas = [card.query_one(".card-meta").visual.plain for card in exchange.cards]
            assert metas and not any("[second]" in meta for meta in metas)  # one collection: not named
            await run_palette(pilot, "collections all")
            await wait_for(pilot, lambda: len(app.session.collections) == 2 and app.state is AppState.READY, what="the switch")
            assert app.session.collections == ("first", "second")  # "unbuilt" has no index: all that can be asked
            exchange = await ask(pilot, HAMMOND_Q)
            metas = [card.query_one(".card-meta").visual.plain for card in exchange.cards]
            assert all(meta.count("[first] ") + meta.count("[second] ") == 1 for meta in metas)  # each names its own
            assert {word for meta in metas for word in meta.split() if word in ("[first]", "[second]")} == {"[first]", "[second]"}

    run(scenario())


def test_typing_abstain_in_the_palette_sets_the_operating_point_shown_in_the_header():
    async def scenario():
        app = chat()
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: app.state is AppState.READY, what="loading")
            assert app.query_one("#settings").visual.plain == "k 5 · fused"
            await run_palette(pilot, "abstain 0.5")
            assert app.session.abstain_below == 0.5
            assert app.query_one("#settings").visual.plain == "k 5 · fused · abstain < 0.50"
            exchange = await ask(pilot, "Who attended the meeting?")  # the stand-in's confidence: 0.41
            assert exchange.answer.abstained and "confidence 0.41 · answered in" in exchange.timing_text()
            await run_palette(pilot, "abstain below 2")
            assert app.session.abstain_below == 0.5 and "must be a number from 0 to 1" in app.notices[-1]

    run(scenario())


@pytest.fixture
def snapshot_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("QA_CONFIG_DIR", "/nonexistent/qa-config")


@pytest.mark.parametrize("size", [(60, 20), (80, 24)], ids=["60x20", "80x24"])
def test_snapshot_the_header_and_a_card_of_two_collections(snap_compare, snapshot_dirs, size):
    app = ChatApp(bot=FakeBot(collections=("press", "notes")), abstain_below=0.3, show_timings=False, animate=False)

    async def run_before(pilot):
        await ask(pilot, "Who did Kishida and Nakatani meet in London?")
        await pilot.press("tab")

    assert snap_compare(app, terminal_size=size, run_before=run_before)
