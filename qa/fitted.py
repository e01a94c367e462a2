"""The answer side's fitted constants, kept as data in fitted.json beside this module: the
answer-type cues and the sentence selector (benchmarks/fit_answer_model.py, fitted on SQuAD articles
0-17) and the abstention model (benchmarks/tune_abstention.py, fitted across corpora). Plain
numbers, read once when the package is imported and written only by those scripts (`write`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FILE = Path(__file__).with_name("fitted.json")


def read() -> dict[str, Any]:
    return json.loads(FILE.read_text(encoding="utf-8"))


def write(**fitted: Any) -> Path:
    """Replace some of the constants (answer_cues, sentence_selector, keep_margin, abstention)."""
    data = read()
    unknown = sorted(set(fitted) - set(data))
    if unknown:
        raise KeyError(f"not fitted constants: {unknown}")
    data.update(fitted)
    FILE.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return FILE


_FITTED = read()
ANSWER_CUES: dict[str, dict[str, float]] = _FITTED["answer_cues"]
SENTENCE_SELECTOR: dict[str, Any] = _FITTED["sentence_selector"]
KEEP_MARGIN: float = _FITTED["keep_margin"]
FITTED_ABSTENTION: dict[str, Any] = _FITTED["abstention"]
