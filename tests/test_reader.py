"""The reader: its ONNX plumbing (fast, on a stand-in graph), the shipped model (slow: loads offline,
agrees with the torch scores recorded at export, reads an obvious case right), the training recipe
end to end on a tiny subset (slow), and the abstention signals that come with it (fast)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO

from qa.reader import GRAPH, MODEL_DIR, TOKENIZER, Reader, ReaderMeta, candidate_text, load_tokenizer, tokenize_pairs
from qa.reader_signals import missing_specifics, missing_type, question_specifics, rare_coverage, reader_signals, windows

DATASETS = REPO.parent / "shared" / "datasets"


def _stand_in_graph(path: Path) -> None:
    """A graph with the reader's inputs and output whose logit is the pair's token count, so a test
    can check that batching hands every score back to its own pair."""
    import onnx
    from onnx import TensorProto, helper

    inputs = [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "tokens"]) for name in ("input_ids", "attention_mask", "token_type_ids")]
    output = helper.make_tensor_value_info("logit", TensorProto.FLOAT, ["batch"])
    axes = helper.make_tensor("axes", TensorProto.INT64, [1], [1])
    nodes = [
        helper.make_node("Cast", ["attention_mask"], ["mask_float"], to=TensorProto.FLOAT),
        helper.make_node("ReduceSum", ["mask_float", "axes"], ["logit"], keepdims=0),
    ]
    graph = helper.make_graph(nodes, "stand_in", inputs, [output], initializer=[axes])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


@pytest.fixture
def stand_in_reader(tmp_path) -> Path:
    _stand_in_graph(tmp_path / GRAPH)
    (tmp_path / TOKENIZER).write_bytes((MODEL_DIR / TOKENIZER).read_bytes())
    ReaderMeta(max_length=24, layers=0, format_version=1, quantised=False, recipe="test").write(tmp_path)
    return tmp_path


def test_scores_come_back_in_the_order_of_the_sentences_whatever_the_batching(stand_in_reader):
    sentences = [("Town", "Short."), ("", "A much longer sentence than the first one, with many more words in it than twenty-four tokens allow."),
                 ("Town hall", "Middling length sentence here."), ("Town", "Tiny.")] * 3
    reader = Reader.load(stand_in_reader, threads=1)
    tokenizer = load_tokenizer(stand_in_reader / TOKENIZER, 24)
    expected = [len(tokenizer.encode("What is it?", candidate_text(t, s)).ids) for t, s in sentences]
    for batch_size in (1, 3, 16):
        scores = reader.score("What is it?", sentences, batch_size=batch_size)
        assert scores.dtype == np.float32 and scores.tolist() == expected
    assert max(expected) == 24  # the long pair was cut to max_length
    assert reader.score("What is it?", []).shape == (0,)


def test_pairs_are_question_then_title_and_sentence():
    tokenizer = load_tokenizer(MODEL_DIR / TOKENIZER, 64)
    ids, mask, types = tokenize_pairs(tokenizer, [("Who built it?", candidate_text("Steam  engine", "Watt\nbuilt it."))])
    tokens = [tokenizer.id_to_token(i) for i in ids[0]]
    assert tokens == ["[CLS]", "who", "built", "it", "?", "[SEP]", "steam", "engine", ":", "watt", "built", "it", ".", "[SEP]"]
    assert types[0].tolist() == [0] * 6 + [1] * 8 and mask.sum() == len(tokens)


def test_a_damaged_reader_folder_is_one_clear_error(tmp_path):
    from qa.errors import QAError

    with pytest.raises(QAError, match="missing or damaged"):
        Reader.load(tmp_path)


# ---------------------------------------------------------------------------------------------
# The shipped model


@pytest.mark.slow
def test_shipped_reader_loads_offline_from_the_installed_package_without_torch():
    script = (
        "import sys, qa.reader as r; reader = r.Reader.load(); "
        "s = reader.score('When did the library open?', [('Millbrook', 'The library opened in March 1911.'), ('Millbrook', 'The bakery sells bread.')]); "
        "print(r.MODEL_DIR); print(s[0] > s[1]); print('torch' in sys.modules)"
    )
    # No proxy and the Hugging Face offline flags: a download attempt would fail, not wait.
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()} | {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd="/", timeout=120)
    assert result.returncode == 0, result.stderr
    folder, prefers_answer, torch_loaded = result.stdout.split()
    assert Path(folder) == MODEL_DIR and (MODEL_DIR / GRAPH).stat().st_size <= 25 * 2**20
    assert prefers_answer == "True" and torch_loaded == "False"


@pytest.mark.slow
def test_shipped_int8_graph_agrees_with_the_torch_scores_recorded_at_export():
    reader = Reader.load()
    probes = reader.meta.probes
    assert len(probes) >= 6
    onnx_scores = np.array([reader.score(q, [(t, s)])[0] for q, t, s, _ in probes])
    torch_scores = np.array([score for *_, score in probes])
    assert np.max(np.abs(onnx_scores - torch_scores)) < 0.35, (onnx_scores, torch_scores)
    assert np.corrcoef(onnx_scores, torch_scores)[0, 1] > 0.99


@pytest.mark.slow
def test_shipped_reader_prefers_the_answer_to_a_near_miss():
    reader = Reader.load()
    sentences = [("Millbrook", "The town library opened its doors to readers in March 1911."),
                 ("Millbrook", "The bakery on the main square sells bread every morning.")]
    asked = reader.score("When did the town library open?", sentences)
    assert asked[0] > asked[1]
    # The same sentence, asked about a year it does not give.
    swapped = reader.score("What did the town library do in 1950?", sentences[:1])
    assert asked[0] > swapped[0]


@pytest.mark.slow
@pytest.mark.skipif(not (DATASETS / "squad2-dev" / "dev-v2.0.json").exists(), reason="needs ../shared/datasets (SQuAD)")
def test_training_recipe_runs_end_to_end_and_onnx_agrees_with_torch(tmp_path):
    import torch
    from safetensors.torch import load_file

    sys.path.insert(0, str(REPO / "benchmarks"))
    import train_reader

    out, weights = tmp_path / "reader", tmp_path / "torch.safetensors"
    train_reader.main(["--tiny", "--out", str(out), "--keep-torch", str(weights)])
    meta = json.loads((out / "reader.json").read_text(encoding="utf-8"))
    assert meta["training"]["pairs"] > 50 and meta["export"]["fp32_max_abs_error"] < 1e-3

    model = train_reader.build_model(meta["layers"])
    model.load_state_dict(load_file(str(weights)))
    model.eval()
    tokenizer = load_tokenizer(out / TOKENIZER, meta["max_length"])
    pairs = [(q, candidate_text(t, s)) for q, t, s in train_reader.PROBES]
    ids, mask, types = tokenize_pairs(tokenizer, pairs)
    with torch.no_grad():
        expected = model(torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(types)).numpy()
    reader = Reader.load(out)
    got = np.array([reader.score(q, [(t, s)])[0] for q, t, s in train_reader.PROBES])
    assert np.max(np.abs(got - expected)) < 0.1, (got, expected)


# ---------------------------------------------------------------------------------------------
# Signals


def test_question_specifics_are_its_numbers_and_names_not_its_first_word():
    assert question_specifics("Since 1978 how many courses have students in the Ethical Reasoning program needed to take?") == ["1978", "Ethical Reasoning"]
    assert question_specifics("How did Yale introduce a new era in football?") == ["Yale"]
    assert question_specifics("What did it cost?") == []


def test_missing_specifics_counts_what_the_window_lacks():
    assert missing_specifics("How did Yale introduce a new era in football?", "In 1903, Harvard Stadium introduced a new era into football.") == 1.0
    assert missing_specifics("How did Harvard Stadium change football in 1903?", "In 1903, Harvard Stadium introduced a new era into football.") == 0.0
    assert missing_specifics("Since 1978 how many courses do students in Ethical Reasoning take?", "Since 2008, students take courses in Ethical Reasoning.") == 0.5
    assert missing_specifics("What does it cost?", "Anything.") == 0.0


def test_missing_type_and_rare_coverage():
    assert missing_type("How many people live in Millbrook?", "Millbrook is a small town by the sea.") == 1.0
    assert missing_type("How many people live in Millbrook?", "About 12,000 people live in Millbrook.") == 0.0
    assert missing_type("Tell me about Millbrook.", "Millbrook is a small town.") == 0.0
    idf = {"millbrook": 3.0, "donat": 2.5, "forb": 2.5, "chariti": 2.0, "much": 0.5}
    assert rare_coverage("How much did Forbes donate to charity?", "Forbes estimated the loss.", idf) == pytest.approx(2.5 / 7.0)
    assert rare_coverage("How much did Forbes donate to charity?", "Forbes donated to charity.", idf) == 1.0


def test_reader_signals_take_the_best_sentence_and_its_neighbours():
    sentences = ["Millbrook lies on the coast.", "It was founded in 1402.", "The library opened in 1911."]
    assert windows(sentences)[0] == "Millbrook lies on the coast. It was founded in 1402."
    signals = reader_signals("When was Millbrook founded?", sentences, [0.5, 2.0, -1.0], {"millbrook": 2.0, "found": 1.0})
    assert signals.reader_max == 2.0 and signals.reader_margin == 1.5
    assert signals.missing_specifics == 0.0 and signals.missing_type == 0.0 and signals.rare_coverage == 1.0
    with pytest.raises(ValueError):
        reader_signals("Why?", sentences, [1.0], {})
