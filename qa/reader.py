"""The reader: a small cross-encoder that reads a question with one candidate sentence and scores
whether the sentence answers it.

It is all-MiniLM-L6-v2's first layers fine-tuned as a cross-encoder (mean pooling, one logit) by
benchmarks/train_reader.py, exported to ONNX and quantised to int8; the graph and its tokenizer ship
in qa/models/reader/. Running it needs onnxruntime, tokenizers and numpy only (imported on first
use), never torch, and nothing is downloaded. The card is docs/reader.md.

    reader = Reader.load()
    logits = reader.score("Who built the engine?", [("Steam engine", "The engine was built by Watt."), ...])

A higher logit means likelier to answer. Scores are comparable across questions, so the largest over
the sentences shown is a signal that the documents answer at all (qa/reader_signals.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from qa.errors import QAError

if TYPE_CHECKING:
    import numpy as np

MODEL_DIR = Path(__file__).resolve().parent / "models" / "reader"
GRAPH = "model.onnx"
TOKENIZER = "tokenizer.json"
META = "reader.json"
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
FORMAT_VERSION = 1  # how a pair is written and tokenized; training and reading must agree on it


def candidate_text(title: str, sentence: str) -> str:
    """The second segment of a pair: the document's title gives a sentence its topic ("Warsaw: It
    has 1.7 million people.")."""
    title = " ".join(title.split())
    sentence = " ".join(sentence.split())
    return f"{title}: {sentence}" if title else sentence


@dataclass(frozen=True, slots=True)
class ReaderMeta:
    """What reader.json records beside the graph: how to tokenize, and what the graph was made from."""

    max_length: int  # tokens per pair, question and candidate together (longest first is cut)
    layers: int
    format_version: int
    quantised: bool
    recipe: str  # the command line that made it
    # Pairs with the scores the torch model gave them at export, so a test can check the graph.
    probes: tuple[tuple[str, str, str, float], ...] = ()

    @classmethod
    def read(cls, folder: Path) -> ReaderMeta:
        try:
            raw = json.loads((folder / META).read_text(encoding="utf-8"))
            return cls(
                max_length=int(raw["max_length"]), layers=int(raw["layers"]), format_version=int(raw["format_version"]),
                quantised=bool(raw["quantised"]), recipe=str(raw.get("recipe", "")),
                probes=tuple((str(q), str(t), str(s), float(score)) for q, t, s, score in raw.get("probes", [])),
            )
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise QAError(f"the reader model in {folder} is missing or damaged ({META}: {error})") from None

    def write(self, folder: Path, extra: dict | None = None) -> None:
        raw = {
            "max_length": self.max_length, "layers": self.layers, "format_version": self.format_version,
            "quantised": self.quantised, "recipe": self.recipe, "probes": [list(p) for p in self.probes], **(extra or {}),
        }
        (folder / META).write_text(json.dumps(raw, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def load_tokenizer(path: Path, max_length: int):
    """The WordPiece tokenizer for pairs: no padding (batches pad to their longest), the longer of
    question and candidate cut first."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_length, strategy="longest_first")
    return tokenizer


def tokenize_pairs(tokenizer, pairs: Sequence[tuple[str, str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """input_ids, attention_mask and token_type_ids (int64, padded with 0 to the longest pair) of
    (question, candidate text) pairs: `[CLS] question [SEP] candidate [SEP]`."""
    import numpy as np

    encodings = tokenizer.encode_batch(list(pairs))
    longest = max((len(e.ids) for e in encodings), default=0)
    ids = np.zeros((len(encodings), longest), dtype=np.int64)
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    for row, encoding in enumerate(encodings):
        n = len(encoding.ids)
        ids[row, :n] = encoding.ids
        mask[row, :n] = 1
        types[row, :n] = encoding.type_ids
    return ids, mask, types


class Reader:
    """The shipped reader (or another folder of the same form), run by onnxruntime."""

    def __init__(self, folder: Path, threads: int | None = None) -> None:
        import onnxruntime

        self.folder = Path(folder)
        self.meta = ReaderMeta.read(self.folder)
        if self.meta.format_version != FORMAT_VERSION:
            raise QAError(f"the reader model in {self.folder} has pair format {self.meta.format_version}; this qa reads {FORMAT_VERSION}")
        options = onnxruntime.SessionOptions()
        # Two threads at most: on a 2-core machine the reader shares the cores with the encoder and FAISS.
        options.intra_op_num_threads = threads or max(1, min(os.cpu_count() or 1, 2))
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session = onnxruntime.InferenceSession(str(self.folder / GRAPH), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime raises its own classes for a missing or bad file
            raise QAError(f"cannot load the reader model {self.folder / GRAPH}: {error}".splitlines()[0]) from None
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = load_tokenizer(self.folder / TOKENIZER, self.meta.max_length)

    @classmethod
    def load(cls, folder: Path | None = None, threads: int | None = None) -> Reader:
        """The reader in folder, by default the one shipped in the package."""
        return cls(folder or MODEL_DIR, threads=threads)

    def score(self, question: str, sentences: Sequence[tuple[str, str]], batch_size: int = 16) -> np.ndarray:
        """One float32 logit per (title, sentence): how likely the sentence answers question.
        Pairs are run in batches of similar length, so short sentences are not padded to long ones."""
        import numpy as np

        texts = [candidate_text(title, sentence) for title, sentence in sentences]
        scores = np.zeros(len(texts), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for first in range(0, len(order), batch_size):
            rows = order[first : first + batch_size]
            ids, mask, types = tokenize_pairs(self._tokenizer, [(question, texts[i]) for i in rows])
            feed = {name: value for name, value in zip(INPUT_NAMES, (ids, mask, types), strict=True) if name in self._inputs}
            scores[rows] = self._session.run(None, feed)[0].reshape(-1)
        return scores


class SentenceReader(Protocol):
    """What the answer needs of a reader: a logit per (title, sentence) for a question."""

    def score(self, question: str, sentences: Sequence[tuple[str, str]], batch_size: int = 16) -> np.ndarray: ...


ReaderFactory = Callable[[], SentenceReader]


def load_reader() -> SentenceReader:
    """The shipped reader (loaded once per caller: onnxruntime's session takes a moment to open)."""
    return Reader.load()


class OverlapReader:
    """A model-free stand-in for tests and fuzzing: the logit grows with the share of the question's
    content words the sentence (and its title) holds. It says nothing about the reader's quality and is
    never what load_reader gives."""

    def score(self, question: str, sentences: Sequence[tuple[str, str]], batch_size: int = 16) -> np.ndarray:
        import numpy as np

        from qa.text import content_terms

        asked = set(content_terms(question))
        held = [len(asked & set(content_terms(f"{title} {sentence}"))) / len(asked) if asked else 0.0 for title, sentence in sentences]
        return np.asarray([8.0 * share - 4.0 for share in held], dtype=np.float32)
