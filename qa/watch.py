"""Keeping indexes in step with their folders as files change (`qa watch`).

The folders are watched with watchfiles (inotify, FSEvents, ReadDirectoryChangesW; polling where
there is none). A burst of changes is one update: changes are gathered until none has come for
`quiet_ms` (at most `max_wait_ms` after the first), and what arrives while an update runs is the next
one. Each update is today's incremental build (`qa.index.build_index`): unchanged files are kept,
changed ones embedded again, a file renamed or moved keeps its vectors (found by the checksum of its
bytes), and the result is a new generation made current in one rename, which an open `qa.Bot` moves
to at its next question. A folder that disappears is said once; its index is kept, and watched for
again until the folder is back.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path

from qa.encoders import Encoder, ModelSpec, load_encoder
from qa.errors import QAError
from qa.index import BuildReport, EncoderFactory, Manifest, build_index

QUIET_MS = 250  # an update starts when no change has come for this long…
MAX_WAIT_MS = 2_000  # …or this long after the first change of a burst
POLL_SECONDS = 1.0  # how often folders that are gone (and the list of what to watch) are looked at again


@dataclass(frozen=True, slots=True)
class Watched:
    """A folder kept in step with an index: the collection's name (or the index folder, for an index
    opened by its folder), the documents folder and the index directory."""

    label: str
    folder: Path
    index_dir: Path


@dataclass(frozen=True, slots=True)
class Change:
    """What an update changed in the index's files, from its manifests before and after."""

    edited: int = 0
    added: int = 0
    deleted: int = 0
    renamed: int = 0  # files found under a new path with the bytes of one gone (renames and moves)

    @classmethod
    def between(cls, before: Manifest | None, after: Manifest) -> Change:
        old = {doc: record.sha256 for doc, record in (before.files.items() if before else ())}
        new = {doc: record.sha256 for doc, record in after.files.items()}
        added = [doc for doc in new if doc not in old]
        deleted = [doc for doc in old if doc not in new]
        edited = sum(1 for doc in new if doc in old and new[doc] != old[doc])
        gone_bytes: dict[str, int] = {}
        for doc in deleted:
            gone_bytes[old[doc]] = gone_bytes.get(old[doc], 0) + 1
        renamed = 0
        for doc in added:
            if gone_bytes.get(new[doc], 0) > 0 and new[doc]:
                gone_bytes[new[doc]] -= 1
                renamed += 1
        return cls(edited=edited, added=len(added) - renamed, deleted=len(deleted) - renamed, renamed=renamed)

    def __bool__(self) -> bool:
        return bool(self.edited or self.added or self.deleted or self.renamed)

    def describe(self) -> str:
        parts = [f"{count} {what}" for count, what in ((self.edited, "edited"), (self.added, "added"), (self.deleted, "deleted"),
                                                      (self.renamed, "renamed or moved")) if count]
        return ", ".join(parts) or "no document changed"


class EventKind(Enum):
    UPDATED = "updated"  # a new generation was made current
    FOLDER_GONE = "folder gone"  # the documents folder disappeared; the index is kept
    FOLDER_BACK = "folder back"
    FAILED = "failed"  # an update could not be made; the index is as it was
    DROPPED = "dropped"  # no longer a collection (removed while watched)


@dataclass(frozen=True, slots=True)
class WatchEvent:
    """Something a watcher did or saw, said in one line."""

    kind: EventKind
    watched: Watched
    when: datetime = field(default_factory=datetime.now)
    change: Change = Change()
    report: BuildReport | None = None
    message: str = ""

    def line(self) -> str:
        at, name = self.when.strftime("%H:%M:%S"), self.watched.label
        if self.kind is EventKind.UPDATED and self.report is not None:
            report = self.report
            reused = f", vectors of {_count(report.files_renamed, 'file')} reused" if report.files_renamed else ""
            return (f"{at} {name}: {self.change.describe()} → {_count(report.files, 'document')}, {_count(report.passages, 'passage')} "
                    f"(embedded {_count(report.passages_embedded, 'passage')}{reused}) in {report.seconds:.2f} s")
        if self.kind is EventKind.FOLDER_GONE:
            kept = "it has no index yet" if self.message == "no index" else "its index is kept"
            return f"{at} {name}: the folder {self.watched.folder} is gone; {kept}, and the folder watched for"
        if self.kind is EventKind.FOLDER_BACK:
            return f"{at} {name}: the folder {self.watched.folder} is back"
        if self.kind is EventKind.DROPPED:
            return f"{at} {name}: no longer a collection; not watched any more"
        return f"{at} {name}: could not update the index ({self.message}); it is as it was"


Report = Callable[[WatchEvent], None]


def _count(number: int, word: str) -> str:
    return f"{number:,} {word}{'' if number == 1 else 's'}"


