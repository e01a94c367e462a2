"""Write a real-text corpus folder of a chosen size from the public collections, reproducibly.

    .venv/bin/python benchmarks/scale_corpus.py OUT --documents 1000          # ~1k passages (cranfield first)
    .venv/bin/python benchmarks/scale_corpus.py OUT --documents 10000         # ~10k passages
    .venv/bin/python benchmarks/scale_corpus.py OUT --sentences               # >= 100k passages

Every document of the five collections in ../shared/datasets (cranfield, cisi, scifact, nfcorpus,
SQuAD dev paragraphs) becomes one .txt file `<collection>/<id>.txt` holding "title\\n\\ntext", which
`qa index` splits as it splits any document. SciFact's documents are always written whole, so its
test queries and qrels can be run over the corpus (`qa bench` style); the other documents are
distractors. With --sentences, each sentence of every non-SciFact document is also written as a
document of its own (`<collection>-sentences/<id>-<n>.txt`), which takes the corpus past 100,000
passages. The order is fixed (collections in the order above, documents in file order), so a given
--documents N always gives the same corpus. Keep OUT outside the repository.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COLLECTIONS = ("cranfield", "cisi", "scifact", "nfcorpus", "squad-dev")


def documents(datasets: Path, name: str) -> Iterator[tuple[str, str, str]]:
    """(id, title, text) of each document of a collection, in file order."""
    if name == "squad-dev":
        data = json.loads((datasets / name / "dev-v1.1.json").read_text(encoding="utf-8"))
        for article_number, article in enumerate(data["data"]):
            for paragraph_number, paragraph in enumerate(article["paragraphs"]):
                yield f"{article_number}-{paragraph_number}", article["title"].replace("_", " "), paragraph["context"]
        return
    with (datasets / name / "corpus.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            yield str(record["_id"]), record.get("title") or "", record.get("text") or ""


def safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:100]


def write(out: Path, folder: str, doc_id: str, title: str, text: str) -> bool:
    if not text.strip():
        return False
    path = out / folder / f"{safe(doc_id)}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{title.strip()}\n\n{text.strip()}\n" if title.strip() else f"{text.strip()}\n", encoding="utf-8")
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the corpus folder to write (outside the repository)")
    parser.add_argument("--datasets", type=Path, default=REPO.parent / "shared" / "datasets", help="the public collections")
    parser.add_argument("--documents", type=int, default=0, help="stop after this many documents (0: all)")
    parser.add_argument("--sentences", action="store_true", help="also each sentence of non-SciFact documents as a document")
    args = parser.parse_args()
    from qa.sentences import sentence_spans

    written = sentences = 0
    limit = args.documents or None
    for name in COLLECTIONS:
        for doc_id, title, text in documents(args.datasets, name):
            if limit is not None and written >= limit:
                break
            written += write(args.out, name, doc_id, title, text)
            if args.sentences and name != "scifact":
                for number, (start, end) in enumerate(sentence_spans(text)):
                    sentences += write(args.out, f"{name}-sentences", f"{doc_id}-{number}", title, text[start:end])
    print(f"{written:,} documents and {sentences:,} sentence documents in {args.out}")


if __name__ == "__main__":
    main()
