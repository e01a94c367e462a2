"""Warm call latency of `qa mcp` against `qa ask`, on the same collection.

    QA_CACHE_DIR=/tmp/qa-cache .venv/bin/python benchmarks/mcp_latency.py [--collection seeds] [--rounds 20]

The collection is indexed first if it is not (the seeds, under $QA_CACHE_DIR/mcp-bench). Then:
- `qa mcp` is started over stdio by the official SDK's client, as an agent's host starts it; the
  time to its first answer (start, model load, handshake, call) is measured once, then each tool
  call's round trip (search k=5 and answer), over the seeds' questions, warm;
- `qa ask QUESTION` is run as a new process per question (what a script calling the CLI pays), and
  `qa ask -` with all the questions on standard input (model loaded once; per question).
Prints medians and 95th percentiles.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share / 100 * (len(ordered) - 1))))]


def line(name: str, seconds: list[float]) -> str:
    return f"| {name} | {len(seconds)} | {statistics.median(seconds) * 1000:.0f} | {percentile(seconds, 95) * 1000:.0f} |"


async def mcp_rounds(env: dict[str, str], questions: list[str]) -> tuple[float, list[float], list[float]]:
    from mcp import Client, StdioServerParameters

    parameters = StdioServerParameters(command=sys.executable, args=["-m", "qa", "mcp"], env=env, cwd=str(REPO))
    started = time.perf_counter()
    async with Client(parameters) as client:
        await client.call_tool("answer", {"question": questions[0]})
        first = time.perf_counter() - started
        searches, answers = [], []
        for question in questions:
            began = time.perf_counter()
            result = await client.call_tool("search", {"query": question, "k": 5})
            searches.append(time.perf_counter() - began)
            assert not result.is_error, result.content
            began = time.perf_counter()
            result = await client.call_tool("answer", {"question": question})
            answers.append(time.perf_counter() - began)
            assert not result.is_error, result.content
    return first, searches, answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="questions asked (default 20)")
    parser.add_argument("--cold", type=int, default=5, help="qa ask processes started (default 5)")
    args = parser.parse_args()
    from qa import settings

    home = settings.cache_dir() / "mcp-bench"
    env = {**os.environ, "QA_DATA_DIR": str(home / "data")}
    done = subprocess.run([sys.executable, "-m", "qa", "index", str(REPO / "seeds"), "-q"], env=env, capture_output=True, text=True, cwd=REPO)
    if done.returncode:
        sys.exit(done.stderr)
    rows = [json.loads(item) for item in (REPO / "benchmarks/seeds/questions.jsonl").read_text(encoding="utf-8").splitlines()]
    questions = [row["question"] for row in rows if not row["history"]][: args.rounds]
    print(subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip(), flush=True)
    first, searches, answers = asyncio.run(mcp_rounds(env, questions))
    cold = []
    for question in questions[: args.cold]:
        began = time.perf_counter()
        subprocess.run([sys.executable, "-m", "qa", "ask", question], env=env, capture_output=True, check=True, cwd=REPO)
        cold.append(time.perf_counter() - began)
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "qa", "ask", "-"], env=env, input="\n".join(questions) + "\n", capture_output=True, text=True,
                   check=True, cwd=REPO)
    stream = time.perf_counter() - began
    print("| call | n | p50 ms | p95 ms |")
    print("|---|---|---|---|")
    print(f"| qa mcp: start, load, handshake and first answer | 1 | {first * 1000:.0f} | |")
    print(line("qa mcp `search` (k=5), warm", searches))
    print(line("qa mcp `answer`, warm", answers))
    print(line("`qa ask QUESTION`, a new process each", cold))
    print(f"| `qa ask -`, {len(questions)} questions in one process (per question, load included) | {len(questions)} | {stream / len(questions) * 1000:.0f} | |")
    print(subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip())


if __name__ == "__main__":
    main()
