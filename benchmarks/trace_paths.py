"""Where a value travels through qa's calls, as a check of the library's data paths: every call of a
function in qa/ that receives the value as an argument (a stop), and the module path it makes.

    python benchmarks/trace_paths.py [REPO]      # default: this checkout

Traced on the seeds with the hashing encoder (the paths do not depend on the model):
- `build_index`'s index directory, on a new index and on an incremental update;
- `Bot.ask`'s question (or the Query made of it), asked alone and as a follow-up.

A climb back up is a return of the value to a layer it had left (the module path re-entering a
module), counted over the layers that pass it on; the leaf readers of a question's text
(qa.text, qa.question_types, qa.question_dates) are listed but not counted, since they are called
once per sentence and pass nothing on. A method called on the value itself is not a stop.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent).resolve()
sys.path.insert(0, str(REPO))
QA = str(REPO / "qa")
LEAVES = ("qa/text.py", "qa/question_types.py", "qa/answer_types.py", "qa/question_dates.py")


def layer(path: str) -> str:
    """A module, or the family package it belongs to (every ranking mode or store is one layer)."""
    for family in ("qa/ranking/", "qa/stores/"):
        if path.startswith(family):
            return family.rstrip("/")
    return path


def matches(value, target) -> bool:
    if isinstance(target, str):
        return value == target if isinstance(value, str) else (type(value).__name__ == "Query" and getattr(value, "text", None) == target)
    if isinstance(value, (str, os.PathLike)):
        try:
            return Path(value).resolve() == target
        except (OSError, ValueError):
            return False
    return False


def trace(call, target) -> list[tuple[str, str, str, int]]:
    """(module, function, argument, depth among qa frames) of each stop, in call order."""
    stops = []

    def depth(frame) -> int:
        count = 0
        while frame is not None:
            count += frame.f_code.co_filename.startswith(QA)
            frame = frame.f_back
        return count

    def profiler(frame, event, arg):
        code = frame.f_code
        if event != "call" or not code.co_filename.startswith(QA):
            return
        for name in code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]:
            if name not in ("self", "cls") and matches(frame.f_locals.get(name), target):
                stops.append((os.path.relpath(code.co_filename, REPO), code.co_qualname, name, depth(frame)))
                break

    sys.setprofile(profiler)
    try:
        call()
    finally:
        sys.setprofile(None)
    return stops


def report(title: str, stops) -> dict:
    print(f"## {title}: {len(stops)} stops")
    for module, function, argument, depth in stops:
        print(f"  {'  ' * (depth - 1)}{module}:{function}({argument})")
    layers = [layer(module) for module, *_ in stops if module not in LEAVES]
    path = [name for i, name in enumerate(layers) if i == 0 or layers[i - 1] != name]
    climbs = sum(1 for i, name in enumerate(path) if name in path[:i])
    print(f"  path: {' → '.join(path)}\n  climbs back up: {climbs}\n")
    return {"stops": len(stops), "stops beyond the leaf readers": len(layers), "climbs": climbs}


def main() -> None:
    import qa
    from qa.encoders.hashing import HashingEncoder

    encoder = HashingEncoder()
    work = Path(tempfile.mkdtemp())
    corpus = work / "corpus"
    shutil.copytree(REPO / "seeds", corpus)
    index_dir = (work / "index").resolve()
    build = lambda: qa.build_index(corpus, index_dir, encoder_factory=lambda spec: encoder)  # noqa: E731
    figures = {"build_index, new": report("build_index, a new index: the index directory", trace(build, index_dir))}
    (corpus / "added.txt").write_text("An added note about harbour boats.\n", encoding="utf-8")
    figures["build_index, one file added"] = report("build_index, one file added: the index directory", trace(build, index_dir))
    bot = qa.Bot(index_dir, encoder_factory=lambda spec: encoder).load()
    bot.ask("a first question, to load BM25")
    alone = "When must the next-generation fighter aircraft be developed?"
    figures["Bot.ask, alone"] = report("Bot.ask, a question asked alone", trace(lambda: bot.ask(alone), alone))
    follow_up = "Who did they meet there?"
    figures["Bot.ask, follow-up"] = report(
        "Bot.ask, a follow-up", trace(lambda: bot.ask(follow_up, ["What did the ministers discuss in Tokyo?"]), follow_up)
    )
    print(json.dumps(figures))
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
