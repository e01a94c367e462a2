"""Finding and reading the documents of a corpus folder."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from qa.errors import CorpusError

SUPPORTED_SUFFIXES = (".txt", ".md")
MAX_FILE_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A corpus file as found on disk, before it is read."""

    doc: str  # relative path, forward slashes
    path: Path
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class Document:
    doc: str
    text: str
    sha256: str


def find_files(root: Path) -> list[SourceFile]:
    """All supported files under root, recursively, in a stable order."""
    root = Path(root)
    if not root.exists():
        raise CorpusError(f"corpus folder not found: {root}")
    if not root.is_dir():
        raise CorpusError(f"corpus path is not a folder: {root}")
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or not name.lower().endswith(SUPPORTED_SUFFIXES):
                continue
            path = Path(dirpath) / name
            try:
                stat = path.stat()
            except OSError:
                continue
            doc = path.relative_to(root).as_posix()
            found.append(SourceFile(doc=doc, path=path, size=stat.st_size, mtime_ns=stat.st_mtime_ns))
    if not found:
        raise CorpusError(
            f"no .txt or .md files in corpus folder: {root}"
        )
    return found


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_document(source: SourceFile) -> Document:
    """Read one file as UTF-8 text; raise CorpusError naming the file when it is not text."""
    if source.size > MAX_FILE_BYTES:
        raise CorpusError(f"{source.doc}: skipped, larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    try:
        data = source.path.read_bytes()
    except OSError as error:
        raise CorpusError(f"{source.doc}: skipped, cannot read ({error.strerror})") from error
    if b"\x00" in data[:8192]:
        raise CorpusError(f"{source.doc}: skipped, binary file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CorpusError(
            f"{source.doc}: skipped, not UTF-8 text (invalid byte at offset {error.start})"
        ) from error
    return Document(doc=source.doc, text=text, sha256=file_sha256(data))


def read_source(root: Path, doc: str) -> str:
    """The text of one document of a corpus, as the offsets of its passages refer to it."""
    path = Path(root) / doc
    try:
        stat = path.stat()
    except OSError as error:
        raise CorpusError(f"{doc}: cannot read ({error.strerror})") from error
    return read_document(SourceFile(doc=doc, path=path, size=stat.st_size, mtime_ns=stat.st_mtime_ns)).text
