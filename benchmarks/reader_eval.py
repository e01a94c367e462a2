"""Offline evaluation of the reader (qa/reader.py): cross-validation on the tuning half, one report
on the reporting half, its latency, and the abstention signals beside it (qa/reader_signals.py).

    # 1. four fold models (benchmarks/train_reader.py --holdout-fold K --out CACHE/fold-K), then:
    .venv/bin/python benchmarks/reader_eval.py cv CACHE/fold-0 CACHE/fold-1 CACHE/fold-2 CACHE/fold-3 --out CACHE/cv.json
    # 2. once, with the shipped model and the thresholds chosen in step 1:
    .venv/bin/python benchmarks/reader_eval.py report --cv CACHE/cv.json --out CACHE/report.json
    # speed and size of a model (default: the shipped one)
    .venv/bin/python benchmarks/reader_eval.py latency

Each question is scored over every sentence of its own paragraph; its score is the largest. An
answerable question whose score falls below the threshold is a false abstention (FA); an unanswerable
one below it is abstained on. "Oracle" sets the threshold on the figures' own answerable questions
(the curve's shape); "held-out" sets it on other articles' out-of-fold scores (what a shipped cut
would do). In `cv`, fold K's questions are scored by the model trained without fold K; the held-out
rows there set each fold's threshold on the other three folds. In `report`, the thresholds are those
of all four folds' out-of-fold scores, and the scorer is the shipped model. Sentence picking: the
highest-scoring sentence holds a gold answer's start (answerable questions).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
import reader_data as rd

from qa.reader import MODEL_DIR, Reader

TARGETS = (0.01, 0.03, 0.05, 0.10)


@dataclass(frozen=True, slots=True)
class Scored:
    question: rd.Question
    scores: np.ndarray  # one per sentence of its paragraph

    @property
    def best(self) -> float:
        return float(self.scores.max())

    @property
    def picked(self) -> int:
        return int(self.scores.argmax())


def score_articles(reader: Reader, articles: Sequence[rd.Article], log=print) -> list[Scored]:
    scored, started = [], time.perf_counter()
    for article in articles:
        for q in article.questions:
            p = q.paragraph
            scored.append(Scored(q, reader.score(q.text, [(p.title, s) for s in p.sentences])))
        log(f"  scored {article.title} ({len(article.questions)} questions, {time.perf_counter() - started:.0f} s)")
    return scored


def lexical_scored(articles: Sequence[rd.Article]) -> list[Scored]:
    """The reference: IDF-weighted share of the question's words that each sentence holds."""
    out = []
    for article in articles:
        index = rd.ArticleIndex(article)
        for q in article.questions:
            out.append(Scored(q, np.array([index.overlap(q.text, s) for s in q.paragraph.sentences], dtype=np.float32)))
    return out


