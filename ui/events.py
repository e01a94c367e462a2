"""What the chat's session tells the UI, without Textual: its states, the records it hands over
(questions, source views, collection choices) and the events it sends its listeners (`ChatSession.listen`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from qa.catalog import CollectionState
from ui.conversations import Turn


class AppState(Enum):
    LOADING = "loading"  # the model and the index load in a worker; questions wait
    READY = "ready"
    BROKEN = "broken"  # no usable index: a message says why, Ctrl+R may fix it
    INDEXING = "indexing"  # Ctrl+R is rebuilding the index; questions wait


class Severity(Enum):
    """How a notice is shown (the values are Textual's severity levels)."""

    INFORMATION = "information"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Question:
    """A question as it was asked: the conversation's earlier questions, and when."""

    id: int
    text: str
    history: tuple[str, ...]
    asked_at: float  # seconds since the epoch


@dataclass(frozen=True)
class ActivityStatus:
    """What the status line says during a long step (a re-index, an update at load): the label with
    the seconds so far, and the build's count once it reported."""

    label: str
    progress: tuple[int, int] | None  # (done, total) in the build's own unit


@dataclass(frozen=True)
class SourceView:
    """A cited passage's document as it is now, and where the quote is in it.

    The index may be older than the file (edited since, or re-indexed since the answer was given),
    so the cited offsets may point at other text: the quote is looked for in the file as it is."""

    text: str  # the whole document now
    cited: tuple[int, int]  # the passage's offsets when the answer was given
    found: tuple[int, int] | None  # where the passage's text is now; None when the file no longer holds it
    support: tuple[tuple[int, int], ...]  # the answer's sentences in the passage, in the file as it is now

    @property
    def changed(self) -> bool:
        """The document changed where the quote is: the quote moved, or is gone."""
        return self.found != self.cited


@dataclass(frozen=True)
class CollectionChoice:
    """A registered collection as the palette offers it."""

    name: str
    state: CollectionState
    line: str  # what it holds and where; or, when it cannot be asked, why, in one line
    asked: bool  # among the collections the chat asks now

    @property
    def ready(self) -> bool:
        return self.state is CollectionState.READY


@dataclass(frozen=True)
class Notice:
    message: str
    title: str = ""
    severity: Severity = Severity.INFORMATION
    timeout: float | None = None  # seconds; None: the UI's default


@dataclass(frozen=True)
class Loaded:
    """The index and the model are ready (after a load or a re-index)."""


@dataclass(frozen=True)
class LoadFailed:
    """No usable index: `ChatSession.load_error` says why."""


@dataclass(frozen=True)
class IndexingStarted:
    status: str


@dataclass(frozen=True)
class Reloading:
    """A re-index failed; the index is being loaded again to learn what is left."""

    status: str


@dataclass(frozen=True)
class ActivityChanged:
    """The status of the long step in progress changed (`ChatSession.activity_status`)."""


@dataclass(frozen=True)
class OptionsChanged:
    k: int
    mode: str
    abstain_below: float | None  # chosen for this chat; None: the default operating point


@dataclass(frozen=True)
class Switching:
    """Other collections are being opened (the model and the indexes open already stay); questions wait."""

    status: str


@dataclass(frozen=True)
class IndexUpdated:
    """A build (qa watch, qa index) made a new generation of an index asked, and the chat moved to it:
    `ChatSession.summary` counts what it holds now."""


@dataclass(frozen=True)
class QuestionAdded:
    question: Question
    status: str  # what it waits for


@dataclass(frozen=True)
class QueueChanged:
    statuses: tuple[tuple[int, str], ...]  # (question id, what it waits for), in queue order


@dataclass(frozen=True)
class Searching:
    question_id: int
    mode: str
    k: int


@dataclass(frozen=True)
class Answered:
    question_id: int
    turn: Turn
    hint: str | None  # the recommended mode's different answer, in one line


@dataclass(frozen=True)
class FolderWanted:
    """The index cannot be built without a folder of documents from the user: `why` says so."""

    why: str


@dataclass(frozen=True)
class TranscriptCleared:
    """The conversation shown is gone (a new one, or cleared); nothing waits any more."""


@dataclass(frozen=True)
class ConversationOpened:
    turns: tuple[Turn, ...]


Event = (
    Notice | Loaded | LoadFailed | IndexingStarted | Reloading | ActivityChanged | OptionsChanged | Switching | IndexUpdated
    | QuestionAdded | QueueChanged | Searching | Answered | TranscriptCleared | ConversationOpened | FolderWanted
)
Listener = Callable[[Event], None]
