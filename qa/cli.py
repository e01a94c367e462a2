"""The `qa` command: a thin layer over the library. Imports nothing heavy until a command runs."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from qa.errors import QAError

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] and argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv = ["chat", *argv]  # a bare `qa` opens the chat, so it takes the chat's options
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["chat", *argv])
    if getattr(args, "index_dir", False) is None:
        from qa import settings

        args.index_dir = settings.index_dir()
    try:
        return args.run(args)
    except QAError as error:
        _error(str(error))
        return 1
    except KeyboardInterrupt:
        _error("interrupted; the index is as it was before this command")
        return 130


def _parser() -> argparse.ArgumentParser:
    from qa.bot import DEFAULT_K
    from qa.ranking import DEFAULT_MODE, MODES

    parser = argparse.ArgumentParser(
        prog="qa",
        description="Ask questions of a folder of documents; answers quote the documents and cite them exactly.",
        epilog="Run a bare `qa` to open the chat (it takes the chat's options: qa --index-dir DIR).",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    index = commands.add_parser("index", help="build or update the index of a corpus folder", description=(
        "Split the documents under CORPUS_DIR (.txt, .md, .html, .pdf, .docx) into paragraphs, embed them and "
        "write the index. Unchanged files are not embedded again; a file that cannot be read is skipped with "
        "one warning line, and counted as skipped on later runs."))
    index.add_argument("corpus_dir", nargs="?", type=Path, metavar="CORPUS_DIR",
                       help="folder of documents (default: the folder the index was built from, else seeds/)")
    _index_options(index)
    index.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    index.add_argument("-v", "--verbose", action="store_true", help="list every skipped file and why, not only those new to this run")
    index.add_argument("--store", type=_store_target, metavar="STORE", help=(
        "where the vectors go: faiss (files in the index directory; the default for a new index), milvus:PATH.db "
        "(Milvus Lite) or http://HOST:19530 (a Milvus server; token from $QA_MILVUS_TOKEN); add #NAME for the "
        "collection name (default qa). Default: the store the index already has"))
    index.set_defaults(run=_run_index)

    inspect = commands.add_parser("inspect", help="show how one document is read: title, sections, passages, what is left out", description=(
        "Read FILE as `qa index` does and show its title, date and sections, each passage with its character "
        "span (and page), and what was left out of the passages and why. Loads no model and needs no index."))
    inspect.add_argument("file", type=Path, metavar="FILE", help="a .txt, .md, .html, .pdf or .docx file")
    inspect.add_argument("--json", action="store_true", help="print one JSON object")
    inspect.set_defaults(run=_run_inspect)

    ask = commands.add_parser("ask", help="answer a question with cited passages", description=(
        "Answer QUESTION from the index. With QUESTION '-', read questions from standard input, one per line "
        "(plain text or {\"question\": ..., \"history\": [...]}) and write one JSON object per line."))
    ask.add_argument("question", metavar="QUESTION", help="the question, or - to read questions from standard input")
    ask.add_argument("-k", type=_positive_int, default=DEFAULT_K, metavar="N", help=f"passages to cite (default {DEFAULT_K})")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--mode", choices=list(MODES), default=DEFAULT_MODE, help=f"retrieval mode (default {DEFAULT_MODE})")
    ask.add_argument("--history", action="append", default=[], metavar="EARLIER_QUESTION",
                     help="an earlier question of the same conversation (repeat, oldest first)")
    ask.add_argument("--abstain-below", type=_threshold, metavar="P", help=(
        "say the documents don't answer when the bot's confidence that they do is below P, from 0 to 1 "
        "(default: $QA_ABSTAIN_BELOW, else the fitted threshold; higher abstains more: see docs/quality-abstention.md)"))
    _index_options(ask)
    ask.set_defaults(run=_run_ask)

    bench = commands.add_parser("bench", help="measure retrieval quality and speed of every mode", description=(
        "Evaluate every retrieval mode on labelled questions: our seeds set (default) or BEIR folders "
        "(corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv), or SQuAD-format files (FILE.json: data → paragraphs → qas), "
        "whose answers are measured too. Corpora are indexed once into a cache."))
    bench.add_argument("datasets", nargs="*", default=["seeds"], metavar="DATASET",
                       help="'seeds', the path of a BEIR folder or of a SQuAD-format .json file (default: seeds)")
    bench.add_argument("--split", help="qrels split of BEIR folders (default: test); for seeds, dev or test (default: both)")
    bench.add_argument("--mode", dest="modes", action="append", metavar="MODE", help="a mode to run (repeat; default: all)")
    bench.add_argument("--limit", type=_positive_int, metavar="N", help="run only the first N queries")
    bench.add_argument("--articles", metavar="FIRST-LAST", help="SQuAD files: the articles to index (default: all)")
    bench.add_argument("--unanswerable-from", metavar="FIRST-LAST",
                       help="SQuAD files: articles whose questions are asked as unanswerable (default: all articles outside --articles)")
    bench.add_argument("--per-article", type=_positive_int, default=25, metavar="N",
                       help="SQuAD files: questions drawn per article, with a fixed seed (default 25)")
    bench.add_argument("--json", action="store_true", help="print the results as JSON")
    bench.add_argument("--plot", type=Path, metavar="FILE.png", help=(
        "draw Recall@k against k, one curve per mode; for SQuAD-format sets also FILE-abstention.png, abstention on "
        "unanswerable questions against false abstention as the threshold moves"))
    bench.add_argument("--runs", type=Path, metavar="DIR", help="write a TREC run file per dataset and mode")
    bench.add_argument("--questions", type=Path, default=Path("benchmarks/seeds/questions.jsonl"), metavar="FILE",
                       help="the seeds question set (default: benchmarks/seeds/questions.jsonl)")
    bench.add_argument("--corpus", type=Path, default=Path("seeds"), metavar="DIR", help="the seeds corpus (default: seeds/)")
    bench.add_argument("--cache-dir", type=Path, metavar="DIR", help="where benchmark indexes are kept (default: the user cache, or $QA_CACHE_DIR)")
    bench.add_argument("--model", metavar="PATH_OR_NAME", help="local sentence-transformers model folder (default: bundled all-MiniLM-L6-v2)")
    bench.add_argument("--store", type=_store_target, metavar="STORE", help=(
        "the vector store of the benchmark indexes, as for qa index (default: faiss); a Milvus store keeps one "
        "collection name per dataset"))
    bench.set_defaults(run=_run_bench)

    chat = commands.add_parser("chat", help="open the chat (the default command)")
    _index_options(chat)
    chat.set_defaults(run=_run_chat)
    return parser


def _index_options(parser: argparse.ArgumentParser) -> None:
    from qa.settings import DEFAULT_INDEX_DIR

    parser.add_argument("--index-dir", type=Path, metavar="DIR",
                        help=f"index directory (default: $QA_INDEX_DIR, else {DEFAULT_INDEX_DIR}/)")
    parser.add_argument("--model", metavar="PATH_OR_NAME",
                        help="local sentence-transformers model folder (default: the bundled all-MiniLM-L6-v2)")


def _store_target(value: str):
    from qa.stores import parse_store

    try:
        return parse_store(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _threshold(value: str) -> float:
    from qa.settings import probability

    try:
        return probability(value, "--abstain-below")
    except QAError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def _run_index(args: argparse.Namespace) -> int:
    from qa.bot import corpus_of, readable_manifest
    from qa.index import build_index

    corpus = args.corpus_dir or corpus_of(readable_manifest(args.index_dir))
    with _StageProgress(enabled=not args.quiet) as progress:
        on_bytes = (lambda done, total: progress("indexing", done, total)) if progress else None
        report = build_index(corpus, args.index_dir, args.model, progress=on_bytes, notice=_warn, store=args.store)
    for warning in report.skipped if args.verbose else report.warnings:
        _warn(warning)
    where = f"{args.index_dir}/"
    skipped = f", {len(report.skipped)} skipped" if report.skipped else ""
    if not report.changed:
        print(f"{where} is up to date: {report.files} files indexed{skipped}, {report.passages} passages ({report.seconds:.2f} s)")
    else:
        print(
            f"Indexed {report.files} files{skipped}, {report.passages} passages into {where} in {report.seconds:.1f} s "
            f"(embedded {report.passages_embedded} passages from {report.files_embedded} files, "
            f"reused {report.files_reused} unchanged files)"
        )
    unsaid = len(report.skipped) - (len(report.skipped) if args.verbose else len(report.warnings))
    if unsaid > 0:
        files, them = ("1 file", "it") if unsaid == 1 else (f"{unsaid} files", "them")
        print(f"{files} skipped as before; qa index --verbose lists {them}")
    return 0


def _run_inspect(args: argparse.Namespace) -> int:
    from qa.inspection import inspect_file, render_inspection

    inspection = inspect_file(args.file)
    if args.json:
        print(json.dumps(inspection.to_dict(), ensure_ascii=False, indent=1))
    else:
        render_inspection(inspection)
    return 0


def _run_ask(args: argparse.Namespace) -> int:
    from qa.bot import Bot
    from qa.query import Query

    # A question is checked before the model loads, so a wrong one fails at once.
    query = Query.of(args.question, args.history) if args.question != "-" else None
    from qa.answer import AnswerPolicy

    policy = AnswerPolicy.configured(args.abstain_below)
    bot = Bot(args.index_dir, args.model, notice=_warn, mode=args.mode, policy=policy).load()
    if query is None:
        return _ask_stream(bot, args.k)
    answer = bot.ask(query, k=args.k)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False))
    else:
        _print_answer(answer)
    return 0


def _ask_stream(bot, k: int) -> int:
    failures = 0
    for line_number, (question, history) in enumerate(_stdin_questions(), start=1):
        try:
            result = bot.ask(question, history, k=k).to_dict()
        except QAError as error:
            failures += 1
            result = {"question": question, "error": str(error), "line": line_number}
        print(json.dumps(result, ensure_ascii=False), flush=True)
    return 1 if failures else 0


def _stdin_questions() -> Iterator[tuple[str, list[str]]]:
    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line.strip():
            continue
        if line.lstrip().startswith("{"):
            try:
                item = json.loads(line)
                yield str(item.get("question", "")), [str(h) for h in item.get("history", [])]
                continue
            except (ValueError, AttributeError):
                pass
        yield line, []


def _print_answer(answer) -> None:
    from rich.console import Console
    from rich.padding import Padding
    from rich.text import Text

    from qa.text import printable

    console = Console(highlight=False)
    # Wrap to the terminal; into a pipe, keep each line whole so scripts can grep it.
    console.soft_wrap = not console.is_terminal
    if answer.abstained:
        console.print(Text(answer.text, style="bold yellow"))  # the wording the chat shows too
        console.print(Text("Closest passages (not an answer):", style="dim"))
    else:
        console.print(Text(printable(answer.text)))
    for hit in answer.hits:
        passage = hit.passage
        console.print()
        meta = [passage.title, passage.date, passage.section and f"§ {passage.section}", f"score {hit.score:.2f}"]
        header = Text.assemble((f"[{hit.rank}] ", "bold cyan"), (printable(" · ".join(m for m in meta if m)), "bold"))
        console.print(header)
        console.print(Text(printable(f"    {passage.location}, characters {passage.start}–{passage.end}"), style="dim"))
        body = Text(printable(passage.text))
        if console.is_terminal:
            console.print(Padding(body, (0, 0, 0, 4)))
        else:
            console.print(Text("\n").join(Text("    ") + line for line in body.split("\n")))


def _run_bench(args: argparse.Namespace) -> int:
    from qa.eval.bench import plot_abstention, plot_recall, run_bench, write_trec_runs
    from qa.eval.datasets import load_beir, load_seed_questions, load_squad, parse_article_range
    from qa.eval.report import print_results
    from qa.ranking import DEFAULT_MODE, MODES

    for mode in args.modes or ():
        if mode not in MODES:
            raise QAError(f"unknown retrieval mode {mode!r}; choose from: {', '.join(MODES)}")
    articles = parse_article_range(args.articles) if args.articles else None
    unanswerable = parse_article_range(args.unanswerable_from) if args.unanswerable_from else None

    def load(name: str):
        if name == "seeds":
            return load_seed_questions(args.questions, args.corpus, args.split)
        if name.endswith(".json"):
            return load_squad(Path(name), articles, per_article=args.per_article, unanswerable_from=unanswerable)
        return load_beir(Path(name), args.split or "test")

    datasets = [load(name) for name in args.datasets]
    results = []
    with _StageProgress(enabled=not args.json) as progress:
        for dataset in datasets:
            # Answering every question in every mode is slow; SQuAD sets answer in the default mode unless asked.
            modes = args.modes or ([DEFAULT_MODE] if dataset.documents is not None else list(MODES))
            results.append(run_bench(dataset, model=args.model, modes=modes, limit=args.limit, cache_dir=args.cache_dir,
                                     split=args.split or ("all" if dataset.name == "seeds" else "test"), progress=progress,
                                     store=args.store))
    if args.runs:
        for result in results:
            write_trec_runs(result, args.runs)
    curves = None
    if args.plot:
        plot_recall(results, args.plot)
        if any(r.modes and r.modes[0].abstention_curve for r in results):
            curves = args.plot.with_name(f"{args.plot.stem}-abstention{args.plot.suffix}")
            plot_abstention(results, curves)
    if args.json:
        print(json.dumps([r.to_dict() for r in results], indent=2))
    else:
        print_results(results)
        if args.plot:
            print(f"Recall@k plot: {args.plot}" + (f"; abstention curve: {curves}" if curves else ""))
        if args.runs:
            print(f"TREC run files: {args.runs}/")
    return 0


class _StageProgress:
    """A rich progress bar per stage (indexing, querying each mode) on stderr, on a terminal only."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self):
        if not self.enabled:
            return None
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeRemainingColumn(),
                                  console=Console(stderr=True), transient=True)
        self._progress.start()
        return self.update

    def update(self, stage: str, done: int, total: int) -> None:
        assert self._progress is not None, "update is handed out by __enter__ only when enabled"
        if stage not in self._tasks:
            self._tasks[stage] = self._progress.add_task(stage, total=total)
        self._progress.update(self._tasks[stage], completed=done, total=total)

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.stop()


def _run_chat(args: argparse.Namespace) -> int:
    try:
        from ui.app import run_chat
    except ImportError as error:
        raise QAError(f"the chat is not available: {error}") from error
    return run_chat(index_dir=args.index_dir, model=args.model)


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
