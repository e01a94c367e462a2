"""The user's data directory and the questions remembered across runs."""

from __future__ import annotations

import json
import os
from pathlib import Path

APP_NAME = "qa-bot"
DATA_DIR_ENV = "QA_DATA_DIR"
HISTORY_FILE = "history.jsonl"
HISTORY_LIMIT = 1000


def data_dir() -> Path:
    """$QA_DATA_DIR, else the platform's user data directory (e.g. ~/.local/share/qa-bot)."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


class QuestionHistory:
    """Questions asked, oldest first, one JSON string a line in `<data dir>/history.jsonl`.

    Reading or writing never fails the chat: an unreadable file means no history, an unwritable one
    means this session's questions are remembered only until it ends.
    """

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
