"""`qa chat`: the Textual chat over a `qa.Bot`.

The app paints before anything heavy is imported: `Bot(...)` is cheap, and `bot.load()` (torch, the
model, the FAISS index) runs in a thread worker while the UI shows a loading state. Questions typed
meanwhile wait in a queue and are answered, one at a time and off the UI thread, once it has loaded.

The work and the state are the session's (`ui/session.py`, no Textual); the layout is the chat
screen's (`ui/screens/chat.py`). The app holds the key bindings, the screens and the theme, and
wires the session to the chat screen.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from textual.app import App
from textual.binding import Binding, BindingsMap, BindingType
from textual.command import Provider

from qa import DEFAULT_K, Bot, settings
from ui.commands import ChatCommands
from ui.conversations import ConversationStore
from ui.events import AppState
from ui.keys import DEFAULT_KEYS, KEY_IDS, key_label, load_keys
from ui.render import Palette, palette_from_variables
from ui.screens import ChatScreen, ConversationsScreen, HelpScreen
from ui.session import ChatSession
from ui.widgets import Prompt


class _WorkerRunner:
    """Runs the session's jobs in Textual thread workers and its callbacks on the UI thread."""

    def __init__(self, app: ChatApp) -> None:
        self._app = app

    def background(self, job: Callable[[], None], group: str) -> None:
        self._app.run_worker(job, thread=True, group=group, exit_on_error=False)

    def to_main(self, callback: Callable[[], None]) -> None:
        self._app.on_ui_thread(callback)


