"""Wall-clock timings of the qa command on the seeds corpus, as a user meets them.

    .venv/bin/python benchmarks/cli_timings.py

Prints: `qa --help`; a full index build into a fresh directory; a no-change re-index; a cold
`qa ask`; and the warm per-question latency of `qa ask -` over 50 questions (the gap between
consecutive JSON lines while all questions wait on stdin), median and p95.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
QA = [sys.executable, "-m", "qa"]


def wall(*args: str, repeat: int = 1) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run([*QA, *args], check=True, capture_output=True, cwd=REPO)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def warm_latencies(index_dir: str, questions: list[str]) -> list[float]:
    process = subprocess.Popen([*QA, "ask", "-", "--index-dir", index_dir], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO)
    process.stdin.write("".join(q + "\n" for q in questions))
    process.stdin.close()
    arrivals = []
    for _ in process.stdout:
        arrivals.append(time.perf_counter())
    process.wait()
    return [(b - a) * 1000 for a, b in zip(arrivals, arrivals[1:])]


def main() -> None:
    questions = [json.loads(line)["question"] for line in (REPO / "benchmarks/seeds/questions.jsonl").open()]
    questions = (questions * 2)[:51]  # 51 lines give 50 gaps
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = str(Path(tmp) / "index")
        rows = [
            ("qa --help", wall("--help", repeat=5)),
            ("qa index seeds (fresh build)", wall("index", "seeds", "--index-dir", index_dir, "-q")),
            ("qa index seeds (no change)", wall("index", "seeds", "--index-dir", index_dir, "-q", repeat=5)),
            ("qa ask (cold, one question)", wall("ask", questions[0], "--index-dir", index_dir, repeat=3)),
        ]
        latencies = warm_latencies(index_dir, questions)
    for name, seconds in rows:
        print(f"{name:<32} {seconds:8.2f} s")
    p95 = statistics.quantiles(latencies, n=20)[-1]
    print(f"{'qa ask - (warm, 50 questions)':<32} median {statistics.median(latencies):.1f} ms, p95 {p95:.1f} ms")


if __name__ == "__main__":
    main()
