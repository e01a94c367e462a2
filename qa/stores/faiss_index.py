"""The FAISS indexes of the FAISS store (qa.stores.faiss_store), and the operations on them: the
store keeps no FAISS type anywhere else. Which kind a vector set gets is the store-neutral policy of
qa.stores.policy; new vectors are added to a trained IVF index without retraining, so growing a
large index does not rebuild it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from qa.stores.policy import IVF_SQ8, IndexPolicy, VectorIndexSpec, choose

if TYPE_CHECKING:
    import faiss
    import numpy as np


class Rows(Protocol):
    """Vectors by row: an array, or rows read from a file when asked for."""

    def __len__(self) -> int: ...

    def __getitem__(self, rows: slice | np.ndarray, /) -> np.ndarray: ...


def build(vectors: Rows, dimension: int, policy: IndexPolicy = IndexPolicy(), ids: np.ndarray | None = None) -> tuple[faiss.Index, VectorIndexSpec]:
    """A new index of the kind `choose` picks for these vectors, holding them under ids (default:
    their row numbers)."""
    import faiss
    import numpy as np

    if isinstance(vectors, np.ndarray):
        vectors = vectors.reshape(-1, dimension)
    spec = choose(len(vectors), policy)
    if spec.exact:
        index: faiss.Index = faiss.IndexFlatIP(dimension) if ids is None else faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
    else:
        nlist = spec.params["nlist"]
        quantizer = faiss.IndexFlatIP(dimension)
        ivf = faiss.IndexIVFScalarQuantizer(quantizer, dimension, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
        ivf.cp.niter = policy.train_iterations
        ivf.cp.seed = policy.seed
        ivf.cp.max_points_per_centroid = policy.train_points_per_list
        sample = min(len(vectors), nlist * policy.train_points_per_list)
        rows = np.random.default_rng(policy.seed).choice(len(vectors), size=sample, replace=False)
        ivf.train(np.ascontiguousarray(vectors[np.sort(rows)], dtype=np.float32))
        ivf.nprobe = spec.params["nprobe"]
        index = ivf
    for first in range(0, len(vectors), 65_536):  # bounded temporary memory for a memory-mapped input
        add(index, vectors[first : first + 65_536], None if ids is None else ids[first : first + 65_536])
    return index, spec


def add(index: faiss.Index, vectors: np.ndarray, ids: np.ndarray | None = None) -> None:
    """Append vectors under ids (default: rows continue the index's numbering); a trained index is not retrained."""
    import numpy as np

    if not len(vectors):
        return
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if ids is None:
        index.add(vectors)
    else:
        index.add_with_ids(vectors, np.ascontiguousarray(ids, dtype=np.int64))


def remove(index: faiss.Index, ids: np.ndarray) -> None:
    """Remove the vectors stored under these ids."""
    import faiss
    import numpy as np

    if len(ids):
        index.remove_ids(faiss.IDSelectorBatch(np.ascontiguousarray(ids, dtype=np.int64)))


def knn(queries: np.ndarray, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact inner-product search of a plain (possibly memory-mapped) array: scores and rows."""
    import faiss
    import numpy as np

    return faiss.knn(np.ascontiguousarray(queries, dtype=np.float32), vectors, k, metric=faiss.METRIC_INNER_PRODUCT)


def write(index: faiss.Index, handle) -> None:
    """Write the index into an open binary file, streamed (serialising first held two copies in memory)."""
    import faiss

    writer = faiss.PyCallbackIOWriter(handle.write)  # type: ignore[attr-defined]  # in faiss's SWIG module, not its stubs
    faiss.write_index(index, writer)
    del writer  # flushes its buffer


def deserialize(path, mmap: bool = False) -> faiss.Index:
    """An index read from a file; mmap: its inverted lists stay on disk, paged in as searched (read-only)."""
    import faiss

    return faiss.read_index(str(path), faiss.IO_FLAG_MMAP if mmap else 0)


def prepare(index: faiss.Index, spec: VectorIndexSpec) -> faiss.Index:
    """Set the search parameters the manifest records on an index read from disk."""
    import faiss

    if spec.kind == IVF_SQ8:
        faiss.extract_index_ivf(index).nprobe = int(spec.params.get("nprobe", 1))
    return index


def search(index: faiss.Index, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Scores and row numbers of the k best rows per query (-1 pads when fewer exist)."""
    import numpy as np

    return index.search(np.ascontiguousarray(queries, dtype=np.float32), max(1, min(k, index.ntotal)))


def reconstruct(index: faiss.Index, rows: list[int]) -> np.ndarray:
    """The stored vectors of these rows (decoded, so approximate for a quantised index)."""
    import numpy as np

    if not rows:
        return np.zeros((0, index.d), np.float32)
    index = _with_row_lookup(index)
    return np.vstack([index.reconstruct(int(row)) for row in rows])


def _with_row_lookup(index: faiss.Index) -> faiss.Index:
    """The index, able to return a row's vector: IVF lookups by row need the row → list map."""
    import faiss

    if not isinstance(index, faiss.IndexFlat):
        ivf = faiss.extract_index_ivf(index)
        if not ivf.direct_map.type:
            ivf.make_direct_map()
    return index


def memory_bytes(index: faiss.Index) -> int:
    """Bytes the index occupies, measured by serialising it (what a reader loads)."""
    import faiss

    return int(faiss.serialize_index(index).size)
