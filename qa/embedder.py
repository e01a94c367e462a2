"""The encoders' former import path, kept so that callers written against it still import."""

from qa.encoders import (
    BACKENDS,
    DEFAULT_MODEL,
    Encoder,
    ModelSpec,
    load_encoder,
    resolve_model,
)
from qa.encoders.torch_backend import SentenceTransformerEncoder

__all__ = ["BACKENDS", "DEFAULT_MODEL", "Encoder", "ModelSpec", "SentenceTransformerEncoder", "load_encoder", "resolve_model"]
