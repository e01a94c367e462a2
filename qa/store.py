"""The index on disk: the passages as JSON Lines (ascending passage id), a vector store holding
their passage and sentence vectors by id (`qa.stores`; FAISS files by default), and a manifest
naming both.

A build writes new files under fresh names and then replaces manifest.json in one rename, so a
reader sees either the old index or the new one, never a mix, and a killed build leaves the old
one in place. Writers take a file lock; readers need none.

Passage ids are stable: a passage keeps its id for as long as its document is unchanged, and a new
passage gets the manifest's next_id, so ids never repeat and ascending id order is the file order.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING

from qa.errors import IndexMismatchError, IndexMissingError, IndexWriteError
from qa.file_table import FileTable
from qa.passage_table import PassageTable
from qa.schema import Passage
from qa.stores import (
    DEFAULT_STORE,
    StoreRecord,
    VectorSet,
    VectorStore,
    create_store,
    load_store,
)
from qa.vector_index import IndexPolicy

if TYPE_CHECKING:
    import numpy as np

FORMAT_VERSION = 3  # 2: sentence vectors beside passage vectors; 3: stable passage ids, vectors in a named store
MANIFEST = "manifest.json"
HASH_ON_LOAD_BYTES = 8 << 20  # larger files are checked by size when a reader loads the index
LOCK = ".lock"


@dataclass(frozen=True, slots=True)
class Manifest:
    model: str
    dimension: int
    splitter_version: str
    corpus_root: str
    files: FileTable  # given as any mapping of document to FileRecord, kept as a FileTable
    passage_count: int
    passages_file: str
    store: StoreRecord  # which store holds the vectors, and its files
    next_id: int = 0  # the id the next new passage gets
    sentence_count: int = 0
    lexicon: dict[str, str] = field(default_factory=dict)  # BM25 and IDF files (qa.lexicon), by role
    checksums: dict[str, str] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)  # bytes of each file in checksums
    format_version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        object.__setattr__(self, "files", FileTable.of(self.files))

    @property
    def document_count(self) -> int:
        """The files indexed, not counting those skipped: what `qa index` reports as indexed."""
        return len(self.files) - self.skipped_count

    @property
    def skipped_count(self) -> int:
        return self.files.count_skipped()

    def to_json(self) -> str:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["store"] = asdict(self.store)
        data["files"] = self.files.to_json()
        return json.dumps(data, indent=1, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        data["files"] = FileTable.from_json(data["files"])
        if data.get("format_version") != FORMAT_VERSION:
            # An older format: keep what names the corpus and the model, so the reader can say to rebuild.
            data = {name: data[name] for name in ("model", "dimension", "splitter_version", "corpus_root", "files", "format_version")}
            return cls(**data, passage_count=0, passages_file="", store=StoreRecord(kind=""))
        data["store"] = StoreRecord.from_dict(data["store"])
        return cls(**data)


@dataclass(frozen=True)
class StoredIndex:
    """A loaded index: the manifest, the passages in ascending id order with their ids, and the store."""

    manifest: Manifest
    passages: Sequence[Passage]
    ids: np.ndarray  # int64, ascending: ids[i] is the id of passages[i]
    store: VectorStore
    directory: Path = Path(".")

    def passage(self, passage_id: int) -> Passage:
        return self.passages[self.row_of(passage_id)]

    def row_of(self, passage_id: int) -> int:
        import numpy as np

        row = int(np.searchsorted(self.ids, passage_id))
        if row >= len(self.ids) or self.ids[row] != passage_id:
            raise KeyError(f"no passage with id {passage_id}")
        return row

    def search(self, queries: np.ndarray, k: int, target: VectorSet = VectorSet.PASSAGES) -> tuple[np.ndarray, np.ndarray]:
        """Scores and passage ids of the k nearest passages (or sentences) for each query row (-1 pads)."""
        return self.store.search(queries, k, target)


def read_manifest(index_dir: Path) -> Manifest | None:
    path = Path(index_dir) / MANIFEST
    if not path.exists():
        return None
    try:
        return Manifest.from_json(path.read_text(encoding="utf-8"))
    except (ValueError, TypeError, KeyError) as error:
        raise IndexMismatchError(
            f"damaged manifest in {index_dir} ({error.__class__.__name__}); {rebuild_command(index_dir)}"
        ) from error


def load_index(index_dir: Path, verified: bool = False, manifest: Manifest | None = None) -> StoredIndex:
    """The current index. verified: its files' checksums were just checked by a caller holding the
    write lock (so they cannot have changed), and need not be hashed again. manifest: the manifest
    the caller has just read, which spares reading it again (a large corpus's takes a while)."""
    index_dir = Path(index_dir)
    for _ in range(3):
        manifest = manifest or require_manifest(index_dir)
        try:
            return _load_files(index_dir, manifest, verified)
        except IndexMismatchError:
            # A build may have committed, and removed the files this manifest names, while they were read.
            if read_manifest(index_dir) == manifest:
                raise
            manifest = None
    return _load_files(index_dir, require_manifest(index_dir), verified)


def require_manifest(index_dir: Path) -> Manifest:
    """The current manifest; IndexMissingError, naming the command that builds one, when there is none."""
    manifest = read_manifest(index_dir)
    if manifest is None:
        raise IndexMissingError(f"no index in {index_dir}; build one with: qa index CORPUS_DIR --index-dir {index_dir}")
    return manifest


def rebuild_command(index_dir: Path, manifest: Manifest | None = None, model: str | None = None) -> str:
    """The fix named by every message about an index that cannot be used as it is."""
    corpus = manifest.corpus_root if manifest is not None else "CORPUS_DIR"
    return f"rebuild it with: qa index {corpus} --index-dir {index_dir}" + (f" --model {model}" if model else "")


def verify_checksums(index_dir: Path, manifest: Manifest, full: bool = True) -> None:
    """Raise IndexMismatchError when a file of the index is missing or differs from what the build wrote.

    full=False (every reader's load): files over HASH_ON_LOAD_BYTES are checked by size only, since
    hashing costs about a second per GB: at 160,000 passages the index holds 650 MB of vectors, and
    the passages and BM25 files under 64 MB still took a third of a cold question. Builds (qa index)
    always hash every file before reusing any of them."""
    for name, expected in manifest.checksums.items():
        path = Path(index_dir) / name
        try:
            size = path.stat().st_size
            if not full and size > HASH_ON_LOAD_BYTES and manifest.sizes.get(name) == size:
                continue
            actual = _sha256_file(path)
        except OSError as error:
            raise IndexMismatchError(f"damaged index in {index_dir} ({name}: {error.strerror}); {rebuild_command(index_dir, manifest)}") from error
        if actual != expected:
            raise IndexMismatchError(
                f"damaged index in {index_dir} ({name} does not match its checksum in the manifest); {rebuild_command(index_dir, manifest)}"
            )


def _load_files(index_dir: Path, manifest: Manifest, verified: bool) -> StoredIndex:
    import numpy as np

    rebuild = rebuild_command(index_dir, manifest)
    if manifest.format_version != FORMAT_VERSION:
        raise IndexMismatchError(
            f"index in {index_dir} has format {manifest.format_version}, this version of qa reads format {FORMAT_VERSION}"
            f" (stable passage ids); {rebuild}"
        )
    if not verified:
        verify_checksums(index_dir, manifest, full=False)
    try:
        passages = PassageTable(index_dir / manifest.passages_file, damaged=f"damaged index in {index_dir}; {rebuild}")
        store = load_store(index_dir, manifest.store)
        store.validate(manifest.passage_count)
    except (OSError, RuntimeError, ValueError, KeyError) as error:
        raise IndexMismatchError(f"damaged index in {index_dir} ({str(error).splitlines()[0][:120]}); {rebuild}") from error
    if len(passages) != manifest.passage_count or store.dimension != manifest.dimension or store.count(VectorSet.SENTENCES) != manifest.sentence_count:
        raise IndexMismatchError(
            f"index in {index_dir} is inconsistent ({store.count()} vectors, {len(passages)} passages, "
            f"manifest says {manifest.passage_count}); {rebuild}"
        )
    return StoredIndex(manifest=manifest, passages=passages, ids=np.asarray(store.ids(), dtype=np.int64), store=store, directory=index_dir)


def check_writable(index_dir: Path) -> None:
    """Fail before any work when the index directory cannot be created or written."""
    try:
        Path(index_dir).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=index_dir):
            pass
    except OSError as error:
        raise IndexWriteError(f"cannot write to index directory {index_dir}: {error.strerror or error}") from error


