"""Finding and reading the documents of a corpus folder."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from qa.errors import CorpusError
from qa.formats import (
    DEFAULT_LIMITS,
    SUFFIXES,
    Extracted,
    FormatError,
    Limits,
    extract,
    format_of,
)

SUPPORTED_SUFFIXES = tuple(SUFFIXES)


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A corpus file as found on disk, before it is read."""

    doc: str  # relative path, forward slashes
    path: str | Path  # listed from a folder: a str (75,000 Path objects took a second to make)
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class Document:
    doc: str
    extracted: Extracted
    sha256: str  # of the file's bytes

    @property
    def text(self) -> str:
        """The extracted text: what passages' offsets and the viewer refer to."""
        return self.extracted.text


def find_files(root: Path) -> list[SourceFile]:
    """All supported files under root, recursively, in a stable order."""
    root = Path(root)
    if not root.exists():
        raise CorpusError(f"corpus folder not found: {root}")
    if not root.is_dir():
        raise CorpusError(f"corpus path is not a folder: {root}")
    found: list[SourceFile] = []
    _scan(str(root), "", found)
    if not found:
        raise CorpusError(f"no supported documents ({', '.join(SUPPORTED_SUFFIXES)}) in corpus folder: {root}")
    return found


def _scan(folder: str, prefix: str, found: list[SourceFile]) -> None:
    """A folder's files in name order, then its sub-folders' (not through links to folders), the
    order os.walk gives. os.scandir's entries carry their stat, so a corpus of 75,000 files is listed
    in a fraction of a second, which every question that checks for changed files pays."""
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except OSError:
        return
    folders = []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                folders.append(entry)
                continue
            if format_of(entry.name) is None or not entry.is_file():
                continue
            stat = entry.stat()
        except OSError:
            continue
        found.append(SourceFile(doc=prefix + entry.name, path=entry.path, size=stat.st_size, mtime_ns=stat.st_mtime_ns))
    for entry in folders:
        _scan(entry.path, f"{prefix}{entry.name}/", found)


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_bytes(source: SourceFile, limits: Limits) -> bytes:
    if source.size > limits.max_file_bytes:
        raise CorpusError(f"{source.doc}: skipped, larger than {limits.max_file_bytes // (1024 * 1024)} MB")
    try:
        with open(source.path, "rb") as handle:
            data = handle.read(limits.max_file_bytes + 1)  # the file may have grown since stat
    except OSError as error:
        raise CorpusError(f"{source.doc}: skipped, cannot read ({error.strerror})") from error
    if len(data) > limits.max_file_bytes:
        raise CorpusError(f"{source.doc}: skipped, larger than {limits.max_file_bytes // (1024 * 1024)} MB")
    return data


def source_sha256(source: SourceFile, limits: Limits = DEFAULT_LIMITS) -> str:
    """The checksum of a file's bytes, without parsing it."""
    return file_sha256(_read_bytes(source, limits))


def read_document(source: SourceFile, limits: Limits = DEFAULT_LIMITS) -> Document:
    """Read and extract one file; raise CorpusError naming the file and why when it cannot be used."""
    data = _read_bytes(source, limits)
    try:
        extracted = extract(source.doc, data, limits)
    except FormatError as error:
        raise CorpusError(f"{source.doc}: skipped, {error}") from error
    return Document(doc=source.doc, extracted=extracted, sha256=file_sha256(data))


def read_source(root: Path, doc: str) -> str:
    """The text of one document of a corpus, as the offsets of its passages refer to it."""
    path = Path(root) / doc
    try:
        stat = path.stat()
    except OSError as error:
        raise CorpusError(f"{doc}: cannot read ({error.strerror})") from error
    return read_document(SourceFile(doc=doc, path=path, size=stat.st_size, mtime_ns=stat.st_mtime_ns)).text
