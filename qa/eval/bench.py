"""Retrieval quality and speed of every mode on one labelled dataset, measured in one run.

Quality metrics come from ranx (trec_eval definitions); the significance test is ranx's paired
Student's t-test of the best mode against each other mode.
"""

from __future__ import annotations

import hashlib
import json
import re
import resource
import statistics
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from qa import lexicon, pipeline, settings
from qa.answer import AnswerPolicy
from qa.chunking import SPLITTER_VERSION
from qa.encoders import ModelSpec, load_encoder, resolve_model
from qa.eval.datasets import NO_GOLD, Dataset, LabelledQuery
from qa.eval.squad import abstention_curve
from qa.index import FORMAT_VERSION, EncoderFactory, StoredIndex, build_index, build_index_from_passages, load_index, read_manifest
from qa.query import Query
from qa.ranking import MODES, Retrievers
from qa.stores import DEFAULT_STORE, StoreTarget
from qa.text import history_read

METRICS = ("ndcg@10", "recall@1", "recall@5", "recall@10", "recall@100", "mrr@10")
PLOT_CUTOFFS = (1, 2, 3, 5, 10, 20, 30, 50, 100)
DEPTH = 100
ANSWER_K = 5

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass
class ModeResult:
    mode: str
    metrics: dict[str, float]
    latency_p50_ms: float
    latency_p95_ms: float
    recall_curve: dict[int, float] = field(default_factory=dict)
    p_values: dict[str, float] = field(default_factory=dict)  # against the best mode; empty for the best
    seeds: dict[str, float] = field(default_factory=dict)  # answering measures (seeds and SQuAD-format sets)
    by_question_word: dict[str, dict[str, float]] = field(default_factory=dict)  # SQuAD-format sets: the same per question word
    # SQuAD-format sets: abstention against its threshold (qa.eval.squad.CurvePoint), and the bot's threshold
    abstention_curve: list[dict[str, float]] = field(default_factory=list)
    operating_point: float | None = None
    run: dict[str, list[tuple[str, float]]] = field(default_factory=dict, repr=False)


@dataclass
class BenchResult:
    dataset: str
    split: str
    model: str
    queries: int
    judged_queries: int
    passages: int
    build_seconds: float  # model loading excluded
    passages_per_second: float
    index_cached: bool
    peak_memory_mb: float
    best_mode: str
    modes: list[ModeResult]

    def to_dict(self) -> dict:
        """JSON-ready: no per-query runs, and NaN (an undefined p-value or rate) as null."""
        data = asdict(self)
        for mode in data["modes"]:
            mode.pop("run")
        return _without_nan(data)