@contextmanager
def write_lock(index_dir: Path, timeout: float = 600, notice: Callable[[str], None] | None = None):
    """One writer at a time; a second waits (saying so through notice), then fails with a clear message."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(Path(index_dir) / LOCK))
    try:
        try:
            lock.acquire(timeout=0)
        except Timeout:
            if notice:
                notice(f"another qa index is writing {index_dir}; waiting up to {timeout:g} s for it to finish")
            lock.acquire(timeout=timeout)
    except Timeout as error:
        raise IndexWriteError(f"another qa index is writing {index_dir}; try again when it ends") from error
    try:
        yield
    finally:
        lock.release()


class IndexWriter:
    """Builds the next generation of an index: starts from the current one (base), drops the
    documents the build replaces or that are gone, and adds new passages with fresh ids; commit()
    writes it under new names and makes it current with the manifest's rename.

    Vectors of unchanged documents are neither re-embedded nor copied out of the store: the store
    keeps them under their ids (an approximate index keeps its training too)."""

    def __init__(
        self, index_dir: Path, dimension: int, policy: IndexPolicy = IndexPolicy(), base: StoredIndex | None = None,
        store_kind: str = DEFAULT_STORE, model: str = "",
    ) -> None:
        self.index_dir = Path(index_dir)
        self.dimension = dimension
        self.base = base
        self.build_id = secrets.token_hex(4)
        self.passages_file = f"passages-{self.build_id}.jsonl"
        self._new_file = f"passages-{self.build_id}.new"  # new passages, appended after the kept ones at commit
        if base is not None:
            self.store = load_store(self.index_dir, base.manifest.store, policy, workdir=self.index_dir)  # a copy this build changes
            self.next_id = base.manifest.next_id
        else:
            self.store = create_store(store_kind, dimension, policy, workdir=self.index_dir, model=model)
            self.next_id = 0
        self._removed: set[str] = set()
        self._new = (self.index_dir / self._new_file).open("w", encoding="utf-8")
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
        self._new.close()
        record = self.store.save(self.index_dir, self.build_id)
        self._store_files = tuple(record.files.values())
        with (self.index_dir / self.passages_file).open("w", encoding="utf-8") as out:
            if self.base is not None:
                with (self.index_dir / self.base.manifest.passages_file).open(encoding="utf-8") as old:
                    for line in old:
                        if not self._removed or json.loads(line)["doc"] not in self._removed:
                            out.write(line)
            with (self.index_dir / self._new_file).open(encoding="utf-8") as new:
                shutil.copyfileobj(new, out)
            out.flush()
            os.fsync(out.fileno())
        (self.index_dir / self._new_file).unlink()
        self._lexicon_files = self._write_lexicon()
        kept = (self.passages_file, *self._store_files, *self._lexicon_files.values())
        manifest = Manifest(
            passage_count=self.store.count(),
            passages_file=self.passages_file,
            store=record,
            next_id=self.next_id,
            sentence_count=self.store.count(VectorSet.SENTENCES),
            lexicon=self._lexicon_files,
            checksums={name: _sha256_file(self.index_dir / name) for name in kept},
            sizes={name: (self.index_dir / name).stat().st_size for name in kept},
            **manifest_fields,
        )
        write_atomic(self.index_dir / MANIFEST, manifest.to_json())
        remove_unreferenced(self.index_dir, keep=set(kept))
        return manifest

    def _write_lexicon(self) -> dict[str, str]:
        from qa import lexicon

        path = self.index_dir / self.passages_file

        def passages() -> Iterator[Passage]:  # read twice rather than held: 160,000 passages are 100s of MB
            with path.open(encoding="utf-8") as lines:
                yield from (Passage.from_dict(json.loads(line)) for line in lines)

        return lexicon.save(self.index_dir, self.build_id, [p.embedding_text() for p in passages()], (p.text for p in passages()))

    def abort(self) -> None:
        self._new.close()
        self.store.discard()
        for name in self.files:
            (self.index_dir / name).unlink(missing_ok=True)


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_path(path.parent)


def remove_unreferenced(index_dir: Path, keep: Iterable[str]) -> None:
    """Delete files of earlier or interrupted builds (called with the write lock held)."""
    keep = set(keep)
    for path in Path(index_dir).iterdir():
        name = path.name
        ours = name.startswith(("passages-", "store-", "bm25-", "idf-", "vectors-", "sentence-vectors-", "sentence-owners-")) or (
            name.startswith(".manifest.json.") and name.endswith(".tmp")
        )
        if ours and name not in keep:
            path.unlink(missing_ok=True)


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256_file(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
