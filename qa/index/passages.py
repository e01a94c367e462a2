"""The passages of a stored index, read from its JSON-lines file when asked for.

Parsing every passage when an index is opened costs about a second and 100 MB per 160,000 passages,
and a question reads a few dozen of them. Opening finds where each line starts (a scan for
newlines in numpy, a block at a time), and a passage is read and parsed on first access, and kept.
"""

from __future__ import annotations

import json
import os
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import overload

from qa.errors import IndexMismatchError
from qa.schema import Passage

# json.dumps writes a present date as this key followed by a string; inside a JSON string a quote is
# always escaped, so these bytes can only be a passage's own date field.
_DATED = b'"date": "'
_BLOCK = 4 << 20  # smaller blocks scanned a large passages file markedly slower (docs/speed.md)


class PassageTable(Sequence[Passage]):
    """A read-only sequence of the passages of one passages file, in file order."""

    def __init__(self, path: Path, damaged: str = "the index is damaged; rebuild it with qa index") -> None:
        import numpy as np

        self._damaged = damaged  # the message when a line cannot be read back
        # Lines are found by reading the file in blocks, and read back with pread: a memory map would
        # keep every page of the file, once scanned, in the process's RSS.
        self._fd = os.open(path, os.O_RDONLY)
        weakref.finalize(self, os.close, self._fd)
        ends, dated, position, tail = [], False, 0, b""
        while block := os.pread(self._fd, _BLOCK, position):
            ends.append(np.flatnonzero(np.frombuffer(block, np.uint8) == 0x0A) + position + 1)
            dated = dated or _DATED in tail + block
            tail, position = block[-len(_DATED) :], position + len(block)
        if position and not (ends and len(ends[-1]) and ends[-1][-1] == position):
            ends.append(np.array([position]))  # a last line without its newline
        self._starts = np.concatenate([np.zeros(1, np.int64), *ends]).astype(np.int64)
        self._dated = dated
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
            start, end = int(self._starts[row]), int(self._starts[row + 1])
            line = os.pread(self._fd, end - start, start)
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

    def rows_of_document(self, doc: str) -> list[int]:
        """The rows of one document's passages, in order, found in the file's bytes without parsing
        them: each line starts with the passage's doc field (Passage.to_dict's first key)."""
        import numpy as np

        prefix = b'{"doc": ' + json.dumps(doc, ensure_ascii=False).encode() + b","
        found: set[int] = set()
        position = 0
        while block := os.pread(self._fd, _BLOCK + len(prefix), position):  # blocks overlap by the prefix
            at = block.find(prefix)
            while at != -1:
                if position + at == 0 or (at > 0 and block[at - 1] == 0x0A):
                    found.add(position + at)
                at = block.find(prefix, at + 1)
            if len(block) <= _BLOCK:
                break
            position += _BLOCK
        return [int(row) for row in np.searchsorted(self._starts, sorted(found))]

    def any_dated(self) -> bool:
        """Whether some passage's document has a date, without parsing them."""
        return self._dated


def any_dated(passages: Sequence[Passage]) -> bool:
    """Whether some passage's document has a date (a table answers without parsing its passages)."""
    if isinstance(passages, PassageTable):
        return passages.any_dated()
    return any(passage.date for passage in passages)


def rows_of_document(passages: Sequence[Passage], doc: str) -> list[int]:
    """The rows of one document's passages, in order (a table finds them without parsing the others)."""
    if isinstance(passages, PassageTable):
        return passages.rows_of_document(doc)
    return [row for row, passage in enumerate(passages) if passage.doc == doc]
