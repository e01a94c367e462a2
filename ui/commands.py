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
from ui.session import capitalised, shown_threshold

if TYPE_CHECKING:
    from ui.app import ChatApp

K_CHOICES = (1, 3, 5, 8, 10, 20)
ABSTAIN_CHOICES = (0.1, 0.2, 0.3, 0.5)
# What the user typed in full ("k 12", "export notes.md") comes before any fuzzy match, whose scores
# grow with the length of the match (a fuzzy "k 1" scores "Set k = 10" above 1).
EXACT = 1e9
_SET_K = re.compile(r"^\s*(?:set\s+)?k\s*=?\s*(\d{1,3})\s*$", re.IGNORECASE)
_EXPORT_TO = re.compile(r"^\s*export\s+(?:to\s+)?(\S.*?)\s*$", re.IGNORECASE)
_ABSTAIN = re.compile(r"^\s*abstain\s+(?:below\s+)?[<=]?\s*([-+.\w]+)\s*$", re.IGNORECASE)
# "collections notes papers": those, as one; "Collections: only notes" and the like are the listed commands.
_COLLECTIONS = re.compile(r"^\s*collections?\s*:?\s+(?!(?:only|also|without)\b)(\S.*?)\s*$", re.IGNORECASE)

def mode_help(mode: str) -> str:
    """What the mode ranks by, as its registration says it (qa.ranking), one line at 80 columns with
    "(recommended)" and "(current)"."""
    line = MODES[mode].summary if mode in MODES else f"rank passages with {mode} retrieval"
    return f"{line} (recommended)" if mode == DEFAULT_MODE else line


def abstain_help(threshold: float, current: bool) -> str:
    return (f"Say the documents don't answer below confidence {shown_threshold(threshold)}; higher refuses more"
            + (" (current)" if current else ""))


class ChatCommands(Provider):
    """Re-index, set k, retrieval mode, the operating point, collections, conversations, clear,
    export, help."""

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
        for threshold in ABSTAIN_CHOICES:
            yield (f"Abstain below {shown_threshold(threshold)}", abstain_help(threshold, threshold == session.abstain_below),
                   partial(session.set_abstain_below, threshold))
        if session.abstain_below is not None:
            default = shown_threshold(session.default_threshold)
            yield (f"Abstain below the default ({default})", "The operating point fitted on the benchmarks (type: abstain 0.25 for any)",
                   partial(session.set_abstain_below, None))
        yield from self._collection_commands()
        if session.summary is not None and session.summary.skipped:
            skipped = session.summary.skipped
            yield ("Skipped files", f"Why {counted(skipped, 'file')} of the corpus {'was' if skipped == 1 else 'were'} "
                   "not indexed (or click the header)", app.action_skipped_files)
        yield ("Help: keys", f"Every key binding ({key('help')})", app.action_help)
        yield ("Theme", "Change the colours of the chat", app.action_change_theme)
        yield ("Quit", f"Leave the chat ({key('quit')})", app.action_quit)

    def _collection_commands(self) -> Iterator[tuple[str, str, Callable[[], object]]]:
        """Ask all the collections, only one, one more, or one fewer: the registered collections, as
        the session last read them (a collection that cannot be asked says why)."""
        session = self.chat.session
        asked = session.collections
        if not asked:  # an index opened by its folder
            return
        choices = session.choices
        ready = [c.name for c in choices if c.ready]
        if len(ready) > 1:
            current = " (current)" if set(asked) == set(ready) else ""
            yield ("Collections: all", f"Ask all {len(ready)} as one: {', '.join(ready)}{current}", partial(session.use_collections, ("all",)))
        for choice in choices:
            if not choice.ready:
                yield (f"Collections: only {choice.name}", capitalised(choice.line), partial(session.use_collections, (choice.name,)))
                continue
            current = " (current)" if asked == (choice.name,) else ""
            yield (f"Collections: only {choice.name}", f"{choice.line}{current}", partial(session.use_collections, (choice.name,)))
            if not choice.asked:
                yield (f"Collections: also {choice.name}", f"Ask {choice.name} too: {choice.line}",
                       partial(session.use_collections, (*asked, choice.name)))
            elif len(asked) > 1:
                rest = tuple(name for name in asked if name != choice.name)
                yield (f"Collections: without {choice.name}", f"Ask only {', '.join(rest)}", partial(session.use_collections, rest))

    async def discover(self) -> Hits:
        for name, help_text, command in self._commands():
            yield DiscoveryHit(Text(name), command, text=name, help=help_text)

    async def search(self, query: str) -> Hits:
        app = self.chat
        offered: list[str] = []  # the kinds of command whose typed value is offered alone, above the list
        typed_k = _SET_K.match(query)
        if typed_k and int(typed_k.group(1)) >= 1:
            k = int(typed_k.group(1))
            typed = f"Set k = {k}"
            offered.append("Set k = ")
            yield Hit(EXACT, Text(typed), partial(app.session.set_k, k), text=typed,
                      help=f"Cite up to {counted(k, 'passage')} per answer")
        export_to = _EXPORT_TO.match(query)
        if export_to:
            path = Path(export_to.group(1)).expanduser()
            yield Hit(EXACT, Text(f"Export to {path}"), partial(app.action_export, path), text=f"Export to {path}",
                      help="Write the conversation as Markdown to this file (or into this folder)")
        abstain = _ABSTAIN.match(query)
        if abstain:
            value = abstain.group(1)
            try:
                number = float(value)
            except ValueError:
                number = -1.0
            valid = 0 <= number <= 1
            typed = f"Abstain below {shown_threshold(number) if valid else value}"
            offered.append("Abstain below ")
            help_text = abstain_help(number, False) if valid else "The threshold must be a number from 0 to 1"
            yield Hit(EXACT, Text(typed), partial(app.session.set_abstain_below, value), text=typed, help=help_text)
        collections = _COLLECTIONS.match(query)
        if collections and app.session.collections:
            names = tuple(name for name in re.split(r"[\s,]+", collections.group(1)) if name)
            typed = f"Collections: {', '.join(names)}"
            yield Hit(EXACT, Text(typed), partial(app.session.use_collections, names), text=typed,
                      help="Ask these collections as one (names, or all)")
        matcher = self.matcher(query)
        for name, help_text, command in self._commands():
            if name.startswith(tuple(offered)):  # the value typed is offered above, alone
                continue
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), command, text=name, help=help_text)