def _without_nan(value):
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {key: _without_nan(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_nan(item) for item in value]
    return value


def default_cache_dir() -> Path:

    return settings.cache_dir() / "bench"


def run_bench(
    dataset: Dataset,
    *,
    model: str | None = None,
    modes: Sequence[str] | None = None,
    limit: int | None = None,
    cache_dir: Path | None = None,
    split: str = "test",
    progress: Progress | None = None,
    encoder_factory: EncoderFactory = load_encoder,
    policy: AnswerPolicy = AnswerPolicy(),
    store: StoreTarget | None = None,
) -> BenchResult:
    """modes: the ranking modes measured (None: every registered one); store: the vector store of
    the benchmark index (None: FAISS); a Milvus location gets one collection name per dataset."""
    spec = resolve_model(model)
    encoders: dict[str, object] = {}

    def shared_encoder(s: ModelSpec):
        if s.name not in encoders:
            encoders[s.name] = encoder_factory(s)
        return encoders[s.name]

    index_dir, store = _store_path(_cache_path(cache_dir or default_cache_dir(), dataset, spec), store)
    index, build_seconds, built_passages, cached = _prepare_index(dataset, index_dir, spec, shared_encoder, progress, store)
    retrievers = Retrievers(index, shared_encoder(spec))
    queries = dataset.queries[:limit] if limit else dataset.queries
    judged = [q for q in queries if q.id in dataset.qrels]
    gold_of = _gold_mapper(dataset, index)
    seeds = dataset.name == "seeds"
    squad = dataset.documents is not None
    idf = lexicon.load_idf(index.directory, index.manifest.lexicon) if seeds or squad else {}
    results = []
    for mode in modes or list(MODES):
        retriever = retrievers.get(mode)
        retriever.rank(Query(queries[0].text, queries[0].history), DEPTH)  # warm up (BM25 build, first encode)
        # Each mode reads fresh queries: its latency counts encoding the question, as the bot's does.
        asked = {query.id: _query(query) for query in queries}
        rankings, latencies = {}, []
        for done, query in enumerate(queries, start=1):
            started = time.perf_counter()
            ranking = retriever.rank(asked[query.id], DEPTH)
            latencies.append((time.perf_counter() - started) * 1000)
            rankings[query.id] = ranking
            if progress:
                progress(f"querying {dataset.name} · {mode}", done, len(queries))
        run = {qid: _dedupe([(gold_of(qid, row), score) for row, score in ranking]) for qid, ranking in rankings.items()}
        result = ModeResult(
            mode=mode, metrics={}, latency_p50_ms=statistics.median(latencies),
            latency_p95_ms=_percentile(latencies, 95), run=run,
        )
        if seeds or squad:
            answers = {q.id: pipeline.answer(retrievers, asked[q.id], pipeline.hits_of(index, rankings[q.id][:ANSWER_K]), idf=idf, policy=policy)
                       for q in queries}
        if seeds:
            result.seeds = _seed_measures(queries, rankings, answers, dataset, gold_of)
        if squad:
            result.seeds, result.by_question_word = _squad_measures(queries, answers)
            result.operating_point = policy.abstention.min_probability
            curve = abstention_curve([(answers[q.id], q) for q in queries], also=[result.operating_point])
            result.abstention_curve = [asdict(point) for point in curve]
        results.append(result)
    _score(results, dataset, judged)
    best = max(results, key=lambda r: r.metrics["ndcg@10"]).mode
    _significance(results, dataset, judged, best)
    return BenchResult(
        dataset=dataset.name, split=split, model=spec.name,
        queries=len(queries), judged_queries=len(judged), passages=len(index.passages),
        build_seconds=build_seconds, passages_per_second=built_passages / build_seconds if build_seconds else 0.0,
        index_cached=cached, peak_memory_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        best_mode=best, modes=results,
    )


def _query(labelled: LabelledQuery) -> Query:
    """A benchmark question as the bot reads it, with the earlier questions it leans on (its text as
    written: a benchmark's questions are not checked as a user's are)."""
    return Query(labelled.text, tuple(history_read(labelled.text, labelled.history)))


def bench_index(dataset: Dataset, *, model: str | None = None, cache_dir: Path | None = None,
                encoder_factory: EncoderFactory = load_encoder) -> tuple[StoredIndex, Retrievers]:
    """The cached index of a dataset (built on first use) and its retrievers, for tuning scripts."""
    spec = resolve_model(model)
    encoder = encoder_factory(spec)
    index_dir = _cache_path(cache_dir or default_cache_dir(), dataset, spec)
    index = _prepare_index(dataset, index_dir, spec, lambda s: encoder, None)[0]
    return index, Retrievers(index, encoder)


def _cache_path(cache_dir: Path, dataset: Dataset, spec: ModelSpec) -> Path:
    # The index format and the splitter (which cuts the sentences) are part of what was built.
    model_slug = hashlib.sha256(f"{spec.name}|format {FORMAT_VERSION}|splitter {SPLITTER_VERSION}".encode()).hexdigest()[:8]
    if dataset.documents is not None:
        digest = hashlib.sha256(json.dumps(sorted(dataset.documents.items())).encode()).hexdigest()[:12]
        return Path(cache_dir) / f"{dataset.name}-{digest}-{model_slug}"
    if dataset.passages is None or dataset.source is None:
        return Path(cache_dir) / f"{dataset.name}-{model_slug}"
    corpus = dataset.source / "corpus.jsonl"
    digest = hashlib.sha256(corpus.read_bytes()).hexdigest()[:12]
    return Path(cache_dir) / f"{dataset.name}-{digest}-{model_slug}"


def _store_path(index_dir: Path, store: StoreTarget | None) -> tuple[Path, StoreTarget]:
    """The cache folder and store of a benchmark index on another store than FAISS: a folder of its
    own, and in Milvus a collection named after it."""
    if store is None or store == DEFAULT_STORE:
        return index_dir, DEFAULT_STORE
    name = "bench_" + re.sub(r"[^A-Za-z0-9]", "_", index_dir.name)
    return index_dir.with_name(f"{index_dir.name}-{store.kind}"), replace(store, name=name) if store.uri else store


def _prepare_index(dataset, index_dir, spec, encoder_factory, progress, store: StoreTarget = DEFAULT_STORE) -> tuple[StoredIndex, float, int, bool]:
    """Index the dataset's corpus into the cache, unless an index for this corpus and model is there."""
    stats_file = index_dir / "build.json"
    on_bytes = (lambda done, total: progress(f"indexing {dataset.name}", done, total)) if progress else None
    if dataset.documents is not None:
        corpus_dir = index_dir.with_name(index_dir.name + "-corpus")
        _write_documents(dataset.documents, corpus_dir)
        report = build_index(corpus_dir, index_dir, spec.name, encoder_factory=encoder_factory, progress=on_bytes, store=store)
        cached = not report.changed
    elif dataset.passages is None:
        report = build_index(dataset.corpus_dir, index_dir, spec.name, encoder_factory=encoder_factory, progress=on_bytes, store=store)
        cached = not report.changed
    else:
        manifest = read_manifest(index_dir) if index_dir.exists() else None
        cached = manifest is not None and manifest.model == spec.name and manifest.format_version == FORMAT_VERSION and stats_file.exists()
        if not cached:
            on_count = (lambda done, total: progress(f"indexing {dataset.name}", done, total)) if progress else None
            report = build_index_from_passages(
                dataset.passages, index_dir, spec, source=str(dataset.source), encoder_factory=encoder_factory, progress=on_count,
                store=store,
            )
    if not cached:
        stats: dict[str, Any] = {"seconds": report.seconds - report.model_seconds, "passages": report.passages_embedded}
        stats_file.write_text(json.dumps(stats))
    stats = json.loads(stats_file.read_text()) if stats_file.exists() else {"seconds": 0.0, "passages": 0}
    return load_index(index_dir), stats["seconds"], stats["passages"], cached


def _write_documents(documents: dict[str, str], folder: Path) -> None:
    """The documents of a SQuAD-format set as .txt files, so they are indexed as a user's files are."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in documents.items():
        path = folder / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")


def _gold_mapper(dataset: Dataset, index: StoredIndex) -> Callable[[str, int], str]:
    """The id a row retrieved for a query counts as: the corpus id for BEIR; for the seeds, the
    query's gold span that the passage contains (so labels survive changes to the splitter), else
    the passage's own id."""
    if dataset.passages is not None:
        return lambda qid, pid: index.passage(pid).doc

    def gold_id(qid: str, row: int) -> str:
        passage = index.passage(row)
        for gid in dataset.qrels.get(qid, {}):
            doc, start, end = dataset.gold_spans[gid]
            if doc == passage.doc and passage.start <= start and end <= passage.end:
                return gid
        return passage.id

    return gold_id


def _dedupe(ranking: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """Keep each id at its best rank (overlapping windows can hold the same gold span)."""
    seen, kept = set(), []
    for doc_id, score in ranking:
        if doc_id not in seen:
            seen.add(doc_id)
            kept.append((doc_id, score))
    return kept


def _ranx_run(run: dict[str, list[tuple[str, float]]], query_ids: list[str], name: str):
    from ranx import Run

    # Scores from the rank, so ties in the raw scores cannot reorder the list.
    data = {qid: {doc: float(len(run[qid]) - i) for i, (doc, _) in enumerate(run[qid])} or {"-": 0.0} for qid in query_ids}
    return Run.from_dict(data, name=name)


def evaluate_rankings(
    qrels: dict[str, dict[str, int]], run: dict[str, list[tuple[str, float]]], metrics: Sequence[str] = METRICS
) -> dict[str, float]:
    """Mean of each metric over the judged queries; a judged query missing from run scores zero."""
    from ranx import Qrels, evaluate

    query_ids = sorted(qrels)
    full_run = {qid: run.get(qid, []) for qid in query_ids}
    with warnings.catch_warnings():
        # ranx's numba kernels warn about a harmless integer cast when they are compiled.
        warnings.filterwarnings("ignore", message="unsafe cast from uint64 to int64")
        scores = evaluate(Qrels.from_dict(qrels), _ranx_run(full_run, query_ids, "run"), list(metrics))
    return {m: float(scores[m]) for m in metrics} if len(metrics) > 1 else {metrics[0]: float(scores)}


def _judged_qrels(dataset: Dataset, queries: list[LabelledQuery]) -> dict[str, dict[str, int]]:
    return {q.id: dataset.qrels[q.id] for q in queries}


def _score(results: list[ModeResult], dataset: Dataset, judged: list[LabelledQuery]) -> None:
    qrels = _judged_qrels(dataset, judged)
    curve = [f"recall@{k}" for k in PLOT_CUTOFFS]
    for result in results:
        scores = evaluate_rankings(qrels, result.run, list(dict.fromkeys([*METRICS, *curve])))
        result.metrics = {m: scores[m] for m in METRICS}
        result.recall_curve = {k: scores[f"recall@{k}"] for k in PLOT_CUTOFFS}
        followups = [q for q in judged if q.kind == "followup"]
        if followups:
            result.seeds["followup_recall@5"] = evaluate_rankings(_judged_qrels(dataset, followups), result.run, ["recall@5"])["recall@5"]


def _significance(results: list[ModeResult], dataset: Dataset, judged: list[LabelledQuery], best: str) -> None:
    if len(results) < 2 or len(judged) < 2:
        return
    from ranx import Qrels, compare

    query_ids = [q.id for q in judged]
    runs = [_ranx_run(r.run, query_ids, r.mode) for r in results]
    qrels = Qrels.from_dict(_judged_qrels(dataset, judged))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="unsafe cast from uint64 to int64")
        report = compare(qrels, runs, metrics=list(METRICS), stat_test="student", max_p=0.05).to_dict()
    for result in results:
        if result.mode != best:
            result.p_values = {m: float(p) for m, p in report[best]["comparisons"][result.mode].items()}


def _seed_measures(queries, rankings, answers, dataset, gold_of) -> dict[str, float]:
    """Abstention, multi-document coverage and answer spans, as the bot would answer with this mode."""
    answerable = unanswerable = wrongly_abstained = rightly_abstained = 0
    multi_gold = multi_found = factoids = answers_with_span = 0
    for query in queries:
        answer = answers[query.id]
        if query.kind == NO_GOLD:
            unanswerable += 1
            rightly_abstained += answer.abstained
            continue
        answerable += 1
        wrongly_abstained += answer.abstained
        if query.kind == "multi":
            found = {gold_of(query.id, row) for row, _ in rankings[query.id][:ANSWER_K]}
            multi_gold += len(dataset.qrels[query.id])
            multi_found += len(found & set(dataset.qrels[query.id]))
        if query.answer:
            factoids += 1
            answers_with_span += (not answer.abstained) and query.answer in answer.text
    measures = {
        "abstained_unanswerable": rightly_abstained / unanswerable if unanswerable else float("nan"),
        "abstained_answerable": wrongly_abstained / answerable if answerable else float("nan"),
    }
    if multi_gold:
        measures["multi_gold_in_top5"] = multi_found / multi_gold
    if factoids:
        measures["factoid_answer_has_span"] = answers_with_span / factoids
    return measures


def _squad_measures(queries, answers) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """How often the answer, and its first quoted sentence, contain a gold answer (SQuAD's
    normalisation); how often the bot abstains on answerable questions and on those from articles
    left out of the index; and the same per question word."""
    from qa.eval.squad import AnswerTally
    from qa.question_types import question_word

    tallies: dict[str, AnswerTally] = {}
    for query in queries:
        for key in ("all", question_word(query.text)):
            tallies.setdefault(key, AnswerTally()).add(answers[query.id], query)

    overall = tallies.pop("all").rates()
    return overall, {word: tally.rates() for word, tally in sorted(tallies.items(), key=lambda kv: -kv[1].questions)}


def _percentile(values: list[float], pct: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def write_trec_runs(result: BenchResult, folder: Path) -> list[Path]:
    """One TREC run file per mode: `qid Q0 docid rank score tag`."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for mode in result.modes:
        path = folder / f"{result.dataset}-{mode.mode}.trec"
        with path.open("w", encoding="utf-8") as handle:
            for qid, ranking in mode.run.items():
                for rank, (doc_id, score) in enumerate(ranking, start=1):
                    handle.write(f"{qid} Q0 {doc_id} {rank} {score:.6f} {mode.mode}\n")
        paths.append(path)
    return paths


def plot_abstention(results: list[BenchResult], path: Path) -> None:
    """Abstention on unanswerable questions against false abstention on answerable ones, as the
    threshold moves: one panel per dataset with a curve, its modes' curves, the bot's threshold marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [result for result in results if result.modes and result.modes[0].abstention_curve]
    figure, axes = plt.subplots(1, len(shown), figsize=(5.5 * len(shown), 4.4), squeeze=False)
    for axis, result in zip(axes[0], shown, strict=True):
        for mode in result.modes:
            curve = mode.abstention_curve
            for key, style, label in (("near_miss", "-", "near-miss"), ("off_topic", "--", "off-topic")):
                if any(point[key] == point[key] for point in curve):  # NaN when the set has none of them
                    axis.plot([p["false_abstention"] for p in curve], [p[key] for p in curve], style, label=f"{mode.mode}, {label}")
                    at = next((p for p in curve if p["threshold"] == mode.operating_point), None)
                    if at is not None:
                        axis.plot([at["false_abstention"]], [at[key]], "o", color="black")
                        axis.annotate(f"threshold {at['threshold']:.3f}", (at["false_abstention"], at[key]),
                                      textcoords="offset points", xytext=(6, -12), fontsize=8)
        axis.set_xlim(0, 0.5)
        axis.set_ylim(0, 1.02)
        axis.set_xlabel("answerable questions abstained on (false)")
        axis.set_ylabel("unanswerable questions abstained on")
        axis.set_title(f"{result.dataset}: abstention as the threshold moves")
        axis.grid(True, alpha=0.3)
        axis.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def plot_recall(results: list[BenchResult], path: Path) -> None:
    """Recall@k against k, one curve per mode, one panel per dataset."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(results), figsize=(5.5 * len(results), 4.2), squeeze=False)
    for axis, result in zip(axes[0], results, strict=True):
        for mode in result.modes:
            ks = sorted(mode.recall_curve)
            axis.plot(ks, [mode.recall_curve[k] for k in ks], marker="o", markersize=3, label=mode.mode)
        axis.set_xscale("log")
        axis.set_xticks(list(PLOT_CUTOFFS), [str(k) for k in PLOT_CUTOFFS])
        axis.set_ylim(0, 1.02)
        axis.set_xlabel("k (passages retrieved)")
        axis.set_ylabel("Recall@k")
        axis.set_title(f"{result.dataset} ({result.judged_queries} queries)")
        axis.grid(True, alpha=0.3)
        axis.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
