"""When a vector set leaves exact search for an approximate index, and with what parameters: one
policy for every store (FAISS builds its own IVF-SQ8 index, Milvus asks for its IVF_SQ8), recorded
in the manifest's store record so that a reader searches the index the way it was built.

Up to `flat_max` vectors, exact inner-product search is fast enough (docs/speed.md). Above that, an
inverted file with 8-bit scalar quantisation (IVF, SQ8): a quarter of the memory of float32, and
each query scans only `nprobe` of the `nlist` clusters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

EXACT = "exact"
IVF_SQ8 = "IVF-SQ8"
# Indexes written by earlier versions name exact search after FAISS's class; it means the same.
_EXACT_ALIASES = frozenset({EXACT, "IndexFlatIP"})


@dataclass(frozen=True, slots=True)
class IndexPolicy:
    """When to leave exact search, and how to build the approximate index (tuned by benchmarks/speed.py)."""

    flat_max: int = 100_000  # up to this many vectors, exact search (docs/speed.md has its latency)
    lists_per_sqrt: float = 2.0  # nlist = lists_per_sqrt * sqrt(n)
    # Lists scanned per query: 5 % of them (recall@10 against exact, measured on the 1M set of
    # benchmarks/speed.py: docs/speed.md), and never fewer than min_nprobe.
    probe_fraction: float = 0.05
    min_nprobe: int = 16
    train_points_per_list: int = 40  # k-means sample: 40 points per cluster (FAISS warns below 39)
    train_iterations: int = 10
    seed: int = 1234


@dataclass(frozen=True, slots=True)
class VectorIndexSpec:
    """The kind of a built index and its parameters, as written to the manifest."""

    kind: str = EXACT
    params: dict = field(default_factory=dict)

    @property
    def exact(self) -> bool:
        return self.kind in _EXACT_ALIASES

    def to_dict(self) -> dict:
        return {"kind": self.kind, "params": dict(self.params)}

    @classmethod
    def from_dict(cls, data: dict) -> VectorIndexSpec:
        kind = EXACT if data.get("kind") in _EXACT_ALIASES else str(data.get("kind"))
        return cls(kind, dict(data.get("params", {})))


def choose(count: int, policy: IndexPolicy = IndexPolicy()) -> VectorIndexSpec:
    """Exact search for small sets; IVF-SQ8 with lists_per_sqrt·sqrt(n) lists above policy.flat_max."""
    if count <= policy.flat_max:
        return VectorIndexSpec(EXACT, {})
    # Each list needs a few training points; tiny sets (tests) get few lists.
    nlist = max(1, min(int(policy.lists_per_sqrt * math.sqrt(count)), count // 4))
    nprobe = min(nlist, max(policy.min_nprobe, math.ceil(policy.probe_fraction * nlist)))
    return VectorIndexSpec(IVF_SQ8, {"nlist": nlist, "nprobe": nprobe, "trained_on": count})
