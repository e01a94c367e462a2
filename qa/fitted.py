"""Fitted constants of the answer side, written by benchmarks/fit_answer_model.py (answer-type cues
and sentence selector, fitted on SQuAD articles 0-17) and benchmarks/tune_abstention.py (abstention,
fitted across corpora). Plain numbers, so they can be read and diffed; no pickles."""

ANSWER_CUES: dict[str, dict[str, float]] = {}

SENTENCE_SELECTOR: dict = {"bias": 0.0, "weights": {"overlap": 1.0, "inverse_rank": 0.15, "first_in_passage": 0.0, "position": -0.1, "type_match": 0.15, "untyped": 0.0, "length": 0.0, "novelty": 0.0}}
KEEP_MARGIN = 0.25

FITTED_ABSTENTION: dict = {"bias": 0.52, "weights": {"closest": 3.06, "unknown": -3.01, "missing_fact": -3.26, "unknown_name": -2.93}, "min_probability": 0.37}
