"""SciFact's test questions over a large real-text corpus, every other document a distractor.

    python benchmarks/scale_corpus.py $C/c100k --sentences              # the corpus (162,240 passages)
    /usr/bin/time -v qa index $C/c100k --index-dir $C/idx               # build time and peak RSS
    python benchmarks/scale_bench.py $C/idx                             # this script

The index is any `qa index` of a folder written by benchmarks/scale_corpus.py, on any store. Prints
the index's size; SciFact nDCG@10 and R@100 by mode (dense, bm25, fused as the bot runs it, and exact
fused, which scores every passage, as the reference for fused on candidates); warm latency of each
mode's ranking and of a whole answer (fused); and cold `qa ask` in fresh processes: wall time and
peak RSS. The machine load is printed beside the figures: other work skews the timings.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace
from pathlib import Path

import speed

from qa import Bot
from qa.encoders import load_encoder, resolve_model
from qa.eval.bench import _dedupe, evaluate_rankings
from qa.eval.datasets import load_beir
from qa.query import Query
from qa.ranking import CandidatePolicy, Retrievers

DEPTH = 100


def scifact_id(doc: str) -> str:
    """The SciFact corpus id of a document written by scale_corpus.py; distractors keep their path."""
    folder, _, name = doc.partition("/")
    return name.removesuffix(".txt") if folder == "scifact" else doc


def run_mode(retrievers: Retrievers, mode: str, queries) -> tuple[dict[str, list[tuple[str, float]]], list[float]]:
    retriever, index = retrievers.get(mode), retrievers.index
    retriever.rank(Query(queries[0].text), DEPTH)  # warm-up: first-use loads (BM25, sample vectors)
    run, times = {}, []
    for query in queries:
        started = time.perf_counter()
        ranking = retriever.rank(Query(query.text), DEPTH)
        times.append((time.perf_counter() - started) * 1000)
        run[query.id] = _dedupe([(scifact_id(index.passage(pid).doc), score) for pid, score in ranking])
    return run, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index_dir", type=Path)
    parser.add_argument("--scifact", type=Path, default=speed.REPO.parent / "shared" / "datasets" / "scifact")
    parser.add_argument("--cold", type=int, default=3, help="cold `qa ask` runs (median reported)")
    parser.add_argument("--no-exact", action="store_true", help="skip exact fused (it holds every vector in memory)")
    parser.add_argument("--limit", type=int, help="first N queries only")
    args = parser.parse_args()

    dataset = load_beir(args.scifact)
    queries = dataset.queries[: args.limit] if args.limit else dataset.queries
    qrels = {q.id: dataset.qrels[q.id] for q in queries}
    print(f"== {args.index_dir} ({speed.uptime()})", flush=True)

    for _ in range(args.cold):  # the first run also warms the page cache
        rss, seconds = speed.peak_rss("ask", queries[0].text, "--index-dir", str(args.index_dir))
        speed.row("cold qa ask: wall / peak RSS", f"{seconds:.2f} s / {rss:.0f} MB", "<= 1.0 s / 500 MB", seconds <= 1.0 and rss <= 500)

    bot = Bot(args.index_dir, auto_update=False).load()
    index = bot.index
    print(f"{len(index.passages):,} passages, store {index.manifest.store.kind} {index.manifest.store.params}, model {index.manifest.model}", flush=True)
    bot.ask(queries[0].text)
    times = []
    for query in queries[:100]:
        started = time.perf_counter()
        bot.ask(query.text)
        times.append((time.perf_counter() - started) * 1000)
    speed.row("warm ask p50 / p95 (fused, whole answer)", f"{statistics.median(times):.0f} / {speed.pct(times, 95):.0f} ms")

    retrievers = Retrievers(index, load_encoder(resolve_model(index.manifest.model)))
    exact = replace(CandidatePolicy(), exact_max=10**12)
    runs = {mode: run_mode(retrievers, mode, queries) for mode in ("dense", "bm25", "fused")}
    if not args.no_exact:
        runs["fused, exact"] = run_mode(Retrievers(index, retrievers.encoder, candidates=exact), "fused", queries)
    print(f"SciFact test, {len(queries)} queries over {len(index.passages):,} passages ({speed.uptime()})")
    print("| mode | nDCG@10 | R@100 | rank p50 / p95 ms |")
    print("|---|---|---|---|")
    for mode, (run, latencies) in runs.items():
        scores = evaluate_rankings(qrels, run, ("ndcg@10", "recall@100"))
        print(f"| {mode} | {scores['ndcg@10']:.4f} | {scores['recall@100']:.4f} | {statistics.median(latencies):.1f} / {speed.pct(latencies, 95):.1f} |")


if __name__ == "__main__":
    main()
