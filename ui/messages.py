"""The messages the chat's widgets post: a widget says what the user asked for, and the screen that
holds it decides what to do (widgets never call the app)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from qa import Answer, Hit


@dataclass
class QuestionSubmitted(Message):
    """Enter in the prompt: the text as typed (possibly empty)."""

    text: str


@dataclass
class OpenSource(Message):
    """Read a cited passage in its whole source document."""

    answer: Answer
    hit: Hit


@dataclass
class TypeAhead(Message):
    """Text typed or pasted where no text is edited (on a card): it belongs in the prompt."""

    text: str


@dataclass
class PromptKey(Message):
    """Enter or Backspace that followed text typed on a card, in the same burst: it is the prompt's."""

    key: str


@dataclass
class FocusPrompt(Message):
    """Back to the prompt."""


@dataclass
class FocusCards(Message):
    """To the cited passages of the latest reply: its first card (direction 1) or its last (-1)."""

    direction: int


@dataclass
class ScrollTranscript(Message):
    """Scroll the conversation to its first question (direction -1) or its latest reply (1)."""

    direction: int