class ChatApp(App[int]):
    """Ask questions of the documents; read answers with their cited passages; open the sources."""

    CSS_PATH = Path(__file__).with_name("chat.tcss")
    TITLE = "qa"
    # The chat's commands first; ChatCommands adds the system ones it keeps (theme, quit).
    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = {ChatCommands}
    COMMAND_PALETTE_BINDING = "ctrl+p"
    DEFAULT_MODE = "chat"
    # Quit and Help first: the footer shows bindings in order and cuts the last ones when narrow.
    # The ids are the names keys.toml uses (ui/keys.py).
    # Priority for the configurable keys: the prompt (a TextArea) has its own Ctrl keys (Ctrl+E line
    # end, Ctrl+Z undo, PgUp its cursor), and a key the user binds must work whatever has the focus.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(DEFAULT_KEYS["quit"], "quit", "Quit", priority=True, id="quit"),
        Binding(DEFAULT_KEYS["help"], "help", "Help", priority=True, id="help"),
        Binding("question_mark", "help", "Help", show=False),  # not priority: ? is typed in the prompt
        Binding(DEFAULT_KEYS["new"], "new", "New", priority=True, id="new"),
        Binding(DEFAULT_KEYS["conversations"], "conversations", "Chats", priority=True, id="conversations"),
        Binding(DEFAULT_KEYS["reindex"], "reindex", "Re-index", show=False, priority=True, id="reindex"),
        Binding(DEFAULT_KEYS["clear"], "clear", "Clear", show=False, priority=True, id="clear"),
        Binding(DEFAULT_KEYS["undo"], "undo", "Undo clear", show=False, priority=True, id="undo"),  # else the prompt's undo
        Binding(DEFAULT_KEYS["export"], "export", "Export", show=False, priority=True, id="export"),
        Binding("escape", "focus_prompt", "Prompt", show=False),
        Binding(DEFAULT_KEYS["scroll-up"], "scroll_transcript(-1)", "Scroll up", show=False, priority=True, id="scroll-up"),
        Binding(DEFAULT_KEYS["scroll-down"], "scroll_transcript(1)", "Scroll down", show=False, priority=True, id="scroll-down"),
        Binding(DEFAULT_KEYS["scroll-top"], "scroll_transcript_to(-1)", "Top", show=False, priority=True, id="scroll-top"),
        Binding(DEFAULT_KEYS["scroll-latest"], "scroll_transcript_to(1)", "Latest", show=False, priority=True, id="scroll-latest"),
    ]

    def __init__(
        self,
        bot: Bot | None = None,
        *,
        index_dir: Path | None = None,
        collections: Sequence[str] | None = None,
        model: str | None = None,
        k: int = DEFAULT_K,
        abstain_below: float | None = None,
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
        self.config_dir = Path(config_dir) if config_dir is not None else settings.config_dir()
        self.keys = load_keys(self.config_dir)
        self._bind_configured_keys()
        self.notices: list[str] = []  # every notification shown, newest last
        self._ui_mounted = False
        self.session = ChatSession(
            bot, runner=_WorkerRunner(self), index_dir=index_dir, collections=collections, model=model, k=k,
            abstain_below=abstain_below,
            data_dir=Path(data_dir) if data_dir is not None else settings.data_dir(),
            export_dir=export_dir, restore=restore, clock=clock, keys=self.keys,
        )
        self.animated = animate  # spinners and cursor blink; off for snapshots
        self._show_timings = show_timings
        self._chat_screen: ChatScreen | None = None
        self.add_mode("chat", self._make_chat_screen)

    def _make_chat_screen(self) -> ChatScreen:
        """The chat screen, made when the app starts (a mode's screen, so the app mounts it whole
        before it starts, and the screen stack under it is empty)."""
        screen = ChatScreen(self.session, animate=self.animated, show_timings=self._show_timings,
                            warnings=self.keys.problems)
        self.session.listen(screen.apply)
        self._chat_screen = screen
        return screen

    @property
    def chat_screen(self) -> ChatScreen:
        if self._chat_screen is None:
            raise RuntimeError("the chat screen is made when the app starts")
        return self._chat_screen

    # The session's state, as the palette, the help and the tests read it.
    @property
    def state(self) -> AppState:
        return self.session.state

    @property
    def k(self) -> int:
        return self.session.k

    @property
    def retrieval_mode(self) -> str:
        return self.session.mode

    @property
    def conversation_id(self) -> int | None:
        return self.session.conversation_id

    @property
    def conversations(self) -> ConversationStore:
        return self.session.store

    @property
    def palette(self) -> Palette:
        return self.chat_screen.palette

    def set_k(self, k: int) -> None:
        self.session.set_k(k)

    def set_mode(self, mode: str) -> None:
        self.session.set_mode(mode)

    def _bind_configured_keys(self) -> None:
        """The app's bindings with the keys of keys.toml, in the order of BINDINGS: the footer lists
        them in that order (Textual's keymap would move a rebound key to the end)."""
        bindings: list[Binding] = []
        rebound: set[str] = set()
        for _key, binding in self._bindings:
            keys = self.keys.keymap.get(binding.id) if binding.id else None
            if binding.id is None or keys is None:
                bindings.append(binding)
            elif binding.id not in rebound:
                rebound.add(binding.id)
                bindings += [binding.with_key(key, key_display=None) for key in keys.split(",")]
        self._bindings = BindingsMap(bindings)

    def get_key_display(self, binding: Binding) -> str:
        """Function keys in capitals (F1, F2), as the help names them, whether bound by default or in keys.toml."""
        modifiers, key = binding.parse_key()
        if not binding.key_display and not modifiers and key[:1] == "f" and key[1:].isdigit():
            return key.upper()
        return super().get_key_display(binding)

    def on_mount(self) -> None:
        self._ui_mounted = True
        if "copy" in self.keys.keymap:  # the cards' and the viewer's copy binding (the app's own are bound above)
            self.set_keymap({"copy": self.keys.keymap["copy"]})
        theme = self.session.store.setting("theme")
        if theme and theme in self.available_themes:
            self.theme = theme

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Chat actions belong to the chat: hide them from the footer on the source viewer and the help."""
        chat_actions = {"reindex", "clear", "undo", "export", "new", "conversations", "scroll_transcript",
                        "scroll_transcript_to", "focus_prompt"}
        return not (action in chat_actions and len(self.screen_stack) > 1)

    def watch_theme(self, theme: str) -> None:
        if not self._ui_mounted:
            return
        self.session.store.set_setting("theme", theme)
        if self._chat_screen is not None and self._chat_screen.is_mounted:
            self.chat_screen.recolor(palette_from_variables(self.get_css_variables()))

    def on_unmount(self) -> None:
        self.session.close()

    # --- threads and notices ----------------------------------------------------------------------

    def on_ui_thread(self, callback: Callable[..., Any], *args: Any) -> None:
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
        """A library notice (the Bot's notice callback); may be called from a worker thread."""
        self.session.library_notice(message)

    # --- actions ----------------------------------------------------------------------------------

    def action_new(self) -> None:
        self.session.new_conversation()

    def action_clear(self) -> None:
        self.session.clear()

    def action_undo(self) -> None:
        if not self.session.undo():
            prompt = self.chat_screen.query_one(Prompt)
            if self.focused is prompt:
                prompt.action_undo()

    def action_reindex(self) -> None:
        self.session.reindex()

    def action_export(self, target: Path | None = None) -> Path | None:
        return self.session.export(target)

    def action_conversations(self) -> None:
        def opened(conversation_id: int | None) -> None:
            if conversation_id is not None:
                self.session.open_conversation(conversation_id)

        self.push_screen(ConversationsScreen(self.session.conversations(), self.session.delete_conversation), opened)

    def action_skipped_files(self) -> None:
        self.chat_screen.show_skipped_files()

    def action_focus_prompt(self) -> None:
        self.chat_screen.focus_prompt()

    def action_scroll_transcript(self, direction: int) -> None:
        self.chat_screen.scroll_page(direction)

    def action_scroll_transcript_to(self, direction: int) -> None:
        self.chat_screen.scroll_to_end(direction)

    def key_lines(self) -> list[tuple[str, str]]:
        """The configurable bindings as they are now (keys.toml applied), for the help screen."""
        lines = []
        for binding in self.BINDINGS:
            assert isinstance(binding, Binding)
            if binding.id is None:
                continue
            lines.append((key_label(self.keys.keys(binding.id)), f"{KEY_IDS[binding.id]}  [{binding.id}]"))
        lines.append((key_label(self.keys.keys("copy")), f"{KEY_IDS['copy']}  [copy]"))
        return lines

    def action_help(self) -> None:
        """Open the help, or close it: the help key closes it, whichever key it is."""
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)
        else:
            path = self.keys.path or self.config_dir / "keys.toml"
            note = (f"Change a key with its [id] in {path}: a [keys] table of id = \"key\", "
                    f"e.g. export = \"ctrl+e\"")
            self.push_screen(HelpScreen(self.palette, self.key_lines(), note))


def run_chat(
    index_dir: Path | None = None,
    model: str | None = None,
    collections: Sequence[str] | None = None,
    abstain_below: float | None = None,
) -> int:
    """Entry point for `qa chat` and a bare `qa`: the index in index_dir, or the named collections
    (names or "all", qa.catalog) asked as one; abstain_below: the operating point, 0 to 1 (default
    $QA_ABSTAIN_BELOW, else the fitted one)."""
    app = ChatApp(index_dir=index_dir, model=model, collections=collections, abstain_below=abstain_below)
    loop = asyncio.new_event_loop()
    try:
        result = app.run(loop=loop)
    finally:
        loop.close()
    code = result if isinstance(result, int) else (app.return_code or 0)
    if app.state is AppState.LOADING or app.session.updating:
        # Quit while loading or writing the index: do not make the user wait for the worker (the
        # interpreter would join its thread at exit, seconds for a batch being embedded). A build
        # stopped at any point leaves the index as it was (it switches to a new one atomically).
        if app.session.updating:
            print("qa: stopped writing the index; it is as it was before (Ctrl+R in the chat, or qa index, "
                  "brings it up to date)", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
