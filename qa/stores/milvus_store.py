"""The index's passages, vectors and BM25 in Milvus, through pymilvus's MilvusClient: Milvus Lite in a
local file (`milvus:PATH.db`) or a Milvus server, Standalone or Distributed (`http://HOST:19530`).

Two collections per generation, `NAME__<generation>__p` and `NAME__<generation>__s`:
- passages: id (the index's stable passage id), doc, title, date, section, page, start, end, the
  sha256 of the embedded text, the text, `terms` (the BM25 tokens, see below), the passage vector,
  and the sparse vector Milvus's own BM25 function derives from `terms`;
- sentences: id (passage id << 16 | position), passage, doc, the sentence vector.

BM25 runs in Milvus (its BM25 function and sparse inverted index, k1 = 1.5, b = 0.75 as bm25s), over
the tokens qa's own analyser produces (`qa.lexicon.tokenize`: words, English stop words out,
Snowball-stemmed), joined by spaces; Milvus's standard tokenizer then only splits on those spaces. The
same words reach Milvus Lite (whose analyser cannot stem) and a server, and the ranking is bm25s's.

Generations: a build never writes the generation readers use. Its first change copies the current
generation into a new one and changes that; `save` indexes and loads it, then switches the alias
NAME to it in one step (what other Milvus clients follow) and returns the record the manifest keeps
(what qa readers follow: the manifest's rename is their switch). The previous generation stays for
readers still on it; older ones, and those of interrupted builds, are dropped by the next save.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from qa import settings
from qa.errors import IndexMismatchError, StoreUnavailableError
from qa.stores.base import StoreRecord, StoreTarget, VectorSet, checked_batch, sentence_rows
from qa.stores.policy import IndexPolicy, VectorIndexSpec, choose

if TYPE_CHECKING:
    import numpy as np

    from qa.schema import Passage

KIND = "milvus"
DEFAULT_NAME = "qa"
TOKEN_VARIABLE = "QA_MILVUS_TOKEN"  # read by qa.settings.milvus_token
SENTENCE_BITS = 16  # a sentence's id: passage id << 16 | position (as the FAISS store labels them)
MAX_TOP_K = 16_384  # Milvus's limit on one search's k
BATCH = 1_000  # rows per insert, ids per lookup
TEXT_BYTES = 65_535  # Milvus's longest VARCHAR
CONNECT_SECONDS = 10.0
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,200}")
_PASSAGE_FIELDS = ["id", "doc", "title", "date", "section", "page", "start", "end", "sha256", "text", "terms", "vec"]


def parse_target(spec: str) -> StoreTarget | None:
    """`milvus:PATH.db[#NAME]` or `http(s)://HOST:PORT[#NAME]` as a target; None for another store's spec."""
    if not spec.startswith(("milvus:", "http://", "https://")):
        return None
    where, _, name = spec.partition("#")
    name = name or DEFAULT_NAME
    if not _NAME.fullmatch(name):
        raise ValueError(f"invalid Milvus collection name {name!r} in --store {spec}: use letters, digits and _, not starting with a digit")
    if where.startswith("milvus:"):
        path = where.removeprefix("milvus:")
        if not path.endswith(".db"):
            raise ValueError(f"a Milvus Lite store is a file ending in .db (--store milvus:PATH.db), not {path!r}")
        return StoreTarget(KIND, str(Path(path).expanduser().resolve()), name)
    return StoreTarget(KIND, where.rstrip("/"), name)


def is_lite(target: StoreTarget) -> bool:
    """Milvus Lite in a local file, not a server."""
    return not target.uri.startswith(("http://", "https://"))


_CLIENTS: dict[str, object] = {}  # one client per URI and process (Milvus Lite serves one file per process)


