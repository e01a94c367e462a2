"""Years named in a question ("in 2016", "at the 2023 meeting"), to prefer documents of that year."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from qa.schema import Passage

_YEAR = re.compile(r"(?<![\d.,:/-])(19\d\d|20\d\d)(?![\d.,:/-]\d)")


def years_named(question: str) -> frozenset[str]:
    """Years written in the question. Not those of earlier questions: a follow-up's year would pull
    up every passage of that document, the one the earlier question was about (measured: a tie on
    the seeds, and it put "Tokyo on 8 January 2016" above the answer to "what other countries were
    on that trip?")."""
    return frozenset(_YEAR.findall(question))


def dated_in(passages: Sequence[Passage], years: frozenset[str]) -> np.ndarray:
    """1.0 for each passage whose document is dated in one of years, else 0.0."""
    import numpy as np

    return np.fromiter(((p.date or "")[:4] in years for p in passages), dtype=np.float32, count=len(passages))
