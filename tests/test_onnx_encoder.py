"""The ONNX encoder gives the vectors sentence-transformers gives, and asking never imports torch."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO

from qa.encoders import load_encoder, resolve_model
from qa.encoders.onnx_backend import (
    OnnxEncoder,
    ensure_export,
    export_folder,
    find_export,
)
from qa.encoders.torch_backend import SentenceTransformerEncoder

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def onnx_export(tmp_path_factory):
    """A fresh export of the bundled model into an empty cache (the real export path, torch and all)."""
    return ensure_export(resolve_model(None), tmp_path_factory.mktemp("onnx-cache"))


def test_onnx_and_sentence_transformers_agree_on_every_seeds_passage_and_question(onnx_export, seed_bot):
    questions = [json.loads(line)["question"] for line in (REPO / "benchmarks/seeds/questions.jsonl").open(encoding="utf-8")]
    passages = [p.embedding_text() for p in seed_bot.index.passages]
    texts = passages + questions + ["an over-long passage " * 200]  # past max_seq_length: both must truncate alike
    onnx_vectors = OnnxEncoder(onnx_export).encode(texts, batch_size=16)
    torch_vectors = SentenceTransformerEncoder(resolve_model(None)).encode(texts, batch_size=16)
    cosines = np.sum(onnx_vectors * torch_vectors, axis=1)
    assert cosines.min() >= 0.9999, f"lowest cosine {cosines.min():.6f} for {texts[int(cosines.argmin())][:60]!r}"
    assert np.allclose(np.linalg.norm(onnx_vectors, axis=1), 1.0, atol=1e-5)


def test_an_export_is_published_once_and_reused_from_the_cache(onnx_export):
    spec = resolve_model(None)
    cache = onnx_export.folder.parent
    assert onnx_export.folder == export_folder(spec, cache)
    assert find_export(spec, cache) == onnx_export
    assert ensure_export(spec, cache) == onnx_export
    assert not [p for p in cache.iterdir() if p.name.startswith(".staging-")]
    assert onnx_export.max_seq_length == 256 and onnx_export.dimension == 384


def test_backend_can_be_forced_and_an_unknown_one_is_a_clear_error():
    from qa.errors import QAError

    assert load_encoder(None, backend="torch").backend == "torch"
    with pytest.raises(QAError, match="unknown encoder backend"):
        load_encoder(None, backend="gpu")


def test_asking_loads_the_onnx_encoder_and_never_imports_torch(seed_index):
    """Nor what bm25s would import for parts of it the bot does not use (numba, scipy)."""
    script = (
        "import sys; from qa import Bot; bot = Bot(sys.argv[1]).load(); answer = bot.ask('Who did Kishida meet in London?');"
        "print(bot._encoder.backend, answer.hits[0].passage.doc, *(m in sys.modules for m in ('torch', 'sentence_transformers', 'numba', 'scipy')))"
    )
    result = subprocess.run([sys.executable, "-c", script, str(seed_index)], capture_output=True, text=True, cwd=REPO, check=True)
    backend, doc, *loaded = result.stdout.split()
    assert (backend, loaded) == ("onnx", ["False"] * 4)
    assert doc.endswith(".txt")


def test_the_optimised_graph_is_kept_once_and_encodes_exactly_as_the_export(onnx_export):
    texts = ["Who did Kishida meet in London?", "A paragraph of ordinary prose, " * 20]
    first = OnnxEncoder(onnx_export)  # optimises the export, and keeps the result
    kept = list(onnx_export.folder.glob("model.ort-*.onnx"))
    assert len(kept) == 1 and not list(onnx_export.folder.glob("*.partial"))
    again = OnnxEncoder(onnx_export)  # opens the kept graph as it is
    assert np.array_equal(first.encode(texts), again.encode(texts))
    kept[0].write_bytes(b"not a graph")  # a damaged cache file is replaced, not an error
    assert np.array_equal(OnnxEncoder(onnx_export).encode(texts), first.encode(texts))
    assert kept[0].stat().st_size > 1_000_000
