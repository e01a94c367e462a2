"""The qa command as users and scripts run it: real processes, real model."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa.index import load_index

QA = [sys.executable, "-m", "qa"]


def qa(*args, input=None, cwd=None, timeout=180):
    return subprocess.run([*QA, *map(str, args)], input=input, capture_output=True, text=True, cwd=cwd, timeout=timeout)


def test_help_is_instant_because_it_imports_no_torch():
    code = "import sys\nfrom qa.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\nfor sub in ('index', 'ask', 'chat'):\n    try:\n        main([sub, '--help'])\n    except SystemExit:\n        pass\nprint(sorted(m for m in ('torch', 'sentence_transformers', 'faiss', 'textual') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip().endswith("[]")
    assert "usage: qa" in result.stdout


def test_a_bare_qa_takes_the_chats_options(monkeypatch, tmp_path):
    import qa.cli as cli

    opened = []
    monkeypatch.setattr(cli, "_run_chat", lambda args: opened.append((args.index_dir, args.model)) or 0)
    assert cli.main(["--index-dir", str(tmp_path), "--model", "all-MiniLM-L6-v2"]) == 0
    assert cli.main([]) == 0
    assert opened[0] == (tmp_path, "all-MiniLM-L6-v2")
    assert opened[1][1] is None  # a bare qa: the default index, no model


def test_qa_chat_passes_the_operating_point_to_the_chat_and_refuses_one_out_of_range(monkeypatch, tmp_path, capsys):
    import qa.cli as cli
    import ui.app

    received = []
    monkeypatch.setattr(ui.app, "run_chat", lambda **options: received.append(options) or 0)
    assert cli.main(["chat", "--index-dir", str(tmp_path), "--abstain-below", "0.4"]) == 0
    assert cli.main(["--index-dir", str(tmp_path), "--abstain-below", ".25"]) == 0  # a bare qa takes it too
    assert cli.main(["chat", "--index-dir", str(tmp_path)]) == 0
    assert [options["abstain_below"] for options in received] == [0.4, 0.25, None]
    with pytest.raises(SystemExit):
        cli.main(["chat", "--abstain-below", "2"])
    assert "--abstain-below must be a number from 0 to 1" in capsys.readouterr().err


def test_ask_prints_answer_then_numbered_citations(seed_index):
    result = qa("ask", "Which companies will the Foreign Secretary visit in Japan?", "-k", "2", "--index-dir", seed_index)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("In Japan, the Foreign Secretary will visit Nissan HQ")
    assert any(line.startswith("[1] Foreign Secretary visits Japan to strengthen security cooperation · 2016-01-08 · score") for line in lines)
    assert any("003_cc08bda86b037607.txt, characters" in line for line in lines)
    assert "[3]" not in result.stdout.split("[2] ", 1)[1]


def test_ask_json_and_history(seed_index):
    result = qa("ask", "What other countries were on that trip?", "--json", "--history", "Why did Philip Hammond travel to Tokyo in January 2016?", "--index-dir", seed_index)
    data = json.loads(result.stdout)
    assert data["abstained"] is False and data["passages"][0]["doc"] == "003_cc08bda86b037607.txt"
    assert "China and the Philippines" in data["answer"]


def test_ask_mode_picks_the_ranking_whose_scores_it_prints(seed_index):
    question = "Which companies will the Foreign Secretary visit in Japan?"
    by_mode = {}
    for mode in ("fused", "dense", "bm25"):
        result = qa("ask", question, "--json", "-k", "3", "--mode", mode, "--index-dir", seed_index)
        assert result.returncode == 0, result.stderr
        by_mode[mode] = json.loads(result.stdout)["passages"]
    assert all(passages[0]["start"] == 727 and passages[0]["doc"].startswith("003_") for passages in by_mode.values())
    assert all(-1.0 <= p["score"] <= 1.0 for p in by_mode["dense"])  # cosines
    assert by_mode["fused"][0]["score"] > 1.0 and by_mode["bm25"][0]["score"] > 1.0  # z-score sums, BM25 weights
    assert qa("ask", question, "--mode", "nope", "--index-dir", seed_index).returncode == 2


def test_ask_dash_streams_json_lines_in_order(seed_index):
    questions = "\n".join([
        "Which companies will the Foreign Secretary visit in Japan?",
        json.dumps({"question": "What other countries were on that trip?", "history": ["Why did Philip Hammond travel to Tokyo?"]}),
        "",
        "What is a good recipe for chocolate cake?",
        " ",
    ])
    result = qa("ask", "-", "--index-dir", seed_index, input=questions + "\n")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["question"] for r in rows] == [
        "Which companies will the Foreign Secretary visit in Japan?",
        "What other countries were on that trip?",
        "What is a good recipe for chocolate cake?",
    ]
    assert [r["abstained"] for r in rows] == [False, False, True]


def test_stream_reports_a_bad_line_and_goes_on(seed_index):
    result = qa("ask", "-", "--index-dir", seed_index, input=json.dumps({"question": "y" * 5000}) + "\nNorth Korea nuclear test\n")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert "too long" in rows[0]["error"] and rows[1]["passages"]
    assert result.returncode == 1


@pytest.mark.parametrize("question, message", [("", "error: the question is empty"), ("x" * 100_000, "error: the question is too long")])
def test_bad_questions_get_one_line_and_a_non_zero_exit(seed_index, question, message):
    result = qa("ask", question, "--index-dir", seed_index)
    assert result.returncode == 1
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_missing_corpus_and_missing_index_are_one_line_errors(tmp_path):
    result = qa("index", tmp_path / "missing", "--index-dir", tmp_path / "idx")
    assert result.returncode == 1 and result.stderr == f"error: corpus folder not found: {tmp_path / 'missing'}\n"
    result = qa("ask", "anything?", "--index-dir", tmp_path / "idx")
    assert result.returncode == 1 and "no index in" in result.stderr and result.stderr.count("\n") == 1


def test_unwritable_index_dir_is_a_one_line_error(tmp_path, corpus):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = qa("index", corpus, "--index-dir", blocker / "idx")
    assert result.returncode == 1 and result.stderr.startswith("error: cannot write to index directory")
    assert result.stderr.count("\n") == 1


def test_unknown_model_is_a_one_line_error_and_nothing_is_downloaded(tmp_path, corpus):
    result = qa("index", corpus, "--index-dir", tmp_path / "idx", "--model", "BAAI/bge-large-en")
    assert result.returncode == 1 and "model not found: 'BAAI/bge-large-en'" in result.stderr
    assert not (tmp_path / "idx" / "manifest.json").exists()


@pytest.mark.slow
def test_index_with_binary_file_warns_and_indexes_the_rest_then_is_a_no_op(tmp_path, corpus):
    (corpus / "blob.txt").write_bytes(os.urandom(64) + b"\x00" * 16)
    result = qa("index", corpus, "--index-dir", tmp_path / "idx")
    assert result.returncode == 0, result.stderr
    assert result.stderr == "warning: blob.txt: skipped, binary file\n"
    assert result.stdout.startswith("Indexed 5 files, 1 skipped, 49 passages into")
    again = qa("index", "--index-dir", tmp_path / "idx")  # corpus remembered from the manifest
    assert again.returncode == 0 and "is up to date: 5 files indexed, 1 skipped, 49 passages" in again.stdout
    assert again.stderr == ""  # the warning is not repeated on a run that changes nothing…
    assert "1 file skipped as before; qa index --verbose lists it" in again.stdout
    verbose = qa("index", "--index-dir", tmp_path / "idx", "--verbose")  # …unless asked for
    assert verbose.stderr == "warning: blob.txt: skipped, binary file\n"


def test_index_killed_mid_build_leaves_a_loadable_index(tmp_path, seed_index):
    """kill -9 at random points of rebuilds, repeated: the index always loads (checksums verified), as the
    old or the new one, and every passage still cites its source exactly."""
    import random
    import shutil

    from qa.corpus import read_source

    corpus = tmp_path / "big"
    shutil.copytree(seed_index.parent / seed_index.name, tmp_path / "idx")
    corpus.mkdir()
    seeds = Path(__file__).resolve().parent.parent / "seeds"
    for i in range(40):
        for path in seeds.glob("*.txt"):
            (corpus / f"{i:02d}_{path.name}").write_text(path.read_text(encoding="utf-8") + f"\nCopy {i}.\n", encoding="utf-8")
    before = load_index(tmp_path / "idx")
    rng = random.Random(7)
    for delay in sorted(rng.uniform(0.2, 7.0) for _ in range(5)):
        process = subprocess.Popen([*QA, "index", str(corpus), "--index-dir", str(tmp_path / "idx"), "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        after = load_index(tmp_path / "idx")
        assert after.passages == before.passages or len(after.passages) == 40 * 53  # "Copy i." makes a passage of its own in 4 of the 5 files
        root = Path(after.manifest.corpus_root)
        sources = {doc: read_source(root, doc) for doc in {p.doc for p in after.passages}}
        assert all(sources[p.doc][p.start : p.end] == p.text for p in after.passages)
    leftovers = [p.name for p in (tmp_path / "idx").iterdir() if p.name.startswith(("passages-", "vectors-"))]
    assert len(leftovers) <= 2 + 2 * 5  # files of killed builds wait for the next build to remove them
