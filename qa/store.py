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
import shutil
import tempfile
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from qa import vector_index
from qa.errors import IndexMismatchError, IndexMissingError, IndexWriteError
from qa.schema import Passage
from qa.vector_index import FLAT, IndexPolicy, VectorIndexSpec

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
    index_type: str = FLAT
    format_version: int = FORMAT_VERSION
    index_params: dict = field(default_factory=dict)  # absent from manifests written before issue 6
    sentence_vectors_file: str = ""
    sentence_owners_file: str = ""  # int32 .npy: the passage row of each sentence vector, ascending
    sentence_count: int = 0
    sentence_index_type: str = FLAT
    sentence_index_params: dict = field(default_factory=dict)

    @property
    def document_count(self) -> int:
        """The files indexed, not counting those skipped: what `qa index` reports as indexed."""
        return sum(1 for record in self.files.values() if not record.skipped)

    @property
    def skipped_count(self) -> int:
        return sum(1 for record in self.files.values() if record.skipped)

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
    spec: VectorIndexSpec = field(default_factory=VectorIndexSpec)
    sentence_spec: VectorIndexSpec = field(default_factory=VectorIndexSpec)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Scores and row numbers of the k nearest passages for each query row (-1 pads)."""
        return vector_index.search(self.vectors, queries, min(k, len(self.passages)))

    def vectors_of(self, rows: list[int]) -> np.ndarray:
        return vector_index.reconstruct(self.vectors, rows)

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


def load_index(index_dir: Path, verified: bool = False) -> StoredIndex:
    """The current index. verified: its files' checksums were just checked by a caller holding the
    write lock (so they cannot have changed), and need not be hashed again."""
    index_dir = Path(index_dir)
    for _ in range(3):
        manifest = read_manifest(index_dir)
        if manifest is None:
            raise IndexMissingError(f"no index in {index_dir}; build one with: qa index CORPUS_DIR --index-dir {index_dir}")
        try:
            return _load_files(index_dir, manifest, verified)
        except IndexMismatchError:
            # A build may have committed, and removed the files this manifest names, while they were read.
            if read_manifest(index_dir) == manifest:
                raise
    return _load_files(index_dir, read_manifest(index_dir), verified)


def rebuild_command(index_dir: Path, manifest: Manifest) -> str:
    return f"rebuild it with: qa index {manifest.corpus_root} --index-dir {index_dir}"


def verify_checksums(index_dir: Path, manifest: Manifest) -> None:
    """Raise IndexMismatchError when a file of the index is missing or differs from what the build wrote."""
    for name, expected in manifest.checksums.items():
        try:
            actual = _sha256_file(Path(index_dir) / name)
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
            f" (it adds sentence vectors); {rebuild}"
        )
    if not verified:
        verify_checksums(index_dir, manifest)
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
    spec = _spec_of(manifest.index_type, manifest.index_params, vectors)
    sentence_spec = _spec_of(manifest.sentence_index_type, manifest.sentence_index_params, sentence_vectors)
    return StoredIndex(
        manifest=manifest, passages=passages, vectors=vector_index.prepare(vectors, spec),
        sentence_vectors=vector_index.prepare(sentence_vectors, sentence_spec), sentence_owners=owners,
        spec=spec, sentence_spec=sentence_spec,
    )


def _spec_of(index_type: str, params: dict, vectors: faiss.Index) -> VectorIndexSpec:
    if index_type == FLAT or not params:
        return vector_index.describe(vectors)  # older manifests name only the type
    return VectorIndexSpec(index_type, dict(params))


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
    """Streams passages to a new file and gathers their vectors; commit() builds the vector index
    (of the kind the policy picks for its size) and makes both the current index.

    Given a base (the current index, approximate), the writer starts from it: its passages are
    copied and new vectors are added to its trained indexes instead of building them anew."""

    def __init__(self, index_dir: Path, dimension: int, policy: IndexPolicy = IndexPolicy(), base: StoredIndex | None = None) -> None:
        self.index_dir = Path(index_dir)
        self.dimension = dimension
        self.policy = policy
        self.base = base
        self.build_id = secrets.token_hex(4)
        self.passages_file = f"passages-{self.build_id}.jsonl"
        self.vectors_file = f"vectors-{self.build_id}.faiss"
        self.sentence_vectors_file = f"sentence-vectors-{self.build_id}.faiss"
        self.sentence_owners_file = f"sentence-owners-{self.build_id}.npy"
        self._passages = (self.index_dir / self.passages_file).open("w", encoding="utf-8")
        self._chunks: list[np.ndarray] = []
        self._sentence_chunks: list[np.ndarray] = []
        self._sentence_owners: list[int] = []
        self.count = 0
        if base is not None:
            with (self.index_dir / base.manifest.passages_file).open(encoding="utf-8") as old:
                shutil.copyfileobj(old, self._passages)
            self.count = len(base.passages)
            self._sentence_owners = base.sentence_owners.tolist()

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
            self._chunks.append(vectors)
            self._sentence_chunks.append(sentence_vectors)
        for offset, count in enumerate(sentence_counts):
            self._sentence_owners.extend([self.count + offset] * count)
        self.count += len(passages)

    def _vector_index(self, chunks: list[np.ndarray], base: faiss.Index | None, base_spec: VectorIndexSpec | None) -> tuple[faiss.Index, VectorIndexSpec]:
        import numpy as np

        new = np.concatenate(chunks) if chunks else np.zeros((0, self.dimension), np.float32)
        chunks.clear()
        if base is not None and base_spec is not None:
            vector_index.add(base, new)
            return base, base_spec
        return vector_index.build(new, self.dimension, self.policy)

    def commit(self, manifest_fields: dict) -> Manifest:
        import numpy as np

        self._passages.flush()
        os.fsync(self._passages.fileno())
        self._passages.close()
        base = self.base
        vectors, spec = self._vector_index(self._chunks, base and base.vectors, base and base.spec)
        sentence_vectors, sentence_spec = self._vector_index(
            self._sentence_chunks, base and base.sentence_vectors, base and base.sentence_spec
        )
        write_vector_set(self.index_dir / self.vectors_file, vectors)
        write_vector_set(self.index_dir / self.sentence_vectors_file, sentence_vectors)
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
            index_type=spec.kind,
            index_params=dict(spec.params),
            sentence_index_type=sentence_spec.kind,
            sentence_index_params=dict(sentence_spec.params),
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
