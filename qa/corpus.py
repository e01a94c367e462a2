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
    Progress,
    extract,
)

SUPPORTED_SUFFIXES = tuple(SUFFIXES)


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A corpus file as found on disk, before it is read."""

    doc: str  # relative path, forward slashes
    path: str | Path  # listed from a folder: a str (making a Path per file cost a large folder's listing most of its time)
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
    root = _checked_root(root)
    found: list[tuple[str, int, int]] = []
    _scan(str(root), "", found, ordered=True)
    if not found:
        raise CorpusError(f"no supported documents ({', '.join(SUPPORTED_SUFFIXES)}) in corpus folder: {root}")
    return [SourceFile(doc, os.path.join(root, doc), size, mtime_ns) for doc, size, mtime_ns in found]


def file_stamps(root: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime_ns) of every supported file under root, by document path: what tells whether the
    corpus changed since an index was built, which every question checks."""
    found: list[tuple[str, int, int]] = []
    _scan(str(_checked_root(root)), "", found, ordered=False)
    return {doc: (size, mtime_ns) for doc, size, mtime_ns in found}


def _checked_root(root: Path) -> Path:
    root = Path(root)
    if not root.exists():
        raise CorpusError(f"corpus folder not found: {root}")
    if not root.is_dir():
        raise CorpusError(f"corpus path is not a folder: {root}")
    return root


def _scan(folder: str, prefix: str, found: list[tuple[str, int, int]], ordered: bool) -> None:
    """Append (document path, size, mtime_ns) of a folder's supported files, then of its sub-folders'
    (not through links to folders); ordered: in name order, the order os.walk gives. A corpus of
    75,000 files is listed in about 0.2 s, which every question pays to check for changes: files
    are stat'ed by name in the open folder (a third faster than by full path) and nothing else is
    made per file."""
    try:
        handle = os.open(folder, _OPEN_FOLDER) if _STAT_IN_FOLDER else None
    except OSError:
        return
    folders = []
    try:
        with os.scandir(folder if handle is None else handle) as listing:
            entries = sorted(listing, key=lambda entry: entry.name) if ordered else list(listing)
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    folders.append(name)
                    continue
                if not name.lower().endswith(SUPPORTED_SUFFIXES) or not entry.is_file():  # as format_of: every suffix has its dot
                    continue
                stat = entry.stat() if handle is None else os.stat(name, dir_fd=handle)
            except OSError:
                continue
            found.append((prefix + name, stat.st_size, stat.st_mtime_ns))
    except OSError:
        return
    finally:
        if handle is not None:
            os.close(handle)
    for name in folders:
        _scan(os.path.join(folder, name), f"{prefix}{name}/", found, ordered)


_STAT_IN_FOLDER = os.stat in os.supports_dir_fd and os.scandir in os.supports_fd and hasattr(os, "O_DIRECTORY")
_OPEN_FOLDER = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)


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


def read_document(source: SourceFile, limits: Limits = DEFAULT_LIMITS, progress: Progress | None = None) -> Document:
    """Read and extract one file; raise CorpusError naming the file and why when it cannot be used.
    progress, when given, hears how far a long file (a PDF, page by page) has been read."""
    data = _read_bytes(source, limits)
    try:
        extracted = extract(source.doc, data, limits, progress)
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
