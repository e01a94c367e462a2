"""Writing an index: one writer at a time, each build a new generation made current in one rename.

A build writes new files under fresh names (the build's id in each) and then replaces manifest.json
in one rename, so a reader sees either the old index or the new one, never a mix, and a killed build
leaves the old one in place; the next build removes what it left.

Passage ids are stable: a passage keeps its id for as long as its document is unchanged, and a new
passage gets the manifest's next_id, so ids never repeat and ascending id order is the file order.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from qa.errors import IndexWriteError, QAError
from qa.index.manifest import MANIFEST, Manifest, read_manifest
from qa.index.reader import StoredIndex, load_index, sha256_file, verify_checksums
from qa.schema import Passage
from qa.stores import DEFAULT_STORE, IndexPolicy, StoreTarget, VectorSet, create_store

if TYPE_CHECKING:
    import numpy as np

LOCK = ".lock"
# Files of a generation, by the prefixes their names start with (anything else in the folder is left alone).
_GENERATION_FILES = ("passages-", "store-", "bm25-", "idf-", "vectors-", "sentence-vectors-", "sentence-owners-")


class IndexDirectory:
    """The folder an index is written to: its write lock, its current manifest, the next generation."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @contextmanager
    def lock(self, timeout: float = 600, notice: Callable[[str], None] | None = None) -> Iterator[IndexDirectory]:
        """Hold the write lock: fail at once when the folder cannot be written; when another writer
        holds it, wait (saying so through notice), then fail with a clear message."""
        from filelock import FileLock, Timeout

        self._check_writable()
        lock = FileLock(str(self.path / LOCK))
        try:
            try:
                lock.acquire(timeout=0)
            except Timeout:
                if notice:
                    notice(f"another qa index is writing {self.path}; waiting up to {timeout:g} s for it to finish")
                lock.acquire(timeout=timeout)
        except Timeout as error:
            raise IndexWriteError(f"another qa index is writing {self.path}; try again when it ends") from error
        try:
            yield self
        finally:
            lock.release()

    def is_writing(self) -> bool:
        """Whether a build holds the write lock now (a reader asking during a first build says so)."""
        from filelock import FileLock, Timeout

        if not (self.path / LOCK).exists():
            return False
        lock = FileLock(str(self.path / LOCK))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            return True
        except OSError:
            return False
        lock.release()
        return False

    def current(self, usable: Callable[[Manifest], bool] = lambda manifest: True) -> Manifest | None:
        """The current manifest when a build can start from it (usable) and every file it names is
        intact (hashed in full), else None: a missing, damaged or unusable index is rebuilt from
        scratch. Read with the lock held."""
        try:
            manifest = read_manifest(self.path)
            if manifest is None or not usable(manifest):
                return None
            verify_checksums(self.path, manifest)
        except QAError:
            return None
        return manifest

    def begin(
        self, dimension: int, *, base: Manifest | None = None, store: StoreTarget = DEFAULT_STORE, model: str = "",
        policy: IndexPolicy = IndexPolicy(),
    ) -> IndexWriter:
        """The next generation, started from base (the current manifest, verified: its documents are
        kept by id) or empty in a new store at the target."""
        return IndexWriter(self, dimension, base=base, store=store, model=model, policy=policy)

    def replace_manifest(self, manifest: Manifest, keep: Collection[str]) -> None:
        """Make manifest current in one rename, then delete the files of earlier or interrupted builds."""
        write_atomic(self.path / MANIFEST, manifest.to_json())
        for path in self.path.iterdir():
            name = path.name
            ours = name.startswith(_GENERATION_FILES) or (name.startswith(f".{MANIFEST}.") and name.endswith(".tmp"))
            if ours and name not in keep:
                path.unlink(missing_ok=True)

    def _check_writable(self) -> None:
        """Fail before any work when the folder cannot be created or written."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self.path):
                pass
        except OSError as error:
            raise IndexWriteError(f"cannot write to index directory {self.path}: {error.strerror or error}") from error


class IndexWriter:
    """Builds the next generation of an index: starts from the current one (base), drops the
    documents the build replaces or that are gone, and adds new passages with fresh ids; commit()
    writes it under new names and makes it current with the manifest's rename.

    Vectors of unchanged documents are neither re-embedded nor copied out of the store: the store
    keeps them under their ids (an approximate index keeps its training too)."""

    def __init__(
        self, directory: IndexDirectory, dimension: int, *, base: Manifest | None, store: StoreTarget, model: str, policy: IndexPolicy,
    ) -> None:
        self.directory = directory
        self.dimension = dimension
        self.base = base
        self.build_id = secrets.token_hex(4)
        self.passages_file = f"passages-{self.build_id}.jsonl"
        self._new_file = f"passages-{self.build_id}.new"  # new passages, appended after the kept ones at commit
        folder = directory.path
        self.base_index: StoredIndex | None = None  # the generation this one starts from, as it was
        if base is not None:
            # The current generation, opened to be changed: a build's changes go to new files only.
            self.base_index = load_index(folder, verified=True, manifest=base, policy=policy, workdir=folder)
            self.store = self.base_index.store
            self.next_id = base.next_id
        else:
            self.store = create_store(store, dimension, policy, workdir=folder, model=model)
            self.next_id = 0
        self._removed: set[str] = set()
        self._new = (folder / self._new_file).open("w", encoding="utf-8")
        self._store_files: tuple[str, ...] = ()
        self._lexicon_files: dict[str, str] = {}

    @property
    def count(self) -> int:
        return self.store.count()

    @property
    def files(self) -> tuple[str, ...]:
        return (self.passages_file, self._new_file, *self._store_files, *self._lexicon_files.values())

    def remove_documents(self, docs: Collection[str]) -> None:
        """Drop these documents' passages and vectors (changed or deleted files)."""
        docs = set(docs) - self._removed
        if docs and self.base is not None:
            self.store.delete_documents(docs)
            self._removed |= docs

    def add(self, passages: list[Passage], vectors: np.ndarray, sentence_vectors: np.ndarray, sentence_counts: list[int]) -> np.ndarray:
        """Append passages with their vectors, and the vectors of their sentences (sentence_counts[i]
        of them, at least one, belong to passages[i], in order); the ids given to the passages."""
        import numpy as np

        ids = np.arange(self.next_id, self.next_id + len(passages), dtype=np.int64)
        self.store.add(passages, ids, vectors, sentence_vectors, sentence_counts)
        self.next_id += len(passages)
        for passage in passages:
            self._new.write(json.dumps(passage.to_dict(), ensure_ascii=False) + "\n")
        return ids

    def commit(self, manifest_fields: dict) -> Manifest:
        folder = self.directory.path
        self._new.close()
        record = self.store.save(folder, self.build_id)
        self._store_files = tuple(record.files.values())
        with (folder / self.passages_file).open("w", encoding="utf-8") as out:
            if self.base is not None:
                with (folder / self.base.passages_file).open(encoding="utf-8") as old:
                    for line in old:
                        if not self._removed or json.loads(line)["doc"] not in self._removed:
                            out.write(line)
            with (folder / self._new_file).open(encoding="utf-8") as new:
                shutil.copyfileobj(new, out)
            out.flush()
            os.fsync(out.fileno())
        (folder / self._new_file).unlink()
        self._lexicon_files = self._write_lexicon()
        kept = (self.passages_file, *self._store_files, *self._lexicon_files.values())
        manifest = Manifest(
            passage_count=self.store.count(),
            passages_file=self.passages_file,
            store=record,
            next_id=self.next_id,
            sentence_count=self.store.count(VectorSet.SENTENCES),
            lexicon=self._lexicon_files,
            checksums={name: sha256_file(folder / name) for name in kept},
            sizes={name: (folder / name).stat().st_size for name in kept},
            **manifest_fields,
        )
        self.directory.replace_manifest(manifest, keep=set(kept))
        return manifest

    def _write_lexicon(self) -> dict[str, str]:
        from qa import lexicon

        path = self.directory.path / self.passages_file

        def passages() -> Iterator[Passage]:  # read twice rather than held: a large corpus's passages are hundreds of MB
            with path.open(encoding="utf-8") as lines:
                yield from (Passage.from_dict(json.loads(line)) for line in lines)

        return lexicon.save(self.directory.path, self.build_id, [p.embedding_text() for p in passages()], (p.text for p in passages()))

    def abort(self) -> None:
        self._new.close()
        self.store.discard()
        for name in self.files:
            (self.directory.path / name).unlink(missing_ok=True)


def write_atomic(path: Path, text: str) -> None:
    """Write a file whole or not at all: a temporary file, flushed to disk, renamed over path."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
