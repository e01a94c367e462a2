"""Interchangeable vector stores behind one protocol (`qa.stores.base.VectorStore`).

`STORES` maps the kind recorded in the manifest to the class that opens it; each class has
`create(dimension, policy, workdir)` for a new, empty store and `load(directory, record, policy,
workdir)` for a saved generation (workdir: where a build's temporary files may go, or None). FAISS is the default. A new store (e.g. Milvus) adds its class here and passes
tests/test_store_contract.py, which runs every test against every entry of STORES.
"""

from __future__ import annotations

from pathlib import Path

from qa.stores.base import StoreRecord, VectorSet, VectorStore
from qa.stores.faiss_store import FaissStore
from qa.vector_index import IndexPolicy

__all__ = ["DEFAULT_STORE", "STORES", "StoreRecord", "VectorSet", "VectorStore", "create_store", "load_store"]

STORES: dict[str, type] = {FaissStore.kind: FaissStore}
DEFAULT_STORE = FaissStore.kind


def create_store(kind: str, dimension: int, policy: IndexPolicy = IndexPolicy(), workdir: Path | None = None) -> VectorStore:
    """A new, empty store; workdir: where a build's temporary files may go (None: in memory)."""
    return _class_of(kind).create(dimension, policy, workdir)


def load_store(directory: Path, record: StoreRecord, policy: IndexPolicy = IndexPolicy(), workdir: Path | None = None) -> VectorStore:
    return _class_of(record.kind).load(Path(directory), record, policy, workdir)


def _class_of(kind: str) -> type:
    try:
        return STORES[kind]
    except KeyError:
        raise ValueError(f"unknown vector store {kind!r} (known: {', '.join(STORES)})") from None
