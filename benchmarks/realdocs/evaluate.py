"""Measure how faithfully the real-document folder is read, and how well it is answered.

    python benchmarks/realdocs/evaluate.py [FOLDER] [--answers] [--json]

Reading (instant, no model): for each file, the non-space characters of its extracted text that lie
in no passage ("lost"), split into those the splitter lists as dropped on purpose (with why) and
those it lost without a word, and the number of passages. For a PDF, also what the reader itself may
have lost: the letters and digits that an independent extraction (pypdf, in the test extra) finds
on its pages and that are neither in our text nor in what the reader lists as left out ("vs pypdf").

Answers (--answers; builds an index of the folder with the real model, in $QA_CACHE_DIR or the user
cache): each question of questions.jsonl is asked with `Bot.ask`. An answerable question is
answered when the answer text contains its gold quote (case and whitespace ignored, citation marks
removed), found when a cited passage does; "false don't-answer" counts the answerable ones the bot
abstained on; for the unanswerable ones, how many it abstained on.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from qa.chunking import split_document
from qa.corpus import find_files, read_document
from qa.errors import CorpusError

HERE = Path(__file__).resolve().parent
DEFAULT_FOLDER = Path.home() / ".cache" / "qa-realdocs"
# The reasons of qa.chunking's `dropped` list that the docs list as dropped on purpose: page furniture,
# and explicit headings, which are the section of every passage under them. Text left out of every
# passage for any other reason (a guessed heading, a header line) is lost. The splitter before this
# list existed named every heading "heading" and every header line "header": all of it counts as lost.
# (A copy of qa.chunking.DROPPED_ON_PURPOSE, so that this script measures older versions too.)
ON_PURPOSE = frozenset({
    "section heading", "title", "date", "heading underline", "front matter", "badge", "image", "label", "link reference", "rule",
    "html tag", "navigation", "caption", "form label",
})


def _normal(text: str) -> str:
    text = re.sub(r"\[\d+\]", " ", text)  # citation marks of the answer text
    return re.sub(r"\s+", " ", text.replace("’", "'")).strip().lower()


def reading(folder: Path) -> list[dict]:
    rows = []
    for source in find_files(folder):
        try:
            document = read_document(source)
        except CorpusError as error:
            rows.append({"doc": source.doc, "skipped": str(error)})
            continue
        text = document.text
        layout = split_document(source.doc, text, extracted=document.extracted)
        covered = bytearray(len(text))
        for passage in layout.passages:
            covered[passage.start : passage.end] = b"\x01" * (passage.end - passage.start)
        outside: Counter[str] = Counter()  # non-space characters in no passage, by the reason given
        for start, end, why in layout.dropped:
            for i in range(start, end):
                if not covered[i] and not text[i].isspace():
                    covered[i] = 2
                    outside[why] += 1
        outside["(no reason)"] = sum(1 for i, char in enumerate(text) if not covered[i] and not char.isspace())
        dropped = sum(n for why, n in outside.items() if why in ON_PURPOSE)
        independent = _missing_from_independent(source.path, text, document.extracted.dropped) if source.doc.endswith(".pdf") else None
        rows.append({
            "vs_pypdf": independent,
            "doc": source.doc, "chars": sum(1 for char in text if not char.isspace()),
            "lost": sum(outside.values()) - dropped, "dropped": dropped,
            "outside_why": {why: n for why, n in outside.items() if n}, "passages": len(layout.passages), "title": layout.title,
        })
    return rows


def _alnum(text: str) -> Counter[str]:
    import unicodedata

    return Counter(char for char in unicodedata.normalize("NFKC", text).lower() if char.isalnum())


def _missing_from_independent(path, text: str, left_out) -> int | None:
    """Letters and digits pypdf reads on the pages that are neither in text nor listed as left out."""
    try:
        import logging

        from pypdf import PdfReader

        logging.getLogger("pypdf").setLevel(logging.ERROR)
        other = "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)
    except Exception:
        return None
    ours = _alnum(text) + _alnum(" ".join(why + " " + what for why, what in left_out))
    return sum((_alnum(other) - ours).values())


def answers(folder: Path, questions: list[dict], index_dir: Path) -> dict:
    from qa.bot import Bot
    from qa.index import build_index

    build_index(folder, index_dir)
    bot = Bot(index_dir, auto_update=False).load()
    present = {s.doc for s in find_files(folder)}
    results = []
    for question in questions:
        if question["doc"] not in present:
            continue
        answer = bot.ask(question["question"])
        gold = question["answer"]
        row = {"id": question["id"], "doc": question["doc"], "abstained": answer.abstained, "answer": answer.text}
        if gold is not None:
            row["answered"] = not answer.abstained and _normal(gold) in _normal(" ".join(s.text for s in answer.sentences))
            row["found"] = any(_normal(gold) in _normal(hit.passage.text) for hit in answer.hits)
        results.append(row)
    answerable = [r for r in results if "answered" in r]
    unanswerable = [r for r in results if "answered" not in r]
    return {
        "answerable": len(answerable),
        "answered": sum(r["answered"] for r in answerable),
        "found_in_cited_passages": sum(r["found"] for r in answerable),
        "false_dont_answer": sum(r["abstained"] for r in answerable),
        "unanswerable": len(unanswerable),
        "abstained_on_unanswerable": sum(r["abstained"] for r in unanswerable),
        "by_question": results,
    }


def _default_index_dir() -> Path:

    from qa import settings

    return settings.cache_dir() / "realdocs-index"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--answers", action="store_true", help="also build an index and ask the questions (loads the model)")
    parser.add_argument("--index-dir", type=Path, help="where the folder's index is built (default: realdocs-index in $QA_CACHE_DIR)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report: dict = {"reading": reading(args.folder)}
    if args.answers:
        questions = [json.loads(line) for line in (HERE / "questions.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
        report["answers"] = answers(args.folder, questions, args.index_dir or _default_index_dir())
    if args.json:
        print(json.dumps(report, indent=1, ensure_ascii=False))
        return 0
    print(f"{'document':40} {'chars':>7} {'lost':>6} {'dropped':>8} {'passages':>8} {'vs pypdf':>8}  title")
    for row in report["reading"]:
        if "skipped" in row:
            print(f"{row['doc']:40} {row['skipped']}")
            continue
        independent = "" if row["vs_pypdf"] is None else row["vs_pypdf"]
        print(f"{row['doc']:40} {row['chars']:7} {row['lost']:6} {row['dropped']:8} {row['passages']:8} {independent:>8}  {row['title'][:40]}")
    rows = [r for r in report["reading"] if "skipped" not in r]
    print(f"{'total':40} {sum(r['chars'] for r in rows):7} {sum(r['lost'] for r in rows):6} {sum(r['dropped'] for r in rows):8} "
          f"{sum(r['passages'] for r in rows):8}")
    why = Counter()
    for row in rows:
        why.update(row["outside_why"])
    print("characters in no passage, by reason:", dict(why))
    if args.answers:
        a = report["answers"]
        print(f"answered (gold quote in the answer): {a['answered']}/{a['answerable']}; gold in a cited passage: "
              f"{a['found_in_cited_passages']}/{a['answerable']}; false don't-answer: {a['false_dont_answer']}/{a['answerable']}; "
              f"abstained on unanswerable: {a['abstained_on_unanswerable']}/{a['unanswerable']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
