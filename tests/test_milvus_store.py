"""The index on Milvus (Milvus Lite, in a file under each test's tmp_path): the same answers as FAISS,
builds that never leave a half-written generation visible, and one-line errors.

The store contract itself (add, delete, search, generations) runs in tests/test_store_contract.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import SEEDS, HashingEncoder

from qa import Bot, build_index
from qa.errors import IndexMismatchError, StoreUnavailableError
from qa.index import load_index
from qa.pipeline import search
from qa.query import Query
from qa.ranking import MODES, CandidatePolicy, Retrievers
from qa.stores import StoreTarget, parse_store
from qa.stores.milvus_store import connect, describe_error, parse_target

pytestmark = pytest.mark.slow  # every test starts Milvus Lite (seconds each)

REPO = Path(__file__).resolve().parent.parent
QUESTIONS = [json.loads(line) for line in (REPO / "benchmarks" / "seeds" / "questions.jsonl").read_text(encoding="utf-8").splitlines()]


def lite(tmp_path: Path, name: str = "qa") -> str:
    return f"milvus:{tmp_path / 'milvus.db'}" + ("" if name == "qa" else f"#{name}")


def collections(spec: str) -> set[str]:
    return set(connect(parse_target(spec)).list_collections())


class UntiedEncoder(HashingEncoder):
    """The hashing encoder plus a small direction of each whole text, so that texts with the same
    words (the seeds' lists of meetings) do not tie: two stores may order exact ties differently."""

    def encode(self, texts, batch_size=32):
        import hashlib

        import numpy as np

        vectors = super().encode(texts, batch_size)
        for row, text in enumerate(texts):
            seed = int(hashlib.md5(text.encode()).hexdigest()[:8], 16)
            vectors[row] += 0.01 * np.random.default_rng(seed).standard_normal(self.dimension).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_every_mode_ranks_the_seeds_questions_as_on_faiss(corpus, tmp_path):
    """Same passages in the same order for every mode: dense and sentence candidates from Milvus's
    search, BM25 from Milvus's BM25 function over qa's own tokens, fused rescoring in the client."""
    encoder = UntiedEncoder()
    build_index(corpus, tmp_path / "faiss", encoder_factory=lambda spec: encoder)
    build_index(corpus, tmp_path / "milvus", encoder_factory=lambda spec: encoder, store=parse_store(lite(tmp_path)))
    on_faiss, on_milvus = (Retrievers(load_index(tmp_path / name), encoder) for name in ("faiss", "milvus"))
    assert on_milvus.index.manifest.store.kind == "milvus" and on_milvus.index.manifest.store.files == {}
    for mode in MODES:
        for item in QUESTIONS[:40]:
            # The top 10 of 20: a tie (a list item repeated word for word) cut at the 10th place could go either way.
            query = Query(item["question"], tuple(item.get("history", [])))
            expected = on_faiss.get(mode).rank(query, 20)[:10]
            found = on_milvus.get(mode).rank(query, 20)[:10]
            assert [on_milvus.index.passage(pid) for pid, _ in found] == [on_faiss.index.passage(pid) for pid, _ in expected], (mode, item["question"])


def test_fused_on_candidates_from_milvus_ranks_as_exact_fused(corpus, tmp_path):
    """Above CandidatePolicy.exact_max, fused scores only the candidates of Milvus's passage,
    sentence and BM25 searches, fetching their vectors by id: on the seeds, the exact ranking."""
    encoder = UntiedEncoder()
    build_index(corpus, tmp_path / "milvus", encoder_factory=lambda spec: encoder, store=parse_store(lite(tmp_path)))
    index = load_index(tmp_path / "milvus")
    exact = Retrievers(index, encoder)
    candidates = Retrievers(index, encoder, CandidatePolicy(exact_max=0, depth=20, sentence_depth=60, sample=10_000))
    assert exact.fused.exact and not candidates.fused.exact
    for item in QUESTIONS:
        query = Query(item["question"], tuple(item.get("history", [])))
        expected = exact.fused.rank(query, 10)
        found = candidates.fused.rank(query, 10)
        assert [pid for pid, _ in found] == [pid for pid, _ in expected], item["question"]


def test_passages_and_their_metadata_are_stored_in_milvus_with_exact_spans(corpus, index_dir, tmp_path, fake_factory):
    build_index(corpus, index_dir, encoder_factory=fake_factory, store=parse_store(lite(tmp_path)))
    index = load_index(index_dir)
    client = connect(parse_target(lite(tmp_path)))
    rows = client.query("qa", filter="id >= 0", output_fields=["id", "doc", "title", "date", "section", "page", "start", "end", "text", "sha256"])
    assert len(rows) == len(index.passages) == 49
    for row in rows:
        passage = index.passage(row["id"])
        assert (row["doc"], row["title"], row["date"], row["section"], row["page"]) == (passage.doc, passage.title, passage.date, passage.section, passage.page)
        source = (corpus / row["doc"]).read_text(encoding="utf-8")
        assert source[row["start"] : row["end"]] == row["text"] == passage.text
        assert len(row["sha256"]) == 64


def test_an_incremental_build_writes_a_new_generation_switches_the_alias_and_drops_the_old_ones(corpus, index_dir, tmp_path, fake_factory, fake_encoder):
    spec = lite(tmp_path)
    build_index(corpus, index_dir, encoder_factory=fake_factory, store=parse_store(spec))
    first = load_index(index_dir).manifest.store.params["generation"]
    generations = [first]
    for round_ in range(3):
        changed = sorted(corpus.glob("*.txt"))[round_]
        changed.write_text(changed.read_text(encoding="utf-8") + f"\n\nA closing paragraph, round {round_}.\n", encoding="utf-8")
        report = build_index(corpus, index_dir, encoder_factory=fake_factory)
        assert report.files_embedded == 1 and report.passages_embedded < report.passages / 2  # only the changed file
        generations.append(load_index(index_dir).manifest.store.params["generation"])
    client = connect(parse_target(spec))
    assert client.describe_alias("qa")["collection_name"] == f"qa__{generations[-1]}__p"
    # The current generation and the one before it (for readers still on it) remain; older ones are dropped.
    assert collections(spec) == {f"qa__{g}__{part}" for g in generations[-2:] for part in "ps"}
    index = load_index(index_dir)
    assert len(index.passages) == index.store.count() and list(index.ids) == sorted(index.ids)


def test_an_interrupted_build_leaves_the_previous_generation_serving(corpus, index_dir, tmp_path, fake_factory, fake_encoder):
    spec = lite(tmp_path)
    build_index(corpus, index_dir, encoder_factory=fake_factory, store=parse_store(spec))
    before = load_index(index_dir)
    for path in corpus.glob("*.txt"):
        path.write_text(path.read_text(encoding="utf-8") + "\n\nAppended paragraph that changes the file.\n", encoding="utf-8")
    calls = []

    def dying_factory(spec_):
        class Dying:
            name, dimension = fake_encoder.name, fake_encoder.dimension

            def encode(self, texts, batch_size=32):
                calls.append(len(texts))
                if len(calls) > 1:  # after the new generation holds a first batch
                    raise KeyboardInterrupt
                return fake_encoder.encode(texts, batch_size)

        return Dying()

    with pytest.raises(KeyboardInterrupt):
        build_index(corpus, index_dir, encoder_factory=dying_factory, batch_size=4)
    after = load_index(index_dir)
    assert after.manifest == before.manifest and after.passages == before.passages
    assert connect(parse_target(spec)).describe_alias("qa")["collection_name"] == f"qa__{before.manifest.store.params['generation']}__p"
    question = Query(QUESTIONS[0]["question"])
    assert search(Retrievers(after, fake_encoder).get("fused"), after, question) == search(Retrievers(before, fake_encoder).get("fused"), before, question)
    build_index(corpus, index_dir, encoder_factory=fake_factory)  # the next build drops what the interrupted one wrote
    current, previous = load_index(index_dir).manifest.store.params["generation"], before.manifest.store.params["generation"]
    assert collections(spec) == {f"qa__{g}__{part}" for g in (current, previous) for part in "ps"}


KILLED_BUILD = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, sys.argv[3])
    from conftest import HashingEncoder
    from qa import build_index
    from qa.stores import parse_store

    encoder = HashingEncoder()
    die = sys.argv[4] == "die"

    class Killed(HashingEncoder):
        calls = 0

        def encode(self, texts, batch_size=32):
            Killed.calls += 1
            if die and Killed.calls > 1:
                os.kill(os.getpid(), signal.SIGKILL)
            return encoder.encode(texts, batch_size)

    build_index(sys.argv[1], sys.argv[2], encoder_factory=lambda spec: Killed(), batch_size=4, store=parse_store(sys.argv[5]))
    """
)


def test_a_build_killed_with_sigkill_leaves_the_previous_generation_serving(corpus, index_dir, tmp_path, fake_encoder):
    """A real kill (Milvus Lite serves one process at a time, so each build runs in its own)."""
    spec = lite(tmp_path)
    script = tmp_path / "build.py"
    script.write_text(KILLED_BUILD, encoding="utf-8")

    def run(mode: str) -> int:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        return subprocess.run([sys.executable, str(script), str(corpus), str(index_dir), str(Path(__file__).parent), mode, spec], env=env, timeout=300, check=False).returncode

    assert run("live") == 0
    before = load_index(index_dir)
    generation = before.manifest.store.params["generation"]
    for path in corpus.glob("*.txt"):
        path.write_text(path.read_text(encoding="utf-8") + "\n\nAppended paragraph that changes the file.\n", encoding="utf-8")
    _release_lite(spec)
    assert run("die") == -9
    after = load_index(index_dir)
    assert after.manifest == before.manifest and after.passages == before.passages
    assert after.store.count() == len(after.passages)
    names = collections(spec)
    assert connect(parse_target(spec)).describe_alias("qa")["collection_name"] == f"qa__{generation}__p"
    assert len(names) == 4  # the serving generation, and the half-written one the next build drops
    _release_lite(spec)
    assert run("live") == 0
    current = load_index(index_dir).manifest.store.params["generation"]
    assert collections(spec) == {f"qa__{g}__{part}" for g in (current, generation) for part in "ps"}


def _release_lite(spec: str) -> None:
    """Close this process's Milvus Lite server for the file, so that another process may open it."""
    from milvus_lite.server_manager import server_manager_instance

    from qa.stores import milvus_store

    for client in milvus_store._CLIENTS.values():
        client.close()
    milvus_store._CLIENTS.clear()
    server_manager_instance.release_server(parse_target(spec).uri)


