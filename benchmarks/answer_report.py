"""Answer figures of a candidates file (benchmarks/answer_candidates.py), answered as the bot does.

    .venv/bin/python benchmarks/answer_report.py CACHE/cand-realdocs.jsonl

Prints, for the answerable questions, how often the answer and its first sentence contain the gold
(SQuAD normalisation) and how often the bot wrongly abstains; for the unanswerable ones, how often it
abstains.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from qa.answer import compose_answer
from qa.schema import Hit, Passage
from qa.squad import AnswerTally


def main() -> int:
    for path in sys.argv[1:]:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        idf = json.loads(lines[0])["idf"]
        tally = AnswerTally()
        for line in lines[1:]:
            row = json.loads(line)
            hits = [Hit(rank=i, score=h.pop("score"), passage=Passage(**h)) for i, h in enumerate(row["hits"], start=1)]
            answer = compose_answer(row["question"], hits, history=row["history"], idf=idf, confidence=row["closest"])
            tally.add(answer, row["answers"] if row["answerable"] else None)
        rates = tally.rates()
        print(f"{path}: {tally.questions} answerable: answer has gold {rates['answer_contains_gold']:.3f}, first sentence "
              f"{rates['first_sentence_contains_gold']:.3f}, wrongly abstained {rates['abstained_answerable']:.3f}; "
              f"{tally.unanswerable} unanswerable: abstained {rates['abstained_unanswerable']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
