"""The sentence-transformers (torch) back-end, loaded from local files only.

torch and sentence-transformers are imported on first use, so commands that never encode
(`qa --help`, a no-change `qa index`) start instantly.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from qa.encoders.spec import ModelSpec
from qa.errors import QAError

if TYPE_CHECKING:
    import numpy as np


def _import_sentence_transformers():
    """sentence_transformers.SentenceTransformer, imported in offline mode.

    huggingface_hub and transformers read HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE into module
    constants when first imported, so the only way to make them offline for good (a missing file
    fails here instead of triggering a download) is to set these before that import. This is the one
    place the package writes the environment, once, right before the import that reads it; loading
    also passes local_files_only=True explicitly."""
    for name, value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("TOKENIZERS_PARALLELISM", "false"), ("TRANSFORMERS_VERBOSITY", "error")):
        os.environ.setdefault(name, value)
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    return SentenceTransformer


class SentenceTransformerEncoder:
    """all-MiniLM-L6-v2 (or another local model) through sentence-transformers."""

    backend = "torch"

    def __init__(self, spec: ModelSpec, device: str = "cpu") -> None:
        SentenceTransformer = _import_sentence_transformers()
        try:
            self._model = SentenceTransformer(str(spec.path), device=device, local_files_only=True)
        except Exception as error:  # sentence-transformers raises many types for a bad folder
            raise QAError(f"cannot load model from {spec.path}: {error}".splitlines()[0]) from error
        self.name = spec.name
        dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dimension = int(dimension())
        self.max_seq_length = int(self._model.max_seq_length)

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        import numpy as np

        vectors = self._model.encode(
            texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
