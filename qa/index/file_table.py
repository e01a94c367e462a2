"""What an index knows of each corpus file, as the manifest stores it: one column per field.

A corpus of tens of thousands of files makes a table as long, which every question reads to check
for changed files. Stored as columns (a JSON list per field) it parses several times faster than
as records (a JSON object per file; docs/speed.md), and a record is made only when one file is
looked up.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

COLUMNS = ("sha256", "size", "mtime_ns", "passages", "skipped")


@dataclass(frozen=True, slots=True)
class FileRecord:
    """What the index knows of one corpus file: enough to tell whether it changed."""

    sha256: str
    size: int
    mtime_ns: int
    passages: int
    skipped: str | None = None  # why the file was not indexed (binary, not UTF-8, …)


class FileTable(Mapping[str, FileRecord]):
    """A read-only mapping of document path to FileRecord, held as columns."""

    __slots__ = ("_columns", "_docs", "_row")

    def __init__(self, docs: list[str], columns: dict[str, list]) -> None:
        if set(columns) != set(COLUMNS) or any(len(values) != len(docs) for values in columns.values()):
            raise ValueError(f"a file table needs the columns {COLUMNS}, each with one value per document")
        self._docs, self._columns = docs, columns
        self._row: dict[str, int] | None = None

    @classmethod
    def of(cls, records: Mapping[str, FileRecord]) -> FileTable:
        if isinstance(records, FileTable):
            return records
        return cls(list(records), {name: [getattr(r, name) for r in records.values()] for name in COLUMNS})

    @classmethod
    def from_json(cls, data: dict) -> FileTable:
        """The table from its JSON form, either columns ({"doc": [...], "sha256": [...], …}) or one
        object per document ({doc: {"sha256": …}}, as indexes of earlier versions wrote it)."""
        if isinstance(data.get("doc"), list):
            return cls(list(data["doc"]), {name: list(data[name]) for name in COLUMNS})
        return cls.of({doc: FileRecord(**record) for doc, record in data.items()})

    def to_json(self) -> dict[str, list]:
        return {"doc": self._docs, **self._columns}

    def stamps(self) -> dict[str, tuple[int, int]]:
        """(size, mtime_ns) of every document as indexed."""
        return dict(zip(self._docs, zip(self._columns["size"], self._columns["mtime_ns"], strict=True), strict=True))

    def count_skipped(self) -> int:
        return sum(1 for why in self._columns["skipped"] if why)

    def _rows(self) -> dict[str, int]:
        if self._row is None:
            self._row = {doc: row for row, doc in enumerate(self._docs)}
        return self._row

    def __getitem__(self, doc: str) -> FileRecord:
        row = self._rows()[doc]
        return FileRecord(*(self._columns[name][row] for name in COLUMNS))

    def __contains__(self, doc: object) -> bool:
        return doc in self._rows()

    def __iter__(self) -> Iterator[str]:
        return iter(self._docs)

    def __len__(self) -> int:
        return len(self._docs)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FileTable):
            return self._docs == other._docs and self._columns == other._columns
        return Mapping.__eq__(self, other)

    __hash__ = None  # type: ignore[assignment]  # a mapping, compared by value

    def __repr__(self) -> str:
        return f"FileTable({len(self)} files)"
