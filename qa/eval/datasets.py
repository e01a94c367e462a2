"""Labelled question sets for `qa bench`: BEIR folders, SQuAD-format files, and our own questions over the seeds.

A BEIR folder holds corpus.jsonl, queries.jsonl and qrels/<split>.tsv. Only the queries judged in
the chosen split are evaluated, and a retriever sees only a query's text: SciFact's query
metadata names the gold documents.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from qa.errors import QAError
from qa.schema import Passage

NO_GOLD = "unanswerable"  # asked of an index without the question's article: off-topic
NEAR_MISS = "near-miss"  # SQuAD 2.0's unanswerable questions, asked of their own article: near-topic
UNANSWERABLE = frozenset({NO_GOLD, NEAR_MISS})


class DatasetError(QAError):
    """A benchmark file is missing or malformed."""


@dataclass(frozen=True, slots=True)
class LabelledQuery:
    """A benchmark question with what counts as its answer."""

    id: str
    text: str
    history: tuple[str, ...] = ()
    kind: str | None = None  # seeds: paraphrase, keyword, factoid, multi, followup, unanswerable; SQuAD: squad, unanswerable, near-miss
    answer: str | None = None  # seeds factoids: a span the answer should contain
    answers: tuple[str, ...] = ()  # SQuAD: the gold answers (any one counts)
    plausible: tuple[str, ...] = ()  # SQuAD 2.0 near-misses: the span a careless reader would quote

    @property
    def answerable(self) -> bool:
        return self.kind not in UNANSWERABLE


@dataclass(frozen=True)
class Dataset:
    name: str
    queries: list[LabelledQuery]
    qrels: dict[str, dict[str, int]]  # query id -> gold id -> grade (> 0)
    passages: list[Passage] | None = None  # BEIR: one passage per document; seeds: None (indexed from files)
    corpus_dir: Path | None = None
    gold_spans: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # seeds: gold id -> (doc, start, end)
    source: Path | None = None
    documents: dict[str, str] | None = None  # SQuAD: file name -> text, written to a folder and indexed like the seeds


def _jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    if not path.exists():
        raise DatasetError(f"missing file: {path}")
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise DatasetError(f"{path}:{number}: malformed JSON ({error.msg})") from error
            if not isinstance(record, dict):
                raise DatasetError(f"{path}:{number}: expected a JSON object")
            yield number, record


def load_beir(folder: Path, split: str = "test") -> Dataset:
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"benchmark folder not found: {folder}")
    passages, seen = [], set()
    for number, record in _jsonl(folder / "corpus.jsonl"):
        if "_id" not in record:
            raise DatasetError(f"{folder / 'corpus.jsonl'}:{number}: no _id")
        doc_id = str(record["_id"])
        if doc_id in seen:
            raise DatasetError(f"{folder / 'corpus.jsonl'}:{number}: duplicate _id {doc_id!r}")
        seen.add(doc_id)
        text = str(record.get("text") or "")
        passages.append(Passage(doc=doc_id, title=str(record.get("title") or ""), date=None, section=None, start=0, end=len(text), text=text))
    if not passages:
        raise DatasetError(f"{folder / 'corpus.jsonl'}: no documents")
    qrels = _read_qrels(folder / "qrels" / f"{split}.tsv", seen)
    texts = {}
    for number, record in _jsonl(folder / "queries.jsonl"):
        if "_id" not in record or "text" not in record:
            raise DatasetError(f"{folder / 'queries.jsonl'}:{number}: a query needs _id and text")
        texts[str(record["_id"])] = str(record["text"])  # metadata is deliberately dropped
    if not texts:
        raise DatasetError(f"{folder / 'queries.jsonl'}: no queries")
    missing = sorted(set(qrels) - set(texts))
    if missing:
        raise DatasetError(f"{folder / 'qrels' / f'{split}.tsv'}: judgements for unknown query {missing[0]!r}")
    queries = [LabelledQuery(id=qid, text=texts[qid]) for qid in texts if qid in qrels]
    return Dataset(name=folder.name, queries=queries, qrels=qrels, passages=passages, source=folder)


def _read_qrels(path: Path, doc_ids: set[str]) -> dict[str, dict[str, int]]:
    if not path.exists():
        available = sorted(p.stem for p in path.parent.glob("*.tsv")) if path.parent.exists() else []
        raise DatasetError(f"missing judgements: {path}" + (f" (available splits: {', '.join(available)})" if available else ""))
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.reader(handle, delimiter="\t"), start=1):
            if not row or (number == 1 and row[0].strip().lower() in ("query-id", "query_id", "qid")):
                continue
            if len(row) < 3:
                raise DatasetError(f"{path}:{number}: expected query-id, corpus-id and score separated by tabs")
            qid, doc_id, grade = row[0].strip(), row[1].strip(), row[2].strip()
            try:
                grade_value = int(float(grade))
            except ValueError as error:
                raise DatasetError(f"{path}:{number}: score {grade!r} is not a number") from error
            if doc_id not in doc_ids:
                raise DatasetError(f"{path}:{number}: judgement for unknown document {doc_id!r}")
            if grade_value > 0:
                qrels.setdefault(qid, {})[doc_id] = grade_value
    if not qrels:
        raise DatasetError(f"{path}: no positive judgements")
    return qrels


def load_seed_questions(questions_file: Path, corpus_dir: Path, split: str | None = None) -> Dataset:
    """Our questions over the seeds; each gold is a document and a quoted span of it."""
    queries: list[LabelledQuery] = []
    qrels: dict[str, dict[str, int]] = {}
    gold_spans: dict[str, tuple[str, int, int]] = {}
    for number, record in _jsonl(Path(questions_file)):
        try:
            qid, question, kind = str(record["id"]), str(record["question"]), str(record["kind"])
        except KeyError as error:
            raise DatasetError(f"{questions_file}:{number}: missing field {error}") from error
        if split and record.get("split") != split:
            continue
        for gold in record.get("gold", []):
            path = Path(corpus_dir) / gold["doc"]
            try:
                source = path.read_text(encoding="utf-8")
            except OSError as error:
                raise DatasetError(f"{questions_file}:{number}: gold document not found: {gold['doc']}") from error
            start = source.find(gold["quote"])
            if start < 0:
                raise DatasetError(f"{questions_file}:{number}: quote not found in {gold['doc']}: {gold['quote'][:40]!r}")
            gold_id = f"{gold['doc']}@{start}"
            gold_spans[gold_id] = (gold["doc"], start, start + len(gold["quote"]))
            qrels.setdefault(qid, {})[gold_id] = 1
        if kind != NO_GOLD and qid not in qrels:
            raise DatasetError(f"{questions_file}:{number}: question {qid} has no gold passage")
        queries.append(LabelledQuery(id=qid, text=question, history=tuple(record.get("history", [])), kind=kind, answer=record.get("answer")))
    if not queries:
        raise DatasetError(f"{questions_file}: no questions" + (f" in split {split!r}" if split else ""))
    return Dataset(name="seeds", queries=queries, qrels=qrels, corpus_dir=Path(corpus_dir), gold_spans=gold_spans, source=Path(questions_file))


def parse_article_range(text: str) -> tuple[int, ...]:
    """"0-23" → articles 0 to 23 (inclusive); "5" → article 5 alone; "0-6,13" → both parts."""
    articles: set[int] = set()
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        try:
            start, stop = int(first), int(last or first)
        except ValueError:
            raise DatasetError(f"article range {text!r} is not FIRST-LAST[,FIRST-LAST…] (for example 0-23 or 0-6,13)") from None
        if start < 0 or stop < start:
            raise DatasetError(f"article range {text!r} is empty or negative; write FIRST-LAST with FIRST <= LAST")
        articles.update(range(start, stop + 1))
    return tuple(sorted(articles))


def describe_articles(articles: Sequence[int]) -> str:
    """"0-23", or "0-6,13": the articles as --articles writes them."""
    parts, start = [], None
    for position, number in enumerate(articles):
        start = number if start is None else start
        if position + 1 == len(articles) or articles[position + 1] != number + 1:
            parts.append(f"{start}-{number}")
            start = None
    return ",".join(parts)


def load_squad(
    path: Path,
    articles: Sequence[int] | None = None,
    *,
    per_article: int | None = 25,
    unanswerable_from: Sequence[int] | None = None,
    seed: int = 0,
) -> Dataset:
    """A SQuAD-format file (data → paragraphs → qas) as a benchmark: one document per article of the
    range, its paragraphs separated by blank lines; each question's gold is the span of its first
    answer. Questions of articles outside the range (all others, or unanswerable_from) are asked too,
    as unanswerable ones: their answer is in no indexed document. A SQuAD 2.0 file's own unanswerable
    questions (is_impossible) are asked of their article as near-misses (NEAR_MISS). per_article
    questions of each kind are drawn per article with a fixed seed (None: all of them)."""
    import random

    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
    except FileNotFoundError:
        raise DatasetError(f"SQuAD file not found: {path}") from None
    except (ValueError, KeyError, TypeError):
        raise DatasetError(f"{path}: not a SQuAD-format file (expected {{\"data\": [articles with paragraphs and qas]}})") from None
    if not isinstance(data, list) or not data:
        raise DatasetError(f"{path}: no articles under \"data\"")
    articles = tuple(articles) if articles is not None else tuple(range(len(data)))
    if not articles or max(articles) >= len(data):
        raise DatasetError(f"{path} has {len(data)} articles (0-{len(data) - 1}); the range {describe_articles(articles)} goes past them")
    outside = unanswerable_from if unanswerable_from is not None else [i for i in range(len(data)) if i not in articles]
    documents: dict[str, str] = {}
    queries: list[LabelledQuery] = []
    qrels: dict[str, dict[str, int]] = {}
    gold_spans: dict[str, tuple[str, int, int]] = {}
    rng = random.Random(seed)
    for number in sorted({*articles, *outside}):
        if number >= len(data):
            raise DatasetError(f"{path} has {len(data)} articles; article {number} does not exist")
        article = data[number]
        try:
            title = str(article["title"])
            doc = f"{number:03d}-{_file_stem(title)}.txt"
            text, asked, impossible = f"{title.replace('_', ' ')}\n\n", [], []
            for paragraph in article["paragraphs"]:
                offset = len(text)
                text += paragraph["context"] + "\n\n"
                for qa in paragraph["qas"]:
                    answers = [(str(a["text"]), int(a["answer_start"])) for a in qa.get("answers", [])]
                    if answers and not qa.get("is_impossible"):
                        asked.append((str(qa["id"]), str(qa["question"]).strip(), answers, offset))
                    elif qa.get("is_impossible"):
                        plausible = tuple(str(a["text"]) for a in qa.get("plausible_answers", []))
                        impossible.append((str(qa["id"]), str(qa["question"]).strip(), plausible))
        except (KeyError, TypeError, ValueError):
            raise DatasetError(f"{path}: article {number} lacks title, paragraphs/context or qas/question/answers") from None
        if per_article is not None and len(asked) > per_article:
            asked = rng.sample(asked, per_article)
        # Drawn after the answerable ones, so a file without them (SQuAD v1.1) draws as it always did.
        if per_article is not None and len(impossible) > per_article:
            impossible = rng.sample(impossible, per_article)
        answerable = number in articles
        if answerable:
            documents[doc] = text
            queries.extend(LabelledQuery(id=qid, text=question, kind=NEAR_MISS, plausible=plausible) for qid, question, plausible in impossible)
        for qid, question, answers, offset in asked:
            if not answerable:
                queries.append(LabelledQuery(id=qid, text=question, kind=NO_GOLD, answers=tuple(a for a, _ in answers)))
                continue
            answer, start = answers[0]
            start += offset
            if text[start : start + len(answer)] != answer:  # a few SQuAD offsets are off; find the text instead
                start = text.find(answer, offset)
            gold_id = f"{doc}@{start}"
            gold_spans[gold_id] = (doc, start, start + len(answer))
            qrels[qid] = {gold_id: 1}
            queries.append(LabelledQuery(id=qid, text=question, kind="squad", answers=tuple(a for a, _ in answers)))
    if not documents:
        raise DatasetError(f"{path}: no articles in the range {describe_articles(articles)}")
    return Dataset(name=f"squad-{describe_articles(articles)}", queries=queries, qrels=qrels,
                   gold_spans=gold_spans, source=path, documents=documents)


def _file_stem(title: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in title)[:60] or "article"
