"""The vector-store contract, written once and run against every store in qa.stores.STORES.

A new store registers itself in STORES and must pass these unchanged (Milvus runs here as Milvus Lite,
in a file under each test's tmp_path). They speak
only the protocol's language: passage ids and numpy arrays."""

from __future__ import annotations

import numpy as np
import pytest

from qa import build_index
from qa.index import load_index
from qa.schema import Passage
from qa.stores import STORES, IndexPolicy, VectorSet, create_store, load_store, parse_store

DIM = 16
# Small enough that 40 passages take the approximate path, every list probed so results are deterministic.
APPROXIMATE = IndexPolicy(flat_max=20, lists_per_sqrt=1.0, probe_fraction=1.0, train_points_per_list=4)


# Milvus Lite starts a server process per database, seconds each: those cases are in the slow tier.
@pytest.fixture(params=[pytest.param(kind, marks=pytest.mark.slow) if kind == "milvus" else kind for kind in sorted(STORES)])
def kind(request, tmp_path) -> str:
    """The store as `qa index --store` names it: its kind, or where it lives (Milvus Lite: a file in tmp_path)."""
    return f"milvus:{tmp_path / 'milvus' / 'store.db'}" if request.param == "milvus" else request.param


@pytest.fixture(params=["exact", "approximate"])
def policy(request) -> IndexPolicy:
    return IndexPolicy() if request.param == "exact" else APPROXIMATE


@pytest.fixture(params=["in memory", "spilled"])
def workdir(request, tmp_path):
    """Where a store may keep what is added before save (None: memory)."""
    return None if request.param == "in memory" else tmp_path / "work"