def test_a_name_holding_another_models_index_is_refused_in_one_line(corpus, tmp_path, fake_factory):
    build_index(corpus, tmp_path / "a", encoder_factory=fake_factory, store=parse_store(lite(tmp_path)))
    model = tmp_path / "another-model"
    model.mkdir()
    (model / "modules.json").write_text("[]")
    other = HashingEncoder(str(model.resolve()))
    with pytest.raises(IndexMismatchError, match=r"holds vectors of model all-MiniLM-L6-v2 .*not .*another-model; index into another name") as error:
        build_index(corpus, tmp_path / "b", str(model), encoder_factory=lambda spec: other, store=parse_store(lite(tmp_path)))
    assert "\n" not in str(error.value)
    build_index(corpus, tmp_path / "b", str(model), encoder_factory=lambda spec: other, store=parse_store(lite(tmp_path, "other")))
    assert load_index(tmp_path / "b").manifest.store.params["name"] == "other"


def test_an_unreachable_server_is_one_line_naming_the_fix(monkeypatch):
    from qa.stores import milvus_store

    monkeypatch.setattr(milvus_store, "CONNECT_SECONDS", 1.0)
    with pytest.raises(StoreUnavailableError) as error:
        connect(StoreTarget("milvus", "http://127.0.0.1:9", "qa"))
    assert str(error.value) == "cannot reach Milvus at http://127.0.0.1:9; start the server (docker compose up -d) or check --store HOST:PORT"


