"""`qa chat`: the Textual chat over a `qa.Bot`.

The app paints before anything heavy is imported: `Bot(...)` is cheap, and `bot.load()` (torch, the
model, the FAISS index) runs in a thread worker while the UI shows a loading state. Questions typed
meanwhile wait in a queue and are answered, one at a time and off the UI thread, once it has loaded.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, ProgressBar, Static

from qa import DEFAULT_CORPUS_DIR, DEFAULT_INDEX_DIR, DEFAULT_K, Answer, Bot, IndexMissingError, QAError
from qa.text import printable
from ui.commands import ChatCommands
from ui.render import Palette, markdown_export, palette_from_variables
from ui.screens import HelpScreen, SourceScreen
from ui.store import QuestionHistory, data_dir
from ui.widgets import Exchange, PassageCard, Prompt, Spinner



class _Stopped(Exception):
    """Raised in the re-index progress callback to stop a build when the chat closes."""


def _shown_path(path: Path | str) -> str:
    """A path as the user would type it: relative to the current directory when it lies inside it."""
    path = Path(path)
    try:
        relative = path.resolve().relative_to(Path.cwd().resolve())
        return str(relative) if str(relative) != "." else "."
    except (ValueError, OSError):
        return str(path)


def _sentence(message: str) -> str:
    """The library's one-line messages start in lower case (they follow "error: " in the CLI)."""
    return message[:1].upper() + message[1:]


