"""Interchangeable vector stores behind one protocol (`qa.stores.base.VectorStore`).

`STORES` maps the kind recorded in the manifest to the class that opens it; each class has
`create(dimension, policy, workdir)` for a new, empty store and `load(directory, record, policy,
workdir)` for a saved generation (workdir: where a build's temporary files may go, or None). FAISS is the default. A new store adds its class here and passes
tests/test_store_contract.py, which runs every test against every entry of STORES.

A store that lives somewhere else (Milvus) is named by where it is, as `qa index --store` takes it:
`milvus:PATH.db` (Milvus Lite) or `http://HOST:19530` (a Milvus server); `create_store` opens it there.
"""

from __future__ import annotations

from pathlib import Path

from qa.stores.base import StoreRecord, VectorSet, VectorStore
from qa.stores.faiss_store import FaissStore
from qa.stores.milvus_store import MilvusStore, parse_target
from qa.vector_index import IndexPolicy

__all__ = ["DEFAULT_STORE", "STORES", "StoreRecord", "VectorSet", "VectorStore", "create_store", "holds", "load_store", "store_kind"]

STORES: dict[str, type[FaissStore] | type[MilvusStore]] = {FaissStore.kind: FaissStore, MilvusStore.kind: MilvusStore}
DEFAULT_STORE = FaissStore.kind


def create_store(
    kind: str, dimension: int, policy: IndexPolicy = IndexPolicy(), workdir: Path | None = None, model: str = ""
) -> VectorStore:
    """A new, empty store: kind is a key of STORES or a Milvus location. workdir: where a build's
    temporary files may go (None: in memory); model: the encoder's name, which a shared store records
    so that another model's index is not mixed into it."""
    if parse_target(kind) is not None:
        return MilvusStore.at(kind, dimension, policy, model)
    return _class_of(kind).create(dimension, policy, workdir)


def store_kind(spec: str) -> str:
    """The kind (key of STORES) of the store a --store value names; ValueError for a malformed one."""
    kind = MilvusStore.kind if parse_target(spec) is not None else spec
    _class_of(kind)
    return kind


def load_store(directory: Path, record: StoreRecord, policy: IndexPolicy = IndexPolicy(), workdir: Path | None = None) -> VectorStore:
    return _class_of(record.kind).load(Path(directory), record, policy, workdir)


def holds(spec: str, record: StoreRecord) -> bool:
    """Whether the store a --store value names is the one a manifest records."""
    target = parse_target(spec)
    if target is None:
        return spec == record.kind
    return record.kind == MilvusStore.kind and (record.params.get("uri"), record.params.get("name")) == (target.uri, target.name)


def _class_of(kind: str) -> type[FaissStore] | type[MilvusStore]:
    try:
        return STORES[kind]
    except KeyError:
        raise ValueError(f"unknown vector store {kind!r} (known: {', '.join(STORES)})") from None