def test_a_refused_token_is_one_line_naming_the_variable():
    """The message a Milvus server with authentication gives for a wrong token (no such server runs in the tests)."""
    from pymilvus.exceptions import MilvusException

    refused = MilvusException(code=1800, message="auth check failure, please check username, password or API key")
    line = describe_error(refused, StoreTarget("milvus", "http://milvus.example:19530", "qa"))
    assert line == "Milvus at http://milvus.example:19530 refused the token (wrong or missing); set QA_MILVUS_TOKEN=USER:PASSWORD or an API key for that server"


def test_cli_errors_are_one_line_without_a_traceback(corpus, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "qa", "index", str(corpus), "--index-dir", str(tmp_path / "index"), "-q"]
    done = subprocess.run([*command, "--store", "http://127.0.0.1:9"], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode != 0 and "Traceback" not in done.stderr and "grpc" not in done.stderr.lower()
    assert done.stderr.strip().splitlines()[-1].endswith("cannot reach Milvus at http://127.0.0.1:9; start the server (docker compose up -d) or check --store HOST:PORT")
    done = subprocess.run([*command, "--store", "milvus:store.txt"], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2 and "a Milvus Lite store is a file ending in .db" in done.stderr and "Traceback" not in done.stderr


def test_a_milvus_lite_file_open_in_another_process_is_one_line(corpus, tmp_path):
    spec = lite(tmp_path)
    connect(parse_target(spec))  # this process serves the file now
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "qa", "index", str(corpus), "--index-dir", str(tmp_path / "index"), "-q", "--store", spec],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1 and done.stderr.count("\n") == 1
    assert "is open in another process (a qa chat?); close it and retry, or use a Milvus server" in done.stderr
    _release_lite(spec)


@pytest.mark.slow
def test_seeds_answers_as_json_are_those_of_faiss_apart_from_scores(seed_index, tmp_path):
    """With the real model: every seeds question's JSON answer (passages, spans, answer text) on
    Milvus Lite equals FAISS's, scores aside."""
    milvus_dir = tmp_path / "milvus-index"
    build_index(SEEDS, milvus_dir, store=parse_store(lite(tmp_path)))
    faiss_bot, milvus_bot = Bot(seed_index).load(), Bot(milvus_dir).load()

    def without_scores(value):
        if isinstance(value, dict):
            return {key: without_scores(item) for key, item in value.items() if "score" not in key and key not in ("seconds", "confidence")}
        if isinstance(value, list):
            return [without_scores(item) for item in value]
        return value

    for item in QUESTIONS:
        expected = faiss_bot.ask(item["question"], item.get("history", [])).to_dict()
        found = milvus_bot.ask(item["question"], item.get("history", [])).to_dict()
        assert without_scores(found) == without_scores(expected), item["question"]


def test_a_failed_milvus_call_is_one_line_and_pymilvus_logs_nothing(corpus, index_dir, tmp_path, fake_factory, capfd):
    build_index(corpus, index_dir, encoder_factory=fake_factory, store=parse_store(lite(tmp_path)))
    store = load_index(index_dir).store
    capfd.readouterr()
    with pytest.raises(StoreUnavailableError, match=r"^Milvus at .*milvus\.db failed: .*not_a_collection") as error:
        store._properties("not_a_collection")
    assert "\n" not in str(error.value)
    assert capfd.readouterr().err == ""


def test_a_reader_whose_generation_was_dropped_is_told_to_rebuild(corpus, index_dir, tmp_path, fake_factory):
    spec = lite(tmp_path)
    build_index(corpus, index_dir, encoder_factory=fake_factory, store=parse_store(spec))
    client = connect(parse_target(spec))
    for name in collections(spec):
        client.drop_collection(name)
    with pytest.raises(IndexMismatchError, match=r"damaged index in .*Milvus collection qa__\w+__p is gone .*; rebuild it with: qa index "):
        load_index(index_dir)
