"""The index's lexical statistics, computed once per build and stored beside the vectors: the BM25
index (bm25s's own save format: .npy arrays, memory-mapped when read, and JSON; no pickle) and the
answer extractor's IDF table (JSON).

Recomputing both from every passage's text took most of a cold `qa ask`, growing with the corpus
(docs/speed.md); reading them takes milliseconds.
They are rebuilt whenever a build commits, i.e. only when the corpus changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import bm25s
    import numpy as np

K1, B = 1.5, 0.75
LENGTHS = "bm25-lengths"  # the lexicon role of the passages' lengths in BM25 tokens (one int32 each)
# bm25s's file names, mapped to this index's roles (each file gets the build's id in its name).
_BM25_FILES = {
    "data_name": "bm25-data", "indices_name": "bm25-indices", "indptr_name": "bm25-indptr",
    "vocab_name": "bm25-vocab", "params_name": "bm25-params", "nnoc_name": "bm25-nnoc",
}


# Modules bm25s imports when they are installed, for parts of it this index never uses: numba for a
# retrieval backend (it asks for every passage's score, in numpy), scipy for a way of building the
# score matrix (numpy builds the same one), tqdm.auto (and asyncio with it) for progress bars it is
# never asked to show. Their imports were a cold question's largest cost; bm25s falls back when
# an import fails.
_UNUSED = ("numba", "scipy", "tqdm.auto")


def _bm25s():
    """bm25s, imported without the modules of _UNUSED (a process that has them already keeps them)."""
    import sys

    if "bm25s" not in sys.modules:
        blocked = [name for name in _UNUSED if name not in sys.modules]
        for name in blocked:
            sys.modules[name] = None  # type: ignore[assignment]  # an import of it now fails fast
        try:
            import bm25s
        finally:
            for name in blocked:
                del sys.modules[name]
    import bm25s

    return bm25s


def tokenize(texts: list[str], return_ids: bool = True):
    """BM25 tokens: words, English stop words out, Snowball-stemmed."""
    from qa.text import stemmer

    return _bm25s().tokenize(texts, stopwords="en", stemmer=stemmer(), return_ids=return_ids, show_progress=False)


def build_bm25(texts: list[str]) -> bm25s.BM25:
    return _built_bm25(texts)[0]


def _built_bm25(texts: list[str]) -> tuple[bm25s.BM25, np.ndarray]:
    """BM25 over texts, and each text's length in BM25 tokens (which its scores were normalised by)."""
    import numpy as np

    tokens = tokenize(texts)
    model = _bm25s().BM25(k1=K1, b=B, csc_backend="numpy")
    model.index(tokens, show_progress=False)
    return model, np.fromiter((len(ids) for ids in tokens.ids), dtype=np.int32, count=len(tokens.ids))


def save(directory: Path, generation: str, texts: list[str], answer_texts: Iterable[str]) -> dict[str, str]:
    """Build and write BM25 over texts (the passages' embedding texts) and the IDF table over
    answer_texts (their plain texts); the files written, by role."""
    import numpy as np

    from qa.text import inverse_document_frequencies

    names = {arg: f"{stem}-{generation}.{'json' if arg in ('vocab_name', 'params_name') else 'npy'}" for arg, stem in _BM25_FILES.items()}
    model, lengths = _built_bm25(texts)
    model.save(str(directory), **names, allow_pickle=False, show_progress=False)
    # bm25s writes the non-occurrence array only for the BM25 variants that use it.
    files = {_BM25_FILES[arg]: name for arg, name in names.items() if (directory / name).exists()}
    files[LENGTHS] = f"{LENGTHS}-{generation}.npy"
    np.save(directory / files[LENGTHS], lengths, allow_pickle=False)
    files["idf"] = f"idf-{generation}.json"
    (directory / files["idf"]).write_text(json.dumps(inverse_document_frequencies(list(answer_texts)), ensure_ascii=False), encoding="utf-8")
    for name in files.values():
        _fsync(directory / name)
    return files


def load_bm25(directory: Path, files: dict[str, str]) -> bm25s.BM25:
    """The saved BM25 index, its score arrays memory-mapped."""
    names = {arg: files.get(stem, f"{stem}-absent") for arg, stem in _BM25_FILES.items()}
    return _bm25s().BM25.load(str(directory), **names, mmap=True, allow_pickle=False, show_progress=False, verbosity=0)


def load_lengths(directory: Path, files: dict[str, str]) -> np.ndarray | None:
    """Each passage's length in BM25 tokens, memory-mapped; None for an index built before they were kept."""
    import numpy as np

    name = files.get(LENGTHS)
    return np.load(directory / name, mmap_mode="r", allow_pickle=False) if name else None


def load_idf(directory: Path, files: dict[str, str]) -> dict[str, float]:
    return json.loads((directory / files["idf"]).read_text(encoding="utf-8"))


def _fsync(path: Path) -> None:
    import os

    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def combined_idf(tables: Sequence[tuple[Mapping[str, float], int]]) -> dict[str, float]:
    """The IDF table of several indexes asked as one, from each one's table and passage count: the
    document frequency each IDF was computed from (qa.text.inverse_document_frequencies: log(1 + (n -
    df + 0.5) / (df + 0.5))) is recovered, summed and turned back into an IDF over all passages."""
    import math

    total = sum(count for _, count in tables)
    frequencies: dict[str, float] = {}
    for idf, count in tables:
        for term, value in idf.items():
            ratio = math.expm1(value)  # (n - df + 0.5) / (df + 0.5)
            frequencies[term] = frequencies.get(term, 0.0) + round((count + 0.5 - 0.5 * ratio) / (1 + ratio))
    return {term: math.log(1 + (total - df + 0.5) / (df + 0.5)) for term, df in frequencies.items()}
