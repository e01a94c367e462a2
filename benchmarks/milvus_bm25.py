"""How close Milvus's BM25 comes to the bot's bm25s ranking, with each way of analysing the text.

For a BEIR folder, ranks every test query three ways and reports nDCG@10, Recall@100 and the mean
overlap of each top 10 with bm25s's:
- bm25s: the bot's BM25 (qa.lexicon: words, English stop words out, Snowball-stemmed; k1 1.5, b 0.75);
- milvus-client-terms: Milvus's BM25 function over the tokens qa.lexicon produces, joined by spaces
  (what qa.stores.milvus_store stores); Milvus's standard tokenizer only splits them again;
- milvus-analyser: Milvus's BM25 function over the raw text with Milvus's own analyser, the closest
  configuration to bm25s: standard tokenizer, lowercase, bm25s's 33 English stop words, English
  stemmer. (Milvus Lite 3.2.2 tokenises on \\w+, lowercases and applies the stop list, but ignores
  the stemmer filter; a Milvus server applies it.)

Usage: .venv/bin/python benchmarks/milvus_bm25.py /work/shared/datasets/scifact [--db PATH.db]
No embedding model is loaded.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path, help="a BEIR folder (corpus.jsonl, queries.jsonl, qrels/test.tsv)")
    parser.add_argument("--db", type=Path, help="the Milvus Lite file to use (default: a temporary one)")
    args = parser.parse_args()

    from qa import lexicon
    from qa.eval.bench import evaluate_rankings
    from qa.eval.datasets import load_beir

    dataset = load_beir(args.dataset, "test")
    passages = dataset.passages
    queries = [q for q in dataset.queries if q.id in dataset.qrels]
    texts = [p.embedding_text() for p in passages]
    docs = [p.doc for p in passages]
    runs: dict[str, dict[str, list[tuple[str, float]]]] = {}
    seconds: dict[str, float] = {}

    started = time.perf_counter()
    model = lexicon.build_bm25(texts)
    runs["bm25s"] = {}
    for query in queries:
        tokens = lexicon.tokenize([query.text], return_ids=False)[0]
        scores = model.get_scores(tokens) if tokens else [0.0] * len(texts)
        ranked = sorted(range(len(texts)), key=lambda row: (-scores[row], row))[:100]
        runs["bm25s"][query.id] = [(docs[row], float(scores[row])) for row in ranked if scores[row] > 0]
    seconds["bm25s"] = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as scratch:
        client = _client(args.db or Path(scratch) / "bm25.db")
        terms = [" ".join(words) for words in lexicon.tokenize(texts, return_ids=False)]
        from bm25s.stopwords import STOPWORDS_EN

        analyser = {"tokenizer": "standard", "filter": ["lowercase", {"type": "stop", "stop_words": sorted(STOPWORDS_EN)},
                                                       {"type": "stemmer", "language": "english"}]}
        variants = {
            "milvus-client-terms": ({"tokenizer": "standard"}, terms, lambda text: " ".join(lexicon.tokenize([text], return_ids=False)[0])),
            "milvus-analyser": (analyser, texts, lambda text: text),
        }
        for name, (params, field_texts, query_text) in variants.items():
            started = time.perf_counter()
            collection = name.replace("-", "_")
            _collection(client, collection, params, field_texts, docs)
            runs[name] = {}
            for query in queries:
                text = query_text(query.text)
                hits = client.search(collection, data=[text], anns_field="sparse", limit=100, search_params={"metric_type": "BM25"},
                                     output_fields=["doc"])[0] if text.strip() else []
                runs[name][query.id] = [(hit["entity"]["doc"], abs(hit["distance"])) for hit in hits]
            seconds[name] = time.perf_counter() - started

    qrels = {q.id: dataset.qrels[q.id] for q in queries}
    report = {}
    for name, run in runs.items():
        metrics = evaluate_rankings(qrels, run, ["ndcg@10", "recall@100"])
        overlap = sum(len({d for d, _ in run[q.id][:10]} & {d for d, _ in runs["bm25s"][q.id][:10]}) / 10 for q in queries) / len(queries)
        report[name] = {**{k: round(v, 4) for k, v in metrics.items()}, "top10_overlap_with_bm25s": round(overlap, 4),
                        "seconds": round(seconds[name], 1)}
    print(json.dumps({"dataset": dataset.name, "queries": len(queries), "passages": len(passages), "variants": report}, indent=2))


def _client(path: Path):
    import logging

    from pymilvus import MilvusClient

    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    return MilvusClient(str(path))


def _collection(client, name: str, analyser: dict, texts: list[str], docs: list[str]) -> None:
    from pymilvus import DataType, Function, FunctionType

    if client.has_collection(name):
        client.drop_collection(name)
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("doc", DataType.VARCHAR, max_length=65_535)
    schema.add_field("text", DataType.VARCHAR, max_length=65_535, enable_analyzer=True, analyzer_params=analyser)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["text"], output_field_names=["sparse"]))
    indexes = client.prepare_index_params()
    indexes.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params={"bm25_k1": 1.5, "bm25_b": 0.75})
    client.create_collection(name, schema=schema, index_params=indexes, consistency_level="Strong")
    rows = [{"id": row, "doc": doc, "text": text} for row, (doc, text) in enumerate(zip(docs, texts, strict=True))]
    for first in range(0, len(rows), 1000):
        client.insert(name, rows[first : first + 1000])
    client.flush(name)


if __name__ == "__main__":
    main()
