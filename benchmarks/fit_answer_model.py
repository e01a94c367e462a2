"""Fit the answer-type cues and the sentence selector on SQuAD candidates, and write them to qa/fitted.py.

    .venv/bin/python benchmarks/answer_candidates.py squad PATH/dev-v1.1.json --articles 0-17 \
        --unanswerable-from 18-23 --per-article 100 CACHE/cand-squad.jsonl
    .venv/bin/python benchmarks/fit_answer_model.py CACHE/cand-squad.jsonl --squad PATH/dev-v1.1.json [--write]

Cues: for each question class (qa.question_types.question_class) and fact shape, the log of the lift:
the share of the class's gold answers that have the shape over the share of the other sentences of
the passages shown (what they add to the question) that have it; kept where at least MIN_COUNT gold
answers have it and the lift is at least MIN_LIFT.
Selector: a logistic regression (scikit-learn, L2) of "the sentence contains a gold answer" over
qa.answer.SELECTOR_FEATURES, on the sentences of the top passages of answerable questions. The cues
are fitted on the first half of the articles. The selector is cross-validated by article (FOLDS
folds), which also chooses the keep margin, then fitted on all of them. Only articles 0-17 go in.
"""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from qa import fitted
from qa.answer import SELECTOR_FEATURES, AnswerPolicy, sentence_features
from qa.eval.squad import answer_contains
from qa.fitted import KEEP_MARGIN
from qa.query import Query
from qa.question_types import QUESTION_CLASSES, SHAPE_NAMES, answer_shapes, fact_shapes, masked, question_class
from qa.schema import Closeness, Hit, Passage

MIN_COUNT = 2  # gold answers of the class with the shape
MIN_LIFT = 1.05
FOLDS = 3  # the selector's cross-validation: articles i, i+3, i+6… form fold i


