"""A 1,000,000-passage index with real text, for `fused` at that size: the passages of a real-text
index (benchmarks/scale_corpus.py, then `qa index`), then copies of its passages that are not
SciFact's, each copy with its text and with its passage and sentence vectors perturbed as
benchmarks/speed.py makes its million (same cosine to the source as a real nearest neighbour).

    python benchmarks/scale_million.py $C/idx $C/idx1m --total 1000000
    python benchmarks/scale_bench.py $C/idx1m

BM25 indexes every copy's text, so it runs over a million real-text passages; a copy repeats its
source's text (BM25 sees duplicates, which a real corpus has fewer of), under its own document name
`copies/<n>/<doc>`. SciFact's documents are never copied, so its judged documents stay unique and
`benchmarks/scale_bench.py` measures its questions against 995,000 distractors.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import speed

from qa.index import IndexDirectory, load_index

BLOCK = 16_384


def counts_of(block_ids: np.ndarray, owners: np.ndarray) -> list[int]:
    return np.bincount(owners, minlength=len(block_ids)).tolist()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="a FAISS index of a benchmarks/scale_corpus.py folder")
    parser.add_argument("target", type=Path, help="the new index directory (must not exist)")
    parser.add_argument("--total", type=int, default=1_000_000)
    args = parser.parse_args()

    started = time.perf_counter()
    source = load_index(args.source)
    store, ids, manifest = source.store, source.ids, source.manifest
    rng = np.random.default_rng(7)
    perturb = speed.Perturbation(np.asarray(store.vectors(ids[rng.choice(len(ids), min(50_000, len(ids)), replace=False)])), rng)
    print(f"{len(ids):,} source passages; copies at cosine {perturb.neighbour_cos:.3f} to their source ({speed.uptime()})", flush=True)
    args.target.mkdir(parents=True)
    writer = IndexDirectory(args.target).begin(manifest.dimension, model=manifest.model)
    for first in range(0, len(ids), BLOCK):
        block = ids[first : first + BLOCK]
        sentences, owners = store.sentence_vectors(block)
        writer.add(list(source.passages[first : first + len(block)]), store.vectors(block), sentences, counts_of(block, owners))
    copyable = np.array([row for row, p in enumerate(source.passages) if not p.doc.startswith("scifact/")])
    made = 0
    while writer.count < args.total:
        rows = np.sort(rng.choice(copyable, size=min(BLOCK, args.total - writer.count, len(copyable)), replace=False))
        block = ids[rows]
        sentences, owners = store.sentence_vectors(block)
        passages = [replace(source.passages[row], doc=f"copies/{made + n}/{source.passages[row].doc}") for n, row in enumerate(rows)]
        writer.add(passages, perturb(store.vectors(block)), perturb(sentences), counts_of(block, owners))
        made += len(rows)
    print(f"{writer.count:,} passages added in {time.perf_counter() - started:.0f} s; committing (BM25 over all, ANN training)", flush=True)
    writer.commit(dict(model=manifest.model, dimension=manifest.dimension, splitter_version=manifest.splitter_version,
                       corpus_root=f"(simulated from {args.source})", files={}))
    print(f"done in {time.perf_counter() - started:.0f} s ({speed.uptime()})")


if __name__ == "__main__":
    main()
