"""The passages of a stored index, read from its JSON-lines file when asked for.

Parsing every passage when an index is opened costs about a second and 100 MB per 160,000 passages,
and a question reads a few dozen of them. The file is memory-mapped; opening finds where each line
starts (a scan for newlines in C), and a passage is parsed on first access and kept.
"""

from __future__ import annotations

import json
import mmap
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import overload

from qa.errors import IndexMismatchError
from qa.schema import Passage

# json.dumps writes a present date as this key followed by a string; inside a JSON string a quote is
# always escaped, so these bytes can only be a passage's own date field.
_DATED = b'"date": "'


class PassageTable(Sequence[Passage]):
    """A read-only sequence of the passages of one passages file, in file order."""

    def __init__(self, path: Path, damaged: str = "the index is damaged; rebuild it with qa index") -> None:
        self._damaged = damaged  # the message when a line cannot be read back
        with Path(path).open("rb") as file:
            size = file.seek(0, 2)
            self._data: bytes | mmap.mmap = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        starts, position = [], 0
        find = self._data.find
        while position < len(self._data):
            starts.append(position)
            end = find(b"\n", position)
            position = len(self._data) if end < 0 else end + 1
        starts.append(len(self._data))
        self._starts = starts
        self._parsed: dict[int, Passage] = {}

    def __len__(self) -> int:
        return len(self._starts) - 1

    @overload
    def __getitem__(self, row: int) -> Passage: ...
    @overload
    def __getitem__(self, row: slice) -> list[Passage]: ...
    def __getitem__(self, row: int | slice) -> Passage | list[Passage]:
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(len(self)))]
        if row < 0:
            row += len(self)
        if not 0 <= row < len(self):
            raise IndexError(f"passage row {row} out of range")
        passage = self._parsed.get(row)
        if passage is None:
            line = self._data[self._starts[row] : self._starts[row + 1]]
            try:
                passage = self._parsed[row] = Passage.from_dict(json.loads(line))
            except (ValueError, KeyError, TypeError) as error:
                raise IndexMismatchError(f"{self._damaged} (passage {row + 1} unreadable)") from error
        return passage

    def __iter__(self) -> Iterator[Passage]:
        for row in range(len(self)):
            yield self[row]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(mine == theirs for mine, theirs in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # equal by content, like a list

    def any_dated(self) -> bool:
        """Whether some passage's document has a date, without parsing them."""
        return self._data.find(_DATED) >= 0


def any_dated(passages: Sequence[Passage]) -> bool:
    """Whether some passage's document has a date (a table answers without parsing its passages)."""
    if isinstance(passages, PassageTable):
        return passages.any_dated()
    return any(passage.date for passage in passages)
