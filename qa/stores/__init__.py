"""Interchangeable vector stores behind one protocol (`qa.stores.base.VectorStore`).

`STORES` maps a store's kind (what the manifest records) to its class, which is also its factory
(`qa.stores.base.StoreKind`): it recognises its own `--store` value, creates a store and opens a
saved one. FAISS (files in the index directory) is the default; Milvus lives elsewhere and is named
by where it is: `milvus:PATH.db` (Milvus Lite) or `http://HOST:19530` (a server), `#NAME` for the
collection name. A new store is one class registered here, and must pass tests/test_store_contract.py,
which runs every test against every entry of STORES.

Which vector sets leave exact search, and how, is one policy for all stores (`qa.stores.policy`).
"""

from __future__ import annotations

from pathlib import Path

from qa.stores.base import StoreKind, StoreRecord, StoreTarget, VectorSet, VectorStore
from qa.stores.faiss_store import FaissStore
from qa.stores.milvus_store import MilvusStore
from qa.stores.policy import IndexPolicy

__all__ = [
    "DEFAULT_STORE", "STORES", "IndexPolicy", "StoreRecord", "StoreTarget", "VectorSet", "VectorStore", "create_store", "holds",
    "load_store", "parse_store",
]

STORES: dict[str, StoreKind] = {FaissStore.kind: FaissStore, MilvusStore.kind: MilvusStore}
DEFAULT_STORE = StoreTarget(FaissStore.kind)


def parse_store(spec: str) -> StoreTarget:
    """The store a `--store` value names; ValueError, naming the forms, when none recognises it."""
    for kind in STORES.values():
        target = kind.parse(spec)
        if target is not None:
            return target
    raise ValueError(f"unknown vector store {spec!r}: use faiss, milvus:PATH.db or http://HOST:19530")


def create_store(target: StoreTarget, dimension: int, policy: IndexPolicy = IndexPolicy(), workdir: Path | None = None, model: str = "") -> VectorStore:
    """A new, empty store at the target. workdir: where a build's temporary files may go (None: in
    memory); model: the encoder's name, which a shared store records."""
    return _kind(target.kind).create(target, dimension, policy, workdir, model)


def load_store(directory: Path, record: StoreRecord, policy: IndexPolicy = IndexPolicy(), workdir: Path | None = None) -> VectorStore:
    """The saved generation a manifest's store record names."""
    return _kind(record.kind).load(Path(directory), record, policy, workdir)


def holds(target: StoreTarget, record: StoreRecord) -> bool:
    """Whether a manifest's store record is the store the target names."""
    return record.kind == target.kind and _kind(target.kind).holds(target, record)


def _kind(kind: str) -> StoreKind:
    try:
        return STORES[kind]
    except KeyError:
        raise ValueError(f"unknown vector store {kind!r} (known: {', '.join(STORES)})") from None
