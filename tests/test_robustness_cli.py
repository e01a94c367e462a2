"""The qa command under stress: concurrent writers, readers during a build, damage, and no network."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from format_fixtures import make_docx, make_pdf

from qa.index import load_index, read_manifest

QA = [sys.executable, "-m", "qa"]
SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def qa(*args, env=None, timeout=300):
    return subprocess.run([*QA, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env, check=False)


def test_two_index_runs_at_once_one_waits_and_ask_meanwhile_reads_the_previous_index(tmp_path, seed_index):
    index = tmp_path / "idx"
    shutil.copytree(seed_index, index)
    corpus = tmp_path / "bigger"
    corpus.mkdir()
    for i in range(2):
        for path in SEEDS.glob("*.txt"):
            (corpus / f"{i}_{path.name}").write_text(path.read_text(encoding="utf-8") + f"\nCopy {i}.\n", encoding="utf-8")
    command = [*QA, "index", str(corpus), "--index-dir", str(index), "-q"]
    old_files = set(index.iterdir())
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not any(p.name.startswith("passages-") for p in set(index.iterdir()) - old_files):  # its build is under way
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.02)
    second = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    asked = qa("ask", "Which companies will the Foreign Secretary visit in Japan?", "--json", "--index-dir", index)
    _, first_err = first.communicate(timeout=300)
    second_out, second_err = second.communicate(timeout=300)
    assert first.returncode == 0 and second.returncode == 0, (first_err, second_err)
    assert f"another qa index is writing {index}; waiting" in second_err
    assert "is up to date: 10 files indexed, 106 passages" in second_out  # the second found the first one's index
    assert asked.returncode == 0, asked.stderr
    cited = {p["doc"] for p in json.loads(asked.stdout)["passages"]}
    assert cited and all("_" not in doc.split("_", 1)[0] for doc in cited)  # seeds names, not the copies'
    assert len(load_index(index).passages) == 106


def test_truncated_vectors_file_is_a_one_line_error_whose_command_repairs_the_index(tmp_path, seed_index):
    index = tmp_path / "idx"
    shutil.copytree(seed_index, index)
    vectors = index / read_manifest(index).store.files["passage_vectors"]
    vectors.write_bytes(vectors.read_bytes()[: vectors.stat().st_size // 2])
    broken = qa("ask", "Why did Philip Hammond travel to Tokyo?", "--index-dir", index)
    assert broken.returncode == 1 and broken.stderr.count("\n") == 1 and "Traceback" not in broken.stderr
    assert "does not match its checksum" in broken.stderr
    fix = broken.stderr.strip().split("rebuild it with: ", 1)[1].split()
    assert fix[:2] == ["qa", "index"]
    repaired = qa(*fix[1:])
    assert repaired.returncode == 0 and repaired.stdout.startswith("Indexed 5 files, 49 passages"), repaired.stderr
    assert len(load_index(index).passages) == 49


@pytest.mark.slow
def test_index_and_ask_succeed_with_sockets_blocked(tmp_path):
    """No network at run time: any socket use raises, and a mixed-format corpus still indexes and answers."""
    blocker = tmp_path / "no_network"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import socket\n"
        "def _refuse(*args, **kwargs):\n"
        "    raise OSError('network access attempted during a no-network test')\n"
        "socket.socket.connect = _refuse\n"
        "socket.socket.connect_ex = _refuse\n"
        "socket.create_connection = _refuse\n"
        "socket.getaddrinfo = _refuse\n",
        encoding="utf-8",
    )
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "harbour.pdf").write_bytes(make_pdf([
        ["Harbour report"], ["The harbour festival takes place every June with boats and music."],
    ]))
    (corpus / "tea.docx").write_bytes(make_docx([("Heading 1", "Green tea"), ("", "Green tea leaves are steamed to stop oxidation.")]))
    (corpus / "page.html").write_bytes(b"<html><title>Library</title><main><p>The library opens at nine in the morning.</p></main></html>")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(blocker), os.environ.get("PYTHONPATH")])),
           "HF_HUB_OFFLINE": "0", "TRANSFORMERS_OFFLINE": "0"}  # offline only because the code is, not by flag
    check = subprocess.run([sys.executable, "-c", "import socket; socket.create_connection(('example.com', 80))"],
                           capture_output=True, text=True, env=env, check=False)
    assert "network access attempted" in check.stderr  # the blocker is in force
    indexed = qa("index", corpus, "--index-dir", tmp_path / "idx", env=env)
    assert indexed.returncode == 0, indexed.stderr
    asked = qa("ask", "When does the harbour festival take place?", "--json", "--index-dir", tmp_path / "idx", env=env)
    assert asked.returncode == 0, asked.stderr
    top = json.loads(asked.stdout)["passages"][0]
    assert top["doc"] == "harbour.pdf" and top["page"] == 2
