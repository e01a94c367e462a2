"""Fitted constants of the answer side, written by benchmarks/fit_answer_model.py (answer-type cues
and sentence selector, fitted on SQuAD articles 0-17) and benchmarks/tune_abstention.py (abstention,
fitted across corpora). Plain numbers, so they can be read and diffed; no pickles."""

ANSWER_CUES: dict[str, dict[str, float]] = {"how many": {"number": 0.14, "number_word": 0.232}, "how much": {"clock": 2.216, "number": 0.253, "money": 1.17, "measure": 1.26}, "how long": {"number": 0.179, "measure": 1.278}, "when": {"year": 1.014, "decade": 1.881, "century": 1.234, "month": 0.383, "number": 0.788}, "who": {"name": 0.113, "capitalised": 0.082}, "where": {"capitalised": 0.178}}

SENTENCE_SELECTOR: dict = {"bias": -4.909, "weights": {"overlap": 3.062, "inverse_rank": 2.156, "first_in_passage": -0.239, "position": -0.892, "type_match": 0.821, "untyped": 0.369, "length": 2.573, "novelty": -0.778, "cosine_gap": 5.062}}
KEEP_MARGIN = 1.5

FITTED_ABSTENTION: dict = {"bias": -6.563, "weights": {"unknown_name": -4.416, "closest_sentence": 12.164, "closest_margin": 9.385, "absent_shown": -2.293}, "min_probability": 0.144}
