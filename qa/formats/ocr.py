"""OCR of a PDF page that has no text layer (a scan), with rapidocr-onnxruntime: the `ocr` extra.

Its detection and recognition models ship inside its wheel, so it runs offline. The page is
rendered by PDFium, each text line the engine finds becomes a segment at its place on the page (in
points, as PDFium's characters are), and the PDF reader lays them out like any other page. The
page's confidence is the engine's mean score over its lines, weighted by their length. What a page
read is kept in the user cache (JSON, by the file's checksum), as reading it again takes seconds.
"""

from __future__ import annotations

import json
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qa.formats.pdf import _Segment

ENGINE = "rapidocr-onnxruntime"
# The detector's maps grow with the page: a higher resolution read the real scanned page no better and
# took more memory (docs/formats.md, "Measured: real PDFs").
RENDER_DPI = 150
MIN_SCORE = 0.5  # a line read with less confidence than this is noise (a picture's texture)
SECONDS_PER_PAGE = 120.0  # the time limit per file grows by this for each page read by OCR
_lock = threading.Lock()  # one engine, used by one page at a time


@lru_cache(maxsize=1)
def available() -> bool:
    try:
        import rapidocr_onnxruntime  # noqa: F401
    except Exception:  # not installed, or its native libraries do not load: the extra is not usable
        return False
    return True


@lru_cache(maxsize=1)
def _engine():
    import logging

    from rapidocr_onnxruntime import RapidOCR

    # Lines of a page are upright: the classifier for upside-down lines costs time and finds none.
    engine = RapidOCR(use_cls=False)
    logging.getLogger("RapidOCR").setLevel(logging.ERROR)  # it logs every page it reads
    return engine


def read_page(page, digest: str, number: int) -> tuple[list[_Segment], float]:
    """The text lines of a rendered page as segments, and the engine's confidence (0-1).
    Pages read before (the file's sha256 digest, the page number) come from the cache, so the
    source viewer and `qa inspect` show the very text the index's spans point into, at once."""
    from qa.formats.pdf import _Segment

    cached = _cache_file(digest, number)
    try:
        stored = json.loads(cached.read_text(encoding="utf-8"))
        return [_Segment(str(t), float(a), float(b), float(c), float(d)) for t, a, b, c, d in stored["lines"]], round(float(stored["confidence"]), 3)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    segments, confidence = _recognise(page)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(".part")
        lines = [[s.text, s.x0, s.x1, s.bottom, s.top] for s in segments]
        partial.write_text(json.dumps({"lines": lines, "confidence": confidence}), encoding="utf-8")
        partial.replace(cached)
    except OSError:
        pass  # a cache that cannot be written: the page is read again next time
    return segments, confidence


def _cache_file(digest: str, number: int) -> Path:
    from importlib.metadata import version

    from qa import settings

    return settings.cache_dir() / "ocr" / f"{ENGINE}-{version(ENGINE)}-{RENDER_DPI}dpi" / f"{digest}-{number}.json"


def _recognise(page) -> tuple[list[_Segment], float]:
    from qa.formats.pdf import _Segment

    scale = RENDER_DPI / 72
    bitmap = page.render(scale=scale, grayscale=True)
    try:
        image = bitmap.to_numpy()
    finally:
        bitmap.close()
    if image.ndim == 2:
        import numpy as np

        image = np.repeat(image[:, :, None], 3, axis=2)
    with _lock:
        found, _ = _engine()(image)
    height = page.get_height()
    segments: list[_Segment] = []
    weighted = chars = 0.0
    for box, text, score in found or []:
        text = " ".join(str(text).split())
        if not text or float(score) < MIN_SCORE:
            continue
        xs = [point[0] / scale for point in box]
        ys = [height - point[1] / scale for point in box]
        segments.append(_Segment(text, min(xs), max(xs), min(ys), max(ys)))
        weighted += float(score) * len(text)
        chars += len(text)
    return segments, round(weighted / chars, 3) if chars else 0.0  # three digits: what a reader can use
