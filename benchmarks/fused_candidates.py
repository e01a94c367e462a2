"""`fused` on candidates against exact `fused`, on the same index, in one run.

    .venv/bin/python benchmarks/fused_candidates.py ../shared/datasets/cranfield ../shared/datasets/scifact

For each BEIR folder: `qa bench`'s own run of the fused mode (its cached index, its nDCG@10), once
with exact fused (every passage scored) and once with candidates forced (exact_max=0, the default
depths and sample), so the difference is what candidates cost in quality on a corpus small enough to
score exactly. Also the seeds' R@5. Prints the machine load beside the figures.
"""

from __future__ import annotations

import argparse
import functools
import subprocess
from dataclasses import replace
from pathlib import Path

from qa import bench
from qa.eval.datasets import load_beir, load_seed_questions
from qa.ranking import CandidatePolicy, Retrievers

REPO = Path(__file__).resolve().parent.parent


def run(dataset, policy: CandidatePolicy, limit: int | None) -> tuple[dict, float]:
    original = bench.Retrievers
    bench.Retrievers = functools.partial(Retrievers, candidates=policy)
    try:
        result = bench.run_bench(dataset, modes=["fused"], limit=limit)
    finally:
        bench.Retrievers = original
    mode = result.modes[0]
    return mode.metrics, mode.latency_p50_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path, help="BEIR folders")
    parser.add_argument("--limit", type=int, help="first N queries only")
    parser.add_argument("--no-seeds", action="store_true")
    args = parser.parse_args()
    datasets = [] if args.no_seeds else [load_seed_questions(REPO / "benchmarks/seeds/questions.jsonl", REPO / "seeds")]
    datasets += [load_beir(folder) for folder in args.folders]
    forced = replace(CandidatePolicy(), exact_max=0)
    print(subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip(), flush=True)
    print("| collection | exact fused nDCG@10 | candidates nDCG@10 | difference | R@5 exact / candidates | p50 ms exact / candidates |")
    print("|---|---|---|---|---|---|")
    for dataset in datasets:
        exact, exact_ms = run(dataset, CandidatePolicy(), args.limit)
        approx, approx_ms = run(dataset, forced, args.limit)
        print(
            f"| {dataset.name} | {exact['ndcg@10']:.4f} | {approx['ndcg@10']:.4f} | {approx['ndcg@10'] - exact['ndcg@10']:+.4f} "
            f"| {exact.get('recall@5', float('nan')):.4f} / {approx.get('recall@5', float('nan')):.4f} | {exact_ms:.1f} / {approx_ms:.1f} |",
            flush=True,
        )
    print(subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip())


if __name__ == "__main__":
    main()
