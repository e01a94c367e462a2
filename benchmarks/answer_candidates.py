"""Dump, for every question of a corpus, the passages the bot would answer from, so that the answer
side (sentence selector, answer-type cues, abstention) can be fitted offline without re-running retrieval.

    .venv/bin/python benchmarks/answer_candidates.py squad PATH.json OUT.jsonl --articles 0-17 --unanswerable-from 18-23 --per-article 100
    .venv/bin/python benchmarks/answer_candidates.py seeds OUT.jsonl
    .venv/bin/python benchmarks/answer_candidates.py realdocs FOLDER QUESTIONS.jsonl OUT.jsonl

The first line is {"idf": the corpus's IDF}; then one line per question: {"corpus", "id", "question", "history",
"answerable", "kind", "answers", "split", "hits": [{"score", "sentence_scores" (qa.schema.Hit), and the passage's fields}...], "closeness": {"passage", "sentence", "margin"}}
(qa.schema.Closeness, as the bot reads it).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, replace
from pathlib import Path

from qa import pipeline
from qa.answer import AnswerPolicy
from qa.eval.bench import ANSWER_K, bench_index
from qa.eval.datasets import NO_GOLD, Dataset, LabelledQuery, load_seed_questions, load_squad, parse_article_range
from qa.query import Query
from qa.ranking import DEFAULT_MODE
from qa.schema import Hit
from qa.text import inverse_document_frequencies


def realdocs_dataset(folder: Path, questions: Path) -> Dataset:
    """The real-document set: a question's gold is a quote ("answer") of one document ("doc"), or null
    when the documents do not answer it."""
    queries = []
    present = {p.name for p in folder.iterdir()}
    for line in questions.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            if record["doc"] in present:  # a source missing on this machine is skipped
                answer = record.get("answer")  # null: a question the documents do not answer
                queries.append(LabelledQuery(id=str(record["id"]), text=record["question"], kind="realdocs" if answer else NO_GOLD,
                                     answers=(answer,) if answer else ()))
    return Dataset(name="realdocs", queries=queries, qrels={}, corpus_dir=folder, source=questions)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", choices=("squad", "seeds", "realdocs"))
    parser.add_argument("paths", nargs="+", type=Path, help="the inputs, then the output file")
    parser.add_argument("--articles", default="0-17")
    parser.add_argument("--unanswerable-from", default="18-23")
    parser.add_argument("--per-article", type=int, default=100)
    args = parser.parse_args()
    *inputs, out = args.paths
    if args.corpus == "squad":
        dataset = load_squad(inputs[0], parse_article_range(args.articles), per_article=args.per_article,
                             unanswerable_from=parse_article_range(args.unanswerable_from))
        splits = {}
    elif args.corpus == "seeds":
        questions = Path("benchmarks/seeds/questions.jsonl")
        dataset = load_seed_questions(questions, Path("seeds"))
        records = [json.loads(line) for line in questions.read_text(encoding="utf-8").splitlines() if line.strip()]
        splits = {str(record["id"]): record.get("split") for record in records}
        # A factoid's expected span is its gold answer here.
        dataset = replace(dataset, queries=[replace(q, answers=(q.answer,) if q.answer else ()) for q in dataset.queries])
    else:
        dataset = realdocs_dataset(*inputs)
        splits = {}
    index, retrievers = bench_index(dataset)
    retriever = retrievers.get(DEFAULT_MODE)
    idf = inverse_document_frequencies([p.text for p in index.passages])
    with out.open("w", encoding="utf-8") as handle:
        handle.write(json.dumps({"idf": idf}) + "\n")
        for query in dataset.queries:
            # Every earlier question read (this script's record keeps them all), as its answers were recorded.
            asked = Query(query.text, tuple(h for h in query.history if h.strip()))
            top = retriever.rank(asked, ANSWER_K)
            hits = pipeline.with_sentence_scores(retrievers.dense, asked, [
                Hit(rank=i, score=float(score), passage=index.passage(pid), passage_id=pid) for i, (pid, score) in enumerate(top, start=1)
            ], AnswerPolicy().passages_considered)
            hits = [{"score": hit.score, "sentence_scores": list(hit.sentence_scores), **asdict(hit.passage)} for hit in hits]
            handle.write(json.dumps({
                "corpus": args.corpus, "id": query.id, "question": query.text, "history": list(query.history),
                "answerable": query.answerable, "kind": query.kind, "answers": list(query.answers), "split": splits.get(query.id),
                "hits": hits, "closeness": asdict(retrievers.dense.closeness(asked)),
            }) + "\n")
    print(f"{len(dataset.queries)} questions → {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
