"""Two collections asked as one against one index over both: SciFact's corpus split in two halves.

    QA_CACHE_DIR=/tmp/qa-cache .venv/bin/python benchmarks/merged_ranking.py ../shared/datasets/scifact

The whole corpus is `qa bench`'s cached index of the folder (built on first use). Its passages are
split in two halves by a seeded shuffle, and each half becomes an index of its own, holding the same
vectors (taken from the whole index, so nothing is embedded twice; embedding a half again gives the
same vectors to float rounding). Every test question is then ranked by the whole index and by the two
halves asked as one (`qa.ranking.merged.rank_across`, what `qa ask -c a -c b` does), and, to show
what the pooling is for, by each half's own `fused` ranking merged on its scores. Prints nDCG@10
(ranx) of each, how many questions get the same top 10 (the same documents in the same order), and
the largest score difference where they do.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np

from qa import settings
from qa.encoders import load_encoder, resolve_model
from qa.eval.bench import bench_index
from qa.eval.datasets import load_beir
from qa.index import IndexDirectory, StoredIndex, load_index, read_manifest
from qa.query import Query
from qa.ranking import Retrievers
from qa.ranking.merged import rank_across

DEPTH = 10


def half_index(whole: StoredIndex, rows: np.ndarray, folder: Path) -> StoredIndex:
    """An index of some of the whole index's passages, with their vectors (built once, then reused)."""
    manifest = read_manifest(folder) if folder.exists() else None
    if manifest is not None and manifest.passage_count == len(rows):
        return load_index(folder)
    ids = whole.ids[rows]
    passages = [whole.passages[int(row)] for row in rows]
    sentences, owners = whole.store.sentence_vectors(ids)
    with IndexDirectory(folder).lock() as directory:
        writer = directory.begin(whole.manifest.dimension, model=whole.manifest.model)
        try:
            writer.add(passages, np.asarray(whole.store.vectors(ids), dtype=np.float32), np.asarray(sentences, dtype=np.float32),
                       np.bincount(owners, minlength=len(ids)).tolist())
            writer.commit(dict(model=whole.manifest.model, dimension=whole.manifest.dimension, splitter_version="as given",
                               corpus_root=f"{whole.manifest.corpus_root} (half)", files={}))
        except BaseException:
            writer.abort()
            raise
    return load_index(folder)


def ndcg(run: dict[str, list[str]], qrels: dict[str, dict[str, int]]) -> float:
    from ranx import Qrels, Run, evaluate

    scored = {qid: {doc: float(DEPTH - rank) for rank, doc in enumerate(docs)} for qid, docs in run.items() if docs}
    return float(evaluate(Qrels({q: g for q, g in qrels.items() if q in run}), Run(scored), "ndcg@10"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a BEIR folder (corpus.jsonl, queries.jsonl, qrels/test.tsv)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mode", action="append", help="modes to compare (default: fused)")
    args = parser.parse_args()
    print(subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip(), flush=True)
    dataset = load_beir(args.folder, "test")
    spec = resolve_model(None)
    encoder = load_encoder(spec)
    whole, one = bench_index(dataset, encoder_factory=lambda s: encoder)
    order = np.random.default_rng(args.seed).permutation(len(whole.passages))
    halves = np.sort(order[: len(order) // 2]), np.sort(order[len(order) // 2 :])
    key = hashlib.sha256(f"{whole.manifest.checksums}|{args.seed}".encode()).hexdigest()[:12]
    home = settings.cache_dir() / "merged-halves"
    parts = [Retrievers(half_index(whole, rows, home / f"{dataset.name}-{key}-{n}"), encoder) for n, rows in enumerate(halves)]
    print(f"{dataset.name}: {len(whole.passages):,} passages; halves of {len(halves[0]):,} and {len(halves[1]):,}; "
          f"{sum(1 for q in dataset.queries if q.id in dataset.qrels)} test questions", flush=True)
    print("| mode | one index nDCG@10 | two collections as one | difference | same top 10 | largest score difference there "
          "| each half's own ranking merged on score: nDCG@10 | its same top 10 |")
    print("|---|---|---|---|---|---|---|---|")
    for mode in args.mode or ["fused"]:
        single, merged, naive = {}, {}, {}
        same, same_naive, largest = 0, 0, 0.0
        judged = [q for q in dataset.queries if q.id in dataset.qrels]
        for labelled in judged:
            query = Query(labelled.text)
            ranked = one.get(mode).rank(query, DEPTH)[:DEPTH]
            across = rank_across(parts, query, mode, DEPTH)
            own = sorted(((n, pid, score) for n, part in enumerate(parts) for pid, score in part.get(mode).rank(query, DEPTH)[:DEPTH]),
                          key=lambda item: -item[2])[:DEPTH]
            single[labelled.id] = [whole.passage(pid).doc for pid, _ in ranked]
            merged[labelled.id] = [parts[n].index.passage(pid).doc for n, pid, _ in across]
            naive[labelled.id] = [parts[n].index.passage(pid).doc for n, pid, _ in own]
            same_naive += single[labelled.id] == naive[labelled.id]
            if single[labelled.id] == merged[labelled.id]:
                same += 1
                largest = max([largest, *(abs(a[1] - b[2]) for a, b in zip(ranked, across, strict=True))])
        a, b, c = ndcg(single, dataset.qrels), ndcg(merged, dataset.qrels), ndcg(naive, dataset.qrels)
        print(f"| {mode} | {a:.4f} | {b:.4f} | {b - a:+.4f} | {same} of {len(judged)} | {largest:.1e} | {c:.4f} | {same_naive} of {len(judged)} |",
              flush=True)
    print(subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip())


if __name__ == "__main__":
    sys.exit(main())
