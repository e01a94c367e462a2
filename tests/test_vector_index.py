"""The vector index: chosen by size, recorded in the manifest, grown without retraining, and older indexes still load."""

from __future__ import annotations

import json

import faiss
import numpy as np
import pytest

from qa import build_index
from qa.store import MANIFEST, load_index
from qa.vector_index import (
    FLAT,
    IVF_SQ8,
    IndexPolicy,
    VectorIndexSpec,
    build,
    choose,
    memory_bytes,
    reconstruct,
    search,
)

# Tiny thresholds so that a 63-passage corpus takes the approximate path; nprobe covers every list
# so search results are deterministic while the index is still quantised.
SMALL_IVF = IndexPolicy(flat_max=20, lists_per_sqrt=1.0, probe_fraction=1.0, train_points_per_list=8)


def unit_rows(count: int, dimension: int = 32, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((count, dimension)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_exact_search_up_to_the_threshold_then_ivf_with_lists_growing_as_sqrt():
    policy = IndexPolicy(flat_max=1000, lists_per_sqrt=2.0, probe_fraction=0.05, min_nprobe=4)
    assert choose(1000, policy) == VectorIndexSpec(FLAT, {})
    assert choose(10_000, policy) == VectorIndexSpec(IVF_SQ8, {"nlist": 200, "nprobe": 10, "trained_on": 10_000})
    assert choose(1_000_000, IndexPolicy()).params == {"nlist": 2000, "nprobe": 100, "trained_on": 1_000_000}


def test_ivf_index_finds_each_vector_itself_and_takes_a_quarter_of_flat_memory():
    vectors = unit_rows(4000, dimension=64)
    index, spec = build(vectors, 64, IndexPolicy(flat_max=100, lists_per_sqrt=1.0, probe_fraction=1.0))
    assert spec.kind == IVF_SQ8 and index.ntotal == 4000
    _, rows = search(index, vectors[:50], 1)
    assert (rows[:, 0] == np.arange(50)).mean() >= 0.98
    assert memory_bytes(index) < 0.35 * vectors.nbytes
    decoded = reconstruct(index, [0, 7])
    assert np.all(np.sum(decoded * vectors[[0, 7]], axis=1) > 0.99)


def test_index_kind_and_parameters_are_recorded_in_the_manifest(corpus, index_dir, fake_factory):
    build_index(corpus, index_dir, encoder_factory=fake_factory, index_policy=SMALL_IVF)
    manifest = json.loads((index_dir / MANIFEST).read_text())
    assert manifest["index_type"] == IVF_SQ8
    assert manifest["index_params"] == {"nlist": 7, "nprobe": 7, "trained_on": manifest["passage_count"]}
    loaded = load_index(index_dir)
    assert faiss.extract_index_ivf(loaded.vectors).nprobe == 7
    assert loaded.spec == VectorIndexSpec(IVF_SQ8, manifest["index_params"])


def test_default_policy_keeps_a_small_corpus_exact(corpus, index_dir, fake_factory):
    build_index(corpus, index_dir, encoder_factory=fake_factory)
    manifest = json.loads((index_dir / MANIFEST).read_text())
    assert (manifest["index_type"], manifest["index_params"]) == (FLAT, {})


def test_adding_a_file_to_an_approximate_index_adds_its_vectors_without_retraining(corpus, index_dir, fake_encoder, fake_factory):
    build_index(corpus, index_dir, encoder_factory=fake_factory, index_policy=SMALL_IVF)
    before = load_index(index_dir)
    centroids = faiss.extract_index_ivf(before.vectors).quantizer.reconstruct_n(0, 7)
    fake_encoder.encoded = 0
    (corpus / "new.txt").write_text("Origami cranes\n\nThe delegation folded a thousand paper cranes in Kyoto.\n", encoding="utf-8")

    report = build_index(corpus, index_dir, encoder_factory=fake_factory, index_policy=SMALL_IVF)

    after = load_index(index_dir)
    new_sentences = after.manifest.sentence_count - before.manifest.sentence_count
    assert report.files_embedded == 1 and new_sentences >= 1
    assert fake_encoder.encoded == report.passages_embedded + new_sentences  # only the new file's texts
    assert after.manifest.sentence_index_params == before.manifest.sentence_index_params
    assert len(after.sentence_owners) == after.sentence_vectors.ntotal and after.sentence_owners[-1] == len(after.passages) - 1
    assert len(after.passages) == len(before.passages) + report.passages_embedded
    assert after.passages[: len(before.passages)] == before.passages
    assert after.manifest.index_params == before.manifest.index_params  # same trained index, same parameters
    np.testing.assert_array_equal(faiss.extract_index_ivf(after.vectors).quantizer.reconstruct_n(0, 7), centroids)
    new_row = next(row for row, p in enumerate(after.passages) if p.doc == "new.txt" and "cranes" in p.text and "folded" in p.text)
    query = fake_encoder.encode([after.passages[new_row].embedding_text()])
    _, rows = after.search(query, 1)
    assert rows[0, 0] == new_row


def test_changing_a_file_of_an_approximate_index_rebuilds_it_consistently(corpus, index_dir, fake_factory):
    build_index(corpus, index_dir, encoder_factory=fake_factory, index_policy=SMALL_IVF)
    victim = min(corpus.glob("*.txt"))
    victim.write_text(victim.read_text(encoding="utf-8") + "\n\nA closing paragraph added later.\n", encoding="utf-8")
    build_index(corpus, index_dir, encoder_factory=fake_factory, index_policy=SMALL_IVF)
    loaded = load_index(index_dir)
    assert loaded.vectors.ntotal == len(loaded.passages) == loaded.manifest.passage_count
    assert any("closing paragraph" in p.text for p in loaded.passages)


def test_a_flat_index_from_an_older_run_still_loads_and_searches(corpus, index_dir, fake_encoder, fake_factory):
    build_index(corpus, index_dir, encoder_factory=fake_factory)
    manifest = json.loads((index_dir / MANIFEST).read_text())
    del manifest["index_params"]  # the manifest format before the index was chosen by size
    (index_dir / MANIFEST).write_text(json.dumps(manifest))

    loaded = load_index(index_dir)

    assert loaded.spec == VectorIndexSpec(FLAT, {})
    _, rows = loaded.search(fake_encoder.encode([loaded.passages[5].embedding_text()]), 3)
    assert rows[0, 0] == 5


def test_an_approximate_index_whose_manifest_lacks_parameters_loads_with_those_of_the_file(corpus, index_dir, fake_factory):
    build_index(corpus, index_dir, encoder_factory=fake_factory, index_policy=SMALL_IVF)
    manifest = json.loads((index_dir / MANIFEST).read_text())
    del manifest["index_params"]
    (index_dir / MANIFEST).write_text(json.dumps(manifest))
    loaded = load_index(index_dir)
    assert loaded.spec.kind == IVF_SQ8 and loaded.spec.params["nlist"] == 7


@pytest.mark.parametrize("count", [0, 3])
def test_search_of_a_tiny_set_asks_for_no_more_rows_than_it_holds(count):
    index, _ = build(unit_rows(count), 32)
    _, rows = search(index, unit_rows(1, seed=9), 10)
    assert rows.shape == (1, max(count, 1))
    assert set(rows[0].tolist()) == (set(range(count)) if count else {-1})


def test_fused_mode_ranks_by_dense_search_on_an_approximate_index(corpus, index_dir, fake_encoder, fake_factory):
    from qa.retrieval import Retrievers

    build_index(corpus, index_dir, encoder_factory=fake_factory, index_policy=SMALL_IVF)
    approximate = Retrievers(load_index(index_dir), fake_encoder)
    assert approximate.get("fused") is approximate.dense  # fused would score every vector exactly

    build_index(corpus, index_dir / "exact", encoder_factory=fake_factory)
    exact = Retrievers(load_index(index_dir / "exact"), fake_encoder)
    assert exact.get("fused") is exact.fused
