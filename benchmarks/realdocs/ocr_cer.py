"""OCR accuracy and time on the scanned page of the real-document folder.

    python benchmarks/realdocs/ocr_cer.py [FOLDER]        # needs the ocr extra; assemble.py first

Reads pdf-scanned-linnsequencer.pdf as `qa index` does (PDFium renders the page, rapidocr reads it,
the PDF reader lays out the lines) with the OCR cache off, and compares the text with the
transcription assemble.py writes beside the folder: the character error rate is the edit distance
(insertions, deletions, substitutions) over the transcription's length. Both texts are compared
with runs of whitespace as one space, and curly quotes, primes and dashes as their plain forms, as
a reader would not count those; a space the OCR leaves out between two words counts as an error.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks.realdocs.assemble import DEFAULT_FOLDER

SCAN = "pdf-scanned-linnsequencer.pdf"
_PLAIN = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "″": '"', "—": "-", "–": "-", "•": "·"})


def normal(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).translate(_PLAIN).split())


def distance(a: str, b: str) -> int:
    """Levenshtein distance, one row at a time."""
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other)))
        previous = current
    return previous[-1]


def main(argv: list[str]) -> int:
    folder = Path(argv[0]).expanduser() if argv else DEFAULT_FOLDER
    reference = (folder.parent / f"{folder.name}-linn-transcription.txt").read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as cache:
        os.environ["QA_CACHE_DIR"] = cache  # read by OCR, not from an earlier run's cache
        from qa.formats import extract

        started = time.perf_counter()
        extracted = extract(SCAN, (folder / SCAN).read_bytes())
        seconds = time.perf_counter() - started
    ours, theirs = normal(extracted.text), normal(reference)
    errors = distance(ours, theirs)
    pages = len(extracted.page_starts)
    print(f"{SCAN}: {pages} page(s) in {seconds:.1f} s ({seconds / pages:.1f} s a page, the engine loaded once)")
    print(f"confidence {extracted.ocr_pages}; character error rate {errors / len(theirs):.3f} ({errors} edits over {len(theirs)} characters)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
