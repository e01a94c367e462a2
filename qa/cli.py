"""The `qa` command: a thin layer over the library. Imports nothing heavy until a command runs."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from qa.errors import QAError

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from qa.catalog import Collection
    from qa.stores import StoreTarget


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] and argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv = ["chat", *argv]  # a bare `qa` opens the chat, so it takes the chat's options
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["chat", *argv])
    try:
        return args.run(args)
    except QAError as error:
        _error(str(error))
        return 1
    except KeyboardInterrupt:
        _error("interrupted; the index is as it was before this command")
        return 130
    except BrokenPipeError:  # the reader of the output went away (qa collections --json | head)
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _parser() -> argparse.ArgumentParser:
    from qa.bot import DEFAULT_K
    from qa.ranking import DEFAULT_MODE, MODES

    parser = argparse.ArgumentParser(
        prog="qa",
        description="Ask questions of a folder of documents; answers quote the documents and cite them exactly.",
        epilog="Run a bare `qa` to open the chat (it takes the chat's options: qa --index-dir DIR).",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    index = commands.add_parser("index", help="index a folder as a named collection, or update the collections", description=(
        "Split the documents under FOLDER (.txt, .md, .html, .pdf, .docx) into paragraphs, embed them and "
        "write the index of the collection FOLDER is (registered the first time, named after the folder unless "
        "--name says otherwise, its index in the user data directory unless --index-dir says otherwise). Without "
        "FOLDER, every collection (or the one --name names) is brought up to date. Unchanged files are not embedded "
        "again; a file that cannot be read is skipped with one warning line. With --index-dir and no --name, the "
        "index in DIR is built as before named collections, and not registered."))
    index.add_argument("corpus_dir", nargs="?", type=Path, metavar="FOLDER",
                       help="folder of documents (default: every collection's own folder)")
    index.add_argument("--name", metavar="NAME", help="the collection's name (default: the folder's name)")
    _index_options(index)
    index.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    index.add_argument("-v", "--verbose", action="store_true", help="list every skipped file and why, not only those new to this run")
    index.add_argument("--store", type=_store_arg, metavar="STORE", help=(
        "where the vectors go: faiss (files in the index directory; the default for a new index), milvus:PATH.db "
        "(Milvus Lite) or http://HOST:19530 (a Milvus server; token from $QA_MILVUS_TOKEN); add #NAME for the "
        "Milvus collection's name (default: the collection's name, or qa). Default: the store the index already has"))
    index.set_defaults(run=_run_index)

    collections = commands.add_parser("collections", help="list, remove or rename the named collections", description=(
        "List the named collections (name, folder, documents, passages, last update, store), or remove or rename one. "
        "Removing one deletes the index qa placed in the user data directory (an index placed with --index-dir stays), "
        "never the documents."))
    collections.add_argument("--json", action="store_true", help="list them as one JSON array")
    actions = collections.add_subparsers(dest="action", metavar="ACTION")
    listing = actions.add_parser("list", help="list the collections (the default)")
    listing.add_argument("--json", action="store_true", help="print one JSON array")
    remove = actions.add_parser("remove", help="unregister a collection and delete the index qa made for it")
    remove.add_argument("name", metavar="NAME")
    rename = actions.add_parser("rename", help="give a collection another name")
    rename.add_argument("old", metavar="NAME")
    rename.add_argument("new", metavar="NEW_NAME")
    collections.set_defaults(run=_run_collections)

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
    _abstain_option(ask)
    _collection_option(ask)
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

    chat = commands.add_parser("chat", help="open the chat (the default command)", description=(
        "Open the chat over the collections chosen (-c, or FOLDER; default: every collection), or the index in --index-dir."))
    chat.add_argument("folder", nargs="?", type=Path, metavar="FOLDER",
                      help="a folder of documents to ask (offered to be indexed first when it is not)")
    _collection_option(chat)
    _index_options(chat)
    _abstain_option(chat)
    chat.set_defaults(run=_run_chat)

    watch = commands.add_parser("watch", help="keep collections up to date as their files change", description=(
        "Watch the folders of the named collections (default: every collection) and update each index when its files "
        "change: a burst of saves is one update, only changed files are embedded, a renamed or moved file keeps its "
        "vectors, and each update is made current at once (an open chat or qa mcp moves to it). One line per update. "
        "Ctrl+C stops."))
    watch.add_argument("names", nargs="*", metavar="NAME", help="collections to watch (default: all, including those added later)")
    watch.add_argument("--index-dir", type=Path, metavar="DIR", help="watch the folder of the index in DIR instead (an index not registered)")
    watch.add_argument("--model", metavar="PATH_OR_NAME", help="local sentence-transformers model folder (default: the index's own)")
    watch.add_argument("--quiet-ms", type=_positive_int, default=250, metavar="MS",
                       help="an update starts when no change has come for this long (default 250)")
    watch.set_defaults(run=_run_watch)

    mcp = commands.add_parser("mcp", help="serve the collections to AI agents over the Model Context Protocol", description=(
        "Serve search, answer, get_passage and list_collections (and documents as qa:// resources) over MCP: on "
        "standard input and output (the default, for a client that starts it), or with --http as streamable HTTP on "
        "127.0.0.1. The model is loaded once."))
    _collection_option(mcp)
    _index_options(mcp)
    mcp.add_argument("--http", action="store_true", help="serve streamable HTTP on 127.0.0.1 instead of stdio")
    mcp.add_argument("--port", type=_port, default=8765, metavar="PORT", help="the HTTP port (default 8765)")
    mcp.set_defaults(run=_run_mcp)
    return parser


def _collection_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--collection", action="append", default=[], metavar="NAME", dest="collections",
                        help="a collection to ask (repeat; 'all' for every one; a folder of documents names its collection). "
                             "Default: every collection")


def _abstain_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--abstain-below", type=_threshold, metavar="P", help=(
        "say the documents don't answer when the bot's confidence that they do is below P, from 0 to 1 "
        "(default: $QA_ABSTAIN_BELOW, else the fitted threshold; higher abstains more: see docs/quality-abstention.md)"))


def _index_options(parser: argparse.ArgumentParser) -> None:
    from qa.settings import DEFAULT_INDEX_DIR

    parser.add_argument("--index-dir", type=Path, metavar="DIR",
                        help=f"an index directory, asked alone (default: $QA_INDEX_DIR, else the collections, else {DEFAULT_INDEX_DIR}/)")
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


@dataclass(frozen=True)
class _StoreArg:
    """--store as given: the target, and whether it names its Milvus collection (#NAME)."""

    target: StoreTarget
    named: bool


def _store_arg(value: str) -> _StoreArg:
    return _StoreArg(_store_target(value), "#" in value)


def _port(value: str) -> int:
    number = int(value)
    if not 1 <= number <= 65535:
        raise argparse.ArgumentTypeError("must be a port number, 1 to 65535")
    return number


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def _run_index(args: argparse.Namespace) -> int:
    from qa import settings
    from qa.bot import corpus_of, readable_manifest
    from qa.catalog import Catalog

    store = args.store.target if args.store else None
    legacy = args.index_dir or (settings.index_dir_from_env() if args.name is None else None)
    if legacy is not None and args.name is None:
        _build(args.corpus_dir or corpus_of(readable_manifest(legacy)), legacy, args, store, f"{legacy}/")
        return 0
    catalog = Catalog()
    if args.corpus_dir is None:
        chosen = [catalog.get(args.name)] if args.name else list(catalog.collections())
        if not chosen:  # no collection yet: the index in embeddings/, from the folder it was built from, or seeds/
            _build(corpus_of(readable_manifest(settings.DEFAULT_INDEX_DIR)), settings.DEFAULT_INDEX_DIR, args, store, f"{settings.DEFAULT_INDEX_DIR}/")
        for collection in chosen:
            _build(collection.folder, collection.index_dir, args, store, f"collection {collection.name}")
        return 0
    collection, created = catalog.register(args.corpus_dir, args.name, args.index_dir)
    if store is not None and args.store and not args.store.named and store.kind == "milvus":
        from dataclasses import replace

        store = replace(store, name=_milvus_name(collection.name))  # one Milvus collection per qa collection
    if created:
        print(f"New collection {collection.name}: {collection.folder} (index in {_shown(collection.index_dir)}/)")
    try:
        _build(collection.folder, collection.index_dir, args, store, f"collection {collection.name}")
    except BaseException:
        if created:  # a collection whose first build failed is not kept
            catalog.remove(collection.name)
        raise
    return 0


def _build(corpus: Path, index_dir: Path, args: argparse.Namespace, store, where: str):
    from qa.index import build_index

    with _StageProgress(enabled=not args.quiet) as progress:
        on_bytes = (lambda done, total: progress("indexing", done, total)) if progress else None
        report = build_index(corpus, index_dir, args.model, progress=on_bytes, notice=_warn, store=store)
    for warning in report.skipped if args.verbose else report.warnings:
        _warn(warning)
    skipped = f", {len(report.skipped)} skipped" if report.skipped else ""
    if not report.changed:
        print(f"{where[0].upper()}{where[1:]} is up to date: {report.files} files indexed{skipped}, {report.passages} passages ({report.seconds:.2f} s)")
    else:
        renamed = f", {report.files_renamed} of them renamed or moved" if report.files_renamed else ""
        print(
            f"Indexed {report.files} files{skipped}, {report.passages} passages into {where} in {report.seconds:.1f} s "
            f"(embedded {report.passages_embedded} passages from {report.files_embedded} files, "
            f"reused {report.files_reused} unchanged files{renamed})"
        )
    unsaid = len(report.skipped) - (len(report.skipped) if args.verbose else len(report.warnings))
    if unsaid > 0:
        files, them = ("1 file", "it") if unsaid == 1 else (f"{unsaid} files", "them")
        print(f"{files} skipped as before; qa index --verbose lists {them}")
    return report


def _milvus_name(name: str) -> str:
    """A Milvus collection name made from a collection's name (letters, digits and _, not starting with a digit)."""
    import re

    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return cleaned if re.match(r"[A-Za-z_]", cleaned) else f"qa_{cleaned}"


def _shown(path: Path) -> str:
    """A path as people read it: under the home folder as ~/…"""
    home = Path.home()
    try:
        return f"~/{Path(path).resolve().relative_to(home)}"
    except ValueError:
        return str(path)


def _run_collections(args: argparse.Namespace) -> int:
    from qa.catalog import Catalog, info

    catalog = Catalog()
    if args.action == "remove":
        removed = catalog.remove(args.name)
        where = f"its index in {_shown(removed.index_dir)} deleted" if removed.owned else f"its index in {removed.index_dir} left where it is"
        print(f"Removed collection {removed.name} ({where}; the documents in {_shown(removed.folder)} are untouched)")
        return 0
    if args.action == "rename":
        renamed = catalog.rename(args.old, args.new)
        print(f"Renamed collection {args.old} to {renamed.name}")
        return 0
    listed = [info(collection) for collection in catalog.collections()]
    if args.json:
        print(json.dumps([item.to_dict() for item in listed], ensure_ascii=False, indent=1))
        return 0
    if not listed:
        print("No collections yet; make one with: qa index FOLDER")
        return 0
    rows = [("NAME", "FOLDER", "DOCUMENTS", "PASSAGES", "UPDATED", "STORE")]
    for item in listed:
        folder = _shown(item.collection.folder) + ("" if item.folder_found else " (missing)")
        ready = item.state.value == "ready"
        rows.append((
            item.name, folder, f"{item.documents:,}" if ready else "-", f"{item.passages:,}" if ready else item.state.value,
            item.updated.strftime("%Y-%m-%d %H:%M") if item.updated else "-", item.store or "-",
        ))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        cells = [cell.rjust(width) if column in (2, 3) else cell.ljust(width) for column, (cell, width) in enumerate(zip(row, widths, strict=True))]
        print("  ".join(cells).rstrip())
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
    from qa.query import Query

    # A question is checked before the model loads, so a wrong one fails at once.
    query = Query.of(args.question, args.history) if args.question != "-" else None
    from qa.answer import AnswerPolicy

    policy = AnswerPolicy.configured(args.abstain_below)
    bot = _bot(_chosen(args, offer=query is not None), args.model, mode=args.mode, policy=policy).load()
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
        named = f"[{hit.collection}] " if hit.collection is not None else ""
        console.print(Text(printable(f"    {named}{passage.location}, characters {passage.start}–{passage.end}"), style="dim"))
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


@dataclass(frozen=True)
class _Chosen:
    """What a command asks: an index named by its folder, or named collections."""

    index_dir: Path | None = None
    collections: tuple[Collection, ...] = ()


def _chosen(args: argparse.Namespace, offer: bool, require_index: bool = True) -> _Chosen:
    """-c (names, 'all', folders), else --index-dir, else $QA_INDEX_DIR, else every collection, else
    embeddings/. A folder no collection holds is offered to be indexed when offer (and a person is
    at the terminal to say yes), else named with the command that indexes it."""
    from qa import settings
    from qa.catalog import Catalog, UnindexedFolderError

    choices = list(getattr(args, "collections", []) or [])
    if getattr(args, "folder", None) is not None:
        choices.append(str(args.folder))
    if choices and args.index_dir is not None:
        raise QAError("choose collections (-c) or an index directory (--index-dir), not both")
    if args.index_dir is not None:
        return _Chosen(index_dir=args.index_dir)
    catalog = Catalog()
    if choices:
        found: dict[str, Collection] = {}
        for choice in choices:
            try:
                chosen = catalog.resolve([choice])
            except UnindexedFolderError as unindexed:
                if not offer:
                    raise
                chosen = (_offer_to_index(catalog, unindexed, args),)
            found.update((c.name, c) for c in chosen)
        return _Chosen(collections=tuple(found.values()))
    legacy = settings.index_dir_from_env()
    if legacy is not None:
        return _Chosen(index_dir=legacy)
    everything = catalog.collections()
    if everything:
        return _Chosen(collections=everything)
    from qa.index import MANIFEST

    if require_index and not (settings.DEFAULT_INDEX_DIR / MANIFEST).exists():
        raise QAError("nothing to ask yet: index a folder of documents with: qa index FOLDER")
    return _Chosen(index_dir=settings.DEFAULT_INDEX_DIR)


def _offer_to_index(catalog, unindexed, args: argparse.Namespace) -> Collection:
    """Ask the person at the terminal whether to index a folder no collection holds; index it if so."""
    from qa.catalog import default_name

    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise unindexed
    name = default_name(unindexed.folder)
    print(f"{unindexed.folder} is not indexed yet. Index it now as the collection {name!r}? [Y/n] ", end="", file=sys.stderr, flush=True)
    if input().strip().lower() not in ("", "y", "yes"):
        raise QAError(f"not indexed, so nothing to ask; index it later with: qa index {unindexed.folder}")
    collection, created = catalog.register(unindexed.folder)
    try:
        quiet = argparse.Namespace(quiet=False, verbose=False, model=getattr(args, "model", None))
        _build(collection.folder, collection.index_dir, quiet, None, f"collection {collection.name}")
    except BaseException:
        if created:
            catalog.remove(collection.name)
        raise
    return collection


def _bot(chosen: _Chosen, model: str | None, **options):
    from qa.bot import Bot

    if chosen.collections:
        return Bot(model=model, collections=chosen.collections, notice=_warn, **options)
    return Bot(chosen.index_dir, model, notice=_warn, **options)


def _run_chat(args: argparse.Namespace) -> int:
    try:
        from ui.app import run_chat
    except ImportError as error:
        raise QAError(f"the chat is not available: {error}") from error
    chosen = _chosen(args, offer=True, require_index=False)  # the chat offers to build a missing index itself
    if chosen.collections:
        return run_chat(model=args.model, collections=tuple(c.name for c in chosen.collections), abstain_below=args.abstain_below)
    return run_chat(index_dir=chosen.index_dir, model=args.model, abstain_below=args.abstain_below)


def _run_watch(args: argparse.Namespace) -> int:
    from qa.catalog import Catalog
    from qa.watch import Watched, Watcher

    if args.index_dir is not None:
        if args.names:
            raise QAError("name collections or give --index-dir, not both")
        from qa.index import require_manifest

        fixed = [Watched(f"{args.index_dir}/", Path(require_manifest(args.index_dir).corpus_root), args.index_dir)]

        def targets() -> list[Watched]:
            return fixed
    else:
        catalog = Catalog()
        chosen = catalog.resolve(args.names) if args.names else ()
        if not args.names and not catalog.collections():
            raise QAError("no collections to watch yet; make one with: qa index FOLDER")
        index_dirs = {c.index_dir for c in chosen}

        def targets() -> list[Watched]:  # read again each time: collections renamed, added (when all are watched) or removed
            return [Watched(c.name, c.folder, c.index_dir) for c in catalog.collections() if not index_dirs or c.index_dir in index_dirs]

    first = targets()
    print(f"Watching {', '.join(f'{w.label} ({_shown(w.folder)})' for w in first)}; one line per update, Ctrl+C stops.", flush=True)
    watcher = Watcher(targets, lambda event: print(event.line(), flush=True), model=args.model, quiet_ms=args.quiet_ms,
                      max_wait_ms=max(2000, args.quiet_ms * 4))
    try:
        watcher.run()
    except KeyboardInterrupt:
        print("Stopped watching; every index is complete.", flush=True)
    return 0


def _run_mcp(args: argparse.Namespace) -> int:
    from qa.mcp_server import serve

    chosen = _chosen(args, offer=False)
    return serve(_bot(chosen, args.model), http=args.http, port=args.port, all_collections=not args.collections and chosen.index_dir is None)


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
