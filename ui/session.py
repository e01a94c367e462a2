"""The chat's session, without Textual: the bot and its state, the collections it asks, the question
queue, the conversation and its persistence, k, mode and the operating point, export and re-indexing.

The session is driven by plain method calls and reports what happened as events (frozen dataclasses
of `ui/events.py`) to its listeners. Work that may take seconds (loading, asking, re-indexing) goes to a `Runner`, which
runs it off the UI thread and brings its result back to the thread that owns the session; the chat's
runner uses Textual thread workers, and tests can run the jobs by hand. Every event is delivered on
the owning thread.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from qa import (
    DEFAULT_CORPUS_DIR,
    DEFAULT_K,
    DEFAULT_MODE,
    MAX_QUESTION_CHARS,
    Answer,
    AnswerPolicy,
    Bot,
    Hit,
    IndexMissingError,
    IndexSummary,
    QAError,
    settings,
)
from qa.catalog import Catalog, Collection, CollectionState
from qa.catalog import info as collection_info
from qa.index import Generation, current_generation
from qa.text import printable
from ui.conversations import Conversation, ConversationStore, QuestionHistory, Turn
from ui.events import (
    ActivityChanged,
    ActivityStatus,
    Answered,
    AppState,
    CollectionChoice,
    ConversationOpened,
    Event,
    FolderWanted,
    IndexingStarted,
    IndexUpdated,
    Listener,
    Loaded,
    LoadFailed,
    Notice,
    OptionsChanged,
    Question,
    QuestionAdded,
    QueueChanged,
    Reloading,
    Searching,
    Severity,
    SourceView,
    Switching,
    TranscriptCleared,
)
from ui.keys import KeyConfig
from ui.render import counted, markdown_export, support_ranges

LAST_SHOWN = "last_conversation"  # the settings key: the id of the conversation shown last, "" for a new one
UPDATE_CHECK_SECONDS = 2.0  # how often the chat looks for a new generation of its indexes (one stat each)


class _Stopped(Exception):
    """Raised in the re-index progress callback to stop a build when the chat closes."""


def shown_path(path: Path | str) -> str:
    """A path as the user would type it: relative to the current directory when it lies inside it."""
    path = Path(path)
    try:
        relative = path.resolve().relative_to(Path.cwd().resolve())
        return str(relative) if str(relative) != "." else "."
    except (ValueError, OSError):
        return str(path)


def capitalised(message: str) -> str:
    """A line as a sentence: the library's one-line messages start in lower case (they follow
    "error: " in the CLI)."""
    return message[:1].upper() + message[1:]


def detail(error: Exception) -> str:
    """An error as it reads after a colon: the library's own message, else the exception's type;
    printable, and as written (it may start with a file name, whose case matters)."""
    return printable(str(error) if isinstance(error, QAError) else f"{type(error).__name__}: {error}")


def describe(error: Exception) -> str:
    """One printable sentence for any error, to start a message with."""
    return capitalised(detail(error))


def threshold_of(policy: AnswerPolicy) -> float:
    """The confidence below which a policy abstains."""
    return policy.abstention.min_probability


def shown_threshold(value: float) -> str:
    """A threshold as the chat shows it: two decimals ("0.30"), more when it has them ("0.144")."""
    two = f"{value:.2f}"
    return two if float(two) == value else f"{value:.3f}".rstrip("0")


# --- what the session runs on ---------------------------------------------------------------------


class Runner(Protocol):
    def background(self, job: Callable[[], None], group: str) -> None:
        """Run job off the owning thread (one group's jobs are related: "bot", "ask", "index")."""

    def to_main(self, callback: Callable[[], None]) -> None:
        """Run callback on the owning thread (now, when already on it); may be called from any thread."""


def locate(text: str, answer: Answer, hit: Hit) -> SourceView:
    """Where the hit's passage is in text: at its offsets, else the copy of its text nearest to them."""
    passage = hit.passage
    cited = (passage.start, passage.end)
    if text[passage.start : passage.end] == passage.text:
        start: int | None = passage.start
    else:
        starts = []
        at = text.find(passage.text)
        while at != -1:
            starts.append(at)
            at = text.find(passage.text, at + 1)
        start = min(starts, key=lambda s: abs(s - passage.start)) if starts else None
    if start is None:
        return SourceView(text, cited, None, ())
    shift = start - passage.start
    support = tuple((s + shift, e + shift) for s, e in support_ranges(answer, hit))
    return SourceView(text, cited, (start, start + len(passage.text)), support)


def _unusable(collection: Collection, state: CollectionState) -> str:
    """Why a collection cannot be asked, in one line with the command that fixes it (never the seeds:
    a collection is built from its own folder)."""
    folder = shown_path(collection.folder)
    if state is CollectionState.NOT_BUILT:
        return f"collection {collection.name} has no index yet; build it with: qa index {folder}"
    return f"the index of collection {collection.name} cannot be read; rebuild it with: qa index {folder}"


# --- the session ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Snapshot:
    """What the chat shows of the indexes it asks, read off the UI thread."""

    summary: IndexSummary
    parts: tuple[IndexSummary, ...]  # each collection asked, in order; the one index opened by its folder: itself
    choices: tuple[CollectionChoice, ...] | None  # the registered collections; None when the registry did not change
    stamp: object  # the registry and its indexes' generations, as last read


class ChatSession:
    """One chat over one index, or over named collections asked as one: state, queue, conversation,
    options, export, re-index, switching collections and following new generations of the indexes."""

    def __init__(
        self,
        bot: Bot | None,
        *,
        runner: Runner,
        data_dir: Path,
        index_dir: Path | None = None,
        collections: Sequence[str] | None = None,
        model: str | None = None,
        k: int = DEFAULT_K,
        abstain_below: float | None = None,
        catalog: Catalog | None = None,
        export_dir: Path | None = None,
        restore: bool = True,
        clock: Callable[[], datetime] = datetime.now,
        keys: KeyConfig = KeyConfig(),
    ) -> None:
        """collections: names (or "all") of registered collections to ask, instead of index_dir.
        abstain_below: the operating point (0 to 1) for this chat; default $QA_ABSTAIN_BELOW, else the
        bot's own (the fitted one)."""
        self.runner = runner
        self.keys = keys  # the keys bound now, which every message names
        self.catalog = catalog or Catalog()
        self._collections: tuple[Collection, ...] = ()  # the collections asked, as the registry gave them
        if bot is None:  # an injected bot keeps its own notice callback and policy
            # The fitted policy: a threshold chosen for the chat (or by $QA_ABSTAIN_BELOW) moves it below.
            options: dict[str, Any] = {"model": model, "notice": self.library_notice, "policy": AnswerPolicy()}
            if collections:
                self._collections = self.catalog.resolve(collections)
                bot = Bot(collections=self._collections, **options)
            else:
                bot = Bot(index_dir=index_dir, **options)
        self.bot = bot
        self._policy: AnswerPolicy = bot.policy  # the bot's own operating point, which abstain_below moves
        # The threshold given when the chat started (--abstain-below, $QA_ABSTAIN_BELOW); None: the bot's own.
        self._given_threshold = abstain_below if abstain_below is not None else settings.abstain_below()
        self.abstain_below: float | None = self._given_threshold  # chosen for this chat now
        self.k = k
        self.modes: tuple[str, ...] = tuple(bot.modes)
        current = getattr(bot, "mode", None)
        self.mode = current if current in self.modes else self.modes[0]
        self.clock = clock
        self.data_dir = Path(data_dir)
        self.export_dir = Path(export_dir) if export_dir is not None else None
        self.history = QuestionHistory(self.data_dir)
        self.store = ConversationStore(self.data_dir)
        self.conversation_id: int | None = None
        self.turns: list[Turn] = []  # the conversation shown, answered questions only
        self._restore = restore
        self._cleared: int | None = None  # the conversation undo brings back
        self.state = AppState.LOADING
        self.index_missing = False
        self._collection_missing = False  # a collection asked has no index yet (built from its own folder)
        self.load_error: str | None = None
        self.summary: IndexSummary | None = None
        self.parts: tuple[IndexSummary, ...] = ()  # the summary of each collection asked (or of the one index)
        self.choices: tuple[CollectionChoice, ...] = ()  # the registered collections, for the palette
        self.opening: str | None = None  # the collections being opened by a switch, as the header names them
        self._stamp: object = None  # the registry and its generations when choices were read
        self._checking = False  # a look for new generations is running (the bot is the check's meanwhile)
        self._after_check: Callable[[], None] | None = None  # a re-index or switch asked for during the check
        self._listeners: list[Listener] = []
        self._questions: list[str] = []  # every question of the conversation shown, waiting ones too
        self._pending: deque[Question] = deque()
        self._in_flight: int | None = None  # the question being answered, while it still belongs to the conversation
        self._busy = False
        self._next_id = 1
        self._closing = False
        self._activity_since = 0.0
        self._indexing_label = ""
        self._loading_note: str | None = None  # what a long load is doing, as the library said it
        self._latest_progress: tuple[int, int] | None = None
        self._said_gone: set[str] = set()  # the corpus folders said to be gone

    # --- events -----------------------------------------------------------------------------------

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _emit(self, event: Event) -> None:
        for listener in self._listeners:
            listener(event)

    def _notice(self, message: str, *, title: str = "", severity: Severity = Severity.INFORMATION,
                timeout: float | None = None) -> None:
        self._emit(Notice(message, title, severity, timeout))

    def library_notice(self, message: str) -> None:
        """The Bot's notice callback; may be called from a worker thread."""
        self.runner.to_main(partial(self._library_notice, printable(message)))

    def _library_notice(self, message: str) -> None:
        if self.state is AppState.LOADING:
            # What the load is doing ("the index is out of date: 200 files changed…; updating it…")
            # stays in the status line, with the seconds, until the load is over.
            self._loading_note, self._activity_since = message.rstrip(".… "), time.monotonic()
            self._emit(ActivityChanged())
        self._notice(message, timeout=6)

    # --- what the UI reads ------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Questions waiting to be asked (not counting the one being answered)."""
        return len(self._pending)

    @property
    def busy(self) -> bool:
        return self._busy

    @property
    def collections(self) -> tuple[str, ...]:
        """The names of the collections asked, in order; () for an index opened by its folder."""
        return tuple(self.bot.collections)

    @property
    def threshold(self) -> float:
        """The confidence below which the bot says the documents don't answer, now."""
        return self.abstain_below if self.abstain_below is not None else threshold_of(self._policy)

    @property
    def default_threshold(self) -> float:
        """The bot's own operating point (the fitted one, for a bot the session made)."""
        return threshold_of(self._policy)

    def names_collections(self, answer: Answer) -> bool:
        """Whether the answer's citations name their collection: when several collections are asked,
        or its passages come from several (a conversation kept from such a chat)."""
        named = {hit.collection for hit in answer.hits if hit.collection is not None}
        return bool(named) and (len(self.collections) > 1 or len(named) > 1)

    def close(self) -> None:
        """The chat is closing: a re-index in progress stops at its next report (the index stays as it was)."""
        self._closing = True

    # --- loading ----------------------------------------------------------------------------------

    def restore(self) -> None:
        """Reopen the conversation shown last (in any window on this data folder), when the session was
        made to: none when that was a new one, the latest when none was recorded or it is gone."""
        if not self._restore:
            return
        shown = self.store.setting(LAST_SHOWN)
        if shown == "":
            return
        if not (shown is not None and shown.isdigit() and self.open_conversation(int(shown), quiet=True)):
            latest = self.store.conversations()
            if latest:
                self.open_conversation(latest[0].id, quiet=True)
        if self._given_threshold is not None and self.abstain_below != self._given_threshold:
            self.abstain_below = self._given_threshold  # the one the chat was started with wins over the one kept
            self._options_changed()

    def _shown(self, conversation_id: int | None) -> None:
        """Record the conversation this window shows now, for the next start to reopen."""
        self.store.set_setting(LAST_SHOWN, "" if conversation_id is None else str(conversation_id))

    def index_dir_problem(self) -> str | None:
        """An --index-dir that names a file (not a folder): nothing can load or build there."""
        index_dir = Path(self.bot.index_dir)
        if index_dir.exists() and not index_dir.is_dir():
            return (f"--index-dir {shown_path(index_dir)} is a file, not a folder: "
                    f"restart with a folder, e.g. qa chat --index-dir embeddings")
        return None

    def load(self) -> None:
        """Load the index and the model in the background; questions asked meanwhile wait. When the
        corpus changed, the load updates the index first, and its progress shows as a re-index's does."""
        self._loading_note = None
        self._latest_progress = None
        self.runner.background(self._load, "bot")

    def _load(self) -> None:
        try:
            problem = self.index_dir_problem()
            if problem:
                raise QAError(problem)
            self.bot.load(progress=self._progress_reporter())
            snapshot = self._snapshot()
        except Exception as error:
            # The collections that can be asked instead, for the palette the message points to.
            self.runner.to_main(partial(self._load_failed, error, self._choices_if_any()))
            return
        self.runner.to_main(partial(self._loaded, snapshot))

    def _choices_if_any(self) -> tuple[CollectionChoice, ...] | None:
        if not self.collections:
            return None
        try:
            return self._list_choices()
        except QAError:
            return None

    # Off the UI thread: what the header and the palette show.
    def _snapshot(self, known: object = None) -> _Snapshot:
        """The summary of what is asked (and of each collection), and, when the registry or one of its
        indexes changed since `known` was read, the registered collections."""
        summary = self.bot.summary()
        names = self.collections
        parts = tuple(self.bot.summary_of(name) for name in names) if len(names) > 1 else (summary,)
        if not names:
            return _Snapshot(summary, parts, None, None)
        try:
            if not self._collections:  # an injected bot: the registry's records of what it asks, to go back to
                self._collections = self.catalog.resolve(names)
            stamp = self._registry_stamp()
            return _Snapshot(summary, parts, self._list_choices() if stamp != known else None, stamp)
        except QAError:  # the registry cannot be read: what is open still answers; no other collection is offered
            return _Snapshot(summary, parts, (), None)

    def _registry_stamp(self) -> tuple[object, tuple[Generation | None, ...]]:
        return self.catalog.stamp(), tuple(current_generation(c.index_dir) for c in self.catalog.collections())

    def _list_choices(self) -> tuple[CollectionChoice, ...]:
        asked = set(self.collections)
        choices = []
        for collection in self.catalog.collections():
            found = collection_info(collection)
            if found.state is CollectionState.READY:
                folder = f"{shown_path(collection.folder)}/" + ("" if found.folder_found else " (folder gone)")
                skipped = f" ({found.skipped:,} skipped)" if found.skipped else ""
                line = f"{counted(found.documents, 'document')}{skipped} · {counted(found.passages, 'passage')} · {folder}"
            else:
                line = _unusable(collection, found.state)
            choices.append(CollectionChoice(collection.name, found.state, printable(line), collection.name in asked))
        return tuple(choices)

    def _apply(self, snapshot: _Snapshot) -> None:
        self.summary = snapshot.summary
        self.parts = snapshot.parts
        if snapshot.choices is not None:
            self.choices, self._stamp = snapshot.choices, snapshot.stamp

    def _loaded(self, snapshot: _Snapshot) -> None:
        self.state = AppState.READY
        self.index_missing = False
        self.load_error = None
        self.opening = None
        self._apply(snapshot)
        self._emit(Loaded())
        for part in snapshot.parts:
            if part.corpus_found or part.corpus_root in self._said_gone:  # once, not at every reload
                continue
            self._said_gone.add(part.corpus_root)
            folder = printable(shown_path(part.corpus_root))
            if part.collections:
                message = (f"The folder {folder}/ of collection {printable(part.collections[0])} is gone: answers still "
                           f"come from its index, but its sources cannot be opened or re-indexed")
            else:
                message = (f"The corpus folder {folder}/ is gone: answers still come from the index, but their "
                           f"sources cannot be opened or re-indexed")
            self._notice(message, severity=Severity.WARNING, timeout=15)
        self._pump()

    def _load_failed(self, error: Exception, choices: tuple[CollectionChoice, ...] | None = None) -> None:
        self.state = AppState.BROKEN
        self.opening = None
        if choices is not None:
            self.choices = choices
        # Only an index opened by its folder is built from seeds/ or a folder picked: a collection has its own.
        self.index_missing = isinstance(error, IndexMissingError) and not self.collections
        self._collection_missing = isinstance(error, IndexMissingError) and bool(self.collections)
        self.load_error = self._explain(error)
        self._emit(LoadFailed())
        self._show_queue()

    def _explain(self, error: Exception) -> str:
        if self.index_dir_problem():
            return describe(error)
        index_dir = f"{shown_path(self.bot.index_dir)}/"
        if self.collections:
            return f"{describe(error)} — or press {self.keys.label('reindex')} to {self._collection_fix()}."
        if isinstance(error, IndexMissingError):
            option = "" if Path(self.bot.index_dir) == Path("embeddings") else f" --index-dir {index_dir.rstrip('/')}"
            if DEFAULT_CORPUS_DIR.is_dir():
                corpus = shown_path(DEFAULT_CORPUS_DIR)
                return (f"No index in {index_dir} — press {self.keys.label('reindex')} to build it from {corpus}/ "
                        f"or run: qa index {corpus}{option}")
            return (f"No index in {index_dir} — press {self.keys.label('reindex')} to pick the folder of documents "
                    f"to index, or run: qa index CORPUS_DIR{option}")
        return f"{describe(error)} — or press {self.keys.label('reindex')} to re-index it here."

    # --- asking -----------------------------------------------------------------------------------

    def submit(self, text: str) -> Question | None:
        """A question typed in the prompt: remembered for recall, then asked; None when it is empty or
        too long (with a notice: the prompt keeps the text to shorten)."""
        question = text.strip()
        if not question:
            return None
        if len(question) > MAX_QUESTION_CHARS:
            self._notice(f"The question is too long: {len(question):,} characters (limit {MAX_QUESTION_CHARS:,}); "
                         f"shorten it and press Enter again", severity=Severity.WARNING, timeout=8)
            return None
        self.history.add(question)
        return self.ask(question)

    def ask(self, text: str) -> Question:
        """Add the question to the conversation and answer it as soon as the bot is free (queued while it loads)."""
        question = Question(self._next_id, text, tuple(self._questions), time.time())
        self._next_id += 1
        self._questions.append(text)
        self._emit(QuestionAdded(question, self._waiting_label()))
        self._pending.append(question)
        self._pump()
        self._show_queue()
        return question

    def _waiting_label(self) -> str:
        if self.state is AppState.LOADING and self.opening is not None:
            return f"Waiting for {self.opening} to open…"
        return {
            AppState.LOADING: "Waiting for the model and the index to load…",
            AppState.INDEXING: "Waiting for the index to be rebuilt…",
            AppState.BROKEN: f"Waiting for an index — {self._fix()}",
        }.get(self.state, "Waiting for the question above…")

    def _collection_fix(self) -> str:
        """A collection's index that cannot be used is built from its own folder, never from seeds/."""
        what = "build it from its folder" if self._collection_missing else "re-index it from its folder"
        return f"{what} here, or choose other collections (Ctrl+P → Collections)"

    def _fix(self) -> str:
        """What makes the index usable, in the words of the message at the top (they never disagree)."""
        if self.index_dir_problem():
            return "restart with a folder as --index-dir"
        key = self.keys.label("reindex")
        if self.collections:
            return f"press {key} to {self._collection_fix()}"
        if self.index_missing:
            if DEFAULT_CORPUS_DIR.is_dir():
                return f"press {key} to build it from {shown_path(DEFAULT_CORPUS_DIR)}/"
            return f"press {key} to pick the folder of documents to index"
        return f"press {key} to re-index"

    def _show_queue(self) -> None:
        """Every waiting question says what it waits for: the app, or the questions before it."""
        ahead = 1 if self._busy else 0
        statuses = []
        for question in self._pending:
            if self.state is not AppState.READY:
                statuses.append((question.id, self._waiting_label()))
            elif ahead == 0:  # only a look for a new generation before it (milliseconds)
                statuses.append((question.id, "Searching…"))
            else:
                statuses.append((question.id, f"Queued: {counted(ahead, 'question')} before this one…"))
            ahead += 1
        self._emit(QueueChanged(tuple(statuses)))

    def _pump(self) -> None:
        if self.state is not AppState.READY or self._busy or self._checking or not self._pending:
            return
        question = self._pending.popleft()
        self._busy = True
        self._in_flight = question.id
        mode, k = self.mode, self.k
        self._emit(Searching(question.id, mode, k))
        self._show_queue()
        self.runner.background(partial(self._search, question, k, mode, self.abstain_below), "ask")

    def _search(self, question: Question, k: int, mode: str, abstain_below: float | None) -> None:
        started = time.perf_counter()
        hint = None
        # Set here, by the one job that asks: a question is answered at the operating point it was sent with.
        self.bot.policy = self._policy if abstain_below is None else self._policy.abstaining_below(abstain_below)
        try:
            answer = self.bot.ask(question.text, question.history, k=k, mode=mode)
            elapsed_ms = (time.perf_counter() - started) * 1000
            if mode != DEFAULT_MODE:
                hint = self._default_mode_differs(question, answer, k)
        except Exception as error:
            message = describe(error) if isinstance(error, QAError) else f"Something went wrong: {describe(error)}"
            turn = Turn(question.text, None, message, mode, k, question.asked_at, 0.0)
        else:
            # Passages with the same text from the same document are shown, kept and exported once
            # (the library's Bot.ask does so already; an answer kept by an older version may not).
            turn = Turn(question.text, answer.distinct_passages(), None, mode, k, question.asked_at, elapsed_ms)
        self.runner.to_main(partial(self._answered, question, turn, hint))

    def _default_mode_differs(self, question: Question, answer: Answer, k: int) -> str | None:
        """The recommended mode's answer, when it differs from this one (one more search, tens of ms)."""
        try:
            other = self.bot.ask(question.text, question.history, k=k, mode=DEFAULT_MODE)
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

    def _answered(self, question: Question, turn: Turn, hint: str | None) -> None:
        self._busy = False
        if self._in_flight == question.id:  # else the conversation was cleared meanwhile
            self._in_flight = None
            self.turns.append(turn)
            self._remember(turn)
            self._emit(Answered(question.id, turn, hint))
        self._pump()
        self._show_queue()

    def _remember(self, turn: Turn) -> None:
        if not self.store.available:
            return
        turns = [turn]
        if self.conversation_id is not None and self.store.conversation(self.conversation_id) is None:
            # Deleted in another window on this data folder: what is shown here is kept as a new conversation.
            self.conversation_id = None
            turns = list(self.turns)
            self._notice(f"This conversation was deleted in another window: it is saved again as a new "
                         f"conversation, with its {counted(len(turns), 'question')}", severity=Severity.WARNING, timeout=10)
        if self.conversation_id is None:
            title = " ".join(turns[0].question.split())[:80]
            self.conversation_id = self.store.create(title, turn.k, turn.mode, self.abstain_below)
            self._shown(self.conversation_id)
        if self.conversation_id is not None:
            for kept in turns:
                self.store.add_turn(self.conversation_id, kept)

    # --- options ----------------------------------------------------------------------------------

    def set_k(self, k: int) -> None:
        self.k = max(1, int(k))
        self._options_changed()
        self._notice(f"k = {self.k:,}: answers cite up to {counted(self.k, 'passage')}", timeout=3)

    def set_mode(self, mode: str) -> None:
        if mode not in self.modes:
            return
        self.mode = mode
        self._options_changed()
        self._notice(f"Retrieval mode: {mode}", timeout=3)

    def set_abstain_below(self, value: float | str | None) -> bool:
        """Abstain below this confidence (0 to 1; text as typed is checked) from the next question on;
        None goes back to the bot's own operating point. False, with a notice, for a value out of range."""
        if value is None:
            self.abstain_below = None
            self._options_changed()
            self._notice(f"Abstains below the default confidence, {shown_threshold(self.threshold)}", timeout=3)
            return True
        try:
            threshold = settings.probability(str(value).strip(), "the threshold")
        except QAError as error:
            self._notice(describe(error), severity=Severity.WARNING, timeout=6)
            return False
        self.abstain_below = threshold
        self._options_changed()
        self._notice(f"Abstain below {shown_threshold(threshold)}: an answer with a lower confidence says the "
                     f"documents don't answer", timeout=4)
        return True

    def _options_changed(self) -> None:
        self._emit(OptionsChanged(self.k, self.mode, self.abstain_below))
        if self.conversation_id is not None:
            self.store.set_options(self.conversation_id, self.k, self.mode, self.abstain_below)

    # --- conversations ----------------------------------------------------------------------------

    def _forget_transcript(self) -> None:
        self._pending.clear()
        self._questions.clear()
        self.turns = []
        self._in_flight = None  # its answer, when it comes, belongs to no conversation

    def _clear_transcript(self) -> None:
        self._forget_transcript()
        self._emit(TranscriptCleared())

    def conversations(self) -> list[Conversation]:
        """The kept conversations, the latest first."""
        return self.store.conversations()

    def open_conversation(self, conversation_id: int, *, quiet: bool = False) -> bool:
        """Show a kept conversation with its answers; its k and mode become the current ones."""
        conversation = self.store.conversation(conversation_id)
        if conversation is None:
            return False
        self._forget_transcript()
        self.conversation_id = conversation_id
        if conversation.mode in self.modes:
            self.mode = conversation.mode
        self.k = conversation.k
        kept = conversation.abstain_below
        self.abstain_below = kept if kept is not None else self._given_threshold
        turns = [replace(t, answer=t.answer.distinct_passages()) if t.answer is not None else t
                 for t in self.store.turns(conversation_id)]
        self.turns = list(turns)
        self._questions = [turn.question for turn in turns]
        self._shown(conversation_id)
        self._emit(ConversationOpened(tuple(turns)))
        if not quiet:
            self._notice(f"Reopened: {conversation.title}", timeout=3)
        return True

    def new_conversation(self) -> None:
        self._clear_transcript()
        self.conversation_id = None
        self._shown(None)
        self._notice(f"New conversation ({self.keys.label('conversations')} lists the earlier ones)", timeout=3)

    def delete_conversation(self, conversation_id: int) -> None:
        self.store.delete(conversation_id)
        self._cleared = conversation_id
        if conversation_id == self.conversation_id:
            self._clear_transcript()
            self.conversation_id = None
            self._shown(None)
        self._notice(f"Deleted the conversation — {self.keys.label('undo')} brings it back", timeout=5)

    def clear(self) -> None:
        if self.conversation_id is None and not self._questions:
            self._notice("Nothing to clear", timeout=2)
            return
        if self.conversation_id is None:  # only questions still waiting: nothing kept to bring back
            self._clear_transcript()
            self._notice("Cleared the conversation", timeout=3)
            return
        self.delete_conversation(self.conversation_id)

    def undo(self) -> bool:
        """Bring back the conversation just deleted; False when there is none."""
        if self._cleared is None:
            return False
        self.store.undelete(self._cleared)
        conversation_id, self._cleared = self._cleared, None
        self.open_conversation(conversation_id)
        return True

    # --- sources ----------------------------------------------------------------------------------

    def skipped_files(self) -> list[str] | None:
        """Why each skipped corpus file was skipped, one line each; None (with a notice) when the index cannot say."""
        try:
            return [printable(line) for line in self.bot.skipped_files()]
        except Exception as error:
            self._notice(f"Cannot list the skipped files: {detail(error)}", severity=Severity.ERROR)
            return None

    def open_source(self, answer: Answer, hit: Hit) -> SourceView | None:
        """The cited passage's document as it is now and where the quote is in it, or None with a
        notice saying why it cannot be read."""
        doc = hit.passage.doc
        part = next((p for p in self.parts if (hit.collection in p.collections if hit.collection else not p.collections)), None)
        if part is not None and not part.corpus_found:
            corpus = shown_path(part.corpus_root)
            self._notice(f"Cannot open {printable(doc)}: the corpus folder {printable(corpus)}/ is gone", severity=Severity.ERROR)
            return None
        try:
            text = self._source_text(doc, hit.collection)
        except Exception as error:
            self._notice(f"Cannot open {printable(doc)}: {detail(error)}", severity=Severity.ERROR)
            return None
        return locate(text, answer, hit)

    def _source_text(self, doc: str, collection: str | None) -> str:
        """The document from the collection it was cited from: one asked now, else, for a conversation
        kept from other collections, that collection's folder as the registry has it."""
        if collection is None:
            return self.bot.source_text(doc)
        if collection in self.collections:
            return self.bot.source_text(doc, collection)
        kept = self.catalog.find(collection)
        if kept is None:
            raise QAError(f"the collection {collection} it was cited from is not registered any more")
        from qa.corpus import read_source

        return read_source(kept.folder, doc)

    # --- export -----------------------------------------------------------------------------------

    def export_folder(self) -> Path:
        return self.export_dir or self.data_dir / "exports"

    def export(self, target: Path | None = None) -> Path | None:
        """Write the conversation as Markdown: into the data directory's exports folder, or to target
        (a file, or a folder to put it in); the notice gives the full path."""
        if not self.turns:
            self._notice("Nothing to export yet: ask a question first", severity=Severity.WARNING, timeout=3)
            return None
        now = self.clock()
        text = markdown_export(self.turns, corpus=self.summary.corpus_root if self.summary else None, when=now,
                               collections=self.collections)
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
            self._notice(f"Could not write {path}: {error.strerror or error}", severity=Severity.ERROR)
            return None
        self._notice(str(path.resolve()), title="Exported the conversation to", timeout=8)
        return path

    # --- re-indexing ------------------------------------------------------------------------------

    def reindex_description(self) -> str:
        key = self.keys.label("reindex")
        if self.collections:
            names = ", ".join(self.collections)
            gone = self._gone_collections()
            if gone:
                return f"The folder of {', '.join(gone)} is gone: its index still answers; bring the folder back to re-index ({key})"
            their = "its folder" if len(self.collections) == 1 else "their folders"
            return f"Bring {names} up to date with {their} ({key})"
        if self.index_missing:
            source = f"{shown_path(DEFAULT_CORPUS_DIR)}/" if DEFAULT_CORPUS_DIR.is_dir() else "a folder you pick"
            return f"Build the index in {shown_path(self.bot.index_dir)}/ from {source} ({key})"
        if self.summary is not None and not self.summary.corpus_found:
            return f"The corpus folder {shown_path(self.summary.corpus_root)}/ is gone: index another folder ({key})"
        corpus = shown_path(self.summary.corpus_root) + "/" if self.summary else "its corpus folder"
        return f"Bring the index up to date with {corpus} ({key})"

    def _folder_wanted(self, why: str) -> None:
        """No folder to build the index from: back to the state before, and ask the user for one."""
        if self.state is AppState.INDEXING:  # it looked for an index built meanwhile, and found none
            self.state = AppState.BROKEN
            self._emit(LoadFailed())
            self._show_queue()
        self._emit(FolderWanted(why))

    def _gone_collections(self) -> list[str]:
        return [printable(p.collections[0]) for p in self.parts if p.collections and not p.corpus_found]

    def reindex(self, corpus: Path | None = None) -> None:
        """Bring the index up to date with its corpus; build it when there is none, from seeds/ or a
        folder the user picks; or from corpus, a folder the user picked. Collections are each brought
        up to date with (or built from) their own folder."""
        if self._checking:  # a look for a new generation holds the bot for a moment
            self._after_check = partial(self.reindex, corpus)
            return
        if corpus is not None and not corpus.is_dir():
            self._notice(f"{printable(str(corpus))} is not a folder", severity=Severity.ERROR)
            return
        if self.collections and self.state is AppState.READY and self._gone_collections():
            # A collection is its folder: its index is never rebuilt from another one.
            self._notice(f"The folder of collection {', '.join(self._gone_collections())} is gone; its index still answers. "
                         f"Bring the folder back, or remove the collection with: qa collections remove NAME",
                         severity=Severity.WARNING, timeout=10)
            return
        if corpus is None and self.state is AppState.READY and self.summary is not None and not self.summary.corpus_found:
            self._folder_wanted(f"The corpus folder {printable(shown_path(self.summary.corpus_root))}/ is gone. "
                                f"Which folder should the index be built from?")
            return
        problem = self.index_dir_problem()
        if problem:
            self._notice(problem, severity=Severity.ERROR, timeout=10)
            return
        if self.state is AppState.INDEXING:
            self._notice("Already re-indexing", timeout=2)
            return
        if self.state is AppState.LOADING:
            self._notice("Wait for the model and the index to load, then re-index", timeout=3)
            return
        if self._busy:
            self._notice("Wait for the search to finish, then re-index", timeout=3)
            return
        self.state = AppState.INDEXING
        look_first = self.index_missing and corpus is None
        if look_first and DEFAULT_CORPUS_DIR.is_dir():
            corpus = DEFAULT_CORPUS_DIR
        if corpus is not None:
            self._indexing_label = f"Building the index from {shown_path(corpus)}/"
        else:
            self._indexing_label = "Looking for an index" if look_first else "Re-indexing"
        self._activity_since = time.monotonic()
        self._latest_progress = None
        self._emit(IndexingStarted(f"{self._indexing_label}: reading, splitting and embedding…"))
        self._show_queue()
        self.runner.background(partial(self._reindex, corpus, look_first), "index")

    @property
    def updating(self) -> bool:
        """The index is being written: a re-index, or an update at load."""
        return self.state is AppState.INDEXING or (self.state is AppState.LOADING and self._loading_note is not None)

    def activity_status(self) -> ActivityStatus | None:
        """During a re-index or an update at load: the seconds so far and the build's count, so a long
        step is not a frozen screen; None otherwise (a plain load keeps its own label)."""
        if self.state is AppState.INDEXING:
            label = self._indexing_label
        elif self.state is AppState.LOADING and (self._loading_note is not None or self._latest_progress is not None):
            label = "Updating the index" if self._latest_progress is not None else self._loading_note or ""
        else:
            return None
        seconds = time.monotonic() - self._activity_since
        # The build first reports after its first batch of passages is embedded (a small corpus is one batch).
        if self._latest_progress is not None:
            label = f"{label}: embedding the passages"
        elif self.state is AppState.INDEXING:
            label = f"{label}: reading, splitting and embedding"
        return ActivityStatus(f"{label}… {seconds:,.0f} s", self._latest_progress)

    def _progress_reporter(self) -> Callable[[int, int], None]:
        """A build's progress callback (it runs in the worker): keeps the count, tells the UI now and then."""
        last = [0.0]

        def progress(done: int, total: int) -> None:
            if self._closing:  # the user quit: stop the build (the index stays as it was) instead of lingering
                raise _Stopped("the chat was closed while the index was written")
            if self._latest_progress is None and self.state is AppState.LOADING:
                self._activity_since = time.monotonic()
            self._latest_progress = (done, total)  # a skipped update is drawn by the UI's next tick
            now = time.monotonic()
            if done >= total or now - last[0] > 0.05:
                last[0] = now
                self.runner.to_main(partial(self._emit, ActivityChanged()))

        return progress

    def _reindex(self, corpus: Path | None, look_first: bool) -> None:
        progress = self._progress_reporter()
        try:
            if look_first:  # there was no index: maybe one was built meanwhile (qa index in a shell)
                try:
                    self.bot.load()
                except IndexMissingError:
                    if corpus is None:  # nothing to build it from: the user picks a folder
                        self.runner.to_main(partial(self._folder_wanted, (
                            f"There is no index in {printable(shown_path(self.bot.index_dir))}/ and no "
                            f"{shown_path(DEFAULT_CORPUS_DIR)}/ folder to build it from. Which folder of documents "
                            f"should it index?")))
                        return
                else:
                    self.runner.to_main(partial(self._loaded, self._snapshot()))
                    return
            report = self.bot.reindex(corpus_dir=corpus, progress=progress)
            snapshot = self._snapshot()
        except Exception as error:
            self.runner.to_main(partial(self._reindex_failed, error))
            return
        self.runner.to_main(partial(self._reindexed, report, snapshot))

    def _reindexed(self, report: Any, snapshot: _Snapshot) -> None:
        if report.changed:
            message = (f"Indexed {counted(report.files, 'file')}, {counted(report.passages, 'passage')} in "
                       f"{report.seconds:,.1f} s (embedded {report.files_embedded:,}, reused {report.files_reused:,})")
        else:
            message = f"The index is up to date: {counted(report.files, 'file')}, {counted(report.passages, 'passage')}"
        for warning in getattr(report, "warnings", []):
            self._notice(printable(str(warning)), severity=Severity.WARNING)
        self._notice(message, title="Re-index", timeout=5)
        self._loaded(snapshot)

    def _reindex_failed(self, error: Exception) -> None:
        self._notice(f"Re-index failed: {detail(error)}", severity=Severity.ERROR, timeout=10)
        # What the chat can still do depends on whether the old index survives: load it again to find out.
        self.state = AppState.LOADING
        self._emit(Reloading("Loading the index…"))
        self.load()

    # --- collections ------------------------------------------------------------------------------

    def use_collections(self, choices: Sequence[str]) -> None:
        """Ask these collections from now on (names, or "all"). The model and the indexes open stay
        open; the others open in the background while questions wait. A collection that cannot be
        asked (no index yet, a damaged one) is said in one line and the chat asks what it asked."""
        if self._checking:  # a look for a new generation holds the bot for a moment
            self._after_check = partial(self.use_collections, choices)
            return
        if not self.collections:
            self._notice(f"This chat asks the index in {printable(shown_path(self.bot.index_dir))}/; to ask collections, "
                         f"start it with: qa chat -c NAME", severity=Severity.WARNING, timeout=6)
            return
        if self.state is AppState.INDEXING:
            self._notice("Wait for the re-index to finish, then choose collections", timeout=3)
            return
        if self.state is AppState.LOADING:
            self._notice("Wait for the model and the index to load, then choose collections", timeout=3)
            return
        if self._busy:
            self._notice("Wait for the answer, then choose collections", timeout=3)
            return
        wanted = tuple(dict.fromkeys(choices))
        if not wanted:
            self._notice("Choose at least one collection", severity=Severity.WARNING, timeout=3)
            return
        if wanted == self.collections:
            self._notice(f"Already asking {', '.join(wanted)}", timeout=3)
            return
        before = self.state
        self.state = AppState.LOADING
        self.opening = "every collection" if wanted == ("all",) else ", ".join(wanted)
        self._activity_since = time.monotonic()
        self._emit(Switching(f"Opening {printable(self.opening)}…"))
        self._show_queue()
        self.runner.background(partial(self._switch, wanted, before), "bot")

    def _switch(self, wanted: tuple[str, ...], before: AppState) -> None:
        previous = self._collections
        moved = False
        left_out: list[str] = []
        try:
            named = {c.name for c in self.catalog.resolve([choice for choice in wanted if choice != "all"])}
            chosen = []
            for collection in self.catalog.resolve(wanted):  # read from the manifests, before anything is opened or closed
                state = collection_info(collection).state
                if state is CollectionState.READY:
                    chosen.append(collection)
                elif collection.name in named:
                    raise QAError(_unusable(collection, state))
                else:  # "all": every collection that can be asked, and one line for each that cannot
                    left_out.append(_unusable(collection, state))
            if not chosen:
                raise QAError(left_out[0])
            moved = True
            self.bot.use(chosen)
            snapshot = self._snapshot()
        except Exception as error:
            back: _Snapshot | Exception | None = None
            if moved and previous:  # opening one failed: back to those asked before (what is still open stays)
                try:
                    self.bot.use(previous)
                    back = self._snapshot()
                except Exception as again:
                    back = again
            self.runner.to_main(partial(self._switch_failed, error, before, back))
            return
        self._collections = tuple(chosen)
        self.runner.to_main(partial(self._switched, snapshot, tuple(left_out)))

    def _switched(self, snapshot: _Snapshot, left_out: tuple[str, ...]) -> None:
        self._loaded(snapshot)
        summary = snapshot.summary
        self._notice(f"Asking {printable(', '.join(self.collections))}: {counted(summary.documents, 'document')} · "
                     f"{counted(summary.passages, 'passage')}", timeout=4)
        for line in left_out:
            self._notice(f"Left out: {printable(line)}", severity=Severity.WARNING, timeout=10)

    def _switch_failed(self, error: Exception, before: AppState, back: _Snapshot | Exception | None) -> None:
        self._notice(describe(error), severity=Severity.WARNING, timeout=10)
        if isinstance(back, Exception):
            self._load_failed(back)
        elif back is not None:
            self._loaded(back)
        elif before is AppState.READY and self.summary is not None:  # nothing was opened or closed
            self._loaded(_Snapshot(self.summary, self.parts, None, self._stamp))
        else:  # it was broken before, and still is
            self.state, self.opening = before, None
            self._emit(LoadFailed())
            self._show_queue()

    # --- new generations --------------------------------------------------------------------------

    def check_for_updates(self) -> None:
        """Move to a new generation of the indexes asked (a build by qa watch or qa index committed one)
        and re-read the registry, off the UI thread; the header's counts and the palette's list follow.
        The chat's timer calls it every UPDATE_CHECK_SECONDS; a question asked meanwhile waits for it."""
        if self.state is not AppState.READY or self._busy or self._checking or self._closing:
            return
        self._checking = True
        self.runner.background(partial(self._check, self._stamp), "watch")

    def _check(self, known: object) -> None:
        try:
            self.bot.refresh()
            snapshot: _Snapshot | None = self._snapshot(known)
        except Exception:  # the next question meets it and says what is wrong, in its reply
            snapshot = None
        self.runner.to_main(partial(self._checked, snapshot))

    def _checked(self, snapshot: _Snapshot | None) -> None:
        self._checking = False
        if snapshot is not None and self.state is AppState.READY:
            changed = (snapshot.summary, snapshot.parts) != (self.summary, self.parts)
            self._apply(snapshot)
            if changed:
                self._emit(IndexUpdated())
        after, self._after_check = self._after_check, None
        if after is not None:
            after()
        self._pump()
        if self._pending:
            self._show_queue()
