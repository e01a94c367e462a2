"""The default vector store: numpy files beside the manifest, searched with FAISS.

Files of one generation (`store-<role>-<generation>.<ext>`):
- passage-ids (int64, ascending) and passage-vectors (float32, one row per id), as .npy;
- sentence-owners (int64: the passage id of each sentence row, ascending) and sentence-vectors;
- passage-docs (JSON list: the document of each passage row), read only by a build;
- passage-ann / sentence-ann (.faiss), only above `IndexPolicy.flat_max` vectors: an IVF-SQ8 index
  holding each passage under its id, and each sentence under `passage id << 16 | its position`.

The float32 arrays are memory-mapped when read (and the ANN indexes' lists too), so a reader pays in
RAM only for the pages it touches, and `vectors`/`sentence_vectors` return exact values even when
search is approximate. Up to flat_max vectors, search is exact (faiss.knn over the array).

Memory during a build stays bounded: vectors a build adds are appended to spill files, deletions
are a mask over the previous generation, and `save` streams both into the new generation's files
in blocks of CHUNK rows.
"""

from __future__ import annotations

import json
import os
import secrets
import weakref
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from qa.stores import faiss_index
from qa.stores.base import StoreRecord, StoreTarget, VectorSet
from qa.stores.policy import IndexPolicy, VectorIndexSpec

if TYPE_CHECKING:
    import faiss
    import numpy as np

    from qa.schema import Passage

KIND = "faiss"
CHUNK = 16_384  # rows copied at a time when a generation is written
SENTENCE_BITS = 16  # a sentence's ANN label: passage id << 16 | position (passages hold far fewer than 65,536 sentences)
_ROLES = {
    "passage_ids": "npy", "passage_vectors": "npy", "sentence_owners": "npy", "sentence_vectors": "npy",
    "passage_docs": "json", "passage_ann": "faiss", "sentence_ann": "faiss",
}


