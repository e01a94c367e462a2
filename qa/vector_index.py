"""Which FAISS index holds a set of unit vectors, chosen by its size, and the operations on it
(used by qa.stores.faiss_store only; nothing else touches a FAISS type).

Up to `flat_max` vectors, exact inner-product search (faiss.knn over the array) is fast enough. Above that, an
inverted file with 8-bit scalar quantisation (IVF, SQ8): a quarter of the memory of float32, and
each query scans only `nprobe` of the `nlist` clusters. New vectors are added to a trained IVF index
without retraining, so growing a large index does not rebuild it.

The functions take any vector set (passage vectors, sentence vectors); the choice and its
parameters are a `VectorIndexSpec`, recorded in the manifest's store record so that a reader
searches the index the way it was built.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import faiss
    import numpy as np

FLAT = "IndexFlatIP"
IVF_SQ8 = "IVF-SQ8"


class Rows(Protocol):
    """Vectors by row: an array, or rows read from a file when asked for."""

    def __len__(self) -> int: ...

    def __getitem__(self, rows: slice | np.ndarray, /) -> np.ndarray: ...


@dataclass(frozen=True, slots=True)
class IndexPolicy:
    """When to leave exact search, and how to build the approximate index (tuned by benchmarks/speed.py)."""

    flat_max: int = 100_000  # flat search measured ~13 ms at 100k vectors on 2 cores
    lists_per_sqrt: float = 2.0  # nlist = lists_per_sqrt * sqrt(n)
    # Lists scanned per query: 5 % of them (recall@10 vs exact measured .93 at 1.6 %, .96 at 3.2 %
    # and .97 at 6.4 % on the 1M set of benchmarks/speed.py), and never fewer than min_nprobe.
    probe_fraction: float = 0.05
    min_nprobe: int = 16
    train_points_per_list: int = 40  # k-means sample: 40 points per cluster (FAISS warns below 39)
    train_iterations: int = 10
    seed: int = 1234


@dataclass(frozen=True, slots=True)
class VectorIndexSpec:
    """The kind of a built index and its parameters, as written to the manifest."""

    kind: str = FLAT
    params: dict = field(default_factory=dict)


def choose(count: int, policy: IndexPolicy = IndexPolicy()) -> VectorIndexSpec:
    """Exact search for small sets; IVF-SQ8 with lists_per_sqrt·sqrt(n) lists above policy.flat_max."""
    if count <= policy.flat_max:
        return VectorIndexSpec(FLAT, {})
    # Each list needs a few training points; tiny sets (tests) get few lists.
    nlist = max(1, min(int(policy.lists_per_sqrt * math.sqrt(count)), count // 4))
    nprobe = min(nlist, max(policy.min_nprobe, math.ceil(policy.probe_fraction * nlist)))
    return VectorIndexSpec(IVF_SQ8, {"nlist": nlist, "nprobe": nprobe, "trained_on": count})


def build(vectors: Rows, dimension: int, policy: IndexPolicy = IndexPolicy(), ids: np.ndarray | None = None) -> tuple[faiss.Index, VectorIndexSpec]:
    """A new index of the kind `choose` picks for these vectors, holding them under ids (default:
    their row numbers)."""
    import faiss
    import numpy as np

    if isinstance(vectors, np.ndarray):
        vectors = vectors.reshape(-1, dimension)
    spec = choose(len(vectors), policy)
    if spec.kind == FLAT:
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
