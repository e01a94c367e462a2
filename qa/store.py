"""The index on disk: FAISS files of unit vectors (one row per passage, and one per sentence of each
passage), the passages as JSON Lines, the sentences' owning passage rows, and a manifest.

A build writes new files under fresh names and then replaces manifest.json in one rename, so a
reader sees either the old index or the new one, never a mix, and a killed build leaves the old
one in place. Writers take a file lock; readers need none.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from qa.errors import IndexMismatchError, IndexMissingError, IndexWriteError
from qa.schema import Passage

if TYPE_CHECKING:
    import faiss
    import numpy as np

FORMAT_VERSION = 2  # 2: sentence vectors beside passage vectors
MANIFEST = "manifest.json"
LOCK = ".lock"


@dataclass(frozen=True, slots=True)
class FileRecord:
    """What the index knows of one corpus file: enough to tell whether it changed."""

    sha256: str
    size: int
    mtime_ns: int
    passages: int
    skipped: str | None = None  # why the file was not indexed (binary, not UTF-8, …)


@dataclass(frozen=True, slots=True)
class Manifest:
    model: str
    dimension: int
    splitter_version: str
    corpus_root: str
    files: dict[str, FileRecord]
    passage_count: int
    passages_file: str
    vectors_file: str
    checksums: dict[str, str] = field(default_factory=dict)
    index_type: str = "IndexFlatIP"
    format_version: int = FORMAT_VERSION
    sentence_vectors_file: str = ""
    sentence_owners_file: str = ""  # int32 .npy: the passage row of each sentence vector, ascending
    sentence_count: int = 0

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        data["files"] = {doc: FileRecord(**record) for doc, record in data["files"].items()}
        return cls(**data)


@dataclass(frozen=True)
class StoredIndex:
    """A loaded index: the manifest, the passages in vector order, and the FAISS index."""

    manifest: Manifest
    passages: list[Passage]
    vectors: faiss.Index
    sentence_vectors: faiss.Index
    sentence_owners: np.ndarray  # passage row of each sentence vector, ascending; every passage has one

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Scores and row numbers of the k nearest passages for each query row (-1 pads)."""
        return self.vectors.search(queries, min(k, len(self.passages)))

    def vectors_of(self, rows: list[int]) -> np.ndarray:
        import numpy as np

        return np.vstack([self.vectors.reconstruct(int(row)) for row in rows]) if rows else np.zeros((0, self.manifest.dimension), np.float32)

    def sentence_rows_of(self, row: int) -> range:
        """The sentence vectors of passage row (owners are ascending, so they are contiguous)."""
        import numpy as np

        first, last = np.searchsorted(self.sentence_owners, [row, row + 1])
        return range(int(first), int(last))


def read_manifest(index_dir: Path) -> Manifest | None:
    path = Path(index_dir) / MANIFEST
    if not path.exists():
        return None
    try:
        return Manifest.from_json(path.read_text(encoding="utf-8"))
    except (ValueError, TypeError, KeyError) as error:
        raise IndexMismatchError(
            f"damaged manifest in {index_dir} ({error.__class__.__name__}); rebuild it with: qa index CORPUS_DIR --index-dir {index_dir}"
        ) from error


def load_index(index_dir: Path) -> StoredIndex:
    import numpy as np

    index_dir = Path(index_dir)
    manifest = read_manifest(index_dir)
    if manifest is None:
        raise IndexMissingError(f"no index in {index_dir}; build one with: qa index CORPUS_DIR --index-dir {index_dir}")
    rebuild = f"rebuild it with: qa index {manifest.corpus_root} --index-dir {index_dir}"
    if manifest.format_version != FORMAT_VERSION:
        raise IndexMismatchError(
            f"index in {index_dir} has format {manifest.format_version}, this version of qa reads format {FORMAT_VERSION}"
            f" (it adds sentence vectors); {rebuild}"
        )
    try:
        vectors = read_vector_set(index_dir / manifest.vectors_file)
        passages = [Passage.from_dict(json.loads(line)) for line in (index_dir / manifest.passages_file).open(encoding="utf-8")]
        sentence_vectors = read_vector_set(index_dir / manifest.sentence_vectors_file)
        owners = np.load(index_dir / manifest.sentence_owners_file, allow_pickle=False)
    except (OSError, RuntimeError, ValueError, KeyError) as error:
        raise IndexMismatchError(f"damaged index in {index_dir} ({str(error).splitlines()[0][:120]}); {rebuild}") from error
    if vectors.ntotal != len(passages) or len(passages) != manifest.passage_count or vectors.d != manifest.dimension:
        raise IndexMismatchError(
            f"index in {index_dir} is inconsistent ({vectors.ntotal} vectors, {len(passages)} passages, "
            f"manifest says {manifest.passage_count}); {rebuild}"
        )
    if not _owners_fit(owners, sentence_vectors, manifest):
        raise IndexMismatchError(
            f"index in {index_dir} has inconsistent sentence vectors ({sentence_vectors.ntotal} vectors, {len(owners)} owners, "
            f"manifest says {manifest.sentence_count}); {rebuild}"
        )
    return StoredIndex(manifest=manifest, passages=passages, vectors=vectors, sentence_vectors=sentence_vectors, sentence_owners=owners)


