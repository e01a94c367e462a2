"""The chat's commands in the command palette (Ctrl+P)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.command import DiscoveryHit, Hit, Hits, Provider

from qa import DEFAULT_MODE, MODES
from ui.render import counted

if TYPE_CHECKING:
    from ui.app import ChatApp

K_CHOICES = (1, 3, 5, 8, 10, 20)
# What the user typed in full ("k 12", "export notes.md") comes before any fuzzy match, whose scores
# grow with the length of the match (a fuzzy "k 1" scores "Set k = 10" above 1).
EXACT = 1e9
_SET_K = re.compile(r"^\s*(?:set\s+)?k\s*=?\s*(\d{1,3})\s*$", re.IGNORECASE)
_EXPORT_TO = re.compile(r"^\s*export\s+(?:to\s+)?(\S.*?)\s*$", re.IGNORECASE)

def mode_help(mode: str) -> str:
    """What the mode ranks by, as its registration says it (qa.ranking), one line at 80 columns with
    "(recommended)" and "(current)"."""
    line = MODES[mode].summary if mode in MODES else f"rank passages with {mode} retrieval"
    return f"{line} (recommended)" if mode == DEFAULT_MODE else line


class ChatCommands(Provider):
    """Re-index, set k, retrieval mode, conversations, clear, export, help."""

    @property
    def chat(self) -> ChatApp:
        return cast("ChatApp", self.app)

    def _commands(self) -> Iterator[tuple[str, str, Callable[[], object]]]:
        app = self.chat
        session = app.session
        key = session.keys.label
        yield ("Re-index the corpus", session.reindex_description(), app.action_reindex)
        yield ("New conversation", f"Start a new conversation; this one is kept ({key('new')})", app.action_new)
        yield ("Earlier conversations", f"Reopen or delete a kept conversation ({key('conversations')})", app.action_conversations)
        yield ("Clear the conversation", f"Delete this conversation ({key('undo')} brings it back) ({key('clear')})", app.action_clear)
        yield (
            "Export the conversation as Markdown",
            f"To {session.export_folder()} (or type: export PATH) ({key('export')})",
            app.action_export,
        )
        for k in K_CHOICES:
            current = " (current)" if k == session.k else ""
            yield (f"Set k = {k}", f"Cite up to {counted(k, 'passage')} per answer{current}", partial(session.set_k, k))
        for mode in session.modes:
            current = " (current)" if mode == session.mode else ""
            yield (f"Retrieval mode: {mode}", f"{mode_help(mode)}{current}", partial(session.set_mode, mode))
        if session.summary is not None and session.summary.skipped:
            skipped = session.summary.skipped
            yield ("Skipped files", f"Why {counted(skipped, 'file')} of the corpus {'was' if skipped == 1 else 'were'} "
                   "not indexed (or click the header)", app.action_skipped_files)
        yield ("Help: keys", f"Every key binding ({key('help')})", app.action_help)
        yield ("Theme", "Change the colours of the chat", app.action_change_theme)
        yield ("Quit", f"Leave the chat ({key('quit')})", app.action_quit)

    async def discover(self) -> Hits:
        for name, help_text, command in self._commands():
            yield DiscoveryHit(Text(name), command, text=name, help=help_text)

    async def search(self, query: str) -> Hits:
        app = self.chat
        typed: str | None = None
        typed_k = _SET_K.match(query)
        if typed_k and int(typed_k.group(1)) >= 1:
            k = int(typed_k.group(1))
            typed = f"Set k = {k}"
            yield Hit(EXACT, Text(typed), partial(app.session.set_k, k), text=typed,
                      help=f"Cite up to {counted(k, 'passage')} per answer")
        export_to = _EXPORT_TO.match(query)
        if export_to:
            path = Path(export_to.group(1)).expanduser()
            yield Hit(EXACT, Text(f"Export to {path}"), partial(app.action_export, path), text=f"Export to {path}",
                      help="Write the conversation as Markdown to this file (or into this folder)")
        matcher = self.matcher(query)
        for name, help_text, command in self._commands():
            if typed is not None and name.startswith("Set k = "):  # the k typed is offered above, alone
                continue
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), command, text=name, help=help_text)
