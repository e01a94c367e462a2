"""Answer figures of a candidates file (benchmarks/answer_candidates.py), answered as the bot does.

    .venv/bin/python benchmarks/answer_report.py CACHE/cand-realdocs.jsonl

Prints, for the answerable questions, how often the answer and its first sentence contain the gold
(SQuAD normalisation) and how often the bot wrongly abstains; for the unanswerable ones, how often it
abstains.
"""

from __future__ import annotations

import sys
from pathlib import Path

from qa.answer import compose_answer
from qa.eval.datasets import LabelledQuery
from qa.eval.squad import AnswerTally
from qa.query import Query

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fit_answer_model import load_candidates  # a sibling script, not a package


def main() -> int:
    for path in sys.argv[1:]:
        idf, rows = load_candidates(Path(path))
        tally = AnswerTally()
        for row in rows:
            answer = compose_answer(Query(row["question"], tuple(row["history"])), row["hits"], idf=idf, closeness=row["closeness"])
            tally.add(answer, LabelledQuery(id=row["id"], text=row["question"], kind=row["kind"], answers=tuple(row["answers"])))
        rates = tally.rates()
        print(f"{path}: {tally.questions} answerable: answer has gold {rates['answer_contains_gold']:.3f}, first sentence "
              f"{rates['first_sentence_contains_gold']:.3f}, wrongly abstained {rates['abstained_answerable']:.3f}; "
              f"{tally.unanswerable} unanswerable: abstained {rates['abstained_unanswerable']:.3f}"
              + (f"; {tally.near_misses} near misses: abstained {rates['abstained_near_miss']:.3f}" if tally.near_misses else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