def _owners_fit(owners: np.ndarray, sentence_vectors: faiss.Index, manifest: Manifest) -> bool:
    import numpy as np

    if owners.ndim != 1 or len(owners) != sentence_vectors.ntotal or len(owners) != manifest.sentence_count:
        return False
    if sentence_vectors.d != manifest.dimension:
        return False
    # Every passage owns at least one sentence, in passage order.
    return len(owners) == 0 == manifest.passage_count or bool(
        owners[0] == 0 and np.all(np.diff(owners) >= 0) and np.all(np.diff(owners) <= 1) and owners[-1] == manifest.passage_count - 1
    )


def write_vector_set(path: Path, vectors: faiss.Index) -> None:
    """Write one set of vectors (passages or sentences) and flush it to disk. Callers write under a
    fresh name; the manifest's rename makes it current."""
    import faiss

    faiss.write_index(vectors, str(path))
    _fsync_path(path)


def read_vector_set(path: Path) -> faiss.Index:
    import faiss

    return faiss.read_index(str(path))


def new_vector_set(dimension: int) -> faiss.Index:
    import faiss

    return faiss.IndexFlatIP(dimension)


def vector_matrix(vectors: faiss.Index) -> np.ndarray:
    """All vectors of a set as one float32 matrix (for scoring every row at once)."""
    import numpy as np

    if vectors.ntotal == 0:
        return np.zeros((0, vectors.d), np.float32)
    return vectors.reconstruct_n(0, vectors.ntotal)


def check_writable(index_dir: Path) -> None:
    """Fail before any work when the index directory cannot be created or written."""
    try:
        Path(index_dir).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=index_dir):
            pass
    except OSError as error:
        raise IndexWriteError(f"cannot write to index directory {index_dir}: {error.strerror or error}") from error


@contextmanager
def write_lock(index_dir: Path, timeout: float = 600):
    """One writer at a time; a second waits, then fails with a clear message."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(Path(index_dir) / LOCK))
    try:
        lock.acquire(timeout=timeout)
    except Timeout as error:
        raise IndexWriteError(f"another qa index is writing {index_dir}; try again when it ends") from error
    try:
        yield
    finally:
        lock.release()


class IndexWriter:
    """Streams passages and vectors to new files; commit() makes them the current index."""

    def __init__(self, index_dir: Path, dimension: int) -> None:
        self.index_dir = Path(index_dir)
        self.build_id = secrets.token_hex(4)
        self.passages_file = f"passages-{self.build_id}.jsonl"
        self.vectors_file = f"vectors-{self.build_id}.faiss"
        self.sentence_vectors_file = f"sentence-vectors-{self.build_id}.faiss"
        self.sentence_owners_file = f"sentence-owners-{self.build_id}.npy"
        self._passages = (self.index_dir / self.passages_file).open("w", encoding="utf-8")
        self._vectors = new_vector_set(dimension)
        self._sentence_vectors = new_vector_set(dimension)
        self._sentence_owners: list[int] = []
        self.count = 0

    @property
    def files(self) -> tuple[str, ...]:
        return (self.passages_file, self.vectors_file, self.sentence_vectors_file, self.sentence_owners_file)

    def add(self, passages: list[Passage], vectors: np.ndarray, sentence_vectors: np.ndarray, sentence_counts: list[int]) -> None:
        """Append passages with their vectors, and the vectors of their sentences (sentence_counts[i]
        of them, at least one, belong to passages[i], in order)."""
        assert len(passages) == len(vectors) == len(sentence_counts) and sum(sentence_counts) == len(sentence_vectors)
        assert all(count >= 1 for count in sentence_counts)
        for passage in passages:
            self._passages.write(json.dumps(passage.to_dict(), ensure_ascii=False) + "\n")
        if len(passages):
            self._vectors.add(vectors)
            self._sentence_vectors.add(sentence_vectors)
        for offset, count in enumerate(sentence_counts):
            self._sentence_owners.extend([self.count + offset] * count)
        self.count += len(passages)

    def commit(self, manifest_fields: dict) -> Manifest:
        import numpy as np

        self._passages.flush()
        os.fsync(self._passages.fileno())
        self._passages.close()
        write_vector_set(self.index_dir / self.vectors_file, self._vectors)
        write_vector_set(self.index_dir / self.sentence_vectors_file, self._sentence_vectors)
        with (self.index_dir / self.sentence_owners_file).open("wb") as handle:
            np.save(handle, np.asarray(self._sentence_owners, dtype=np.int32), allow_pickle=False)
            handle.flush()
            os.fsync(handle.fileno())
        manifest = Manifest(
            passage_count=self.count,
            passages_file=self.passages_file,
            vectors_file=self.vectors_file,
            sentence_vectors_file=self.sentence_vectors_file,
            sentence_owners_file=self.sentence_owners_file,
            sentence_count=len(self._sentence_owners),
            checksums={name: _sha256_file(self.index_dir / name) for name in self.files},
            **manifest_fields,
        )
        write_atomic(self.index_dir / MANIFEST, manifest.to_json())
        remove_unreferenced(self.index_dir, keep=set(self.files))
        return manifest

    def abort(self) -> None:
        self._passages.close()
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
        ours = name.startswith(("passages-", "vectors-", "sentence-vectors-", "sentence-owners-")) or (name.startswith(".manifest.json.") and name.endswith(".tmp"))
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