class FaissStore:
    """Passage and sentence vectors in numpy arrays keyed by passage id, with IVF indexes for large sets."""

    kind = KIND

    def __init__(self, dimension: int, policy: IndexPolicy = IndexPolicy(), workdir: Path | None = None) -> None:
        import numpy as np

        self.dimension = dimension
        self.policy = policy
        empty = np.zeros((0, dimension), np.float32)
        # The current generation (memory-mapped once saved or loaded) ...
        self._ids = np.zeros(0, np.int64)
        self._vectors: np.ndarray = empty
        self._owners = np.zeros(0, np.int64)
        self._sentences: np.ndarray = empty
        # The same two arrays' files, for reading scattered rows without mapping them (when saved or loaded).
        self._row_files: dict[str, _RowFile] = {}
        # ... less the rows deleted since (None: none deleted) ...
        self._keep: np.ndarray | None = None
        # ... plus the rows added since: (ids, vectors, owners, sentence vectors), the vectors None when spilled.
        self._pending: list[tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray | None]] = []
        self._spill = _Spill(Path(workdir) / f"store-spill-{secrets.token_hex(4)}", dimension) if workdir is not None else None
        self._docs: list[str] | None = []  # document of each row: current generation's, then pending
        self._docs_file: Path | None = None
        self._ann: dict[VectorSet, tuple[faiss.Index, VectorIndexSpec]] = {}
        self._ann_files: dict[VectorSet, Path] = {}  # read memory-mapped (read-only) until first changed

    @classmethod
    def parse(cls, spec: str) -> StoreTarget | None:
        """`faiss`: files in the index directory."""
        return StoreTarget(KIND) if spec == KIND else None

    @classmethod
    def create(
        cls, target: StoreTarget, dimension: int, policy: IndexPolicy = IndexPolicy(), workdir: Path | None = None, model: str = ""
    ) -> FaissStore:
        """A new, empty store. workdir: where the vectors a build adds wait until save, in spill files
        (save and discard remove them); without it they wait in memory."""
        return cls(dimension, policy, workdir)

    @classmethod
    def holds(cls, target: StoreTarget, record: StoreRecord) -> bool:
        """Every FAISS store is the index directory's own."""
        return record.kind == KIND

    @classmethod
    def load(cls, directory: Path, record: StoreRecord, policy: IndexPolicy = IndexPolicy(), workdir: Path | None = None) -> FaissStore:
        """Open a generation: arrays and ANN lists memory-mapped, searched with the parameters the record keeps."""
        store = cls(int(record.params["dimension"]), policy, workdir)
        store._open(directory, record)
        return store

    def _open(self, directory: Path, record: StoreRecord) -> None:
        import numpy as np

        files = record.files
        self._ids = np.load(directory / files["passage_ids"], allow_pickle=False)
        self._vectors = np.load(directory / files["passage_vectors"], mmap_mode="r", allow_pickle=False)
        self._owners = np.load(directory / files["sentence_owners"], allow_pickle=False)
        self._sentences = np.load(directory / files["sentence_vectors"], mmap_mode="r", allow_pickle=False)
        self._row_files = {key: _RowFile(directory / files[key]) for key in ("passage_vectors", "sentence_vectors")}
        self._keep, self._pending = None, []
        self._docs, self._docs_file = None, directory / files["passage_docs"]
        self._ann, self._ann_files = {}, {}
        for target in VectorSet:
            name = files.get(_role(target, "ann"))
            if name:
                spec = VectorIndexSpec.from_dict(record.params[_role(target, "index")])
                self._ann[target] = (faiss_index.prepare(faiss_index.deserialize(directory / name, mmap=True), spec), spec)
                self._ann_files[target] = directory / name

    def validate(self, passage_count: int) -> None:
        import numpy as np

        self._consolidate()
        if len(self._ids) != passage_count or self._vectors.shape != (passage_count, self.dimension):
            raise ValueError(f"{len(self._ids)} passage vectors of shape {self._vectors.shape}, expected {passage_count}")
        if self._sentences.shape != (len(self._owners), self.dimension):
            raise ValueError(f"{len(self._owners)} sentence owners for {self._sentences.shape[0]} sentence vectors")
        owners = self._owners
        # Owners ascending, and their distinct values the ids: linear, where np.unique would sort or hash.
        if len(self._ids) and not (np.all(np.diff(self._ids) > 0) and np.all(owners[1:] >= owners[:-1])
                                   and np.array_equal(owners[np.r_[True, owners[1:] != owners[:-1]]], self._ids)):
            raise ValueError("sentence vectors do not belong to the passages, one group each, in id order")
        for target, (index, _) in self._ann.items():
            if index.ntotal != self.count(target):
                raise ValueError(f"the {target.value} index holds {index.ntotal} vectors, expected {self.count(target)}")

    def add(self, passages: Sequence[Passage], ids: np.ndarray, vectors: np.ndarray, sentence_vectors: np.ndarray, sentence_counts: Sequence[int]) -> None:
        import numpy as np

        from qa.stores.base import checked_batch, sentence_rows

        last = self._pending[-1][0][-1] if self._pending else (self._ids[-1] if len(self._ids) else -1)
        ids, counts = checked_batch(passages, ids, vectors, sentence_vectors, sentence_counts, last)
        if not len(ids):
            return
        owners = ids[sentence_rows(counts)]
        vectors = np.asarray(vectors, dtype=np.float32)
        sentence_vectors = np.asarray(sentence_vectors, dtype=np.float32)
        if self._spill is not None:
            self._spill.write(vectors, sentence_vectors)
            self._pending.append((ids, None, owners, None))
        else:
            self._pending.append((ids, vectors, owners, sentence_vectors))
        self._documents().extend(p.doc for p in passages)
        for target in list(self._ann):
            index = self._writable_ann(target)
            if target is VectorSet.PASSAGES:
                faiss_index.add(index, vectors, ids)
            else:
                faiss_index.add(index, sentence_vectors, _sentence_labels(owners))

    def delete_documents(self, docs: Collection[str]) -> int:
        import numpy as np

        wanted = set(docs)
        documents = self._documents()
        drop = np.fromiter((doc in wanted for doc in documents), dtype=bool, count=len(documents))
        if not drop.any():
            return 0
        if drop[len(self._ids) :].any():
            self._consolidate()  # rows added since the last save: merge them first (not a build's path)
            documents = self._documents()
            drop = np.fromiter((doc in wanted for doc in documents), dtype=bool, count=len(documents))
        base = len(self._ids)
        keep = self._keep if self._keep is not None else np.ones(base, bool)
        removed = int((keep & drop[:base]).sum())
        gone = self._ids[keep & drop[:base]]
        for target in list(self._ann):
            index = self._writable_ann(target)
            labels = gone if target is VectorSet.PASSAGES else _sentence_labels(self._owners)[np.isin(self._owners, gone)]
            faiss_index.remove(index, labels)
        self._keep = keep & ~drop[:base]
        return removed

    def search(self, queries: np.ndarray, k: int, target: VectorSet = VectorSet.PASSAGES) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np

        self._consolidate()
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dimension)
        total = self.count(target)
        depth = min(k, total)
        scores = np.full((len(queries), k), -np.inf, np.float32)
        ids = np.full((len(queries), k), -1, np.int64)
        if depth == 0:
            return scores, ids
        if target in self._ann:
            found_scores, labels = faiss_index.search(self._ann[target][0], queries, depth)
            found = labels if target is VectorSet.PASSAGES else np.where(labels >= 0, labels >> SENTENCE_BITS, -1)
        else:
            found_scores, rows = faiss_index.knn(queries, self._sentences if target is VectorSet.SENTENCES else self._vectors, depth)
            keys = self._owners if target is VectorSet.SENTENCES else self._ids
            found = np.where(rows >= 0, keys[np.maximum(rows, 0)], -1)
        scores[:, :depth], ids[:, :depth] = found_scores, found
        return scores, ids

    def vectors(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        import numpy as np

        self._consolidate()
        rows = self._rows(np.asarray(ids, dtype=np.int64))
        if len(rows) == len(self._ids) and np.array_equal(rows, np.arange(len(rows))):
            return self._vectors  # every passage, in order: the (memory-mapped) array itself
        return self._take("passage_vectors", rows)

    def sentence_vectors(self, ids: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np

        self._consolidate()
        ids = np.asarray(ids, dtype=np.int64)
        self._rows(ids)  # KeyError for an unknown id
        if len(ids) == len(self._ids) and np.array_equal(ids, self._ids):
            return self._sentences, np.searchsorted(self._ids, self._owners)
        first = np.searchsorted(self._owners, ids, side="left")
        last = np.searchsorted(self._owners, ids, side="right")
        counts = last - first
        # Each passage's sentence rows, first[i] to last[i], one after another.
        rows = np.arange(counts.sum()) + np.repeat(first - (np.cumsum(counts) - counts), counts)
        return self._take("sentence_vectors", rows), np.repeat(np.arange(len(ids)), counts)

    def _source(self, role: str) -> faiss_index.Rows:
        """A vector set's rows: read from its file once the generation is saved or loaded, else the array in memory."""
        return self._row_files.get(role, self._vectors if role == "passage_vectors" else self._sentences)

    def _take(self, role: str, rows: np.ndarray) -> np.ndarray:
        import numpy as np

        return np.asarray(self._source(role)[rows])

    def ids(self) -> np.ndarray:
        self._consolidate()
        return self._ids

    def count(self, target: VectorSet = VectorSet.PASSAGES) -> int:
        passages = target is VectorSet.PASSAGES
        pending = sum(len(chunk[0]) if passages else len(chunk[2]) for chunk in self._pending)
        if self._keep is None:
            return pending + len(self._ids if passages else self._owners)
        return pending + int(self._keep.sum() if passages else self._sentence_keep().sum())

    def save(self, directory: Path, generation: str) -> StoreRecord:
        """Stream the current generation (less deletions) and the added rows into new files, block by block."""
        import numpy as np

        files = {role: f"store-{role.replace('_', '-')}-{generation}.{ext}" for role, ext in _ROLES.items()}
        keep, sentence_keep = self._keep, self._sentence_keep() if self._keep is not None else None
        ids = np.concatenate([self._ids if keep is None else self._ids[keep], *(chunk[0] for chunk in self._pending)])
        owners = np.concatenate([self._owners if keep is None else self._owners[sentence_keep], *(chunk[2] for chunk in self._pending)])
        for role, array in (("passage_ids", ids), ("sentence_owners", owners)):
            _write(directory / files[role], lambda handle, array=array: np.save(handle, array, allow_pickle=False))
        spilled = self._spill.arrays() if self._spill is not None else None
        for role, mask, position in (("passage_vectors", keep, 1), ("sentence_vectors", sentence_keep, 3)):
            added: list[faiss_index.Rows] = [spilled[position // 2]] if spilled is not None else [_present(chunk[position]) for chunk in self._pending]
            _write_rows(directory / files[role], self.dimension, self._source(role), mask, added)
        documents = self._documents()
        if keep is not None:
            documents = [doc for doc, kept in zip(documents[: len(keep)], keep, strict=True) if kept] + documents[len(keep) :]
        _write(directory / files["passage_docs"], lambda handle: handle.write(json.dumps(documents, ensure_ascii=False).encode()))
        self._ann_files = {}  # the indexes are now those of the new generation, written below
        self._ids, self._owners, self._keep, self._pending, self._docs = ids, owners, None, [], documents
        self._vectors = np.load(directory / files["passage_vectors"], mmap_mode="r", allow_pickle=False)
        self._sentences = np.load(directory / files["sentence_vectors"], mmap_mode="r", allow_pickle=False)
        self._row_files = {key: _RowFile(directory / files[key]) for key in ("passage_vectors", "sentence_vectors")}
        self.discard()
        self._choose_indexes()
        params: dict = {"dimension": self.dimension}
        for target in VectorSet:
            params[_role(target, "index")] = self.index_spec(target).to_dict()
            if target in self._ann:
                index = self._ann[target][0]
                _write(directory / files[_role(target, "ann")], lambda handle, index=index: faiss_index.write(index, handle))
            else:
                del files[_role(target, "ann")]
        return StoreRecord(kind=KIND, files=files, params=params)

    def discard(self) -> None:
        """Remove the spill files (an aborted build; save calls it too)."""
        if self._spill is not None:
            self._spill.remove()

    def index_spec(self, target: VectorSet = VectorSet.PASSAGES) -> VectorIndexSpec:
        """How the vector set is searched: exact, or the ANN index's kind and parameters."""
        return self._ann[target][1] if target in self._ann else VectorIndexSpec()

    def _choose_indexes(self) -> None:
        """An ANN index for each set that outgrew exact search (trained once; later vectors are
        added to it without retraining); none for a set back under the limit."""
        for target in VectorSet:
            if self.count(target) <= self.policy.flat_max:
                self._ann.pop(target, None)
            elif target not in self._ann:
                if target is VectorSet.PASSAGES:
                    self._ann[target] = faiss_index.build(self._source("passage_vectors"), self.dimension, self.policy, ids=self._ids)
                else:
                    ids = _sentence_labels(self._owners)
                    self._ann[target] = faiss_index.build(self._source("sentence_vectors"), self.dimension, self.policy, ids=ids)

    def _writable_ann(self, target: VectorSet) -> faiss.Index:
        """The ANN index, read fully into memory the first time it is changed (its mapped lists are read-only)."""
        if target in self._ann_files:
            spec = self._ann[target][1]
            self._ann[target] = (faiss_index.prepare(faiss_index.deserialize(self._ann_files.pop(target)), spec), spec)
        return self._ann[target][0]

    def _sentence_keep(self) -> np.ndarray:
        import numpy as np

        assert self._keep is not None
        return np.isin(self._owners, self._ids[self._keep])

    def _documents(self) -> list[str]:
        if self._docs is None:
            assert self._docs_file is not None
            self._docs = json.loads(self._docs_file.read_text(encoding="utf-8"))
        return self._docs

    def _consolidate(self) -> None:
        """Apply deletions and added rows in memory (for reads between saves, e.g. in tests)."""
        import numpy as np

        if self._keep is not None:
            keep, sentence_keep = self._keep, self._sentence_keep()
            documents = self._documents()
            self._docs = [doc for doc, kept in zip(documents[: len(keep)], keep, strict=True) if kept] + documents[len(keep) :]
            self._row_files = {}
            self._ids, self._vectors = self._ids[keep], np.asarray(self._vectors[keep])
            self._owners, self._sentences = self._owners[sentence_keep], np.asarray(self._sentences[sentence_keep])
            self._keep = None
        if not self._pending:
            return
        if self._spill is not None:
            vectors, sentences = (array[:] for array in self._spill.arrays())
            self._spill.remove()
        else:
            vectors = np.concatenate([chunk[1] for chunk in self._pending])
            sentences = np.concatenate([chunk[3] for chunk in self._pending])
        self._ids = np.concatenate([self._ids, *(chunk[0] for chunk in self._pending)])
        self._owners = np.concatenate([self._owners, *(chunk[2] for chunk in self._pending)])
        self._row_files = {}
        self._vectors = np.concatenate([self._vectors, vectors])
        self._sentences = np.concatenate([self._sentences, sentences])
        self._pending = []

    def _rows(self, ids: np.ndarray) -> np.ndarray:
        import numpy as np

        rows = np.searchsorted(self._ids, ids)
        inside = rows < len(self._ids)
        if not (inside.all() and np.array_equal(self._ids[rows], ids)):
            missing = ids[~inside] if not inside.all() else ids[self._ids[rows] != ids]
            raise KeyError(f"no passage with id {int(missing[0])} in the store")
        return rows


class _RowFile:
    """The rows of a float32 .npy file, read with pread. Scattered reads through a memory map bring
    whole page-cache folios into the process: reading the 1,000 passages that `fused` samples put
    224 MB of a 250 MB vectors file into RSS at 160,000 passages, and each question's candidates
    added more. Runs of consecutive rows are read in one call."""

    def __init__(self, path: Path, shape: tuple[int, int] | None = None) -> None:
        """A .npy file, or (with shape) a headerless file of float32 rows."""
        import numpy as np

        if shape is None:
            with open(path, "rb") as file:
                version = np.lib.format.read_magic(file)
                header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                self.shape, _, self.dtype = header(file)
                self.offset = file.tell()
        else:
            self.shape, self.dtype, self.offset = shape, np.dtype("<f4"), 0
        self.row_bytes = int(np.prod(self.shape[1:])) * self.dtype.itemsize
        self.fd = os.open(path, os.O_RDONLY)
        weakref.finalize(self, os.close, self.fd)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows: slice | np.ndarray) -> np.ndarray:
        import numpy as np

        rows = np.arange(len(self))[rows] if isinstance(rows, slice) else np.asarray(rows)
        if rows.dtype == bool:
            rows = np.flatnonzero(rows)
        out = np.empty((len(rows), *self.shape[1:]), self.dtype)
        if not len(rows):
            return out
        cuts = np.flatnonzero(np.diff(rows) != 1) + 1
        for first, last in zip(np.concatenate(([0], cuts)), np.concatenate((cuts, [len(rows)])), strict=True):
            data = os.pread(self.fd, int(last - first) * self.row_bytes, self.offset + int(rows[first]) * self.row_bytes)
            out[first:last] = np.frombuffer(data, self.dtype).reshape(int(last - first), *self.shape[1:])
        return out


class _Spill:
    """Two append-only files of float32 rows (passage and sentence vectors), read back a block at a time."""

    def __init__(self, prefix: Path, dimension: int) -> None:
        self.paths = (Path(f"{prefix}-passages.f32"), Path(f"{prefix}-sentences.f32"))
        self.dimension = dimension
        self.rows = [0, 0]
        self._handles: list | None = None

    def write(self, vectors: np.ndarray, sentence_vectors: np.ndarray) -> None:
        if self._handles is None:
            self._handles = [path.open("wb") for path in self.paths]
        for position, array in enumerate((vectors, sentence_vectors)):
            self._handles[position].write(array.astype("<f4", copy=False).tobytes())
            self.rows[position] += len(array)

    def arrays(self) -> tuple[faiss_index.Rows, faiss_index.Rows]:
        import numpy as np

        if self._handles is not None:
            for handle in self._handles:
                handle.flush()
        passages, sentences = (
            _RowFile(path, (rows, self.dimension)) if rows else np.zeros((0, self.dimension), np.float32)
            for path, rows in zip(self.paths, self.rows, strict=True)
        )
        return passages, sentences

    def remove(self) -> None:
        if self._handles is not None:
            for handle in self._handles:
                handle.close()
            self._handles = None
        for path in self.paths:
            path.unlink(missing_ok=True)
        self.rows = [0, 0]


def _role(target: VectorSet, what: str) -> str:
    return f"{target.value[:-1]}_{what}"


def _sentence_labels(owners: np.ndarray) -> np.ndarray:
    """Stable ANN labels of sentence rows: owner id << SENTENCE_BITS | position within the passage."""
    import numpy as np

    owners = np.asarray(owners, dtype=np.int64)
    position = np.arange(len(owners)) - np.searchsorted(owners, owners, side="left")
    return (owners << SENTENCE_BITS) | position


def _present(rows: np.ndarray | None) -> np.ndarray:
    """Pending vectors are None only once spilled to files, and then are read from the spill."""
    assert rows is not None
    return rows


def _write_rows(path: Path, dimension: int, base: faiss_index.Rows, mask: np.ndarray | None, added: list[faiss_index.Rows]) -> None:
    """A float32 .npy of base's rows where mask (all when None), then the added arrays, copied CHUNK
    rows at a time with plain writes (a memory-mapped output kept every written page in RSS)."""
    import numpy as np

    rows = (len(base) if mask is None else int(mask.sum())) + sum(len(a) for a in added)

    def write(handle) -> None:
        np.lib.format.write_array_header_1_0(handle, {"descr": "<f4", "fortran_order": False, "shape": (rows, dimension)})
        for first in range(0, len(base), CHUNK):
            block = np.asarray(base[first : first + CHUNK])
            if mask is not None:
                block = block[mask[first : first + CHUNK]]
            handle.write(np.ascontiguousarray(block, dtype="<f4").tobytes())
        for array in added:
            for first in range(0, len(array), CHUNK):
                handle.write(np.ascontiguousarray(array[first : first + CHUNK], dtype="<f4").tobytes())

    _write(path, write)


def _write(path: Path, write) -> None:
    """Write a file of a new generation and flush it to disk before the manifest can name it."""
    with path.open("wb") as handle:
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())
