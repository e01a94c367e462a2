"""The default vector store: numpy files beside the manifest, searched with FAISS.

Files of one generation (`store-<role>-<generation>.<ext>`):
- passage-ids (int64, ascending) and passage-vectors (float32, one row per id), as .npy;
- sentence-owners (int64: the passage id of each sentence row, ascending) and sentence-vectors;
- passage-docs (JSON list: the document of each passage row), read only by a build;
- passage-ann / sentence-ann (.faiss), only above `IndexPolicy.flat_max` vectors: an IVF-SQ8 index
  holding each passage under its id, and each sentence under `passage id << 16 | its position`.

The float32 arrays are memory-mapped when read, so a reader pays in RAM only for the pages it
touches, and `vectors`/`sentence_vectors` return exact values even when search is approximate.
Up to flat_max vectors, search is exact (faiss.knn over the array).
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from qa import vector_index
from qa.stores.base import StoreRecord, VectorSet
from qa.vector_index import FLAT, IndexPolicy, VectorIndexSpec

if TYPE_CHECKING:
    import faiss
    import numpy as np

    from qa.schema import Passage

KIND = "faiss"
SENTENCE_BITS = 16  # a sentence's ANN label: passage id << 16 | position (passages hold far fewer than 65,536 sentences)
_ROLES = {
    "passage_ids": "npy", "passage_vectors": "npy", "sentence_owners": "npy", "sentence_vectors": "npy",
    "passage_docs": "json", "passage_ann": "faiss", "sentence_ann": "faiss",
}


class FaissStore:
    """Passage and sentence vectors in numpy arrays keyed by passage id, with IVF indexes for large sets."""

    kind = KIND

    def __init__(self, dimension: int, policy: IndexPolicy = IndexPolicy()) -> None:
        import numpy as np

        self.dimension = dimension
        self.policy = policy
        empty = np.zeros((0, dimension), np.float32)
        self._ids = np.zeros(0, np.int64)
        self._vectors = empty
        self._owners = np.zeros(0, np.int64)
        self._sentences = empty
        self._docs: list[str] | None = []
        self._docs_file: Path | None = None
        # New rows wait here until the store is read, so a build does not copy the arrays per batch.
        self._pending: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self._ann: dict[VectorSet, tuple[faiss.Index, VectorIndexSpec]] = {}

    @classmethod
    def create(cls, dimension: int, policy: IndexPolicy = IndexPolicy()) -> FaissStore:
        return cls(dimension, policy)

    @classmethod
    def load(cls, directory: Path, record: StoreRecord, policy: IndexPolicy = IndexPolicy()) -> FaissStore:
        """Open a generation: arrays memory-mapped, ANN indexes read with the parameters the record keeps."""
        import numpy as np

        files = record.files
        store = cls(int(record.params["dimension"]), policy)
        store._ids = np.load(directory / files["passage_ids"], allow_pickle=False)
        store._vectors = np.load(directory / files["passage_vectors"], mmap_mode="r", allow_pickle=False)
        store._owners = np.load(directory / files["sentence_owners"], allow_pickle=False)
        store._sentences = np.load(directory / files["sentence_vectors"], mmap_mode="r", allow_pickle=False)
        store._docs, store._docs_file = None, directory / files["passage_docs"]
        for target in VectorSet:
            name = files.get(f"{target.value[:-1]}_ann")
            if name:
                spec = VectorIndexSpec(**record.params[f"{target.value[:-1]}_index"])
                store._ann[target] = (vector_index.prepare(vector_index.deserialize(directory / name), spec), spec)
        return store

    def validate(self, passage_count: int) -> None:
        import numpy as np

        self._consolidate()
        if len(self._ids) != passage_count or self._vectors.shape != (passage_count, self.dimension):
            raise ValueError(f"{len(self._ids)} passage vectors of shape {self._vectors.shape}, expected {passage_count}")
        if self._sentences.shape != (len(self._owners), self.dimension):
            raise ValueError(f"{len(self._owners)} sentence owners for {self._sentences.shape[0]} sentence vectors")
        if len(self._ids) and not (np.all(np.diff(self._ids) > 0) and np.array_equal(np.unique(self._owners), self._ids)):
            raise ValueError("sentence vectors do not belong to the passages, one group each, in id order")
        for target, (index, _) in self._ann.items():
            if index.ntotal != self.count(target):
                raise ValueError(f"the {target.value} index holds {index.ntotal} vectors, expected {self.count(target)}")

    def add(self, passages: Sequence[Passage], ids: np.ndarray, vectors: np.ndarray, sentence_vectors: np.ndarray, sentence_counts: Sequence[int]) -> None:
        import numpy as np

        from qa.stores.base import sentence_rows

        ids = np.asarray(ids, dtype=np.int64)
        counts = np.asarray(sentence_counts, dtype=np.int64)
        if not (len(passages) == len(ids) == len(vectors) == len(counts)) or int(counts.sum()) != len(sentence_vectors) or np.any(counts < 1):
            raise ValueError("each passage needs one id, one vector and at least one sentence vector")
        if not len(ids):
            return
        last = self._pending[-1][0][-1] if self._pending else (self._ids[-1] if len(self._ids) else -1)
        if ids[0] <= last or np.any(np.diff(ids) <= 0):
            raise ValueError("passage ids must be new and ascending")
        owners = ids[sentence_rows(counts)]
        vectors = np.asarray(vectors, dtype=np.float32)
        sentence_vectors = np.asarray(sentence_vectors, dtype=np.float32)
        self._pending.append((ids, vectors, owners, sentence_vectors))
        self._documents().extend(p.doc for p in passages)
        for target, (index, _) in self._ann.items():
            if target is VectorSet.PASSAGES:
                vector_index.add(index, vectors, ids)
            else:
                vector_index.add(index, sentence_vectors, _sentence_labels(owners))

    def delete_documents(self, docs: Collection[str]) -> int:
        import numpy as np

        self._consolidate()
        wanted = set(docs)
        documents = self._documents()
        drop = np.fromiter((doc in wanted for doc in documents), dtype=bool, count=len(documents))
        if not drop.any():
            return 0
        gone = self._ids[drop]
        gone_sentences = np.isin(self._owners, gone)
        for target, (index, _) in self._ann.items():
            labels = gone if target is VectorSet.PASSAGES else _sentence_labels(self._owners)[gone_sentences]
            vector_index.remove(index, labels)
        self._ids, self._vectors = self._ids[~drop], np.asarray(self._vectors[~drop])
        self._owners, self._sentences = self._owners[~gone_sentences], np.asarray(self._sentences[~gone_sentences])
        self._docs = [doc for doc, dropped in zip(documents, drop, strict=True) if not dropped]
        return int(drop.sum())

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
            found_scores, labels = vector_index.search(self._ann[target][0], queries, depth)
            found = labels if target is VectorSet.PASSAGES else np.where(labels >= 0, labels >> SENTENCE_BITS, -1)
        else:
            found_scores, rows = vector_index.knn(queries, self._sentences if target is VectorSet.SENTENCES else self._vectors, depth)
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
        return np.asarray(self._vectors[rows])

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
        rows = np.concatenate([np.arange(a, b) for a, b in zip(first, last, strict=True)]) if len(ids) else np.zeros(0, np.int64)
        return np.asarray(self._sentences[rows]), np.repeat(np.arange(len(ids)), counts)

    def ids(self) -> np.ndarray:
        self._consolidate()
        return self._ids

    def count(self, target: VectorSet = VectorSet.PASSAGES) -> int:
        pending = sum(len(chunk[0 if target is VectorSet.PASSAGES else 2]) for chunk in self._pending)
        return pending + len(self._ids if target is VectorSet.PASSAGES else self._owners)

    def save(self, directory: Path, generation: str) -> StoreRecord:
        self._consolidate()
        self._choose_indexes()
        files = {role: f"store-{role.replace('_', '-')}-{generation}.{ext}" for role, ext in _ROLES.items()}
        arrays = {"passage_ids": self._ids, "passage_vectors": self._vectors, "sentence_owners": self._owners, "sentence_vectors": self._sentences}
        for role, array in arrays.items():
            _write(directory / files[role], lambda handle, array=array: _save_npy(handle, array))
        _write(directory / files["passage_docs"], lambda handle: handle.write(json.dumps(self._documents(), ensure_ascii=False).encode()))
        params: dict = {"dimension": self.dimension}
        for target in VectorSet:
            role = f"{target.value[:-1]}_ann"
            if target in self._ann:
                index, spec = self._ann[target]
                _write(directory / files[role], lambda handle, index=index: handle.write(vector_index.serialize(index)))
                params[f"{target.value[:-1]}_index"] = {"kind": spec.kind, "params": dict(spec.params)}
            else:
                del files[role]
                params[f"{target.value[:-1]}_index"] = {"kind": FLAT, "params": {}}
        return StoreRecord(kind=KIND, files=files, params=params)

    def index_spec(self, target: VectorSet = VectorSet.PASSAGES) -> VectorIndexSpec:
        """How the vector set is searched: exact (FLAT) or the ANN index's kind and parameters."""
        return self._ann[target][1] if target in self._ann else VectorIndexSpec(FLAT, {})

    def _choose_indexes(self) -> None:
        """An ANN index for each set that outgrew exact search (trained once; later vectors are
        added to it without retraining); none for a set back under the limit."""
        for target in VectorSet:
            count = self.count(target)
            if count <= self.policy.flat_max:
                self._ann.pop(target, None)
            elif target not in self._ann:
                if target is VectorSet.PASSAGES:
                    self._ann[target] = vector_index.build(self._vectors, self.dimension, self.policy, ids=self._ids)
                else:
                    self._ann[target] = vector_index.build(self._sentences, self.dimension, self.policy, ids=_sentence_labels(self._owners))

    def _documents(self) -> list[str]:
        if self._docs is None:
            assert self._docs_file is not None
            self._docs = json.loads(self._docs_file.read_text(encoding="utf-8"))
        return self._docs

    def _consolidate(self) -> None:
        import numpy as np

        if not self._pending:
            return
        ids, vectors, owners, sentences = zip(*self._pending, strict=True)
        self._pending = []
        self._ids = np.concatenate([self._ids, *ids])
        self._vectors = np.concatenate([self._vectors, *vectors])
        self._owners = np.concatenate([self._owners, *owners])
        self._sentences = np.concatenate([self._sentences, *sentences])

    def _rows(self, ids: np.ndarray) -> np.ndarray:
        import numpy as np

        rows = np.searchsorted(self._ids, ids)
        inside = rows < len(self._ids)
        if not (inside.all() and np.array_equal(self._ids[rows], ids)):
            missing = ids[~inside] if not inside.all() else ids[self._ids[rows] != ids]
            raise KeyError(f"no passage with id {int(missing[0])} in the store")
        return rows


def _sentence_labels(owners: np.ndarray) -> np.ndarray:
    """Stable ANN labels of sentence rows: owner id << SENTENCE_BITS | position within the passage."""
    import numpy as np

    owners = np.asarray(owners, dtype=np.int64)
    position = np.arange(len(owners)) - np.searchsorted(owners, owners, side="left")
    return (owners << SENTENCE_BITS) | position


def _save_npy(handle, array: np.ndarray) -> None:
    import numpy as np

    np.save(handle, np.ascontiguousarray(array), allow_pickle=False)


def _write(path: Path, write) -> None:
    """Write a file of a new generation and flush it to disk before the manifest can name it."""
    with path.open("wb") as handle:
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())