class ChatApp(App[int]):
    """Ask questions of the documents; read answers with their cited passages; open the sources."""

    CSS_PATH = Path(__file__).with_name("chat.tcss")
    TITLE = "qa"
    COMMANDS = {ChatCommands}  # the chat's commands first; it adds the system ones it keeps (theme, quit)
    COMMAND_PALETTE_BINDING = "ctrl+p"
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("f1,question_mark", "help", "Help", key_display="F1"),
        Binding("ctrl+r", "reindex", "Re-index"),
        Binding("ctrl+l", "clear", "Clear"),
        Binding("ctrl+s", "export", "Export"),
        Binding("escape", "focus_prompt", "Prompt", show=False),
        Binding("pageup", "scroll_transcript(-1)", "Scroll up", show=False),
        Binding("pagedown", "scroll_transcript(1)", "Scroll down", show=False),
    ]

    def __init__(
        self,
        bot: Bot | None = None,
        *,
        index_dir: Path = DEFAULT_INDEX_DIR,
        model: str | None = None,
        k: int = DEFAULT_K,
        data_dir: Path | None = None,
        export_dir: Path | None = None,
        show_timings: bool = True,
        animate: bool = True,
        clock: Callable[[], datetime] = datetime.now,
    ) -> None:
        super().__init__()
        self._main_thread = threading.get_ident()
        if bot is None:  # an injected bot keeps its own notice callback (pass notice=app.notice to see them)
            bot = Bot(index_dir=Path(index_dir), model=model, notice=self.notice)
        self.bot = bot
        self.k = k
        self.retrieval_modes: tuple[str, ...] = tuple(bot.modes)
        current = getattr(bot, "mode", None)
        self.retrieval_mode = current if current in self.retrieval_modes else self.retrieval_modes[0]
        self.show_timings = show_timings
        self.animate = animate
        self.clock = clock
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.export_dir = Path(export_dir) if export_dir is not None else None
        self.history = QuestionHistory(self._data_dir())
        self.palette = Palette()
        self.state = "loading"  # loading | ready | broken | indexing
        self.index_missing = False
        self.load_error: str | None = None
        self.corpus_root: str | None = None
        self._files = 0
        self._passages = 0
        self._session_questions: list[str] = []
        self._pending: deque[Exchange] = deque()
        self._busy = False
        self._exiting = False
        self._ui_mounted = False
        self.notices: list[str] = []  # every notification shown, newest last

    # --- layout -----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="topbar"):
            yield Static(Text("qa", style="bold"), id="brand")
            yield Static(Text("loading…", end=""), id="corpus-info")
            yield Static(Text("", end=""), id="settings")
        with VerticalScroll(id="transcript", can_focus=False):
            yield Static(Text("", end=""), id="welcome")
        with Vertical(id="bottom"):
            with Horizontal(id="status"):
                yield Spinner("Loading the model and the index…", animate=self.animate, id="status-text")
                yield ProgressBar(id="progress", show_eta=False)
            yield Prompt(self.history, placeholder="Ask a question about the documents…", id="prompt", select_on_focus=False)
        yield Footer()

    def on_mount(self) -> None:
        self._ui_mounted = True
        self.palette = palette_from_variables(self.get_css_variables())
        prompt = self.query_one(Prompt)
        prompt.cursor_blink = self.animate
        prompt.focus()
        self.query_one("#progress").display = False
        self._show_settings()
        self._show_welcome()
        # Start loading after the first frame is on screen: the loader's imports hold the GIL.
        self.call_after_refresh(self._load)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Chat actions belong to the chat: hide them from the footer on the source viewer and the help."""
        if action in {"reindex", "clear", "export", "scroll_transcript", "focus_prompt"} and len(self.screen_stack) > 1:
            return False
        return True

    def watch_theme(self, theme: str) -> None:
        if not self._ui_mounted:
            return
        self.palette = palette_from_variables(self.get_css_variables())
        for exchange in self.query(Exchange):
            exchange.recolor(self.palette)
        self._show_settings()
        self._show_welcome()

    def on_unmount(self) -> None:
        self._exiting = True

    def _data_dir(self) -> Path:
        return self.data_dir if self.data_dir is not None else data_dir()

    # --- thread helpers ---------------------------------------------------------------------------

    def _on_ui_thread(self, callback: Callable[..., Any], *args: Any) -> None:
        """Run callback on the UI thread (now, when already on it); ignore an app that has stopped."""
        if threading.get_ident() == self._main_thread:
            callback(*args)
            return
        try:
            self.call_from_thread(callback, *args)
        except RuntimeError:  # the app is exiting
            pass

    def notify(self, message: str, **options: Any) -> None:  # type: ignore[override]
        self.notices.append(message)
        super().notify(message, **options)

    def notice(self, message: str) -> None:
        """The Bot's notice callback; may be called from a worker thread."""
        self._on_ui_thread(self.notify, printable(message), markup=False, timeout=6)

    # --- loading ----------------------------------------------------------------------------------

    @work(thread=True, group="bot", exit_on_error=False)
    def _load(self) -> None:
        try:
            self.bot.load()
            root = str(self.bot.manifest.corpus_root)
            info = (root, len(self.bot.manifest.files), self.bot.manifest.passage_count)
        except Exception as error:  # noqa: BLE001 - every failure becomes a message, never a traceback
            self._on_ui_thread(self._load_failed, error)
            return
        self._on_ui_thread(self._loaded, info)

    def _loaded(self, info: tuple[str, int, int]) -> None:
        self.state = "ready"
        self.index_missing = False
        self.load_error = None
        self.corpus_root, self._files, self._passages = info
        self._set_status(None)
        self._show_settings()
        self._show_welcome()
        self._pump()

    def _load_failed(self, error: Exception) -> None:
        self.state = "broken"
        self.index_missing = isinstance(error, IndexMissingError)
        self.load_error = self._explain(error)
        self._set_status(None)
        self._show_settings()
        self._show_welcome()
        for exchange in self._pending:
            exchange.set_status("Waiting for an index — press Ctrl+R to build it")

    def _explain(self, error: Exception) -> str:
        index_dir = f"{_shown_path(self.bot.index_dir)}/"
        if isinstance(error, IndexMissingError):
            option = "" if Path(self.bot.index_dir) == Path("embeddings") else f" --index-dir {index_dir.rstrip('/')}"
            if DEFAULT_CORPUS_DIR.is_dir():
                corpus = _shown_path(DEFAULT_CORPUS_DIR)
                return f"No index in {index_dir} — press Ctrl+R to build it from {corpus}/ or run: qa index {corpus}{option}"
            return f"No index in {index_dir} — build one with: qa index CORPUS_DIR{option}, then press Ctrl+R to load it"
        message = str(error) if isinstance(error, QAError) else f"{type(error).__name__}: {error}"
        message = _sentence(printable(message))
        return f"{message} — or press Ctrl+R to re-index it here."

    # --- asking -----------------------------------------------------------------------------------

    @on(Prompt.Submitted, "#prompt")
    def _submitted(self, event: Prompt.Submitted) -> None:
        question = event.value.strip()
        prompt = self.query_one(Prompt)
        if not question:
            self.bell()
            return
        self.history.add(question)
        prompt.value = ""
        prompt.forget_recall()
        self.ask(question)

    def ask(self, question: str) -> Exchange:
        """Show the question and answer it as soon as the bot is free (queued while it loads)."""
        status = {
            "loading": "Waiting for the model and the index to load…",
            "indexing": "Waiting for the index to be rebuilt…",
            "broken": "Waiting for an index — press Ctrl+R to build it",
        }.get(self.state, "Searching…")
        exchange = Exchange(question, tuple(self._session_questions), self.palette, status=status, animate=self.animate)
        self._session_questions.append(question)
        transcript = self.query_one("#transcript", VerticalScroll)
        transcript.mount(exchange)
        self.call_after_refresh(transcript.scroll_end, animate=False)
        self._pending.append(exchange)
        self._pump()
        return exchange

    def _pump(self) -> None:
        if self.state != "ready" or self._busy:
            return
        while self._pending:
            exchange = self._pending.popleft()
            if exchange.is_attached:
                break
        else:
            return
        self._busy = True
        exchange.set_status("Searching…")
        exchange.mode = self.retrieval_mode
        self._search(exchange, self.k, self.retrieval_mode)

    @work(thread=True, group="ask", exit_on_error=False)
    def _search(self, exchange: Exchange, k: int, mode: str) -> None:
        try:
            answer = self.bot.ask(exchange.question, exchange.history, k=k, mode=mode)
        except QAError as error:
            self._on_ui_thread(self._answered, exchange, None, _sentence(printable(str(error))))
        except Exception as error:  # noqa: BLE001
            self._on_ui_thread(self._answered, exchange, None, f"Something went wrong: {type(error).__name__}: {error}")
        else:
            self._on_ui_thread(self._answered, exchange, answer, None)

    def _answered(self, exchange: Exchange, answer: Answer | None, error: str | None) -> None:
        self._busy = False
        if exchange.is_attached:
            if answer is not None:
                exchange.show_answer(answer, show_timings=self.show_timings, cosine_scores=exchange.mode == "dense")
            else:
                exchange.show_error(error or "No answer.")
            self.call_after_refresh(self._reveal, exchange)
        self._pump()

    def _reveal(self, exchange: Exchange) -> None:
        """Scroll so the new reply starts at the top (or the transcript ends at the bottom)."""
        if exchange.is_attached:
            self.query_one("#transcript", VerticalScroll).scroll_to_widget(exchange, top=True, animate=False)
            exchange.revealed = True

    # --- cards and screens ------------------------------------------------------------------------

    @on(PassageCard.Open)
    def _open_source(self, event: PassageCard.Open) -> None:
        card = event.card
        try:
            source = self.bot.source_text(card.hit.passage.doc)
        except Exception as error:  # noqa: BLE001 - a moved or deleted file
            message = str(error) if isinstance(error, QAError) else f"{type(error).__name__}: {error}"
            self.notify(f"Cannot open {card.hit.passage.doc}: {printable(message)}", severity="error", markup=False)
            return
        self.push_screen(SourceScreen(card.answer, card.hit, source, self.palette))

    @on(PassageCard.TypeAhead)
    def _type_ahead(self, event: PassageCard.TypeAhead) -> None:
        prompt = self.query_one(Prompt)
        prompt.focus()
        prompt.insert_text_at_cursor(event.character)

    def action_focus_prompt(self) -> None:
        self.query_one(Prompt).focus()

    def action_focus_cards(self, direction: int) -> None:
        """From the prompt: Tab to the first card of the latest reply, Shift+Tab to its last."""
        exchanges = [e for e in self.query(Exchange) if e.cards]
        if not exchanges:
            return
        cards = exchanges[-1].cards
        (cards[0] if direction > 0 else cards[-1]).focus()

    def action_scroll_transcript(self, direction: int) -> None:
        transcript = self.query_one("#transcript", VerticalScroll)
        if direction < 0:
            transcript.scroll_page_up()
        else:
            transcript.scroll_page_down()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.palette))

    # --- commands ---------------------------------------------------------------------------------

    def action_clear(self) -> None:
        self._pending.clear()
        self._session_questions.clear()
        self.query(Exchange).remove()
        self.query_one(Prompt).focus()
        self.notify("Cleared the conversation", timeout=2)

    def export_dir_label(self) -> str:
        return _shown_path(self.export_dir) if self.export_dir else "the current directory"

    def action_export(self) -> Path | None:
        exchanges = [(e.question, e.answer, e.error) for e in self.query(Exchange) if e.answer or e.error]
        if not exchanges:
            self.notify("Nothing to export yet: ask a question first", severity="warning", timeout=3)
            return None
        now = self.clock()
        text = markdown_export(exchanges, corpus=self.corpus_root, when=now)
        name = f"qa-conversation-{now:%Y%m%d-%H%M%S}"
        for folder in (self.export_dir or Path.cwd(), self._data_dir()):
            path = folder / f"{name}.md"
            copy = 1
            while path.exists():
                copy += 1
                path = folder / f"{name}-{copy}.md"
            try:
                folder.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
            except OSError:
                continue
            self.notify(f"Exported the conversation to {path}", title="Export", markup=False, timeout=8)
            return path
        self.notify("Could not write the export to the current directory or the data directory",
                    severity="error", markup=False)
        return None

    def set_k(self, k: int) -> None:
        self.k = max(1, int(k))
        self._show_settings()
        self.notify(f"k = {self.k}: answers cite up to {self.k} passage{'s' if self.k != 1 else ''}", timeout=3)

    def set_mode(self, mode: str) -> None:
        if mode not in self.retrieval_modes:
            return
        self.retrieval_mode = mode
        self._show_settings()
        self.notify(f"Retrieval mode: {mode}", timeout=3)

    def reindex_description(self) -> str:
        if self.index_missing:
            return f"Build the index in {_shown_path(self.bot.index_dir)}/ from {_shown_path(DEFAULT_CORPUS_DIR)}/ (Ctrl+R)"
        corpus = _shown_path(self.corpus_root) + "/" if self.corpus_root else "its corpus folder"
        return f"Bring the index up to date with {corpus} (Ctrl+R)"

    def action_reindex(self) -> None:
        if self.state == "indexing":
            self.notify("Already re-indexing", timeout=2)
            return
        if self.state == "loading":
            self.notify("Wait for the model and the index to load, then re-index", timeout=3)
            return
        if self._busy:
            self.notify("Wait for the search to finish, then re-index", timeout=3)
            return
        self.state = "indexing"
        corpus = DEFAULT_CORPUS_DIR if self.index_missing else None
        self._set_status("Re-indexing…" if corpus is None else f"Building the index from {_shown_path(corpus)}/…")
        progress = self.query_one("#progress", ProgressBar)
        progress.update(total=None, progress=0)
        progress.display = True
        self._show_settings()
        self._reindex(corpus)

    @work(thread=True, group="index", exit_on_error=False)
    def _reindex(self, corpus: Path | None) -> None:
        last = [0.0]

        def progress(done: int, total: int) -> None:
            if self._exiting:  # the user quit: stop the build (the index stays as it was) instead of lingering
                raise _Stopped("the chat was closed while re-indexing")
            now = time.monotonic()
            if done >= total or now - last[0] > 0.05:
                last[0] = now
                self._on_ui_thread(self._progress, done, total)

        try:
            if corpus is not None:  # there was no index: maybe one was built meanwhile (qa index in a shell)
                try:
                    self.bot.load()
                except IndexMissingError:
                    pass
                else:
                    manifest = self.bot.manifest
                    self._on_ui_thread(self._loaded, (str(manifest.corpus_root), len(manifest.files), manifest.passage_count))
                    return
            report = self.bot.reindex(corpus_dir=corpus, progress=progress)
            manifest = self.bot.manifest
            info = (str(manifest.corpus_root), len(manifest.files), manifest.passage_count)
        except Exception as error:  # noqa: BLE001
            self._on_ui_thread(self._reindex_failed, error)
            return
        self._on_ui_thread(self._reindexed, report, info)

    def _progress(self, done: int, total: int) -> None:
        self.query_one("#progress", ProgressBar).update(total=max(total, 1), progress=done)

    def _reindexed(self, report: Any, info: tuple[str, int, int]) -> None:
        self.query_one("#progress").display = False
        if report.changed:
            message = (f"Indexed {report.files} files, {report.passages} passages in {report.seconds:.1f} s "
                       f"(embedded {report.files_embedded}, reused {report.files_reused})")
        else:
            message = f"The index is up to date: {report.files} files, {report.passages} passages"
        for warning in getattr(report, "warnings", []):
            self.notify(printable(str(warning)), severity="warning", markup=False)
        self.notify(message, title="Re-index", markup=False, timeout=5)
        self._loaded(info)

    def _reindex_failed(self, error: Exception) -> None:
        self.query_one("#progress").display = False
        message = str(error) if isinstance(error, QAError) else f"{type(error).__name__}: {error}"
        self.notify(f"Re-index failed: {printable(message)}", severity="error", markup=False, timeout=10)
        # What the app can still do depends on whether the old index survives: load it again to find out.
        self.state = "loading"
        self._set_status("Loading the index…")
        self._load()

    # --- chrome -----------------------------------------------------------------------------------

    def _set_status(self, label: str | None) -> None:
        status = self.query_one("#status")
        spinner = self.query_one("#status-text", Spinner)
        spinner.spin(label is not None)
        status.display = label is not None
        if label is not None:
            spinner.set_label(label)

    def _show_settings(self) -> None:
        info = self.query_one("#corpus-info", Static)
        muted = Style(color=self.palette.muted)
        if self.state == "loading":
            info.update(Text("loading the model and the index…", style=muted, end=""))
        elif self.state == "indexing":
            info.update(Text("indexing…", style=muted, end=""))
        elif self.state == "broken":
            info.update(Text("no usable index", style=Style(color=self.palette.error), end=""))
        else:
            corpus = _shown_path(self.corpus_root or "")
            info.update(Text(printable(f"{corpus}/ · {self._files} documents · {self._passages} passages"), style=muted, end=""))
        modes = f" · {self.retrieval_mode}"
        self.query_one("#settings", Static).update(Text(f"k {self.k}{modes}", style=muted, end=""))

    def _show_welcome(self) -> None:
        welcome = self.query_one("#welcome", Static)
        palette = self.palette
        welcome.set_class(self.state == "broken", "error")
        if self.state == "broken":
            welcome.update(Text(self.load_error or "The index cannot be used.", end=""))
        elif self.state == "ready":
            welcome.update(Text.assemble(
                ("Ask a question about the documents. ", Style(bold=True)),
                ("Answers quote the documents and cite them [n]; Tab reaches the cited passages, "
                 "Enter opens one in its source. F1 lists every key.", Style(color=palette.muted)),
                end="",
            ))
        else:
            welcome.update(Text.assemble(
                ("Loading the model and the index… ", Style(bold=True)),
                ("type your question now: it is answered as soon as they are ready.", Style(color=palette.muted)),
                end="",
            ))


def run_chat(index_dir: Path = DEFAULT_INDEX_DIR, model: str | None = None) -> int:
    """Entry point for `qa chat` and a bare `qa`."""
    app = ChatApp(index_dir=Path(index_dir), model=model)
    loop = asyncio.new_event_loop()
    try:
        result = app.run(loop=loop)
    finally:
        loop.close()
    code = result if isinstance(result, int) else (app.return_code or 0)
    if app.state == "loading":
        # Quit while the model was loading: the load only reads, so do not make the user wait for it
        # (the interpreter would join its thread at exit).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
