"""Answer figures of a candidates file (benchmarks/answer_candidates.py), answered as the bot does.

    .venv/bin/python benchmarks/answer_report.py CACHE/cand-realdocs.jsonl

Prints, for the answerable questions, how often the answer and its first sentence contain the gold
(SQuAD normalisation) and how often the bot wrongly abstains; for the unanswerable ones, how often it
abstains. Only qa.answer.compose_answer is used, so an older checkout (PYTHONPATH) can be compared.
"""

from __future__ import annotations

import json
import re
import string
import sys
from pathlib import Path

from qa.answer import compose_answer
from qa.schema import Hit, Passage


def _normal(text: str) -> str:
    text = "".join(c for c in text.lower() if c not in set(string.punctuation))
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def contains(text: str, answers: list[str]) -> bool:
    """SQuAD's normalisation (the same as qa.squad.answer_contains, kept here so older code can run it)."""
    haystack = f" {_normal(text)} "
    return any(f" {_normal(a)} " in haystack for a in answers if _normal(a))


def main() -> int:
    for path in sys.argv[1:]:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        idf = json.loads(lines[0])["idf"]
        tally = dict.fromkeys(("answerable", "contains", "first", "wrong", "unanswerable", "declined"), 0)
        for line in lines[1:]:
            row = json.loads(line)
            hits = [Hit(rank=i, score=h.pop("score"), passage=Passage(**h)) for i, h in enumerate(row["hits"], start=1)]
            answer = compose_answer(row["question"], hits, history=row["history"], idf=idf, confidence=row["closest"])
            if not row["answerable"]:
                tally["unanswerable"] += 1
                tally["declined"] += answer.abstained
                continue
            tally["answerable"] += 1
            tally["wrong"] += answer.abstained
            if not answer.abstained:
                tally["contains"] += contains(" ".join(s.text for s in answer.sentences), row["answers"])
                tally["first"] += contains(answer.sentences[0].text, row["answers"])
        n, u = tally["answerable"] or 1, tally["unanswerable"] or 1
        print(f"{path}: {tally['answerable']} answerable: answer has gold {tally['contains'] / n:.3f}, first sentence "
              f"{tally['first'] / n:.3f}, wrongly abstained {tally['wrong'] / n:.3f}; {tally['unanswerable']} unanswerable: "
              f"abstained {tally['declined'] / u:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
