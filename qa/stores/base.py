"""The vector-store seam: what the index needs from whatever holds its vectors.

A store holds, for every passage, one passage vector and the vectors of its sentences, all keyed by
the passage's stable id (an int64 given by the index when the passage is first embedded, never
reused, unchanged by later builds; not a row number). Everything above the store (retrieval, the
indexer, the tests) speaks only in these ids and numpy arrays, never in a store's own types.

Implementations: `qa.stores.faiss_store.FaissStore` (the default; files beside the manifest).
A store that keeps passages, their metadata and its own BM25 (Milvus) implements the same methods;
`add` therefore receives the passages themselves, not only their vectors, and `delete_documents`
works by document name, which such a store can filter on.

Each store's class is also its factory (`StoreKind`, registered in `qa.stores.STORES`): it
recognises its own `--store` value (`parse`), makes a new, empty store (`create`), opens a saved
generation (`load`) and tells whether a manifest's record is the store a target names (`holds`).
workdir is where a build's temporary files may go (a store may ignore it).

Persistence is generation-based, so a build never changes what readers see: `save` writes a new
generation under names that include the build's id and returns the `StoreRecord` that the manifest
keeps; the manifest's rename then makes it current. `load` opens the generation a record names.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np

    from qa.schema import Passage
    from qa.stores.policy import IndexPolicy


class VectorSet(Enum):
    """Which of a store's two vector sets an operation reads."""

    PASSAGES = "passages"
    SENTENCES = "sentences"


@dataclass(frozen=True, slots=True)
class StoreTarget:
    """Where an index's vectors go, as a `--store` value names it, parsed once (qa.stores.parse_store):
    the kind (a key of qa.stores.STORES) and, for a store that lives outside the index directory,
    where (a Milvus Lite file or a server's URL) and the collection name there."""

    kind: str
    uri: str = ""
    name: str = ""

    @property
    def spec(self) -> str:
        """The target as `--store` writes it."""
        if not self.uri:
            return self.kind
        where = self.uri if self.uri.startswith(("http://", "https://")) else f"{self.kind}:{self.uri}"
        return f"{where}#{self.name}" if self.name else where


@dataclass(frozen=True, slots=True)
class StoreRecord:
    """What the manifest records about the store holding an index's vectors: its kind (a key of
    `qa.stores.STORES`), the files of its current generation (role -> file name, each covered by the
    manifest's checksums) and its own parameters (e.g. the FAISS index kinds)."""

    kind: str
    files: dict[str, str] = field(default_factory=dict)
    params: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict) -> StoreRecord:
        return cls(kind=data["kind"], files=dict(data.get("files", {})), params=dict(data.get("params", {})))


class VectorStore(Protocol):
    """Passage and sentence vectors keyed by stable passage ids.

    Ids are int64. Results come back as numpy arrays; a search pads with id -1 (score -inf) when the
    store holds fewer than k passages."""

    kind: str
    dimension: int

    def add(self, passages: Sequence[Passage], ids: np.ndarray, vectors: np.ndarray, sentence_vectors: np.ndarray, sentence_counts: Sequence[int]) -> None:
        """Store passages[i] under ids[i] with vectors[i], and the next sentence_counts[i] rows of
        sentence_vectors as its sentences (at least one each). Ids must be new to the store."""
        ...

    def delete_documents(self, docs: Collection[str]) -> int:
        """Remove every passage of these documents, with its sentences; the number of passages removed."""
        ...

    def search(self, queries: np.ndarray, k: int, target: VectorSet = VectorSet.PASSAGES) -> tuple[np.ndarray, np.ndarray]:
        """Inner-product search: (scores, passage ids), each of shape (len(queries), k), best first.
        With target SENTENCES the k best sentences are found and each is reported by the id of its
        passage (so an id may repeat)."""
        ...

    def vectors(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """The passage vectors of these ids, in that order (KeyError for an unknown id)."""
        ...

    def sentence_vectors(self, ids: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The sentence vectors of these passages and, for each row, the position in ids of the
        passage it belongs to (ascending: a passage's sentences are contiguous, in sentence order)."""
        ...

    def ids(self) -> np.ndarray:
        """Every passage id the store holds, ascending."""
        ...

    def count(self, target: VectorSet = VectorSet.PASSAGES) -> int:
        """How many passage (or sentence) vectors the store holds."""
        ...

    def save(self, directory: Path, generation: str) -> StoreRecord:
        """Write the store as a new generation (files named with `generation`), durably; the record
        the manifest keeps. The previous generation is left in place for readers."""
        ...

    def discard(self) -> None:
        """Drop the temporary files of changes not saved (a build that failed or was interrupted)."""
        ...

    def validate(self, passage_count: int) -> None:
        """Raise ValueError when the loaded store does not hold passage_count passages of its dimension."""
        ...


class StoreKind(Protocol):
    """A store's class, as the registry qa.stores.STORES holds it: its factory."""

    kind: str

    def parse(self, spec: str) -> StoreTarget | None:
        """The target a `--store` value names, when it names this kind of store (ValueError when it
        does but is malformed); None for another kind's value."""
        ...

    def create(self, target: StoreTarget, dimension: int, policy: IndexPolicy, workdir: Path | None, model: str) -> VectorStore:
        """A new, empty store at the target; model: the encoder's name, which a shared store records
        so that another model's vectors are not mixed into it."""
        ...

    def load(self, directory: Path, record: StoreRecord, policy: IndexPolicy, workdir: Path | None) -> VectorStore:
        """The saved generation the record names (directory: the index directory holding its files)."""
        ...

    def holds(self, target: StoreTarget, record: StoreRecord) -> bool:
        """Whether a manifest's record (of this kind) is the store the target names."""
        ...


@runtime_checkable
class LexicalStore(Protocol):
    """A store that also answers BM25 itself (Milvus's full-text search), so keyword search scales
    with the store instead of running in the client."""

    def lexical_search(self, tokens: Sequence[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, passage ids) of the k best passages for the query's BM25 tokens (qa.lexicon's),
        best first; only passages holding a query word."""
        ...


def checked_batch(passages: Sequence, ids, vectors, sentence_vectors, sentence_counts: Sequence[int], last_id: int) -> tuple[np.ndarray, np.ndarray]:
    """The ids and sentence counts of a batch given to `VectorStore.add`, as int64 arrays; ValueError
    when the sizes disagree, a passage has no sentence, or the ids are not new (> last_id) and ascending."""
    import numpy as np

    ids = np.asarray(ids, dtype=np.int64)
    counts = np.asarray(sentence_counts, dtype=np.int64)
    if not (len(passages) == len(ids) == len(vectors) == len(counts)) or int(counts.sum()) != len(sentence_vectors) or np.any(counts < 1):
        raise ValueError("each passage needs one id, one vector and at least one sentence vector")
    if len(ids) and (ids[0] <= last_id or np.any(np.diff(ids) <= 0)):
        raise ValueError("passage ids must be new and ascending")
    return ids, counts


def sentence_rows(counts: Sequence[int] | np.ndarray) -> np.ndarray:
    """For sentence_counts [2, 1, 3]: the owner position of each sentence row, [0, 0, 1, 2, 2, 2]."""
    import numpy as np

    return np.repeat(np.arange(len(counts)), np.asarray(counts, dtype=np.int64))
