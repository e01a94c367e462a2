"""Fit the abstention model across corpora, choosing its signals and penalty by leave-one-corpus-out.

    .venv/bin/python benchmarks/answer_candidates.py squad ... CACHE/cand-squad.jsonl   # and seeds, realdocs
    .venv/bin/python benchmarks/tune_abstention.py CACHE/cand-squad.jsonl CACHE/cand-seeds.jsonl CACHE/cand-realdocs.jsonl [--write]

Each candidates file (benchmarks/answer_candidates.py) holds the passages the bot answers from; the
signals are computed from them exactly as the bot does (qa.answer.answer_signals, with the fitted
selector and cues of qa/fitted.py). Seeds questions of the test split are left out of the fit and
only reported. Every corpus weighs the same in the fit, and within a corpus both classes weigh the
same (a corpus with no unanswerable question, like the real-document set, adds answerable ones only).

Subsets whose fit gives a signal a weight against its meaning (SIGN) are skipped. The signal
subset and the L2 penalty are those with the lowest mean held-out log-loss when each
corpus in turn is left out of the fit: a signal that only helps on one corpus's style loses there.
The probability cut is the highest that abstains on at most --max-wrong (or one question) of the
answerable questions of every corpus.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np

from qa import fitted
from qa.abstention import SIGNAL_NAMES, AbstentionModel
from qa.answer import answer_signals
from qa.query import Query

PENALTIES = (0.01, 0.1, 1.0, 10.0)  # L2 strengths tried
# The direction each signal can only push: a close passage or a well-matched sentence never argues
# for abstaining, an unknown word or a missing fact never for answering.
SIGN = {
    "closest": 1, "best_sentence": 1, "best_overlap": 1, "unknown": -1, "unknown_name": -1, "missing_fact": -1, "top_overlap": 1,
    "found_fact": 1, "closest_sentence": 1, "closest_margin": 1, "absent_shown": -1,
}


def load(path: Path):
    """(corpus, split, answerable, signal vector) per question of a candidates file."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from fit_answer_model import load_candidates

    idf, rows = load_candidates(path)
    out = []
    for row in rows:
        signals = answer_signals(Query(row["question"], tuple(row["history"])), row["hits"], idf=idf, closeness=row["closeness"])
        out.append((row["corpus"], row.get("split"), bool(row["answerable"]), np.array([signals.as_dict()[n] for n in SIGNAL_NAMES]), row))
    return out