def connect(target: StoreTarget):
    """A MilvusClient for the target, or a one-line StoreUnavailableError saying what to fix."""
    if target.uri in _CLIENTS:
        return _CLIENTS[target.uri]
    # gRPC's C core logs connection events (e.g. Milvus Lite's in-process server refusing keepalive
    # pings) straight to stderr, where they would break the chat's screen; failed calls raise anyway.
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")
    try:
        from pymilvus import MilvusClient
    except ImportError as error:
        raise StoreUnavailableError('the Milvus store needs pymilvus; install it with: pip install "qa-bot[milvus]"') from error
    # pymilvus logs every failed call with its gRPC traceback before raising (and sets its loggers'
    # levels when imported); the error raised below says it in one line. Milvus Lite's in-process
    # gRPC server logs the calls it does not implement (pymilvus then falls back).
    for logger in ("pymilvus", "pymilvus.milvus_client", "pymilvus.bulk_writer", "milvus_lite", "grpc._server"):
        logging.getLogger(logger).setLevel(logging.CRITICAL)
    if is_lite(target):
        Path(target.uri).parent.mkdir(parents=True, exist_ok=True)
    with _translated(target):
        client = MilvusClient(uri=target.uri, token=settings.milvus_token() or "", timeout=CONNECT_SECONDS)
        client.list_collections()  # a server checks the token on the first call
    _CLIENTS[target.uri] = client
    return client


class _translated:
    """Turns a pymilvus or gRPC error into one line naming the problem and the fix."""

    def __init__(self, target: StoreTarget) -> None:
        self.target = target

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, error, trace) -> None:
        if error is not None and _from_milvus(error):
            raise StoreUnavailableError(describe_error(error, self.target)) from error


def _from_milvus(error: BaseException) -> bool:
    module = type(error).__module__
    return module.startswith(("pymilvus", "grpc", "milvus_lite"))


def describe_error(error: BaseException, target: StoreTarget) -> str:
    """One line for a failed Milvus call: what went wrong, and what to do."""
    message = " ".join(str(getattr(error, "message", "") or error).split())
    lowered = message.lower()
    if is_lite(target) and ("open local milvus failed" in lowered or "lock" in lowered):
        return f"the Milvus Lite file {target.uri} is open in another process (a qa chat?); close it and retry, or use a Milvus server"
    if any(word in lowered for word in ("auth", "token", "credential", "password", "unauthenticated", "permission denied")):
        return f"Milvus at {target.uri} refused the token (wrong or missing); set {TOKEN_VARIABLE}=USER:PASSWORD or an API key for that server"
    if any(word in lowered for word in ("connect", "unavailable", "deadline", "timeout", "timed out", "refused", "illegal connection")):
        return f"cannot reach Milvus at {target.uri}; start the server (docker compose up -d) or check --store HOST:PORT"
    return f"Milvus at {target.uri} failed: {message[:160]}"


def _quoted(values: Collection[str]) -> str:
    """A Milvus expression list of string literals (double quotes and backslashes escaped)."""
    return "[" + ", ".join('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' for value in values) + "]"


def _chunks(items: Sequence | np.ndarray, size: int = BATCH) -> Iterator[Sequence | np.ndarray]:
    for first in range(0, len(items), size):
        yield items[first : first + size]


