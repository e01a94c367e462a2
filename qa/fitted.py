"""Fitted constants of the answer side, written by benchmarks/fit_answer_model.py (answer-type cues
and sentence selector, fitted on SQuAD articles 0-17) and benchmarks/tune_abstention.py (abstention,
fitted across corpora). Plain numbers, so they can be read and diffed; no pickles."""

ANSWER_CUES: dict[str, dict[str, float]] = {"how many": {"number": 0.16, "number_word": 0.247}, "how much": {"clock": 2.216, "number": 0.253, "money": 1.17, "measure": 1.26}, "how long": {"number": 0.143, "measure": 1.295}, "when": {"year": 0.985, "decade": 1.903, "century": 1.201, "month": 0.36, "number": 0.761}, "who": {"name": 0.098, "capitalised": 0.071}, "where": {"capitalised": 0.17}}

SENTENCE_SELECTOR: dict = {"bias": -5.176, "weights": {"overlap": 3.912, "inverse_rank": 2.48, "first_in_passage": -0.241, "position": -1.295, "type_match": 0.861, "untyped": 0.31, "length": 2.031, "novelty": -1.426}}
KEEP_MARGIN = 1.25

FITTED_ABSTENTION: dict = {"bias": -6.563, "weights": {"unknown_name": -4.416, "closest_sentence": 12.164, "closest_margin": 9.385, "absent_shown": -2.293}, "min_probability": 0.144}
