"""What the context in front of each passage (title · section) is worth, on the seeds dev and test splits.

    .venv/bin/python benchmarks/context_ablation.py stock|bare|dated

stock: the passage text as indexed ("title · section\\ntext", sentences as "title\\nsentence");
bare: the text alone, for passages and sentences; dated: the document's date added to the context.
Each variant builds its own seeds index in a temporary cache and runs qa.bench on it.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import qa.index.builder
import qa.schema
from qa.eval.bench import run_bench
from qa.eval.datasets import load_seed_questions
from qa.sentences import sentence_texts

VARIANTS = ("stock", "bare", "dated")
SEED_MEASURES = ("followup_recall@5", "multi_gold_in_top5", "abstained_unanswerable", "abstained_answerable")


def _dated(passage: qa.schema.Passage) -> str:
    context = " · ".join(part for part in (passage.title, passage.section, passage.date) if part)
    return f"{context}\n{passage.text}" if context else passage.text


def main() -> int:
    variant = sys.argv[1] if len(sys.argv) > 1 else "stock"
    if variant not in VARIANTS:
        print(f"choose one of: {', '.join(VARIANTS)}", file=sys.stderr)
        return 2
    # The variants replace what the indexer and BM25 read; the cited span stays the passage text.
    if variant == "bare":
        qa.schema.Passage.embedding_text = lambda passage: passage.text
        qa.index.builder.sentence_texts = lambda title, text: sentence_texts("", text)
    elif variant == "dated":
        qa.schema.Passage.embedding_text = _dated
    cache = Path(tempfile.mkdtemp())
    for split in ("dev", "test"):
        dataset = load_seed_questions(Path("benchmarks/seeds/questions.jsonl"), Path("seeds"), split)
        result = run_bench(dataset, modes=("fused", "dense", "bm25"), cache_dir=cache, split=split)
        for mode in result.modes:
            metrics = " ".join(f"{k} {mode.metrics[k]:.3f}" for k in ("ndcg@10", "recall@5", "mrr@10"))
            seeds = " ".join(f"{k} {mode.seeds[k]:.3f}" for k in SEED_MEASURES)
            print(f"{variant} {split} {mode.mode} {metrics} {seeds}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
