"""The chat's commands in the command palette (Ctrl+P)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from ui.app import ChatApp

K_CHOICES = (1, 3, 5, 8, 10, 20)
_SET_K = re.compile(r"^\s*(?:set\s+)?k\s*=?\s*(\d{1,3})\s*$", re.IGNORECASE)


class ChatCommands(Provider):
    """Re-index, set k, retrieval mode, clear, export, help."""

    def _commands(self) -> Iterator[tuple[str, str, Callable[[], object]]]:
        app: ChatApp = self.app  # type: ignore[assignment]
        yield ("Re-index the corpus", app.reindex_description(), app.action_reindex)
        yield ("Clear the conversation", "Forget the questions and answers so far (Ctrl+L)", app.action_clear)
        yield (
            "Export the conversation as Markdown",
            f"Questions, answers and cited passages, to a file in {app.export_dir_label()} (Ctrl+S)",
            app.action_export,
        )
        for k in K_CHOICES:
            current = " (current)" if k == app.k else ""
            yield (f"Set k = {k}", f"Cite up to {k} passage{'s' if k != 1 else ''} per answer{current}", partial(app.set_k, k))
        for mode in app.retrieval_modes:
            current = " (current)" if mode == app.retrieval_mode else ""
            yield (f"Retrieval mode: {mode}", f"Rank passages with {mode} retrieval{current}", partial(app.set_mode, mode))
        yield ("Help: keys", "Every key binding (F1)", app.action_help)
        yield ("Theme", "Change the colours of the chat", app.action_change_theme)
        yield ("Quit", "Leave the chat (Ctrl+Q)", app.action_quit)

    async def discover(self) -> Hits:
        for name, help_text, command in self._commands():
            yield DiscoveryHit(Text(name), command, text=name, help=help_text)

    async def search(self, query: str) -> Hits:
        app: ChatApp = self.app  # type: ignore[assignment]
        typed_k = _SET_K.match(query)
        if typed_k and int(typed_k.group(1)) >= 1:
            k = int(typed_k.group(1))
            yield Hit(1.0, Text(f"Set k = {k}"), partial(app.set_k, k), text=f"Set k = {k}",
                      help=f"Cite up to {k} passages per answer")
        matcher = self.matcher(query)
        for name, help_text, command in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), command, text=name, help=help_text)
