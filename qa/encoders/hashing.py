"""A bag-of-hashed-words encoder: no model, no I/O, deterministic.

For tests of everything around the model (indexing, storage, parsers) and for fuzzing, where the
real model would only cost time. Texts that share words get close vectors, so searches still
find something, but it says nothing about retrieval quality and is never chosen by `load_encoder`.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

_WORD = re.compile(r"\w+")


class HashingEncoder:
    """Each word adds 1 to the dimension its MD5 hash picks; rows are unit vectors."""

    backend = "hashing"

    def __init__(self, name: str = "all-MiniLM-L6-v2", dimension: int = 64) -> None:
        self.name = name  # the model it stands in for, so indexes it writes look like that model's
        self.dimension = dimension
        self.encoded = 0  # texts encoded so far: tests count re-embedding with it

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        import numpy as np

        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                vectors[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension] += 1.0
        vectors[:, 0] += 1e-3  # no zero rows: an empty text still has a direction
        self.encoded += len(texts)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