def load_candidates(path: Path) -> tuple[dict[str, float], list[dict]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    idf = json.loads(lines[0])["idf"]
    rows = []
    for line in lines[1:]:
        row = json.loads(line)
        row["hits"] = [Hit(rank=i, score=h.pop("score"), sentence_scores=tuple(h.pop("sentence_scores", ())), passage=Passage(**h))
                       for i, h in enumerate(row["hits"], start=1)]
        if "closeness" not in row:
            raise SystemExit(f"{path} was written before candidates recorded the closeness; regenerate it with benchmarks/answer_candidates.py")
        row["closeness"] = Closeness(**row["closeness"])
        rows.append(row)
    return idf, rows


def fit_cues(rows: list[dict], shown: int) -> dict[str, dict[str, float]]:
    gold: dict[str, Counter] = defaultdict(Counter)
    other: dict[str, Counter] = defaultdict(Counter)
    asked, sentences = Counter(), Counter()
    from qa.sentences import sentence_spans

    for row in rows:
        if not row["answerable"] or not (cls := question_class(row["question"])):
            continue
        asked[cls] += 1
        gold[cls].update(answer_shapes(row["answers"][0]))
        for hit in row["hits"][:shown]:
            for start, end in sentence_spans(hit.passage.text):
                sentence = hit.passage.text[start:end]
                if not answer_contains(sentence, row["answers"]):
                    sentences[cls] += 1
                    other[cls].update(fact_shapes(masked(sentence, row["question"])))
    cues = {}
    for cls in QUESTION_CLASSES:
        if not asked[cls]:
            continue
        kept = {}
        for shape in SHAPE_NAMES:
            share = (gold[cls][shape] + 0.5) / (asked[cls] + 1)
            base = (other[cls][shape] + 0.5) / (sentences[cls] + 1)
            if gold[cls][shape] >= MIN_COUNT and share / base >= MIN_LIFT:
                kept[shape] = round(math.log(share / base), 3)
        if kept:
            cues[cls] = kept
        print(f"{cls:9s} {asked[cls]:4d} questions; cues (log lift) {kept}")
    return cues


def feature_rows(rows, idf, cues, shown):
    """Per answerable question: its sentences' feature matrix and gold labels."""
    out = []
    for row in rows:
        if not row["answerable"]:
            continue
        found = sentence_features(Query(row["question"], tuple(row["history"])), row["hits"][:shown], idf, cues)
        if not found:
            continue
        x = np.array([[f[name] for name in SELECTOR_FEATURES] for _, _, _, f, _ in found])
        texts = [hit.passage.text[s:e] for hit, s, e, _, _ in found]
        y = np.array([answer_contains(t, row["answers"]) for t in texts], dtype=float)
        places = [(hit.rank, s) for hit, s, _, _, _ in found]
        out.append((row, x, y, texts, places))
    return out


def evaluate(questions, bias, weights, margin, max_sentences=3):
    first = full = count = 0
    for _, x, y, texts, _places in questions:
        scores = bias + x @ weights
        order = np.argsort(-scores)
        chosen, seen = [], set()
        for i in order:
            if texts[i] in seen or (chosen and scores[i] < scores[order[0]] - margin):
                continue
            seen.add(texts[i])
            chosen.append(i)
            if len(chosen) == max_sentences:
                break
        first += y[order[0]]  # the best sentence is quoted first
        full += y[chosen].max()
        count += len(chosen)
    n = len(questions)
    return first / n, full / n, count / n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("candidates", type=Path)
    parser.add_argument("--squad", type=Path, default=Path("../shared/datasets/squad-dev/dev-v1.1.json"), help="the SQuAD file (for each question's article)")
    parser.add_argument("--write", action="store_true", help="write the cues and the selector to qa/fitted.py")
    parser.add_argument("--max-sentences-mean", type=float, default=1.8, help="the keep margin may quote at most this many sentences on average")
    args = parser.parse_args()
    from sklearn.linear_model import LogisticRegression

    idf, rows = load_candidates(args.candidates)
    shown = AnswerPolicy().passages_considered
    article = {qa["id"]: number for number, a in enumerate(json.loads(args.squad.read_text())["data"])
               for p in a["paragraphs"] for qa in p["qas"]}
    answerable = sorted({article[row["id"]] for row in rows if row["answerable"]})
    cue_half = set(answerable[: len(answerable) // 2])
    print(f"articles {answerable[0]}-{answerable[-1]}; cues fitted on {sorted(cue_half)}; selector: {FOLDS}-fold cross-validation by article, then all")
    cues = fit_cues([r for r in rows if article[r["id"]] in cue_half], shown)
    questions = feature_rows(rows, idf, cues, shown)
    old = AnswerPolicy().selector
    old_w = np.array([old.weights[n] for n in SELECTOR_FEATURES])
    folds = [set(answerable[i::FOLDS]) for i in range(FOLDS)]
    held_out = []  # (questions of a fold, the model fitted without them)
    for fold in folds:
        train = [q for q in questions if article[q[0]["id"]] not in fold]
        model = LogisticRegression(C=1.0, max_iter=3000).fit(np.vstack([q[1] for q in train]), np.concatenate([q[2] for q in train]))
        held_out.append(([q for q in questions if article[q[0]["id"]] in fold], float(model.intercept_[0]), model.coef_[0]))

    def cross_validated(margin: float) -> tuple[float, float, float]:
        figures = [(len(qs), evaluate(qs, b, w, margin)) for qs, b, w in held_out]
        n = sum(count for count, _ in figures)
        return tuple(sum(count * f[i] for count, f in figures) / n for i in range(3))  # type: ignore[return-value]

    current = evaluate(questions, old.bias, old_w, KEEP_MARGIN)
    print(f"current selector, all articles: first sentence {current[0]:.3f}  answer {current[1]:.3f}  sentences {current[2]:.2f}")
    margins = [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0]
    results = {m: cross_validated(m) for m in margins}
    for m, (f, c, k) in results.items():
        print(f"margin {m:4.2f}: held-out answer {c:.3f}, first sentence {f:.3f}, sentences {k:.2f}")
    margin = max((m for m in margins if results[m][2] <= args.max_sentences_mean), key=lambda m: results[m][1], default=margins[0])
    print(f"chosen margin {margin}")
    model = LogisticRegression(C=1.0, max_iter=3000).fit(np.vstack([q[1] for q in questions]), np.concatenate([q[2] for q in questions]))
    bias, weights = float(model.intercept_[0]), model.coef_[0]
    selector = {"bias": round(bias, 3), "weights": {n: round(float(w), 3) for n, w in zip(SELECTOR_FEATURES, weights, strict=True)}}
    print("SENTENCE_SELECTOR =", json.dumps(selector))
    if args.write:
        print(f"written to {fitted.write(answer_cues=cues, sentence_selector=selector, keep_margin=margin)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
