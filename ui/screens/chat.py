"""The chat screen: the header, the conversation, the status line and the prompt. It draws what the
session reports and passes what the widgets ask for to the session."""

from __future__ import annotations

from pathlib import Path

from rich.style import Style
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.geometry import Size
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, ProgressBar, Static

from qa import MAX_QUESTION_CHARS
from qa.text import printable
from ui import messages
from ui.conversations import Turn
from ui.events import (
    ActivityChanged,
    Answered,
    AppState,
    ConversationOpened,
    Event,
    FolderWanted,
    IndexingStarted,
    IndexUpdated,
    Loaded,
    LoadFailed,
    Notice,
    OptionsChanged,
    QuestionAdded,
    QueueChanged,
    Reloading,
    Searching,
    Switching,
    TranscriptCleared,
)
from ui.render import Palette, counted, palette_from_variables
from ui.screens.folder_picker import FolderScreen
from ui.screens.skipped_files import SkippedFilesScreen
from ui.screens.source import SourceScreen
from ui.session import UPDATE_CHECK_SECONDS, ChatSession, shown_path, shown_threshold
from ui.widgets import Exchange, Prompt, Spinner


class ChatScreen(Screen[None]):
    """The conversation with the bot."""

    def __init__(self, session: ChatSession, *, animate: bool = True, show_timings: bool = True,
                 warnings: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.session = session
        self.animated = animate  # spinners and cursor blink; off for snapshots
        self.show_timings = show_timings
        self.palette = Palette()
        self._warnings = warnings  # shown once the screen can show notifications
        self._exchanges: dict[int, Exchange] = {}  # the questions of this session, by id
        # The reader's place: the part of the conversation at the top of the view, and how far into it,
        # taken at the transcript's size; a resize scrolls back to it.
        self._place: tuple[Widget, float] | None = None
        self._place_size: Size | None = None

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
            yield Prompt(self.session.history, placeholder="Ask a question about the documents…", id="prompt",
                         limit=MAX_QUESTION_CHARS)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        for warning in self._warnings:
            self.app.notify(warning, severity="warning", markup=False, timeout=10)
        self.palette = palette_from_variables(self.app.get_css_variables())
        prompt = self.query_one(Prompt)
        prompt.cursor_blink = self.animated
        prompt.focus()
        self.query_one("#progress").display = False
        self.session.restore()
        self.show_settings()
        self.show_welcome()
        self.set_interval(0.5, self.tick_activity)
        # qa watch (or qa index in a shell) may make a new generation at any time: the header follows it.
        self.set_interval(UPDATE_CHECK_SECONDS, self.session.check_for_updates)
        self.watch(self.transcript, "scroll_y", self._scrolled, init=False)
        # Start loading after the first frame is on screen: the loader's imports hold the GIL.
        self.call_after_refresh(self.session.load)

    @property
    def transcript(self) -> VerticalScroll:
        return self.query_one("#transcript", VerticalScroll)

    # --- the reader's place -----------------------------------------------------------------------

    def _parts(self) -> list[tuple[Widget, int]]:
        """What the conversation is made of, top to bottom, each with its row in the transcript."""
        parts: list[tuple[Widget, int]] = []
        for child in self.transcript.children:
            if isinstance(child, Exchange):
                parts += [(part, child.virtual_region.y + part.virtual_region.y) for part in child.children]
            else:
                parts.append((child, child.virtual_region.y))
        return parts

    def _scrolled(self, _scroll_y: float) -> None:
        if self._place_size is not None and self.transcript.size != self._place_size:
            return  # a resize is being laid out: the place taken before it is the one to go back to
        self._take_place()

    def _take_place(self) -> None:
        transcript = self.transcript
        self._place_size = transcript.size
        top = transcript.scroll_y
        for part, row in self._parts():
            height = part.virtual_region.height
            if row + height > top:
                self._place = (part, (top - row) / height if height else 0.0)
                return
        self._place = None

    def on_resize(self, event: events.Resize) -> None:
        self.call_after_refresh(self._back_to_place)

    def _back_to_place(self) -> None:
        """After a resize, the part that was at the top is at the top again (the rows it wrapped to differ)."""
        place = self._place
        if place is not None and place[0].is_attached:
            part, into = place
            row = next((row for widget, row in self._parts() if widget is part), None)
            if row is not None:
                self.transcript.scroll_to(y=row + round(into * part.virtual_region.height), animate=False)
        self._place_size = self.transcript.size

    def recolor(self, palette: Palette) -> None:
        """Draw again in a new theme's colours."""
        self.palette = palette
        for exchange in self.query(Exchange):
            exchange.recolor(palette)
        self.show_settings()
        self.show_welcome()

    # --- what the session reports -----------------------------------------------------------------

    def apply(self, event: Event) -> None:
        """Draw one event of the session (always delivered on the UI thread)."""
        match event:
            case Notice():
                self.app.notify(event.message, title=event.title, severity=event.severity.value,
                                timeout=event.timeout, markup=False)
            case Loaded():
                self.query_one("#progress").display = False
                self.set_status(None)
                self.show_settings()
                self.show_welcome()
            case LoadFailed():
                self.set_status(None)
                self.show_settings()
                self.show_welcome()
                if not self.session.pending:  # the message is at the top, above a reopened conversation
                    self.transcript.scroll_home(animate=False)
            case IndexingStarted():
                self.set_status(event.status)
                self.query_one("#progress", ProgressBar).display = False  # shown once the build reports its progress
                self.show_settings()
            case Reloading():
                self.query_one("#progress").display = False
                self.set_status(event.status)
            case Switching():
                self.query_one("#progress").display = False
                self.set_status(event.status)
                self.show_settings()
            case IndexUpdated():
                self.show_settings()
            case ActivityChanged():
                self.tick_activity()
            case OptionsChanged():
                self.show_settings()
            case QuestionAdded():
                self._add_question(event)
            case QueueChanged():
                for question_id, status in event.statuses:
                    if question_id in self._exchanges:
                        self._exchanges[question_id].set_status(status)
            case Searching():
                exchange = self._exchanges.get(event.question_id)
                if exchange is not None:
                    exchange.set_status("Searching…")
                    exchange.mode, exchange.k = event.mode, event.k
            case Answered():
                self._show_answer(event)
            case TranscriptCleared():
                self._clear_transcript()
            case ConversationOpened():
                self._show_conversation(event.turns)
            case FolderWanted():
                self._pick_folder(event.why)

    def _add_question(self, event: QuestionAdded) -> None:
        question = event.question
        exchange = Exchange(question.text, question.history, self.palette, status=event.status,
                            animate=self.animated, mode=self.session.mode, k=self.session.k)
        self._exchanges[question.id] = exchange
        transcript = self.transcript
        transcript.mount(exchange)
        self.call_after_refresh(transcript.scroll_end, animate=False)

    def _show_answer(self, event: Answered) -> None:
        exchange = self._exchanges.pop(event.question_id, None)
        if exchange is None or not exchange.is_attached:
            return
        self._show_turn(exchange, event.turn, event.hint)
        self.run_worker(self._reveal_once_mounted(exchange), group="reveal")

    def _show_turn(self, exchange: Exchange, turn: Turn, hint: str | None = None) -> None:
        exchange.elapsed_ms = turn.elapsed_ms
        if turn.answer is not None:
            exchange.show_answer(turn.answer, show_timings=self.show_timings, mode_hint=hint,
                                 named=self.session.names_collections(turn.answer))
        else:
            exchange.show_error(turn.error or "No answer.")

    async def _reveal_once_mounted(self, exchange: Exchange) -> None:
        # Scrolling before the cards are laid out would stop short (the transcript is not tall yet).
        await exchange.reply_mounted()
        self.call_after_refresh(self._reveal, exchange)

    def _reveal(self, exchange: Exchange) -> None:
        """Scroll so the new reply starts at the top (or the transcript ends at the bottom)."""
        if exchange.is_attached:
            self.transcript.scroll_to_widget(exchange, top=True, animate=False)
            exchange.revealed = True
            self._take_place()

    def _pick_folder(self, why: str) -> None:
        def picked(folder: Path | None) -> None:
            if folder is not None:
                self.session.reindex(folder)

        self.app.push_screen(FolderScreen(why, Path.cwd()), picked)

    def _clear_transcript(self) -> None:
        self._exchanges.clear()
        self.query(Exchange).remove()
        self.query_one(Prompt).focus()

    def _show_conversation(self, turns: tuple[Turn, ...]) -> None:
        self._clear_transcript()
        transcript = self.transcript
        earlier: list[str] = []
        for turn in turns:
            exchange = Exchange(turn.question, tuple(earlier), self.palette, animate=self.animated,
                                mode=turn.mode, k=turn.k)
            earlier.append(turn.question)
            transcript.mount(exchange)
            self._show_turn(exchange, turn)
        self.call_after_refresh(transcript.scroll_end, animate=False)
        self.show_settings()

    # --- what the widgets ask for -----------------------------------------------------------------

    @on(events.Click, "#corpus-info")
    def _header_clicked(self) -> None:
        """The header counts the skipped files: a click lists them."""
        summary = self.session.summary
        if summary is not None and summary.skipped and self.session.state is AppState.READY:
            self.show_skipped_files()

    def show_skipped_files(self) -> None:
        """Why the files the header counts as skipped were skipped."""
        summary = self.session.summary
        lines = self.session.skipped_files() if summary is not None else None
        if summary is not None and lines is not None:
            self.app.push_screen(SkippedFilesScreen(f"{shown_path(summary.corpus_root)}/", lines))

    @on(messages.QuestionSubmitted)
    def _submitted(self, event: messages.QuestionSubmitted) -> None:
        event.stop()
        self._submit(event.text)

    def _submit(self, text: str) -> None:
        if self.session.submit(text) is None:  # empty, or too long: the text stays to be edited
            self.app.bell()
            return
        prompt = self.query_one(Prompt)
        prompt.value = ""
        prompt.forget_recall()

    @on(messages.OpenSource)
    def _open_source(self, event: messages.OpenSource) -> None:
        event.stop()
        view = self.session.open_source(event.answer, event.hit)
        if view is not None:
            self.app.push_screen(SourceScreen(event.answer, event.hit, view, self.palette,
                                              named=self.session.names_collections(event.answer)))

    @on(messages.TypeAhead)
    def _type_ahead(self, event: messages.TypeAhead) -> None:
        event.stop()
        prompt = self.query_one(Prompt)
        prompt.focus()
        prompt.insert_text_at_cursor(event.text)

    @on(messages.PromptKey)
    def _prompt_key(self, event: messages.PromptKey) -> None:
        event.stop()
        prompt = self.query_one(Prompt)
        prompt.focus()
        if event.key == "enter":
            self._submit(prompt.text)
        else:
            prompt.action_delete_left()

    @on(messages.FocusPrompt)
    def _focus_prompt(self, event: messages.FocusPrompt) -> None:
        event.stop()
        self.focus_prompt()

    @on(messages.FocusCards)
    def _focus_cards(self, event: messages.FocusCards) -> None:
        """From the prompt: Tab to the first card of the latest reply, Shift+Tab to its last."""
        event.stop()
        exchanges = [e for e in self.query(Exchange) if e.cards]
        if not exchanges:
            return
        cards = exchanges[-1].cards
        (cards[0] if event.direction > 0 else cards[-1]).focus()

    @on(messages.ScrollTranscript)
    def _scroll_to_end(self, event: messages.ScrollTranscript) -> None:
        event.stop()
        self.scroll_to_end(event.direction)

    def focus_prompt(self) -> None:
        self.query_one(Prompt).focus()

    def scroll_page(self, direction: int) -> None:
        """A page per call, without animation: an animated scroll restarts on each press, so fast
        presses would add up to one page."""
        if direction < 0:
            self.transcript.scroll_page_up(animate=False)
        else:
            self.transcript.scroll_page_down(animate=False)

    def scroll_to_end(self, direction: int) -> None:
        if direction < 0:
            self.transcript.scroll_home(animate=False)
        else:
            self.transcript.scroll_end(animate=False)

    # --- chrome -----------------------------------------------------------------------------------

    def tick_activity(self) -> None:
        """While the index is written, the status counts the seconds and the bar shows the build's own count."""
        status = self.session.activity_status()
        if status is None:
            return
        if status.progress is not None:
            done, total = status.progress
            progress = self.query_one("#progress", ProgressBar)
            progress.display = True
            progress.update(total=max(total, 1), progress=min(done, max(total, 1)))
        self.query_one("#status-text", Spinner).set_label(status.label)

    def set_status(self, label: str | None) -> None:
        status = self.query_one("#status")
        spinner = self.query_one("#status-text", Spinner)
        spinner.spin(label is not None)
        status.display = label is not None
        if label is not None:
            spinner.set_label(label)

    def show_settings(self) -> None:
        session = self.session
        info = self.query_one("#corpus-info", Static)
        muted = Style(color=self.palette.muted)
        if session.state is AppState.LOADING and session.opening is not None:
            info.update(Text(printable(f"opening {session.opening}…"), style=muted, end=""))
        elif session.state is AppState.LOADING:
            info.update(Text("loading the model and the index…", style=muted, end=""))
        elif session.state is AppState.INDEXING:
            info.update(Text("indexing…", style=muted, end=""))
        elif session.state is AppState.BROKEN or session.summary is None:
            info.update(Text("no usable index", style=Style(color=self.palette.error), end=""))
        else:
            summary = session.summary
            skipped = f" ({summary.skipped:,} skipped)" if summary.skipped else ""
            # Collections by their names (what the palette switches by), an index by its folder.
            asked = ", ".join(summary.collections) if summary.collections else f"{shown_path(summary.corpus_root)}/"
            line = f"{asked} · {counted(summary.documents, 'document')}{skipped} · {counted(summary.passages, 'passage')}"
            info.update(Text(printable(line), style=muted, end=""))
        settings = f"k {session.k:,} · {session.mode}"
        if session.abstain_below is not None:  # an operating point chosen for this chat (the default is not shown)
            settings += f" · abstain < {shown_threshold(session.abstain_below)}"
        self.query_one("#settings", Static).update(Text(settings, style=muted, end=""))

    def show_welcome(self) -> None:
        welcome = self.query_one("#welcome", Static)
        palette = self.palette
        state = self.session.state
        welcome.set_class(state is AppState.BROKEN, "error")
        if state is AppState.BROKEN:
            welcome.update(Text(self.session.load_error or "The index cannot be used.", end=""))
        elif state is AppState.READY:
            welcome.update(Text.assemble(
                ("Ask a question about the documents. ", Style(bold=True)),
                ("Answers quote the documents and cite them [n]; Tab reaches the cited passages, "
                 f"Enter opens one in its source. {self.session.keys.label('help')} lists every key.",
                 Style(color=palette.muted)),
                end="",
            ))
        else:
            welcome.update(Text.assemble(
                ("Loading the model and the index… ", Style(bold=True)),
                ("type your question now: it is answered as soon as they are ready.", Style(color=palette.muted)),
                end="",
            ))
