"""`qa chat`: the Textual chat over a `qa.Bot`.

The app paints before anything heavy is imported: `Bot(...)` is cheap, and `bot.load()` (torch, the
model, the FAISS index) runs in a thread worker while the UI shows a loading state. Questions typed
meanwhile wait in a queue and are answered, one at a time and off the UI thread, once it has loaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.command import Provider
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, ProgressBar, Static

from qa import (
    DEFAULT_CORPUS_DIR,
    DEFAULT_K,
    DEFAULT_MODE,
    Answer,
    Bot,
    IndexMissingError,
    IndexSummary,
    QAError,
    settings,
)
from qa.text import printable
from ui.commands import ChatCommands
from ui.conversations import ConversationStore, QuestionHistory, Turn
from ui.keys import KEY_IDS, key_label, load_keys
from ui.render import Palette, markdown_export, palette_from_variables
from ui.screens import ConversationsScreen, HelpScreen, SourceScreen
from ui.widgets import Exchange, PassageCard, Prompt, Spinner


class AppState(Enum):
    LOADING = "loading"  # the model and the index load in a worker; questions wait
    READY = "ready"
    BROKEN = "broken"  # no usable index: a message says why, Ctrl+R may fix it
    INDEXING = "indexing"  # Ctrl+R is rebuilding the index; questions wait



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


def describe(error: Exception) -> str:
    """One printable sentence for any error: the library's own message, else the exception's type."""
    message = str(error) if isinstance(error, QAError) else f"{type(error).__name__}: {error}"
    return _sentence(printable(message))


class ChatApp(App[int]):
    """Ask questions of the documents; read answers with their cited passages; open the sources."""

    CSS_PATH = Path(__file__).with_name("chat.tcss")
    TITLE = "qa"
    # The chat's commands first; ChatCommands adds the system ones it keeps (theme, quit).
    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = {ChatCommands}
    COMMAND_PALETTE_BINDING = "ctrl+p"
    # Quit and Help first: the footer shows bindings in order and cuts the last ones when narrow.
    # The ids are the names keys.toml uses (ui/keys.py).
    # Priority for the configurable keys: the prompt (a TextArea) has its own Ctrl keys (Ctrl+E line
    # end, Ctrl+Z undo, PgUp its cursor), and a key the user binds must work whatever has the focus.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", priority=True, id="quit"),
        Binding("f1", "help", "Help", key_display="F1", priority=True, id="help"),
        Binding("question_mark", "help", "Help", show=False),  # not priority: ? is typed in the prompt
        Binding("ctrl+n", "new", "New", priority=True, id="new"),
        Binding("ctrl+o", "conversations", "Chats", priority=True, id="conversations"),
        Binding("ctrl+r", "reindex", "Re-index", show=False, priority=True, id="reindex"),
        Binding("ctrl+l", "clear", "Clear", show=False, priority=True, id="clear"),
        Binding("ctrl+z", "undo", "Undo clear", show=False, priority=True, id="undo"),  # else the prompt's undo
        Binding("ctrl+s", "export", "Export", show=False, priority=True, id="export"),
        Binding("escape", "focus_prompt", "Prompt", show=False),
        Binding("pageup", "scroll_transcript(-1)", "Scroll up", show=False, priority=True, id="scroll-up"),
        Binding("pagedown", "scroll_transcript(1)", "Scroll down", show=False, priority=True, id="scroll-down"),
        Binding("ctrl+home", "scroll_transcript_to(-1)", "Top", show=False, priority=True, id="scroll-top"),
        Binding("ctrl+end", "scroll_transcript_to(1)", "Latest", show=False, priority=True, id="scroll-latest"),
    ]

    def __init__(
        self,
        bot: Bot | None = None,
        *,
        index_dir: Path | None = None,
        model: str | None = None,
        k: int = DEFAULT_K,
        data_dir: Path | None = None,
        config_dir: Path | None = None,
        export_dir: Path | None = None,
        show_timings: bool = True,
        animate: bool = True,
        restore: bool = True,
        clock: Callable[[], datetime] = datetime.now,
    ) -> None:
        super().__init__()
        self._main_thread = threading.get_ident()
        if bot is None:  # an injected bot keeps its own notice callback (pass notice=app.notice to see them)
            bot = Bot(index_dir=index_dir, model=model, notice=self.notice)
        self.bot = bot
        self.k = k
        self.retrieval_modes: tuple[str, ...] = tuple(bot.modes)
        current = getattr(bot, "mode", None)
        self.retrieval_mode = current if current in self.retrieval_modes else self.retrieval_modes[0]
        self.show_timings = show_timings
        self.animated = animate  # spinners and cursor blink; off for snapshots
        self.clock = clock
        self.data_dir = Path(data_dir) if data_dir is not None else settings.data_dir()
        self.config_dir = Path(config_dir) if config_dir is not None else settings.config_dir()
        self.export_dir = Path(export_dir) if export_dir is not None else None
        self.history = QuestionHistory(self.data_dir)
        self.conversations = ConversationStore(self.data_dir)
        self.conversation_id: int | None = None
        self._restore = restore
        self._cleared: int | None = None  # the conversation Ctrl+Z brings back
        self.keys = load_keys(self.config_dir)
        self.palette = Palette()
        self.state = AppState.LOADING
        self.index_missing = False
        self.load_error: str | None = None
        self.summary: IndexSummary | None = None
        self._session_questions: list[str] = []
        self._pending: deque[Exchange] = deque()
        self._busy = False
        self._exiting = False
        self._ui_mounted = False
        self._indexing_since = 0.0
        self._indexing_label = ""
        self._latest_progress: tuple[int, int] | None = None
        self.notices: list[str] = []  # every notification shown, newest last

    # --- layout -----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="topbar"), Horizontal(id="topbar-inner"):
            yield Static(Text("qa", style="bold"), id="brand")
            yield Static(Text("loading…", end=""), id="corpus-info")
            yield Static(Text("", end=""), id="settings")
        with VerticalScroll(id="transcript", can_focus=False):
            yield Static(Text("", end=""), id="welcome")
        with Vertical(id="bottom"):
            with Horizontal(id="status"):
                yield Spinner("Loading the model and the index…", animate=self.animated, id="status-text")
                yield ProgressBar(id="progress", show_eta=False)
            yield Prompt(self.history, placeholder="Ask a question about the documents…", id="prompt")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._ui_mounted = True
        if self.keys.keymap:
            self.set_keymap(self.keys.keymap)
        for problem in self.keys.problems:
            self.notify(problem, severity="warning", markup=False, timeout=10)
        theme = self.conversations.setting("theme")
        if theme and theme in self.available_themes:
            self.theme = theme
        self.palette = palette_from_variables(self.get_css_variables())
        prompt = self.query_one(Prompt)
        prompt.cursor_blink = self.animated
        prompt.focus()
        self.query_one("#progress").display = False
        if self._restore:
            latest = self.conversations.conversations()
            if latest:
                self.open_conversation(latest[0].id, quiet=True)
        self._show_settings()
        self._show_welcome()
        self.set_interval(0.5, self._tick_indexing)
        # Start loading after the first frame is on screen: the loader's imports hold the GIL.
        self.call_after_refresh(self._load)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Chat actions belong to the chat: hide them from the footer on the source viewer and the help."""
        chat_actions = {"reindex", "clear", "undo", "export", "new", "conversations", "scroll_transcript",
                        "scroll_transcript_to", "focus_prompt"}
        return not (action in chat_actions and len(self.screen_stack) > 1)

    def watch_theme(self, theme: str) -> None:
        if not self._ui_mounted:
            return
        self.conversations.set_setting("theme", theme)
        self.palette = palette_from_variables(self.get_css_variables())
        for exchange in self.query(Exchange):
            exchange.recolor(self.palette)
        self._show_settings()
        self._show_welcome()

    def on_unmount(self) -> None:
        self._exiting = True

    # --- thread helpers ---------------------------------------------------------------------------

    def _on_ui_thread(self, callback: Callable[..., Any], *args: Any) -> None:
        """Run callback on the UI thread (now, when already on it); ignore an app that has stopped."""
        if threading.get_ident() == self._main_thread:
            callback(*args)
            return
        with contextlib.suppress(RuntimeError):  # the app is exiting
            self.call_from_thread(callback, *args)

    def notify(self, message: str, **options: Any) -> None:
        self.notices.append(message)
        super().notify(message, **options)

    def notice(self, message: str) -> None:
        """The Bot's notice callback; may be called from a worker thread."""
        self._on_ui_thread(partial(self.notify, printable(message), markup=False, timeout=6))

    # --- loading ----------------------------------------------------------------------------------

    def _index_dir_problem(self) -> str | None:
        """An --index-dir that names a file (not a folder): nothing can load or build there."""
        index_dir = Path(self.bot.index_dir)
        if index_dir.exists() and not index_dir.is_dir():
            return (f"--index-dir {_shown_path(index_dir)} is a file, not a folder: "
                    f"restart with a folder, e.g. qa chat --index-dir embeddings")
        return None

    @work(thread=True, group="bot", exit_on_error=False)
    def _load(self) -> None:
        try:
            problem = self._index_dir_problem()
            if problem:
                raise QAError(problem)
            self.bot.load()
            summary = self.bot.summary()
        except Exception as error:
            self._on_ui_thread(self._load_failed, error)
            return
        self._on_ui_thread(self._loaded, summary)

    def _loaded(self, summary: IndexSummary) -> None:
        self.state = AppState.READY
        self.index_missing = False
        self.load_error = None
        self.summary = summary
        self._set_status(None)
        self._show_settings()
        self._show_welcome()
        self._pump()

    def _load_failed(self, error: Exception) -> None:
        self.state = AppState.BROKEN
        self.index_missing = isinstance(error, IndexMissingError)
        self.load_error = self._explain(error)
        self._set_status(None)
        self._show_settings()
        self._show_welcome()
        self._show_queue()
        if not self._pending:  # the message is at the top, above a reopened conversation
            self.query_one("#transcript", VerticalScroll).scroll_home(animate=False)

    def _explain(self, error: Exception) -> str:
        if self._index_dir_problem():
            return describe(error)
        index_dir = f"{_shown_path(self.bot.index_dir)}/"
        if isinstance(error, IndexMissingError):
            option = "" if Path(self.bot.index_dir) == Path("embeddings") else f" --index-dir {index_dir.rstrip('/')}"
            if DEFAULT_CORPUS_DIR.is_dir():
                corpus = _shown_path(DEFAULT_CORPUS_DIR)
                return f"No index in {index_dir} — press Ctrl+R to build it from {corpus}/ or run: qa index {corpus}{option}"
            return f"No index in {index_dir} — build one with: qa index CORPUS_DIR{option}, then press Ctrl+R to load it"
        return f"{describe(error)} — or press Ctrl+R to re-index it here."

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
        exchange = Exchange(question, tuple(self._session_questions), self.palette, status=self._waiting_label(),
                            animate=self.animated, mode=self.retrieval_mode, k=self.k)
        self._session_questions.append(question)
        transcript = self.query_one("#transcript", VerticalScroll)
        transcript.mount(exchange)
        self.call_after_refresh(transcript.scroll_end, animate=False)
        self._pending.append(exchange)
        self._pump()
        self._show_queue()
        return exchange

    def _waiting_label(self) -> str:
        return {
            AppState.LOADING: "Waiting for the model and the index to load…",
            AppState.INDEXING: "Waiting for the index to be rebuilt…",
            AppState.BROKEN: "Waiting for an index — press Ctrl+R to build it",
        }.get(self.state, "Waiting for the question above…")

    def _show_queue(self) -> None:
        """Every waiting question says what it waits for: the app, or the questions before it."""
        ahead = 1 if self._busy else 0
        for exchange in self._pending:
            if self.state is not AppState.READY:
                exchange.set_status(self._waiting_label())
            else:
                exchange.set_status(f"Queued: {ahead} question{'s' if ahead != 1 else ''} before this one…")
            ahead += 1

    def _pump(self) -> None:
        if self.state is not AppState.READY or self._busy:
            return
        while self._pending:
            exchange = self._pending.popleft()
            if exchange.is_attached:
                break
        else:
            return
        self._busy = True
        exchange.set_status("Searching…")
        exchange.mode, exchange.k = self.retrieval_mode, self.k
        self._show_queue()
        self._search(exchange, self.k, self.retrieval_mode)

    @work(thread=True, group="ask", exit_on_error=False)
    def _search(self, exchange: Exchange, k: int, mode: str) -> None:
        started = time.perf_counter()
        hint = None
        try:
            answer = self.bot.ask(exchange.question, exchange.history, k=k, mode=mode)
            exchange.elapsed_ms = (time.perf_counter() - started) * 1000
            if mode != DEFAULT_MODE:
                hint = self._default_mode_differs(exchange, answer, k)
        except Exception as error:
            message = describe(error) if isinstance(error, QAError) else f"Something went wrong: {describe(error)}"
            self._on_ui_thread(self._answered, exchange, None, message, None)
        else:
            self._on_ui_thread(self._answered, exchange, answer, None, hint)

    def _default_mode_differs(self, exchange: Exchange, answer: Answer, k: int) -> str | None:
        """The recommended mode's answer, when it differs from this one (one more search, tens of ms)."""
        try:
            other = self.bot.ask(exchange.question, exchange.history, k=k, mode=DEFAULT_MODE)
        except Exception:
            return None
        if other.abstained == answer.abstained and (other.abstained or other.text == answer.text):
            return None
        if other.abstained:
            what = "does not answer this"
        elif answer.abstained:
            what = f"answers this from {printable(other.hits[other.sentences[0].citation - 1].passage.doc)}"
        else:
            what = "gives a different answer"
        return f"The recommended mode, {DEFAULT_MODE}, {what} (Ctrl+P → Retrieval mode: {DEFAULT_MODE})."

    def _answered(self, exchange: Exchange, answer: Answer | None, error: str | None, hint: str | None) -> None:
        self._busy = False
        if exchange.is_attached:
            if answer is not None:
                exchange.show_answer(answer, show_timings=self.show_timings, mode_hint=hint)
            else:
                exchange.show_error(error or "No answer.")
            self._remember(exchange)
            self.run_worker(self._reveal_once_mounted(exchange), group="reveal")
        self._pump()
        self._show_queue()

    def _remember(self, exchange: Exchange) -> None:
        if not self.conversations.available:
            return
        if self.conversation_id is None:
            title = " ".join(exchange.question.split())[:80]
            self.conversation_id = self.conversations.create(title, exchange.k, exchange.mode)
        if self.conversation_id is not None:
            self.conversations.add_turn(self.conversation_id, self._turn(exchange))

    @staticmethod
    def _turn(exchange: Exchange) -> Turn:
        return Turn(exchange.question, exchange.answer, exchange.error, exchange.mode, exchange.k,
                    exchange.asked_at, exchange.elapsed_ms)

    async def _reveal_once_mounted(self, exchange: Exchange) -> None:
        # Scrolling before the cards are laid out would stop short (the transcript is not tall yet).
        await exchange.reply_mounted()
        self.call_after_refresh(self._reveal, exchange)

    def _reveal(self, exchange: Exchange) -> None:
        """Scroll so the new reply starts at the top (or the transcript ends at the bottom)."""
        if exchange.is_attached:
            self.query_one("#transcript", VerticalScroll).scroll_to_widget(exchange, top=True, animate=False)
            exchange.revealed = True

    # --- conversations ----------------------------------------------------------------------------

    def _clear_transcript(self) -> None:
        self._pending.clear()
        self._session_questions.clear()
        self.query(Exchange).remove()
        self.query_one(Prompt).focus()

    def open_conversation(self, conversation_id: int, *, quiet: bool = False) -> bool:
        """Show a kept conversation with its answers; its k and mode become the current ones."""
        conversation = self.conversations.conversation(conversation_id)
        if conversation is None:
            return False
        self._clear_transcript()
        self.conversation_id = conversation_id
        if conversation.mode in self.retrieval_modes:
            self.retrieval_mode = conversation.mode
        self.k = conversation.k
        transcript = self.query_one("#transcript", VerticalScroll)
        for turn in self.conversations.turns(conversation_id):
            exchange = Exchange(turn.question, tuple(self._session_questions), self.palette, animate=self.animated,
                                mode=turn.mode, k=turn.k)
            exchange.asked_at, exchange.elapsed_ms = turn.asked_at, turn.elapsed_ms
            self._session_questions.append(turn.question)
            transcript.mount(exchange)
            if turn.answer is not None:
                exchange.show_answer(turn.answer, show_timings=self.show_timings)
            else:
                exchange.show_error(turn.error or "No answer.")
        self.call_after_refresh(transcript.scroll_end, animate=False)
        self._show_settings()
        if not quiet:
            self.notify(f"Reopened: {conversation.title}", markup=False, timeout=3)
        return True

    def action_new(self) -> None:
        self._clear_transcript()
        self.conversation_id = None
        self.notify("New conversation (Ctrl+O lists the earlier ones)", timeout=3)

    def action_conversations(self) -> None:
        def label(c) -> str:
            when = datetime.fromtimestamp(c.updated_at).strftime("%Y-%m-%d %H:%M")
            return f"{when}  {c.title}  ({c.turns} question{'s' if c.turns != 1 else ''}, k {c.k}, {c.mode})"

        listed = [(c.id, label(c)) for c in self.conversations.conversations()]

        def opened(conversation_id: int | None) -> None:
            if conversation_id is not None:
                self.open_conversation(conversation_id)

        self.push_screen(ConversationsScreen(listed, self._delete_conversation), opened)

    def _delete_conversation(self, conversation_id: int) -> None:
        self.conversations.delete(conversation_id)
        self._cleared = conversation_id
        if conversation_id == self.conversation_id:
            self._clear_transcript()
            self.conversation_id = None
        self.notify("Deleted the conversation — Ctrl+Z brings it back", timeout=5)

    def action_clear(self) -> None:
        if self.conversation_id is None and not self.query(Exchange):
            self.notify("Nothing to clear", timeout=2)
            return
        if self.conversation_id is None:  # only questions still waiting: nothing kept to bring back
            self._clear_transcript()
            self.notify("Cleared the conversation", timeout=3)
            return
        self._delete_conversation(self.conversation_id)

    def action_undo(self) -> None:
        if self._cleared is None:
            prompt = self.query_one(Prompt)
            if self.focused is prompt:
                prompt.action_undo()
            return
        self.conversations.undelete(self._cleared)
        conversation_id, self._cleared = self._cleared, None
        self.open_conversation(conversation_id)

    # --- cards and screens ------------------------------------------------------------------------

    @on(PassageCard.Open)
    def _open_source(self, event: PassageCard.Open) -> None:
        card = event.card
        try:
            source = self.bot.source_text(card.hit.passage.doc)
        except Exception as error:
            self.notify(f"Cannot open {printable(card.hit.passage.doc)}: {describe(error)}", severity="error", markup=False)
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
        """A page per press, without animation: an animated scroll restarts on each press, so fast
        presses would add up to one page."""
        transcript = self.query_one("#transcript", VerticalScroll)
        if direction < 0:
            transcript.scroll_page_up(animate=False)
        else:
            transcript.scroll_page_down(animate=False)

    def action_scroll_transcript_to(self, direction: int) -> None:
        transcript = self.query_one("#transcript", VerticalScroll)
        if direction < 0:
            transcript.scroll_home(animate=False)
        else:
            transcript.scroll_end(animate=False)

    def key_lines(self) -> list[tuple[str, str]]:
        """The configurable bindings as they are now (keys.toml applied), for the help screen."""
        lines = []
        keymap = self.keys.keymap
        for binding in self.BINDINGS:
            assert isinstance(binding, Binding)
            if binding.id is None:
                continue
            lines.append((key_label(keymap.get(binding.id, binding.key)), f"{KEY_IDS[binding.id]}  [{binding.id}]"))
        lines.append((key_label(keymap.get("copy", "ctrl+c")), f"{KEY_IDS['copy']}  [copy]"))
        return lines

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            path = self.keys.path or self.config_dir / "keys.toml"
            note = (f"Change a key with its [id] in {path}: a [keys] table of id = \"key\", "
                    f"e.g. export = \"ctrl+e\"")
            self.push_screen(HelpScreen(self.palette, self.key_lines(), note))

    # --- commands ---------------------------------------------------------------------------------

    def export_folder(self) -> Path:
        return self.export_dir or self.data_dir / "exports"

    def action_export(self, target: Path | None = None) -> Path | None:
        """Write the conversation as Markdown: into the data directory's exports folder, or to target
        (a file, or a folder to put it in); the notice gives the full path."""
        turns = [self._turn(e) for e in self.query(Exchange) if e.answer or e.error]
        if not turns:
            self.notify("Nothing to export yet: ask a question first", severity="warning", timeout=3)
            return None
        now = self.clock()
        text = markdown_export(turns, corpus=self.summary.corpus_root if self.summary else None, when=now)
        name = f"qa-conversation-{now:%Y%m%d-%H%M%S}"
        if target is not None and (target.suffix.lower() == ".md" and not target.is_dir()):
            path = target
        else:
            folder = target or self.export_folder()
            path = folder / f"{name}.md"
            copy = 1
            while path.exists():
                copy += 1
                path = folder / f"{name}-{copy}.md"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as error:
            self.notify(f"Could not write {path}: {error.strerror or error}", severity="error", markup=False)
            return None
        self.notify(str(path.resolve()), title="Exported the conversation to", markup=False, timeout=8)
        return path

    def set_k(self, k: int) -> None:
        self.k = max(1, int(k))
        self._options_changed()
        self.notify(f"k = {self.k}: answers cite up to {self.k} passage{'s' if self.k != 1 else ''}", timeout=3)

    def set_mode(self, mode: str) -> None:
        if mode not in self.retrieval_modes:
            return
        self.retrieval_mode = mode
        self._options_changed()
        self.notify(f"Retrieval mode: {mode}", timeout=3)

    def _options_changed(self) -> None:
        self._show_settings()
        if self.conversation_id is not None:
            self.conversations.set_options(self.conversation_id, self.k, self.retrieval_mode)

    def reindex_description(self) -> str:
        if self.index_missing:
            return f"Build the index in {_shown_path(self.bot.index_dir)}/ from {_shown_path(DEFAULT_CORPUS_DIR)}/ (Ctrl+R)"
        corpus = _shown_path(self.summary.corpus_root) + "/" if self.summary else "its corpus folder"
        return f"Bring the index up to date with {corpus} (Ctrl+R)"

    def action_reindex(self) -> None:
        problem = self._index_dir_problem()
        if problem:
            self.notify(problem, severity="error", markup=False, timeout=10)
            return
        if self.state is AppState.INDEXING:
            self.notify("Already re-indexing", timeout=2)
            return
        if self.state is AppState.LOADING:
            self.notify("Wait for the model and the index to load, then re-index", timeout=3)
            return
        if self._busy:
            self.notify("Wait for the search to finish, then re-index", timeout=3)
            return
        self.state = AppState.INDEXING
        corpus = DEFAULT_CORPUS_DIR if self.index_missing else None
        self._indexing_label = "Re-indexing" if corpus is None else f"Building the index from {_shown_path(corpus)}/"
        self._indexing_since = time.monotonic()
        self._latest_progress = None
        self._set_status(f"{self._indexing_label}: reading, splitting and embedding…")
        self.query_one("#progress", ProgressBar).display = False  # shown once the build reports its progress
        self._show_settings()
        self._show_queue()
        self._reindex(corpus)

    def _tick_indexing(self) -> None:
        """While indexing, the status counts the seconds, so a long first step is not a frozen screen."""
        if self.state is not AppState.INDEXING:
            return
        progress = self.query_one("#progress", ProgressBar)
        if self._latest_progress is not None:
            done, total = self._latest_progress
            progress.display = True
            progress.update(total=max(total, 1), progress=min(done, max(total, 1)))
        seconds = time.monotonic() - self._indexing_since
        # The build first reports after its first batch of passages is embedded (a small corpus is one batch).
        step = "embedding the passages" if progress.display else "reading, splitting and embedding"
        self.query_one("#status-text", Spinner).set_label(f"{self._indexing_label}: {step}… {seconds:.0f} s")

    @work(thread=True, group="index", exit_on_error=False)
    def _reindex(self, corpus: Path | None) -> None:
        last = [0.0]

        def progress(done: int, total: int) -> None:
            if self._exiting:  # the user quit: stop the build (the index stays as it was) instead of lingering
                raise _Stopped("the chat was closed while re-indexing")
            self._latest_progress = (done, total)  # a skipped update is drawn by the next tick
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
                    self._on_ui_thread(self._loaded, self.bot.summary())
                    return
            report = self.bot.reindex(corpus_dir=corpus, progress=progress)
            summary = self.bot.summary()
        except Exception as error:
            self._on_ui_thread(self._reindex_failed, error)
            return
        self._on_ui_thread(self._reindexed, report, summary)

    def _progress(self, done: int, total: int) -> None:
        """The build's own count (bytes of the files embedded so far, of those to embed)."""
        self._latest_progress = (done, total)
        self._tick_indexing()

    def _reindexed(self, report: Any, summary: IndexSummary) -> None:
        self.query_one("#progress").display = False
        if report.changed:
            message = (f"Indexed {report.files} files, {report.passages} passages in {report.seconds:.1f} s "
                       f"(embedded {report.files_embedded}, reused {report.files_reused})")
        else:
            message = f"The index is up to date: {report.files} files, {report.passages} passages"
        for warning in getattr(report, "warnings", []):
            self.notify(printable(str(warning)), severity="warning", markup=False)
        self.notify(message, title="Re-index", markup=False, timeout=5)
        self._loaded(summary)

    def _reindex_failed(self, error: Exception) -> None:
        self.query_one("#progress").display = False
        self.notify(f"Re-index failed: {describe(error)}", severity="error", markup=False, timeout=10)
        # What the app can still do depends on whether the old index survives: load it again to find out.
        self.state = AppState.LOADING
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
        if self.state is AppState.LOADING:
            info.update(Text("loading the model and the index…", style=muted, end=""))
        elif self.state is AppState.INDEXING:
            info.update(Text("indexing…", style=muted, end=""))
        elif self.state is AppState.BROKEN or self.summary is None:
            info.update(Text("no usable index", style=Style(color=self.palette.error), end=""))
        else:
            summary = self.summary
            documents = f"{summary.documents} document{'s' if summary.documents != 1 else ''}"
            skipped = f" ({summary.skipped} skipped)" if summary.skipped else ""
            line = f"{_shown_path(summary.corpus_root)}/ · {documents}{skipped} · {summary.passages} passages"
            info.update(Text(printable(line), style=muted, end=""))
        self.query_one("#settings", Static).update(Text(f"k {self.k} · {self.retrieval_mode}", style=muted, end=""))

    def _show_welcome(self) -> None:
        welcome = self.query_one("#welcome", Static)
        palette = self.palette
        welcome.set_class(self.state is AppState.BROKEN, "error")
        if self.state is AppState.BROKEN:
            welcome.update(Text(self.load_error or "The index cannot be used.", end=""))
        elif self.state is AppState.READY:
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


def run_chat(index_dir: Path | None = None, model: str | None = None) -> int:
    """Entry point for `qa chat` and a bare `qa`."""
    app = ChatApp(index_dir=index_dir, model=model)
    loop = asyncio.new_event_loop()
    try:
        result = app.run(loop=loop)
    finally:
        loop.close()
    code = result if isinstance(result, int) else (app.return_code or 0)
    if app.state is AppState.LOADING:
        # Quit while the model was loading: the load only reads, so do not make the user wait for it
        # (the interpreter would join its thread at exit).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
