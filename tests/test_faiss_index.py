"""The vector index: chosen by size, recorded in the manifest, grown without retraining, and older indexes still load."""

from __future__ import annotations

import json

import numpy as np
import pytest

from qa import build_index
from qa.index import MANIFEST, load_index
from qa.sentences import sentence_texts
from qa.stores import VectorSet
from qa.stores.faiss_index import build, memory_bytes, reconstruct, search
from qa.stores.policy import EXACT, IVF_SQ8, IndexPolicy, VectorIndexSpec, choose

# Tiny thresholds so that a 63-passage corpus takes the approximate path; nprobe covers every list
# so search results are deterministic while the index is still quantised.
SMALL_IVF = IndexPolicy(flat_max=20, lists_per_sqrt=1.0, probe_fraction=1.0, train_points_per_list=8)


def unit_rows(count: int, dimension: int = 32, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((count, dimension)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_exact_search_up_to_the_threshold_then_ivf_with_lists_growing_as_sqrt():
    policy = IndexPolicy(flat_max=1000, lists_per_sqrt=2.0, probe_fraction=0.05, min_nprobe=4)
    assert choose(1000, policy) == VectorIndexSpec(EXACT, {})
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
    assert manifest["store"]["kind"] == "faiss"
    params = manifest["store"]["params"]["passage_index"]
    assert params == {"kind": IVF_SQ8, "params": {"nlist": 7, "nprobe": 7, "trained_on": manifest["passage_count"]}}
    loaded = load_index(index_dir)
    assert loaded.store.index_spec() == VectorIndexSpec(IVF_SQ8, params["params"])


def test_default_policy_keeps_a_small_corpus_exact(corpus, index_dir, fake_factory):
    build_index(corpus, index_dir, encoder_factory=fake_factory)
    manifest = json.loads((index_dir / MANIFEST).read_text())
    assert manifest["store"]["params"]["passage_index"] == {"kind": EXACT, "params": {}}
    assert "passage_ann" not in manifest["store"]["files"]


def test_adding_a_file_to_an_approximate_index_adds_its_vectors_without_retraining(corpus, index_dir, fake_encoder, fake_factory):
    build_index(corpus, index_dir, encoder_factory=fake_factory, index_policy=SMALL_IVF)
    before = load_index(index_dir)
    fake_encoder.encoded = 0
    (corpus / "new.txt").write_text("Origami cranes\n\nThe delegation folded a thousand paper cranes in Kyoto.\n", encoding="utf-8")

    report = build_index(corpus, index_dir, encoder_factory=fake_factory, index_policy=SMALL_IVF)

    after = load_index(index_dir)
    new_sentences = after.manifest.sentence_count - before.manifest.sentence_count
    assert report.files_embedded == 1 and new_sentences >= 1
    new = [p for p in after.passages if p.doc == "new.txt"]
    texts = {text for p in new for text in (p.embedding_text(), *sentence_texts(p.title, p.text))}
    assert fake_encoder.encoded == len(texts)  # only the new file's texts, each once
    # Trained once: the parameters (trained_on included) are those of the first build.
    assert after.store.index_spec() == before.store.index_spec()
    assert after.store.index_spec(VectorSet.SENTENCES) == before.store.index_spec(VectorSet.SENTENCES)
    assert after.store.count(VectorSet.SENTENCES) == after.manifest.sentence_count
    assert after.passages[: len(before.passages)] == before.passages
    assert list(after.ids[: len(before.ids)]) == list(before.ids)
    new_id = next(pid for pid, p in zip(after.ids, after.passages, strict=True) if p.doc == "new.txt" and "folded" in p.text)
    query = fake_encoder.encode([after.passage(new_id).embedding_text()])
    _, ids = after.search(query, 1)
    assert ids[0, 0] == new_id


def test_changing_a_file_of_an_approximate_index_keeps_it_consistent(corpus, index_dir, fake_factory):
    build_index(corpus, index_dir, encoder_factory=fake_factory, index_policy=SMALL_IVF)
    victim = min(corpus.glob("*.txt"))
    victim.write_text(victim.read_text(encoding="utf-8") + "\n\nA closing paragraph added later.\n", encoding="utf-8")
    build_index(corpus, index_dir, encoder_factory=fake_factory, index_policy=SMALL_IVF)
    loaded = load_index(index_dir)
    assert loaded.store.count() == len(loaded.passages) == loaded.manifest.passage_count
    assert any("closing paragraph" in p.text for p in loaded.passages)
    _, ids = loaded.search(np.eye(64, dtype=np.float32)[:8], len(loaded.passages))
    assert set(ids[0].tolist()) == set(loaded.ids.tolist())  # every list probed: the index holds exactly the passages


@pytest.mark.parametrize("count", [0, 3])
def test_search_of_a_tiny_set_asks_for_no_more_rows_than_it_holds(count):
    index, _ = build(unit_rows(count), 32)
    _, rows = search(index, unit_rows(1, seed=9), 10)
    assert rows.shape == (1, max(count, 1))
    assert set(rows[0].tolist()) == (set(range(count)) if count else {-1})


def test_fused_mode_runs_fused_on_an_approximate_index(corpus, index_dir, fake_encoder, fake_factory):
    """No silent fallback: fused is fused whatever the index kind."""
    from qa.ranking import Retrievers, SentenceFusion

    build_index(corpus, index_dir, encoder_factory=fake_factory, index_policy=SMALL_IVF)
    approximate = Retrievers(load_index(index_dir), fake_encoder)
    assert isinstance(approximate.get("fused"), SentenceFusion)