class MilvusStore:
    """Passage and sentence vectors, the passages and their BM25 in two Milvus collections per generation."""

    kind = KIND

    def __init__(self, target: StoreTarget, dimension: int, policy: IndexPolicy = IndexPolicy(), model: str = "", base: str | None = None) -> None:
        import numpy as np

        self.target = target
        self.dimension = dimension
        self.policy = policy
        self.model = model
        self._base = base  # the generation this store was loaded from (never changed by it)
        self._work: str | None = None  # the generation this store writes, made on its first change
        self._ids = np.zeros(0, np.int64)
        self._sentences = 0
        self._specs = {target: VectorIndexSpec() for target in VectorSet}
        self._client = connect(target)

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def parse(cls, spec: str) -> StoreTarget | None:
        return parse_target(spec)

    @classmethod
    def create(
        cls, target: StoreTarget, dimension: int, policy: IndexPolicy = IndexPolicy(), workdir: Path | None = None, model: str = ""
    ) -> MilvusStore:
        """A new, empty store at the target; refused when its name holds another model's vectors."""
        if not target.uri:
            raise ValueError("a Milvus store needs a location: --store milvus:PATH.db or --store http://HOST:19530")
        store = cls(target, dimension, policy, model)
        current = store._aliased()
        if current is not None:
            properties = store._properties(current)
            if properties.get("qa.model", "") != model or int(properties.get("qa.dimension", dimension)) != dimension:
                raise IndexMismatchError(
                    f"Milvus collection {target.name} at {target.uri} holds vectors of model {properties.get('qa.model') or 'unknown'}"
                    f" ({properties.get('qa.dimension', '?')} dimensions), not {model}; index into another name"
                    f" (--store {target.spec.partition('#')[0]}#OTHER_NAME) or rebuild with that model"
                )
        return store

    @classmethod
    def load(cls, directory: Path, record: StoreRecord, policy: IndexPolicy = IndexPolicy(), workdir: Path | None = None) -> MilvusStore:
        """Open the generation the record names (pinned: a later build's alias switch does not move it)."""
        import numpy as np

        params = record.params
        target = StoreTarget(KIND, params["uri"], params["name"])
        store = cls(target, int(params["dimension"]), policy, params.get("model", ""), base=params["generation"])
        collection = store._collection(VectorSet.PASSAGES, store._base)
        with _translated(target):
            if not store._client.has_collection(collection):
                raise ValueError(f"Milvus collection {collection} is gone from {target.uri} (dropped, or the index was rebuilt elsewhere)")
            for vector_set in VectorSet:  # Milvus Lite opens a file's collections released; a server may have released them
                name = store._collection(vector_set, store._base)
                state = store._client.get_load_state(name).get("state")
                if getattr(state, "name", str(state)) != "Loaded":
                    store._client.load_collection(name)
            store._ids = np.sort(np.fromiter((row["id"] for row in store._rows(VectorSet.PASSAGES, ["id"])), dtype=np.int64))
            store._sentences = store._count(VectorSet.SENTENCES, store._base)
        for vector_set in VectorSet:
            store._specs[vector_set] = VectorIndexSpec.from_dict(params.get(f"{vector_set.value[:-1]}_index", {}))
        return store

    @classmethod
    def holds(cls, target: StoreTarget, record: StoreRecord) -> bool:
        return (record.params.get("uri"), record.params.get("name")) == (target.uri, target.name)

    # -- the VectorStore protocol -------------------------------------------------------------

    def validate(self, passage_count: int) -> None:
        if len(self._ids) != passage_count:
            raise ValueError(f"{len(self._ids)} passages in Milvus, expected {passage_count}")
        properties = self._properties(self._collection(VectorSet.PASSAGES, self._current))
        if int(properties.get("qa.dimension", -1)) != self.dimension:
            raise ValueError(f"Milvus collection holds {properties.get('qa.dimension')}-dimensional vectors, expected {self.dimension}")

    def add(self, passages: Sequence[Passage], ids: np.ndarray, vectors: np.ndarray, sentence_vectors: np.ndarray, sentence_counts: Sequence[int]) -> None:
        import numpy as np

        from qa import lexicon

        ids, counts = checked_batch(passages, ids, vectors, sentence_vectors, sentence_counts, self._ids[-1] if len(self._ids) else -1)
        if not len(ids):
            return
        work = self._writable()
        terms = lexicon.tokenize([p.embedding_text() for p in passages], return_ids=False)
        rows = [_passage_row(p, int(pid), vector, words) for p, pid, vector, words in zip(passages, ids, np.asarray(vectors, np.float32), terms, strict=True)]
        owners = sentence_rows(counts)
        position = np.arange(len(owners)) - np.searchsorted(owners, owners, side="left")
        sentence_ids = (ids[owners] << SENTENCE_BITS) | position
        sentences = [
            {"id": int(sid), "passage": int(ids[owner]), "doc": passages[owner].doc, "vec": vector.tolist()}
            for sid, owner, vector in zip(sentence_ids, owners, np.asarray(sentence_vectors, np.float32), strict=True)
        ]
        with _translated(self.target):
            for chunk in _chunks(rows):
                self._client.insert(self._collection(VectorSet.PASSAGES, work), list(chunk))
            for chunk in _chunks(sentences):
                self._client.insert(self._collection(VectorSet.SENTENCES, work), list(chunk))
        self._ids = np.concatenate([self._ids, ids])
        self._sentences += len(sentences)

    def delete_documents(self, docs: Collection[str]) -> int:
        import numpy as np

        docs = sorted(set(docs))
        if not docs or not len(self._ids):
            return 0
        source = self._current
        found = [row["id"] for chunk in _chunks(docs, 100) for row in self._query(VectorSet.PASSAGES, source, f"doc in {_quoted(chunk)}", ["id"])]
        if not found:
            return 0
        work = self._writable()
        with _translated(self.target):
            for chunk in _chunks(docs, 100):
                gone = self._count(VectorSet.SENTENCES, work, f"doc in {_quoted(chunk)}")
                self._client.delete(self._collection(VectorSet.PASSAGES, work), filter=f"doc in {_quoted(chunk)}")
                self._client.delete(self._collection(VectorSet.SENTENCES, work), filter=f"doc in {_quoted(chunk)}")
                self._sentences -= gone
        self._ids = np.setdiff1d(self._ids, np.asarray(found, dtype=np.int64))
        return len(found)

    def search(self, queries: np.ndarray, k: int, target: VectorSet = VectorSet.PASSAGES) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np

        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dimension)
        depth = min(k, self.count(target), MAX_TOP_K)
        scores = np.full((len(queries), k), -np.inf, np.float32)
        ids = np.full((len(queries), k), -1, np.int64)
        if depth == 0:
            return scores, ids
        params = {"metric_type": "IP", "params": {"nprobe": self._specs[target].params["nprobe"]} if "nprobe" in self._specs[target].params else {}}
        with _translated(self.target):
            results = self._client.search(
                self._collection(target, self._current), data=queries.tolist(), anns_field="vec", limit=depth,
                search_params=params, output_fields=["id"],
            )
        for row, hits in enumerate(results):
            hits = sorted(hits, key=lambda hit: (-hit["distance"], hit["id"]))  # equal vectors (repeated texts) in id order, as FAISS gives them
            found = np.array([hit["id"] for hit in hits], dtype=np.int64)
            scores[row, : len(hits)] = [hit["distance"] for hit in hits]
            ids[row, : len(hits)] = found >> SENTENCE_BITS if target is VectorSet.SENTENCES else found
        return scores, ids

    def lexical_search(self, tokens: Sequence[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """Milvus's BM25 over the passages' terms for these query tokens (qa.lexicon's): (scores, ids)
        of the best k passages with a query word, best first."""
        import numpy as np

        depth = min(k, len(self._ids), MAX_TOP_K)
        if depth == 0 or not tokens:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        with _translated(self.target):
            hits = self._client.search(
                self._collection(VectorSet.PASSAGES, self._current), data=[" ".join(tokens)], anns_field="sparse", limit=depth,
                search_params={"metric_type": "BM25"}, output_fields=["id"],
            )[0]
        # Milvus Lite reports BM25 as a distance (the score negated), a server as the score.
        return np.array([abs(hit["distance"]) for hit in hits], np.float32), np.array([hit["id"] for hit in hits], np.int64)

    def vectors(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        import numpy as np

        ids = self._known(ids)
        if not len(ids):
            return np.zeros((0, self.dimension), np.float32)
        every = len(ids) == len(self._ids) and np.array_equal(ids, self._ids)
        rows = self._rows(VectorSet.PASSAGES, ["id", "vec"]) if every else (
            row for chunk in _chunks(ids) for row in self._query(VectorSet.PASSAGES, self._current, f"id in {list(map(int, chunk))}", ["id", "vec"])
        )
        found = {int(row["id"]): row["vec"] for row in rows}
        return np.asarray([found[int(pid)] for pid in ids], dtype=np.float32)

    def sentence_vectors(self, ids: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np

        ids = self._known(ids)
        every = len(ids) == len(self._ids) and np.array_equal(ids, self._ids)
        rows = list(self._rows(VectorSet.SENTENCES, ["id", "vec"]) if every else (
            row for chunk in _chunks(ids) for row in self._query(VectorSet.SENTENCES, self._current, f"passage in {list(map(int, chunk))}", ["id", "vec"])
        ))
        if not rows:
            return np.zeros((0, self.dimension), np.float32), np.zeros(0, np.int64)
        sentence_ids = np.fromiter((row["id"] for row in rows), dtype=np.int64, count=len(rows))
        position_of = {int(pid): position for position, pid in enumerate(ids)}
        owners = np.fromiter((position_of[int(sid) >> SENTENCE_BITS] for sid in sentence_ids), dtype=np.int64, count=len(rows))
        order = np.lexsort((sentence_ids, owners))
        vectors = np.asarray([rows[i]["vec"] for i in order], dtype=np.float32)
        return vectors, owners[order]

    def ids(self) -> np.ndarray:
        return self._ids

    def count(self, target: VectorSet = VectorSet.PASSAGES) -> int:
        return len(self._ids) if target is VectorSet.PASSAGES else self._sentences

    def save(self, directory: Path, generation: str) -> StoreRecord:
        """Index and load the written generation, point the alias at it, drop the generations no reader needs."""
        work = self._work if self._work is not None else (self._base if self._base is not None else self._writable())
        client = self._client
        with _translated(self.target):
            if work != self._base:
                for vector_set in VectorSet:
                    self._index(vector_set, work)
            previous = self._aliased()
            passages = self._collection(VectorSet.PASSAGES, work)
            if previous is None:
                client.create_alias(passages, self.target.name)
            elif previous != passages:
                client.alter_alias(passages, self.target.name)
            keep = {work, self._base, _generation_of(previous, self.target.name)}
            for name in client.list_collections():
                generation_of = _generation_of(name, self.target.name)
                if generation_of is not None and generation_of not in keep:
                    client.drop_collection(name)
        self._base, self._work = work, None
        params = {
            "uri": self.target.uri, "name": self.target.name, "generation": work, "dimension": self.dimension, "model": self.model,
            **{f"{s.value[:-1]}_index": self._specs[s].to_dict() for s in VectorSet},
        }
        return StoreRecord(kind=KIND, files={}, params=params)

    def discard(self) -> None:
        """Drop the generation an unfinished build was writing (the next save drops it otherwise)."""
        if self._work is not None:
            with _translated(self.target):
                for vector_set in VectorSet:
                    self._client.drop_collection(self._collection(vector_set, self._work))
            self._work = None

    def index_spec(self, target: VectorSet = VectorSet.PASSAGES) -> VectorIndexSpec:
        return self._specs[target]

    # -- collections --------------------------------------------------------------------------

    @property
    def _current(self) -> str | None:
        return self._work if self._work is not None else self._base

    def _collection(self, target: VectorSet, generation: str | None) -> str:
        return f"{self.target.name}__{generation}__{target.value[0]}"

    def _writable(self) -> str:
        """The generation this store writes: on the first change, a new one holding a copy of the base."""
        if self._work is not None:
            return self._work
        work = secrets.token_hex(4)
        with _translated(self.target):
            self._create(work)
            if self._base is not None:
                self._copy(VectorSet.PASSAGES, work, _PASSAGE_FIELDS)
                self._copy(VectorSet.SENTENCES, work, ["id", "passage", "doc", "vec"])
        self._work = work
        self._specs = {target: VectorIndexSpec() for target in VectorSet}
        return work

    def _create(self, generation: str) -> None:
        from pymilvus import DataType, Function, FunctionType

        client = self._client
        properties = {"qa.model": self.model, "qa.dimension": str(self.dimension)}
        schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        for name in ("doc", "title", "sha256", "text"):
            schema.add_field(name, DataType.VARCHAR, max_length=TEXT_BYTES)
        schema.add_field("date", DataType.VARCHAR, max_length=32, nullable=True)
        schema.add_field("section", DataType.VARCHAR, max_length=TEXT_BYTES, nullable=True)
        schema.add_field("page", DataType.INT64, nullable=True)
        schema.add_field("start", DataType.INT64)
        schema.add_field("end", DataType.INT64)
        schema.add_field("terms", DataType.VARCHAR, max_length=TEXT_BYTES, enable_analyzer=True, analyzer_params={"tokenizer": "standard"})
        schema.add_field("vec", DataType.FLOAT_VECTOR, dim=self.dimension)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["terms"], output_field_names=["sparse"]))
        indexes = client.prepare_index_params()
        indexes.add_index("vec", index_type="FLAT", metric_type="IP")
        indexes.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params={"bm25_k1": 1.5, "bm25_b": 0.75})
        client.create_collection(self._collection(VectorSet.PASSAGES, generation), schema=schema, index_params=indexes,
                                 consistency_level="Strong", properties=properties)

        schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("passage", DataType.INT64)
        schema.add_field("doc", DataType.VARCHAR, max_length=TEXT_BYTES)
        schema.add_field("vec", DataType.FLOAT_VECTOR, dim=self.dimension)
        indexes = client.prepare_index_params()
        indexes.add_index("vec", index_type="FLAT", metric_type="IP")
        client.create_collection(self._collection(VectorSet.SENTENCES, generation), schema=schema, index_params=indexes,
                                 consistency_level="Strong", properties=properties)

    def _copy(self, target: VectorSet, generation: str, fields: list[str]) -> None:
        """Copy the base generation's rows of one collection into the new generation (server side to client and back)."""
        into = self._collection(target, generation)
        batch: list[dict] = []
        for row in self._rows(target, fields):
            batch.append({name: row[name] for name in fields})
            if len(batch) >= BATCH:
                self._client.insert(into, batch)
                batch = []
        if batch:
            self._client.insert(into, batch)

    def _index(self, target: VectorSet, generation: str) -> None:
        """Flush, and replace the exact (FLAT) index by IVF-SQ8 once the set outgrows policy.flat_max."""
        client, collection = self._client, self._collection(target, generation)
        client.flush(collection)
        spec = choose(self.count(target), self.policy)
        if not spec.exact:
            client.release_collection(collection)
            client.drop_index(collection, "vec")
            indexes = client.prepare_index_params()
            indexes.add_index("vec", index_type="IVF_SQ8", metric_type="IP", params={"nlist": spec.params["nlist"]})
            client.create_index(collection, indexes)
            client.load_collection(collection)
        self._specs[target] = spec

    def _aliased(self) -> str | None:
        """The collection the alias NAME points at now, or None when there is no such alias."""
        with _translated(self.target):
            if self.target.name in self._client.list_aliases().get("aliases", []):
                return self._client.describe_alias(self.target.name)["collection_name"]
            if self._client.has_collection(self.target.name):
                raise IndexMismatchError(
                    f"Milvus at {self.target.uri} has a collection named {self.target.name} that qa did not make;"
                    f" index into another name: --store {self.target.spec.partition('#')[0]}#OTHER_NAME"
                )
        return None

    def _properties(self, collection: str) -> dict:
        with _translated(self.target):
            described = self._client.describe_collection(collection)
        return dict(described.get("properties", {}))

    def _count(self, target: VectorSet, generation: str | None, where: str = "") -> int:
        result = self._client.query(self._collection(target, generation), filter=where, output_fields=["count(*)"])
        return int(result[0]["count(*)"])

    def _query(self, target: VectorSet, generation: str | None, where: str, fields: list[str]) -> list[dict]:
        with _translated(self.target):
            rows = self._client.query(self._collection(target, generation), filter=where, output_fields=fields)
        return list(rows)

    def _rows(self, target: VectorSet, fields: list[str]) -> Iterator[dict]:
        """Every row of the current generation's collection, in batches."""
        with _translated(self.target):
            iterator = self._client.query_iterator(self._collection(target, self._current), batch_size=4_096, filter="", output_fields=fields)
            try:
                while batch := iterator.next():
                    yield from batch
            finally:
                iterator.close()

    def _known(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        import numpy as np

        ids = np.asarray(ids, dtype=np.int64)
        known = np.isin(ids, self._ids)
        if not known.all():
            raise KeyError(f"no passage with id {int(ids[~known][0])} in the store")
        return ids


def _generation_of(collection: str | None, name: str) -> str | None:
    """The generation of one of this name's collections (None for another collection)."""
    if collection is None:
        return None
    match = re.fullmatch(re.escape(name) + r"__([0-9a-f]+)__[ps]", collection)
    return match.group(1) if match else None


def _passage_row(passage: Passage, pid: int, vector: np.ndarray, terms: list[str]) -> dict:
    row = {
        "id": pid, "doc": passage.doc, "title": passage.title, "date": passage.date, "section": passage.section, "page": passage.page,
        "start": passage.start, "end": passage.end, "sha256": hashlib.sha256(passage.embedding_text().encode()).hexdigest(),
        "text": passage.text, "terms": " ".join(terms), "vec": vector.tolist(),
    }
    for name in ("doc", "title", "text", "terms", "section"):
        if row[name] is not None and len(row[name].encode()) > TEXT_BYTES:
            raise ValueError(f"{passage.doc}: a passage's {name} is over Milvus's {TEXT_BYTES:,}-byte limit")
    return row