def unit(rows: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((rows, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def passages_of(doc: str, count: int) -> list[Passage]:
    return [Passage(doc=doc, title=doc, date=None, section="", start=i, end=i + 1, text=f"{doc} {i}") for i in range(count)]


def fill(store, docs: dict[str, int], first_id: int = 0, seed: int = 0) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Add documents (name -> passage count) with ids from first_id; each passage i has i % 3 + 1
    sentences. What was stored, by id: (passage vector, sentence vectors)."""
    stored = {}
    next_id = first_id
    for offset, (doc, count) in enumerate(docs.items()):
        vectors = unit(count, seed + offset)
        counts = [i % 3 + 1 for i in range(count)]
        sentences = unit(sum(counts), seed + 100 + offset)
        ids = np.arange(next_id, next_id + count, dtype=np.int64)
        store.add(passages_of(doc, count), ids, vectors, sentences, counts)
        bounds = np.cumsum([0, *counts])
        for i, pid in enumerate(ids):
            stored[int(pid)] = (vectors[i], sentences[bounds[i] : bounds[i + 1]])
        next_id += count
    return stored


def test_added_vectors_come_back_by_id_and_each_finds_itself(kind, policy, workdir):
    if workdir:
        workdir.mkdir()
    store = create_store(parse_store(kind), DIM, policy, workdir)
    stored = fill(store, {"a": 12, "b": 18, "c": 10})
    ids = np.array(sorted(stored))
    assert store.count() == 40 and store.count(VectorSet.SENTENCES) == sum(len(s) for _, s in stored.values())
    assert list(store.ids()) == list(ids)
    picked = [7, 0, 33]
    np.testing.assert_allclose(store.vectors(picked), np.stack([stored[i][0] for i in picked]), atol=1e-6)
    sentences, owners = store.sentence_vectors(picked)
    np.testing.assert_allclose(sentences, np.concatenate([stored[i][1] for i in picked]), atol=1e-6)
    assert list(owners) == [position for position, i in enumerate(picked) for _ in stored[i][1]]
    _, found = store.search(np.stack([stored[i][0] for i in picked]), 3)
    assert list(found[:, 0]) == picked
    _, found = store.search(np.stack([stored[i][1][-1] for i in picked]), 2, VectorSet.SENTENCES)
    assert list(found[:, 0]) == picked  # a sentence is reported by its passage's id


def test_search_pads_when_the_store_holds_fewer_than_k(kind):
    store = create_store(parse_store(kind), DIM)
    fill(store, {"a": 3})
    scores, found = store.search(unit(1, 9), 5)
    assert found.shape == scores.shape == (1, 5)
    assert sorted(found[0, :3].tolist()) == [0, 1, 2] and list(found[0, 3:]) == [-1, -1]


def test_unknown_ids_and_reused_ids_are_refused(kind):
    store = create_store(parse_store(kind), DIM)
    fill(store, {"a": 3})
    with pytest.raises(KeyError):
        store.vectors([99])
    with pytest.raises(ValueError):
        fill(store, {"b": 2}, first_id=1)


def test_delete_by_document_removes_its_passages_and_sentences_and_keeps_the_others_ids(kind, policy, tmp_path):
    store = create_store(parse_store(kind), DIM, policy)
    stored = fill(store, {"a": 12, "b": 18, "c": 10})
    store.save(tmp_path, "g1")
    assert store.delete_documents(["b", "not-there"]) == 18
    kept = [i for i in sorted(stored) if not 12 <= i < 30]
    assert list(store.ids()) == kept and store.count() == 22
    assert store.count(VectorSet.SENTENCES) == sum(len(stored[i][1]) for i in kept)
    np.testing.assert_allclose(store.vectors([35]), stored[35][0][None], atol=1e-6)
    _, found = store.search(np.stack([stored[i][0] for i in (13, 35)]), store.count())
    assert not set(found.ravel().tolist()) & set(range(12, 30))
    with pytest.raises(KeyError):
        store.vectors([13])


def test_a_saved_generation_loads_with_the_same_contents_and_later_changes_do_not_touch_it(kind, policy, workdir, tmp_path):
    if workdir:
        workdir.mkdir()
    store = create_store(parse_store(kind), DIM, policy, workdir)
    stored = fill(store, {"a": 12, "b": 18, "c": 10})
    record = store.save(tmp_path, "g1")
    assert record.kind == parse_store(kind).kind
    queries = unit(4, 7)
    before = store.search(queries, 5)

    loaded = load_store(tmp_path, record, policy)
    loaded.validate(40)
    assert list(loaded.ids()) == sorted(stored)
    np.testing.assert_allclose(loaded.search(queries, 5)[0], before[0], atol=1e-5)
    np.testing.assert_array_equal(loaded.search(queries, 5)[1], before[1])

    loaded = load_store(tmp_path, record, policy, workdir)
    loaded.delete_documents(["a"])
    fill(loaded, {"d": 5}, first_id=40, seed=50)
    second = loaded.save(tmp_path, "g2")
    assert not workdir or not list(workdir.iterdir())  # nothing left behind by save
    assert list(load_store(tmp_path, second, policy).ids()) == list(range(12, 45))
    assert list(load_store(tmp_path, record, policy).ids()) == list(range(40))  # the first generation is intact


def test_ids_are_stable_across_an_incremental_build(kind, corpus, index_dir, fake_factory):
    """The index's contract on top of the store: unchanged documents keep their ids and vectors,
    a changed document's passages get new ids, and ids are never reused."""
    build_index(corpus, index_dir, encoder_factory=fake_factory, index_policy=APPROXIMATE, store=parse_store(kind))
    first = load_index(index_dir)
    assert first.manifest.store.kind == parse_store(kind).kind
    ids_of = {}
    for pid, passage in zip(first.ids, first.passages, strict=True):
        ids_of.setdefault(passage.doc, []).append(int(pid))
    changed = sorted(ids_of)[1]
    (corpus / changed).write_text((corpus / changed).read_text(encoding="utf-8") + "\n\nA closing paragraph.\n", encoding="utf-8")
    (corpus / "new.txt").write_text("A new document about harbour boats.\n", encoding="utf-8")

    build_index(corpus, index_dir, encoder_factory=fake_factory, index_policy=APPROXIMATE)

    second = load_index(index_dir)
    now = {}
    for pid, passage in zip(second.ids, second.passages, strict=True):
        now.setdefault(passage.doc, []).append(int(pid))
    for doc, ids in ids_of.items():
        if doc != changed:
            assert now[doc] == ids
            np.testing.assert_array_equal(second.store.vectors(ids), first.store.vectors(ids))
    assert min(now[changed]) >= first.manifest.next_id and min(now["new.txt"]) >= first.manifest.next_id
    assert set(now[changed]).isdisjoint(ids_of[changed])
    assert list(second.ids) == sorted(second.ids) and len(set(second.ids.tolist())) == len(second.ids)