def auc(positive: Sequence[float], negative: Sequence[float]) -> float:
    """Probability that a random positive outscores a random negative (ties count half)."""
    pos, neg = np.asarray(positive, dtype=np.float64), np.asarray(negative, dtype=np.float64)
    if not len(pos) or not len(neg):
        return float("nan")
    values = np.concatenate([pos, neg])
    order = values.argsort(kind="mergesort")
    ranks = np.empty(len(values))
    sorted_values = values[order]
    # average ranks over ties
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and sorted_values[j + 1] == sorted_values[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def threshold_for(answerable: Sequence[float], target: float) -> float:
    """The cut below which at most target of these answerable scores fall."""
    values = np.sort(np.asarray(answerable, dtype=np.float64))
    k = int(np.floor(target * len(values)))
    return float(values[k]) if k < len(values) else float("inf")


def rates(answerable: Sequence[float], unanswerable: Sequence[float], threshold: float) -> tuple[float, float]:
    """(false abstention, abstention on unanswerable) when abstaining below threshold."""
    a, u = np.asarray(answerable), np.asarray(unanswerable)
    return float((a < threshold).mean()) if len(a) else float("nan"), float((u < threshold).mean()) if len(u) else float("nan")


def split(scored: Sequence[Scored], squad2_only: bool = True) -> tuple[list[float], list[float]]:
    kept = [s for s in scored if s.question.paragraph.article in rd.SQUAD2_TUNING or not squad2_only]
    return [s.best for s in kept if s.question.answerable], [s.best for s in kept if not s.question.answerable]


def picking(scored: Sequence[Scored]) -> float:
    answerable = [s for s in scored if s.question.answerable]
    return sum(s.picked in s.question.gold for s in answerable) / len(answerable) if answerable else float("nan")


def curve(answerable: Sequence[float], unanswerable: Sequence[float]) -> dict[str, float]:
    return {f"{t:.0%}": rates(answerable, unanswerable, threshold_for(answerable, t))[1] for t in TARGETS}


def summary(scored: Sequence[Scored], squad2: Sequence[Scored]) -> dict:
    a, u = [s.best for s in squad2 if s.question.answerable], [s.best for s in squad2 if not s.question.answerable]
    return {
        "answerable": len(a), "unanswerable": len(u), "auc": round(auc(a, u), 4),
        "oracle_abstention": {k: round(v, 4) for k, v in curve(a, u).items()},
        "picking_squad2": round(picking(squad2), 4), "picking_all": round(picking(scored), 4),
    }


def by_fold(scored: Sequence[Scored]) -> dict[int, list[Scored]]:
    out: dict[int, list[Scored]] = {}
    for s in scored:
        out.setdefault(rd.fold_of(s.question.article), []).append(s)
    return out


def cross_fold_thresholds(scored: Sequence[Scored]) -> dict:
    """For each fold, thresholds set on the other folds' answerable questions (all tuning articles)
    applied to this fold's SQuAD 2.0 questions; pooled FA and abstention."""
    folds = by_fold(scored)
    rows = {}
    for t in TARGETS:
        fa_n = fa_d = ab_n = ab_d = 0
        for k, own in folds.items():
            calibration = [s.best for j, rest in folds.items() if j != k for s in rest if s.question.answerable]
            cut = threshold_for(calibration, t)
            a, u = split(own)
            fa_n += sum(x < cut for x in a)
            fa_d += len(a)
            ab_n += sum(x < cut for x in u)
            ab_d += len(u)
        rows[f"{t:.0%}"] = {"fa": round(fa_n / fa_d, 4), "abstention": round(ab_n / ab_d, 4)}
    return rows


def bootstrap(answerable: Sequence[float], unanswerable: Sequence[float], threshold: float, rounds: int = 2000, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    a, u = np.asarray(answerable), np.asarray(unanswerable)
    fa = [float((rng.choice(a, len(a)) < threshold).mean()) for _ in range(rounds)]
    ab = [float((rng.choice(u, len(u)) < threshold).mean()) for _ in range(rounds)]
    return {"fa_95": [round(float(np.quantile(fa, q)), 4) for q in (0.025, 0.975)],
            "abstention_95": [round(float(np.quantile(ab, q)), 4) for q in (0.025, 0.975)]}


def save_scores(path: Path, scored: Sequence[Scored]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for s in scored:
            f.write(json.dumps({"id": s.question.id, "scores": [round(float(x), 5) for x in s.scores]}) + "\n")


def load_scores(path: Path, articles: Sequence[rd.Article]) -> list[Scored]:
    by_id = {q.id: q for a in articles for q in a.questions}
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        out.append(Scored(by_id[row["id"]], np.array(row["scores"], dtype=np.float32)))
    return out


# Orientation: +1 when a higher value means likelier answerable.
SIGNAL_SIGNS = {"reader_max": 1, "reader_margin": 1, "missing_specifics": -1, "missing_type": -1, "rare_coverage": 1}


def signal_figures(squad2: Sequence[Scored], articles: Sequence[rd.Article]) -> dict:
    """Each reader signal's AUC on the SQuAD 2.0 tuning questions (the reader's scores out of fold),
    oriented so that 0.5 is chance and higher is better; then a logistic model over them, scored
    article by article with the model fitted on the other articles, with and without each signal."""
    from sklearn.linear_model import LogisticRegression

    from qa.reader_signals import READER_SIGNAL_NAMES, reader_signals
    from qa.text import inverse_document_frequencies

    idf = inverse_document_frequencies([p.context for a in articles if a.title in rd.SQUAD2_TUNING for p in a.paragraphs])
    rows, labels, folds = [], [], []
    for s in squad2:
        p = s.question.paragraph
        signals = reader_signals(s.question.text, p.sentences, s.scores.tolist(), idf)
        rows.append([signals.as_dict()[name] for name in READER_SIGNAL_NAMES])
        labels.append(s.question.answerable)
        folds.append(s.question.article)
    x, y, f = np.array(rows, dtype=np.float64), np.array(labels), np.array(folds)
    out: dict = {"auc": {}}
    for j, name in enumerate(READER_SIGNAL_NAMES):
        values = SIGNAL_SIGNS[name] * x[:, j]
        out["auc"][name] = round(auc(values[y], values[~y]), 4)
        out.setdefault("mean_answerable", {})[name] = round(float(x[y, j].mean()), 4)
        out.setdefault("mean_unanswerable", {})[name] = round(float(x[~y, j].mean()), 4)

    def combined(columns: list[int]) -> dict:
        oof = np.zeros(len(y))
        for k in sorted(set(f)):
            train, test = f != k, f == k
            mean, std = x[train][:, columns].mean(0), x[train][:, columns].std(0) + 1e-9
            model = LogisticRegression(C=1.0, max_iter=1000).fit((x[train][:, columns] - mean) / std, y[train])
            oof[test] = model.decision_function((x[test][:, columns] - mean) / std)
        a, u = oof[y], oof[~y]
        return {"auc": round(auc(a, u), 4), "oracle_abstention": {k: round(v, 4) for k, v in curve(a.tolist(), u.tolist()).items()}}

    everything = list(range(len(READER_SIGNAL_NAMES)))
    out["logistic_all"] = combined(everything)
    out["logistic_without"] = {name: combined([c for c in everything if c != j]) for j, name in enumerate(READER_SIGNAL_NAMES)}
    out["logistic_reader_max_only"] = combined([0])
    return out


def run_cv(args: argparse.Namespace) -> None:
    articles = rd.tuning_half()
    scored: list[Scored] = []
    for k, folder in enumerate(args.models):
        if folder is None or str(folder) == "-":
            continue
        cache = Path(folder) / "oof-scores.jsonl"
        held = rd.subset(articles, only=k)
        if cache.exists() and not args.rescore:
            scored += load_scores(cache, held)
            continue
        print(f"fold {k}: {folder}")
        fold_scored = score_articles(Reader.load(Path(folder), threads=args.threads), held)
        save_scores(cache, fold_scored)
        scored += fold_scored
    squad2 = [s for s in scored if s.question.article in rd.SQUAD2_TUNING]
    held_folds = sorted(by_fold(scored))
    lexical = lexical_scored([a for a in articles if rd.fold_of(a.title) in held_folds])
    result = {
        "folds": held_folds, "reader": summary(scored, squad2),
        "lexical": summary(lexical, [s for s in lexical if s.question.article in rd.SQUAD2_TUNING]),
        "per_fold": {k: summary(v, [s for s in v if s.question.article in rd.SQUAD2_TUNING]) for k, v in by_fold(scored).items()},
    }
    if len(held_folds) > 1:
        result["held_out_threshold"] = cross_fold_thresholds(scored)
    calibration = [s.best for s in scored if s.question.answerable]
    result["thresholds"] = {f"{t:.0%}": threshold_for(calibration, t) for t in TARGETS}
    if args.signals:
        result["signals"] = signal_figures(squad2, articles)
    print(json.dumps(result, indent=1))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


def run_report(args: argparse.Namespace) -> None:
    cv = json.loads(args.cv.read_text(encoding="utf-8"))
    thresholds = {k: float(v) for k, v in cv["thresholds"].items()}
    squad2, squad1 = rd.reporting_half()
    cache = args.out.with_suffix(".scores.jsonl")
    if cache.exists() and not args.rescore:
        scored = load_scores(cache, [*squad2, *squad1])
    else:
        reader = Reader.load(args.model, threads=args.threads)
        scored = score_articles(reader, [*squad2, *squad1])
        save_scores(cache, scored)
    titles2 = {a.title for a in squad2}
    s2 = [s for s in scored if s.question.article in titles2]
    s1 = [s for s in scored if s.question.article not in titles2]
    a, u = [s.best for s in s2 if s.question.answerable], [s.best for s in s2 if not s.question.answerable]
    lexical = lexical_scored(squad2)
    la, lu = [s.best for s in lexical if s.question.answerable], [s.best for s in lexical if not s.question.answerable]
    held = {}
    for key, cut in thresholds.items():
        fa, ab = rates(a, u, cut)
        fa1 = float(np.mean([s.best < cut for s in s1 if s.question.answerable]))
        held[key] = {"threshold": round(cut, 4), "fa": round(fa, 4), "abstention": round(ab, 4), "fa_squad1_24_47": round(fa1, 4),
                     **bootstrap(a, u, cut)}
    result = {
        "model": str(args.model), "answerable": len(a), "unanswerable": len(u), "auc": round(auc(a, u), 4),
        "oracle_abstention": {k: round(v, 4) for k, v in curve(a, u).items()},
        "held_out_threshold": held,
        "picking_squad2": round(picking(s2), 4), "picking_squad1_24_47": round(picking(s1), 4),
        "lexical": {"auc": round(auc(la, lu), 4), "oracle_abstention": {k: round(v, 4) for k, v in curve(la, lu).items()},
                    "picking_squad2": round(picking(lexical), 4)},
    }
    print(json.dumps(result, indent=1))
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


def run_latency(args: argparse.Namespace) -> None:
    articles = rd.tuning_half()
    paragraphs = [p for a in articles for p in a.paragraphs]
    questions = [q for a in articles for q in a.questions if q.answerable][:: 37][:40]
    started = time.perf_counter()
    reader = Reader.load(args.model, threads=args.threads)
    load = time.perf_counter() - started
    size = (Path(args.model) / "model.onnx").stat().st_size / 2**20
    result = {"model": str(args.model), "threads": args.threads, "size_mb": round(size, 2), "load_s": round(load, 3)}
    for n in (10, 15):
        times, tokens = [], []
        for i, q in enumerate(questions):
            sentences = [(p.title, s) for p in paragraphs[i * 3 : i * 3 + 6] for s in p.sentences][:n]
            while len(sentences) < n:
                sentences += sentences[: n - len(sentences)]
            reader.score(q.text, sentences)  # warm
            best = float("inf")
            for _ in range(3):
                t = time.perf_counter()
                reader.score(q.text, sentences)
                best = min(best, time.perf_counter() - t)
            times.append(best)
            from qa.reader import candidate_text, tokenize_pairs

            tokens.append(float(tokenize_pairs(reader._tokenizer, [(q.text, candidate_text(t_, s)) for t_, s in sentences])[1].sum(1).mean()))
        result[f"pairs_{n}"] = {"p50_ms": round(statistics.median(times) * 1000, 1), "p90_ms": round(float(np.quantile(times, 0.9)) * 1000, 1),
                                "mean_tokens": round(statistics.mean(tokens), 1)}
    print(json.dumps(result, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    cv = sub.add_parser("cv", help="out-of-fold figures on the tuning half (a model per fold; '-' skips a fold)")
    cv.add_argument("models", nargs="+", type=Path)
    cv.add_argument("--out", type=Path)
    cv.add_argument("--signals", action="store_true", help="also each abstention signal's AUC (qa/reader_signals.py)")
    report = sub.add_parser("report", help="the reporting half, once")
    report.add_argument("--cv", type=Path, required=True, help="the cv step's JSON (its thresholds)")
    report.add_argument("--out", type=Path, required=True)
    report.add_argument("--model", type=Path, default=MODEL_DIR)
    latency = sub.add_parser("latency", help="milliseconds per 10 and 15 pairs, size, load time")
    latency.add_argument("--model", type=Path, default=MODEL_DIR)
    for p in (cv, report, latency):
        p.add_argument("--threads", type=int, default=2)
    for p in (cv, report):
        p.add_argument("--rescore", action="store_true", help="score again even if the scores are cached")
    args = parser.parse_args()
    {"cv": run_cv, "report": run_report, "latency": run_latency}[args.command](args)


if __name__ == "__main__":
    main()
