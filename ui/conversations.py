"""What the chat remembers across runs, in the user data directory: the questions typed (for Up/Down
recall) and the conversations themselves (SQLite, JSON columns, no pickle), as Elia and oterm keep them.

Reading or writing never fails the chat: an unreadable store means nothing remembered, an unwritable
one means this session is remembered only until it ends.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from qa import Answer, AnswerSentence, Hit, Passage

HISTORY_FILE = "history.jsonl"
HISTORY_LIMIT = 1000
DATABASE_FILE = "conversations.sqlite3"


class QuestionHistory:
    """Questions asked, oldest first, one JSON string a line in `<data dir>/history.jsonl`."""

    def __init__(self, directory: Path, limit: int = HISTORY_LIMIT) -> None:
        self.path = Path(directory) / HISTORY_FILE
        self.limit = limit
        self.entries: list[str] = self._read()

    def _read(self) -> list[str]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            return []
        entries: list[str] = []
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, str) and entry.strip():
                entries.append(entry)
        return entries[-self.limit :]

    def add(self, question: str) -> None:
        question = question.strip()
        if not question:
            return
        if self.entries and self.entries[-1] == question:
            return
        self.entries.append(question)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if len(self.entries) > self.limit:
                del self.entries[: len(self.entries) - self.limit]
                text = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in self.entries)
                self.path.write_text(text, encoding="utf-8")
            else:
                with self.path.open("a", encoding="utf-8") as file:
                    file.write(json.dumps(question, ensure_ascii=False) + "\n")
        except OSError:
            pass


# --- conversations --------------------------------------------------------------------------------


def answer_to_json(answer: Answer) -> str:
    return json.dumps(asdict(answer), ensure_ascii=False)


def answer_from_json(text: str) -> Answer:
    """An answer as answer_to_json wrote it; one kept by an earlier version lacks the hits' collection
    and the confidence (None then)."""
    data = json.loads(text)
    confidence = data.get("confidence")
    return Answer(
        question=data["question"],
        sentences=tuple(AnswerSentence(**s) for s in data["sentences"]),
        hits=tuple(
            Hit(rank=h["rank"], score=h["score"], passage=Passage(**h["passage"]), collection=h.get("collection"))
            for h in data["hits"]
        ),
        abstained=bool(data["abstained"]),
        search_ms=float(data.get("search_ms", 0.0)),
        history=tuple(data.get("history", ())),
        confidence=float(confidence) if confidence is not None else None,
    )


@dataclass(frozen=True)
class Turn:
    """One question of a conversation and what came back: an answer, or an error message."""

    question: str
    answer: Answer | None
    error: str | None
    mode: str
    k: int
    asked_at: float  # seconds since the epoch
    elapsed_ms: float


@dataclass(frozen=True)
class Conversation:
    id: int
    title: str
    updated_at: float
    k: int
    mode: str
    turns: int
    abstain_below: float | None = None  # the operating point chosen for it; None: the default


_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    k INTEGER NOT NULL,
    mode TEXT NOT NULL,
    deleted_at REAL,
    abstain_below REAL
);
CREATE TABLE IF NOT EXISTS turns (
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    question TEXT NOT NULL,
    answer TEXT,
    error TEXT,
    mode TEXT NOT NULL,
    k INTEGER NOT NULL,
    asked_at REAL NOT NULL,
    elapsed_ms REAL NOT NULL,
    PRIMARY KEY (conversation_id, position)
);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class ConversationStore:
    """Conversations in `<data dir>/conversations.sqlite3`. A cleared conversation is only marked
    deleted, so that it can be brought back; marked ones are purged when the store next opens."""

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / DATABASE_FILE
        self._db: sqlite3.Connection | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, check_same_thread=False)
            db.execute("PRAGMA foreign_keys = ON")
            db.executescript(_SCHEMA)
            columns = {row[1] for row in db.execute("PRAGMA table_info(conversations)")}
            if "abstain_below" not in columns:  # a store made before the operating point was kept
                db.execute("ALTER TABLE conversations ADD COLUMN abstain_below REAL")
            db.execute("DELETE FROM conversations WHERE deleted_at IS NOT NULL")
            db.commit()
            self._db = db
        except (OSError, sqlite3.Error):
            self._db = None

    @property
    def available(self) -> bool:
        return self._db is not None

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection | None]:
        if self._db is None:
            yield None
            return
        try:
            with self._db:
                yield self._db
        except sqlite3.Error:
            pass

    # settings (the theme)
    def setting(self, key: str) -> str | None:
        if self._db is None:
            return None
        try:
            row = self._db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            return None
        return json.loads(row[0]) if row else None

    def set_setting(self, key: str, value: str) -> None:
        with self._write() as db:
            if db is not None:
                db.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", (key, json.dumps(value)))

    # conversations
    def create(self, title: str, k: int, mode: str, abstain_below: float | None = None) -> int | None:
        now = time.time()
        with self._write() as db:
            if db is not None:
                cursor = db.execute(
                    "INSERT INTO conversations (title, created_at, updated_at, k, mode, abstain_below) VALUES (?, ?, ?, ?, ?, ?)",
                    (title, now, now, k, mode, abstain_below),
                )
                return cursor.lastrowid
        return None

    def add_turn(self, conversation_id: int, turn: Turn) -> None:
        with self._write() as db:
            if db is None:
                return
            (position,) = db.execute(
                "SELECT COALESCE(MAX(position), -1) + 1 FROM turns WHERE conversation_id = ?", (conversation_id,)
            ).fetchone()
            db.execute(
                "INSERT INTO turns VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, position, turn.question,
                 answer_to_json(turn.answer) if turn.answer is not None else None,
                 turn.error, turn.mode, turn.k, turn.asked_at, turn.elapsed_ms),
            )
            db.execute("UPDATE conversations SET updated_at = ?, k = ?, mode = ? WHERE id = ?",
                       (time.time(), turn.k, turn.mode, conversation_id))

    def set_options(self, conversation_id: int, k: int, mode: str, abstain_below: float | None = None) -> None:
        with self._write() as db:
            if db is not None:
                db.execute("UPDATE conversations SET k = ?, mode = ?, abstain_below = ? WHERE id = ?",
                           (k, mode, abstain_below, conversation_id))

    def conversations(self) -> list[Conversation]:
        """The kept conversations, the latest first."""
        if self._db is None:
            return []
        try:
            rows = self._db.execute(
                "SELECT c.id, c.title, c.updated_at, c.k, c.mode, COUNT(t.position), c.abstain_below FROM conversations c "
                "LEFT JOIN turns t ON t.conversation_id = c.id WHERE c.deleted_at IS NULL "
                "GROUP BY c.id ORDER BY c.updated_at DESC, c.id DESC"
            ).fetchall()
        except sqlite3.Error:
            return []
        return [Conversation(*row) for row in rows]

    def conversation(self, conversation_id: int) -> Conversation | None:
        return next((c for c in self.conversations() if c.id == conversation_id), None)

    def turns(self, conversation_id: int) -> list[Turn]:
        if self._db is None:
            return []
        try:
            rows = self._db.execute(
                "SELECT question, answer, error, mode, k, asked_at, elapsed_ms FROM turns "
                "WHERE conversation_id = ? ORDER BY position", (conversation_id,)
            ).fetchall()
        except sqlite3.Error:
            return []
        turns = []
        for question, answer, error, mode, k, asked_at, elapsed_ms in rows:
            try:
                restored = answer_from_json(answer) if answer is not None else None
            except (ValueError, KeyError, TypeError):  # written by another version: keep the question
                restored, error = None, error or "This answer could not be read back."
            turns.append(Turn(question, restored, error, mode, k, asked_at, elapsed_ms))
        return turns

    def delete(self, conversation_id: int) -> None:
        """Mark deleted (undo brings it back until the store is next opened)."""
        with self._write() as db:
            if db is not None:
                db.execute("UPDATE conversations SET deleted_at = ? WHERE id = ?", (time.time(), conversation_id))

    def undelete(self, conversation_id: int) -> None:
        with self._write() as db:
            if db is not None:
                db.execute("UPDATE conversations SET deleted_at = NULL WHERE id = ?", (conversation_id,))
