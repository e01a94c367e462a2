"""Plain text files: UTF-8 (a BOM is allowed); the layout rules of qa.chunking find the structure."""

from __future__ import annotations

from qa.formats import Deadline, Extracted, FormatError, Limits


def decode_utf8(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise FormatError("binary file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FormatError(f"not UTF-8 text (invalid byte at offset {error.start})") from error


def extract_text(data: bytes, limits: Limits, deadline: Deadline) -> Extracted:
    return Extracted(text=decode_utf8(data))
