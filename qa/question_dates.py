"""Years named in a question ("in 2016", "at the 2023 meeting"), to prefer documents of that year."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from qa.schema import Passage

_YEAR = re.compile(r"(?<![\d.,:/-])(19\d\d|20\d\d)(?![\d.,:/-]\d)")


def years_named(question: str, history: Sequence[str] = ()) -> frozenset[str]:
    """Years written in the question; for a follow-up that names none, those of the question before."""
    years = frozenset(_YEAR.findall(question))
    if not years and history:
        years = frozenset(_YEAR.findall(history[-1]))
    return years


def dated_in(passages: Sequence[Passage], years: frozenset[str]) -> np.ndarray:
    """1.0 for each passage whose document is dated in one of years, else 0.0."""
    import numpy as np

    return np.fromiter(((p.date or "")[:4] in years for p in passages), dtype=np.float32, count=len(passages))
