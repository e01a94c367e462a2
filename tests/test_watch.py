"""`qa watch`: a watcher in a thread keeps a temporary folder's index in step through edits,
additions, deletions, renames and the folder's disappearance (fake encoder; every wait is bounded)."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable

import pytest

from qa import Bot
from qa.index import load_index, read_manifest
from qa.watch import Change, EventKind, Watched, Watcher

WAIT = 15.0  # seconds any one step may take, far above what it needs


def eventually(condition: Callable[[], bool], seconds: float = WAIT) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.fixture
def folder(tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "tea.md").write_text("# Tea\n\nThe tea ceremony was held in Kyoto.\n", encoding="utf-8")
    (folder / "boats.md").write_text("# Boats\n\nThe harbour boats sail at dawn.\n", encoding="utf-8")
    return folder


@pytest.fixture
def watching(folder, tmp_path, fake_factory):
    """A watcher running in a thread over the folder; its events, and a way to wait for the next."""
    watched = Watched("notes", folder, tmp_path / "index")
    events = []
    watcher = Watcher(lambda: [watched], events.append, encoder_factory=fake_factory, quiet_ms=50, max_wait_ms=500)
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(stop,), daemon=True)
    thread.start()
    assert eventually(lambda: len(events) == 1), "the first catch-up build"
    yield watched, events
    stop.set()
    thread.join(WAIT)
    assert not thread.is_alive()


def docs(index_dir) -> dict[str, str]:
    index = load_index(index_dir)
    return {p.doc: p.text for p in index.passages}


def next_event(events, count: int):
    assert eventually(lambda: len(events) >= count), f"no event {count}: {[e.line() for e in events]}"
    return events[count - 1]


def test_edits_additions_deletions_and_renames_each_make_one_update(watching, folder, fake_encoder):
    watched, events = watching
    assert events[0].kind is EventKind.UPDATED and events[0].change == Change(added=2)
    bot = Bot(watched.index_dir, encoder_factory=lambda spec: fake_encoder, auto_update=False).load()

    for version in range(5):  # a burst of saves: one update
        (folder / "tea.md").write_text(f"# Tea\n\nThe tea ceremony was held in Uji, version {version}.\n", encoding="utf-8")
    event = next_event(events, 2)
    assert event.change == Change(edited=1) and "1 edited → 2 documents" in event.line()
    assert docs(watched.index_dir)["tea.md"].endswith("version 4.")
    assert "Uji" in bot.ask("tea ceremony Uji", k=1).hits[0].passage.text  # the open bot moved to the new generation

    (folder / "sub").mkdir()
    (folder / "sub" / "kites.md").write_text("# Kites\n\nKites fly over the dunes.\n", encoding="utf-8")
    assert next_event(events, 3).change == Change(added=1)
    assert "sub/kites.md" in docs(watched.index_dir)

    embedded = fake_encoder.encoded
    (folder / "sub" / "kites.md").rename(folder / "kites-moved.md")
    event = next_event(events, 4)
    assert event.change == Change(renamed=1) and event.report.files_renamed == 1 and fake_encoder.encoded == embedded
    assert set(docs(watched.index_dir)) == {"tea.md", "boats.md", "kites-moved.md"}

    (folder / "boats.md").unlink()
    assert next_event(events, 5).change == Change(deleted=1)
    assert set(docs(watched.index_dir)) == {"tea.md", "kites-moved.md"}
    time.sleep(0.3)
    assert len(events) == 5  # nothing else happened, nothing else said
    manifest = read_manifest(watched.index_dir)
    assert manifest.passage_count == len(load_index(watched.index_dir).passages) == 2


def test_a_folder_that_disappears_is_said_once_and_its_index_kept(watching, folder, tmp_path):
    watched, events = watching
    before = docs(watched.index_dir)
    shutil.move(folder, tmp_path / "elsewhere")
    event = next_event(events, 2)
    assert event.kind is EventKind.FOLDER_GONE and f"the folder {folder} is gone; its index is kept" in event.line()
    time.sleep(1.5)  # a look or two later: said once
    assert len(events) == 2 and docs(watched.index_dir) == before
    shutil.move(tmp_path / "elsewhere", folder)
    assert next_event(events, 3).kind is EventKind.FOLDER_BACK
    (folder / "tea.md").write_text("# Tea\n\nThe tea was green.\n", encoding="utf-8")
    assert next_event(events, 4).change == Change(edited=1)


def test_a_failed_update_is_one_line_and_the_index_stays(watching, folder):
    watched, events = watching
    before = docs(watched.index_dir)
    for path in folder.iterdir():
        path.unlink()  # nothing indexable left: the build refuses, the index stays as it was
    event = next_event(events, 2)
    assert event.kind is EventKind.FAILED and "no supported documents" in event.line() and "it is as it was" in event.line()
    assert docs(watched.index_dir) == before