def _weights(corpora: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each corpus weighs 1 in all; within it, each class present weighs the same."""
    w = np.zeros(len(y))
    names = sorted(set(corpora))
    for corpus in names:
        mask = corpora == corpus
        classes = sorted(set(y[mask]))
        for label in classes:
            cell = mask & (y == label)
            w[cell] = 1.0 / (len(classes) * cell.sum())
    return w * len(y) / len(names)


def _fit(x, y, w, penalty):
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1.0 / penalty, max_iter=5000).fit(x, y, sample_weight=w)
    return float(model.intercept_[0]), model.coef_[0]


def _log_loss(p, y, w) -> float:
    right = np.where(y > 0, p, 1.0 - p)
    return float(np.average(-np.log(np.maximum(right, 1e-12)), weights=w))


def _prob(bias, weights, x):
    return 1.0 / (1.0 + np.exp(-(bias + x @ weights)))


def _cut(p, corpora, y, max_wrong) -> float:
    """The highest probability cut that abstains on at most max_wrong of every corpus's answerable questions."""
    cuts = []
    for corpus in sorted(set(corpora)):
        answerable = np.sort(p[(corpora == corpus) & (y > 0)])
        # At least one question of a small corpus may be refused, or 29 questions would allow none.
        cuts.append(answerable[max(1, int(max_wrong * len(answerable)))] - 1e-3)
    return round(float(min(cuts)), 3)


def _held_out_rates(x, y, corpora, penalty, max_wrong):
    """Per corpus: fitted, cut chosen on the other corpora, then how it abstains on this one."""
    rates = []
    for held in sorted(set(corpora)):
        train, test = corpora != held, corpora == held
        bias, weights = _fit(x[train], y[train], _weights(corpora[train], y[train]), penalty)
        cut = _cut(_prob(bias, weights, x[train]), corpora[train], y[train], max_wrong)
        p = _prob(bias, weights, x[test])
        answerable, unanswerable = p[y[test] > 0], p[y[test] == 0]
        rates.append((held, float(np.mean(answerable < cut)), float(np.mean(unanswerable < cut)) if len(unanswerable) else float("nan")))
    return rates


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("candidates", nargs="+", type=Path)
    parser.add_argument("--max-wrong", type=float, default=0.03, help="answerable questions of any corpus the cut may abstain on (default 0.03)")
    parser.add_argument("--max-size", type=int, default=4, help="most signals in a subset tried (default 4)")
    parser.add_argument("--signals", help="fit only this comma-separated subset (default: chosen by leave-one-corpus-out)")
    parser.add_argument("--write", action="store_true", help="write the model to qa/fitted.py")
    args = parser.parse_args()
    rows = [r for path in args.candidates for r in load(path)]
    fit_rows = [r for r in rows if r[1] != "test"]
    corpora = np.array([r[0] for r in fit_rows])
    y = np.array([float(r[2]) for r in fit_rows])
    x_all = np.vstack([r[3] for r in fit_rows])
    names = sorted(set(corpora))
    print("corpora:", {c: (int(((corpora == c) & (y > 0)).sum()), int(((corpora == c) & (y == 0)).sum())) for c in names}, "(answerable, unanswerable)")

    results = []
    subsets = [c for size in range(1, args.max_size + 1) for c in itertools.combinations(range(len(SIGNAL_NAMES)), size)]
    if args.signals:
        subsets = [tuple(SIGNAL_NAMES.index(name) for name in args.signals.split(","))]
    for subset in subsets:
        x = x_all[:, subset]
        for penalty in PENALTIES:
            _, full_weights = _fit(x, y, _weights(corpora, y), penalty)
            if any(SIGN[SIGNAL_NAMES[i]] * w < 0 for i, w in zip(subset, full_weights, strict=True)):
                continue  # a weight against the signal's meaning fits one corpus's accident
            losses = []
            for held in names:
                train, test = corpora != held, corpora == held
                bias, weights = _fit(x[train], y[train], _weights(corpora[train], y[train]), penalty)
                losses.append(_log_loss(_prob(bias, weights, x[test]), y[test], _weights(corpora[test], y[test])))
            results.append((float(np.mean(losses)), subset, penalty, losses))
    results.sort(key=lambda r: r[0])
    for loss, subset, penalty, losses in results[:12]:
        print(f"held-out log-loss {loss:.3f} {[SIGNAL_NAMES[i] for i in subset]} penalty {penalty} per corpus {dict(zip(names, np.round(losses, 3), strict=True))}")
        print("    held out, at the others' cut (wrongly abstained / unanswerable abstained): "
              + "; ".join(f"{held} {a:.3f}/{u:.3f}" for held, a, u in _held_out_rates(x_all[:, subset], y, corpora, penalty, args.max_wrong)))
    loss, subset, penalty, _ = results[0]
    x = x_all[:, subset]
    bias, weights = _fit(x, y, _weights(corpora, y), penalty)
    p = _prob(bias, weights, x)
    cut = _cut(p, corpora, y, args.max_wrong)
    model = AbstentionModel(bias=round(bias, 3), weights={SIGNAL_NAMES[i]: round(float(w), 3) for i, w in zip(subset, weights, strict=True)}, min_probability=cut)
    print(f"fitted: {model}")
    for corpus in sorted({r[0] for r in rows}):
        for split in sorted({r[1] or "" for r in rows if r[0] == corpus}):
            part = [r for r in rows if r[0] == corpus and (r[1] or "") == split]
            ans = [r for r in part if r[2]]
            una = [r for r in part if not r[2]]
            pa = _prob(bias, weights, np.vstack([r[3] for r in ans])[:, subset]) if ans else np.array([])
            pu = _prob(bias, weights, np.vstack([r[3] for r in una])[:, subset]) if una else np.array([])
            print(f"{corpus:9s} {split or '-':5s}: wrongly abstained {np.mean(pa < cut) if len(pa) else float('nan'):.3f} of {len(pa)}; "
                  f"unanswerable abstained {np.mean(pu < cut) if len(pu) else float('nan'):.3f} of {len(pu)}")
    print("the trade-off: wrongly abstained (answerable) / abstained (unanswerable) per corpus at other cuts")
    for other in (0.2, 0.3, 0.4, 0.5, 0.6):
        cells = []
        for corpus in names:
            pa, pu = p[(corpora == corpus) & (y > 0)], p[(corpora == corpus) & (y == 0)]
            cells.append(f"{corpus} {np.mean(pa < other):.3f}/{np.mean(pu < other) if len(pu) else float('nan'):.3f}")
        print(f"  cut {other}: " + "; ".join(cells))
    if args.write:
        data = {"bias": model.bias, "weights": dict(model.weights), "min_probability": model.min_probability}
        print(f"written to {fitted.write(abstention=data)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