class Watcher:
    """Keeps each watched folder's index up to date until stop is set. targets is called again every
    POLL_SECONDS, so collections added, removed or renamed meanwhile are followed."""

    def __init__(
        self, targets: Callable[[], Sequence[Watched]], report: Report, *, model: str | None = None,
        encoder_factory: EncoderFactory = load_encoder, quiet_ms: int = QUIET_MS, max_wait_ms: int = MAX_WAIT_MS,
        force_polling: bool | None = None,
    ) -> None:
        self.targets = targets
        self.report = report
        self.model = model
        self.quiet_ms, self.max_wait_ms, self.force_polling = quiet_ms, max(max_wait_ms, quiet_ms), force_polling
        self._factory = encoder_factory
        self._encoders: dict[str, Encoder] = {}  # the model is loaded once, by the first update that embeds
        self._gone: set[Path] = set()
        self._watched: tuple[Watched, ...] = ()

    def run(self, stop: threading.Event | None = None) -> None:
        """Catch up every folder, then update on each burst of changes until stop is set (or Ctrl+C)."""
        stop = stop or threading.Event()
        self._follow(self.targets(), catch_up=True)
        while not stop.is_set():
            present = tuple(w for w in self._watched if w.folder not in self._gone)
            if not present:
                stop.wait(POLL_SECONDS)
                self._look_again()
                continue
            self._watch(present, stop)

    def update(self, watched: Watched) -> WatchEvent | None:
        """One incremental build of the folder into its index, when the folder differs from it; the
        event said (None when there was nothing to do)."""
        from qa.bot import readable_manifest
        from qa.corpus import file_stamps
        from qa.errors import CorpusError

        before = readable_manifest(watched.index_dir)
        try:
            if before is not None and Path(before.corpus_root) == watched.folder and file_stamps(watched.folder) == before.files.stamps():
                return None
            report = build_index(watched.folder, watched.index_dir, self.model or (before.model if before else None),
                                 encoder_factory=self._encoder, lock_timeout=60)
        except CorpusError as error:
            if not watched.folder.is_dir():
                return self._folder_gone(watched)
            return self._say(WatchEvent(EventKind.FAILED, watched, message=str(error)))
        except QAError as error:
            return self._say(WatchEvent(EventKind.FAILED, watched, message=str(error)))
        if not report.changed:
            return None
        after = readable_manifest(watched.index_dir)
        change = Change.between(before, after) if after is not None else Change()
        if not change and before is not None:
            return None  # files touched, their bytes unchanged: a new generation, nothing to say
        return self._say(WatchEvent(EventKind.UPDATED, watched, change=change, report=report))

    # -- the loop -----------------------------------------------------------------------------

    def _watch(self, present: tuple[Watched, ...], stop: threading.Event) -> None:
        """Watch these folders until one of them goes, the targets change, or stop is set."""
        import watchfiles

        folders = {str(w.folder): w for w in present}
        try:
            changes_seen = watchfiles.watch(
                *folders, watch_filter=_Relevant(), debounce=self.max_wait_ms, step=self.quiet_ms, stop_event=stop,
                rust_timeout=int(POLL_SECONDS * 1000), yield_on_timeout=True, raise_interrupt=True,
                force_polling=self.force_polling, ignore_permission_denied=True,
            )
            first = True
            for changes in changes_seen:
                touched = {w for _, path in changes for folder, w in folders.items() if path == folder or path.startswith(folder + os.sep)}
                if first:  # watching now: what changed since the look before it (a catch-up build's time) is looked at once
                    touched, first = set(present), False
                for watched in present:
                    if watched in touched and watched.folder not in self._gone:
                        if not watched.folder.is_dir():
                            self._folder_gone(watched)
                        else:
                            self.update(watched)
                if self._look_again() or any(w.folder in self._gone for w in present):
                    return
        except FileNotFoundError:
            for watched in present:  # a folder went between the look and the watch
                if not watched.folder.is_dir():
                    self._folder_gone(watched)

    def _look_again(self) -> bool:
        """Folders come back, collections come and go; whether what is watched changed."""
        changed = self._follow(self.targets(), catch_up=False)
        for watched in self._watched:
            if watched.folder in self._gone and watched.folder.is_dir():
                self._gone.discard(watched.folder)
                self._say(WatchEvent(EventKind.FOLDER_BACK, watched))
                self.update(watched)
                changed = True
            elif watched.folder not in self._gone and not watched.folder.is_dir():
                self._folder_gone(watched)
                changed = True
        return changed

    def _follow(self, targets: Sequence[Watched], catch_up: bool) -> bool:
        targets = tuple(targets)
        if targets == self._watched:
            return False
        by_index = {w.index_dir: w for w in targets}
        for old in self._watched:
            if old.index_dir not in by_index:
                self._say(WatchEvent(EventKind.DROPPED, old))
        known = {w.index_dir for w in self._watched}
        self._watched = targets
        for watched in targets:
            if catch_up or watched.index_dir not in known:
                if watched.folder.is_dir():
                    self.update(watched)
                else:
                    self._folder_gone(watched)
        return True

    def _folder_gone(self, watched: Watched) -> WatchEvent | None:
        if watched.folder in self._gone:
            return None
        from qa.index import current_generation

        self._gone.add(watched.folder)
        return self._say(WatchEvent(EventKind.FOLDER_GONE, watched, message="" if current_generation(watched.index_dir) else "no index"))

    def _say(self, event: WatchEvent) -> WatchEvent:
        self.report(event)
        return event

    def _encoder(self, spec: ModelSpec) -> Encoder:
        if spec.name not in self._encoders:
            self._encoders[spec.name] = self._factory(spec)
        return self._encoders[spec.name]


class _Relevant:
    """Changes a build may care about: not in hidden files or folders (which corpus scans skip), nor
    editors' swap and backup files (watchfiles' DefaultFilter)."""

    def __init__(self) -> None:
        from watchfiles import DefaultFilter

        self._default = DefaultFilter()

    def __call__(self, change, path: str) -> bool:
        return f"{os.sep}." not in path and self._default(change, path)
