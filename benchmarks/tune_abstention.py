"""Fit the abstention model on the seeds DEV split and report it on dev and test.

    .venv/bin/python benchmarks/tune_abstention.py [--mode dense] [--signals closest,coverage,unknown,missing_number]

For every seeds question it computes the signals exactly as the bot does (qa.abstention, through
qa.bot.answer_from_hits's inputs), fits an L2-regularised logistic regression on the dev questions
(answerable = 1, unanswerable = 0) with numpy, picks the regularisation by leave-one-out on dev, and
prints the AbstentionModel to paste into AnswerPolicy's defaults. The test split is only reported.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from qa.abstention import SIGNAL_NAMES, AbstentionModel, AbstentionSignals
from qa.answer import AnswerPolicy, answer_signals, inverse_document_frequencies
from qa.datasets import NO_GOLD, load_seed_questions
from qa.encoders import load_encoder, resolve_model
from qa.indexer import build_index
from qa.retrieval import DEFAULT_MODE, Retrievers, search
from qa.store import load_index

ANSWER_K = 5  # passages shown with an answer, as in qa bench
# The subset with the lowest leave-one-out log-loss on dev (README, "When the bot says …"): coverage's
# weight changed sign from fit to fit, and missing_number fires on answerable questions as often.
DEFAULT_SIGNALS = "closest,unknown,missing_fact,unknown_name"
PENALTIES = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)  # L2 strengths tried by leave-one-out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", default=DEFAULT_MODE, help=f"retrieval mode whose top passages are shown (default {DEFAULT_MODE})")
    parser.add_argument("--signals", default=DEFAULT_SIGNALS, help="comma-separated subset of the signals to fit")
    parser.add_argument("--questions", type=Path, default=Path("benchmarks/seeds/questions.jsonl"))
    parser.add_argument("--corpus", type=Path, default=Path("seeds"))
    parser.add_argument("--index-dir", type=Path, default=Path("/tmp/qa-tune-abstention-index"))
    parser.add_argument("--max-wrong", type=float, default=0.05,
                        help="share of dev answerable questions the threshold may abstain on (default 0.05)")
    parser.add_argument("--show", action="store_true", help="print every question's signals and decision")
    args = parser.parse_args()
    used = [SIGNAL_NAMES.index(name) for name in args.signals.split(",")]

    encoder = load_encoder(resolve_model(None))
    build_index(args.corpus, args.index_dir, None, encoder_factory=lambda spec: encoder)
    index = load_index(args.index_dir)
    retrievers = Retrievers(index, encoder)
    idf = inverse_document_frequencies([p.text for p in index.passages])
    rows = {}
    for split in ("dev", "test"):
        dataset = load_seed_questions(args.questions, args.corpus, split)
        rows[split] = [
            (query, _signals(retrievers, idf, query, args.mode), query.kind != NO_GOLD)
            for query in dataset.queries
        ]

    x_dev = np.array([[s.as_tuple()[i] for i in used] for _, s, _ in rows["dev"]])
    y_dev = np.array([float(answerable) for _, _, answerable in rows["dev"]])
    # Log-loss, a proper scoring rule: error counts over a few dozen questions tie too often to choose.
    held_out = {p: _held_out(x_dev, y_dev, p) for p in PENALTIES}
    penalty = min(PENALTIES, key=lambda p: (round(_log_loss(held_out[p], y_dev), 4), -p))
    bias, weights = _fit(x_dev, y_dev, penalty)
    full = [0.0] * len(SIGNAL_NAMES)
    for i, w in zip(used, weights):
        full[i] = round(float(w), 2)
    model = AbstentionModel(bias=round(float(bias), 2), weights=tuple(full))
    threshold = _threshold(model, rows["dev"], args.max_wrong)
    model = AbstentionModel(bias=model.bias, weights=model.weights, min_probability=threshold)

    print(f"mode {args.mode}; signals {args.signals}; L2 penalty {penalty} (leave-one-out on dev: "
          f"log-loss {_log_loss(held_out[penalty], y_dev):.3f}, "
          f"{int(((held_out[penalty] >= 0.5) != (y_dev > 0)).sum())} of {len(y_dev)} wrong)")
    print(f"fitted: AbstentionModel(bias={model.bias}, weights={model.weights}, min_probability={model.min_probability})")
    current = AnswerPolicy().abstention
    for name, candidate in (("fitted", model), ("AnswerPolicy default", current)):
        for split in ("dev", "test"):
            print(f"{name:>21} {split:>4}: " + _report(candidate, rows[split]))
    if args.show:
        for split in ("dev", "test"):
            for query, signals, answerable in rows[split]:
                p = model.probability(signals)
                flag = "ok " if model.abstains(signals) != answerable else "BAD"
                values = " ".join(f"{v:.2f}" for v in signals.as_tuple())
                print(f"{flag} {split} {query.kind:<12} p={p:.2f} [{values}] {query.text}")
    json.dump({"bias": model.bias, "weights": model.weights, "min_probability": model.min_probability}, sys.stderr)
    print(file=sys.stderr)
    return 0


def _signals(retrievers, idf, query, mode) -> AbstentionSignals:
    """The signals of this question, from the same inputs qa.bot.answer_from_hits gives compose_answer."""
    hits = search(retrievers.get(mode), retrievers.index, query.text, query.history, k=ANSWER_K)
    closest = retrievers.dense.rank(query.text, query.history, 1)
    return answer_signals(query.text, hits, history=query.history, idf=idf, confidence=closest[0][1] if closest else 0.0)


def _fit(x: np.ndarray, y: np.ndarray, penalty: float, steps: int = 200) -> tuple[float, np.ndarray]:
    """Logistic regression by Newton's method, the two classes weighted equally (unanswerable questions
    are few); the bias is not penalised."""
    design = np.hstack([np.ones((len(x), 1)), x])
    balance = _balance(y)
    theta = np.zeros(design.shape[1])
    ridge = penalty * np.eye(design.shape[1])
    ridge[0, 0] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-design @ theta))
        gradient = design.T @ (balance * (p - y)) + ridge @ theta
        hessian = design.T @ (design * (balance * p * (1 - p))[:, None]) + ridge + 1e-9 * np.eye(len(theta))
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if np.abs(step).max() < 1e-10:
            break
    return float(theta[0]), theta[1:]


def _threshold(model: AbstentionModel, rows, max_wrong: float) -> float:
    """The highest probability cut that abstains on at most max_wrong of the dev answerable questions,
    placed halfway between the dev probabilities on either side of it (two decimals)."""
    answerable = sorted(model.probability(s) for _, s, answerable in rows if answerable)
    allowed = int(max_wrong * len(answerable))
    ceiling = answerable[allowed]  # the lowest answerable probability that must stay answered
    below = [model.probability(s) for _, s, _ in rows if model.probability(s) < ceiling]
    floor = max(below, default=0.0)
    return round((floor + ceiling) / 2, 2) if floor < round((floor + ceiling) / 2, 2) < ceiling else round(ceiling - 0.005, 3)


def _balance(y: np.ndarray) -> np.ndarray:
    """Per-question weights that make the two classes count equally (unanswerable questions are few)."""
    return np.where(y > 0, len(y) / (2 * y.sum()), len(y) / (2 * (len(y) - y.sum())))


def _held_out(x: np.ndarray, y: np.ndarray, penalty: float) -> np.ndarray:
    """P(answerable) of each dev question under the model fitted without it."""
    probabilities = []
    for held in range(len(y)):
        keep = np.arange(len(y)) != held
        bias, weights = _fit(x[keep], y[keep], penalty)
        probabilities.append(1.0 / (1.0 + np.exp(-(bias + x[held] @ weights))))
    return np.array(probabilities)


def _log_loss(p: np.ndarray, y: np.ndarray) -> float:
    """Mean class-balanced log-loss of the probabilities p of answerable."""
    right = np.where(y > 0, p, 1.0 - p)
    return float(np.average(-np.log(np.maximum(right, 1e-12)), weights=_balance(y)))


def _report(model: AbstentionModel, rows) -> str:
    unanswerable = [s for _, s, answerable in rows if not answerable]
    answerable = [s for _, s, answerable in rows if answerable]
    right = sum(model.abstains(s) for s in unanswerable)
    wrong = sum(model.abstains(s) for s in answerable)
    return (f"unanswerable abstained {right}/{len(unanswerable)} = {right / len(unanswerable):.2f}; "
            f"answerable wrongly abstained {wrong}/{len(answerable)} = {wrong / len(answerable):.2f}")


if __name__ == "__main__":
    raise SystemExit(main())
