"""Encoders: the model spec and the `Encoder` protocol at the bottom (`spec`), the torch and ONNX
back-ends above them (`torch_backend`, `onnx_backend`, which uses torch only to export the graph
once), and `load_encoder`, which picks a back-end, on top. Imports flow one way, upwards."""

from __future__ import annotations

from qa import settings
from qa.encoders.spec import DEFAULT_MODEL, Encoder, ModelSpec, resolve_model
from qa.errors import QAError

__all__ = ["BACKENDS", "DEFAULT_MODEL", "Encoder", "ModelSpec", "load_encoder", "resolve_model"]

BACKENDS = ("auto", "onnx", "torch")


def load_encoder(spec: str | ModelSpec | None, backend: str | None = None) -> Encoder:
    """The model's encoder: onnxruntime when it can be used (exported once, on first use), else torch.

    backend is "auto" (the default, or $QA_ENCODER), "onnx" (fail if it cannot be used) or "torch"."""
    spec = spec if isinstance(spec, ModelSpec) else resolve_model(spec)
    backend = (backend or settings.encoder_backend()).lower()
    if backend not in BACKENDS:
        raise QAError(f"unknown encoder backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
    if backend != "torch":
        from qa.encoders.onnx_backend import open_onnx_encoder

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
    from qa.encoders.torch_backend import SentenceTransformerEncoder

    return SentenceTransformerEncoder(spec)
