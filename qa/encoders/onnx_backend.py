"""The same sentence-transformers model run through onnxruntime and tokenizers, without importing torch.

Importing torch and sentence-transformers takes seconds; onnxruntime and tokenizers take a fraction
of one. The graph (transformer, mean pooling and L2 normalisation in one) is exported once per model
with torch.onnx, checked against sentence-transformers, and kept in the user cache, keyed by the
model's files, so every index built with that model shares it. Nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from qa.encoders.spec import ModelSpec
from qa.errors import QAError

if TYPE_CHECKING:
    import numpy as np

EXPORT_VERSION = "1"  # bump when the exported graph changes, so old exports are not reused
GRAPH = "model.onnx"
TOKENIZER = "tokenizer.json"
META = "export.json"
# Probe texts whose vectors must agree before an export is published (short, long and over-length).
_PROBES = ("Who did Kishida meet in London?", "A paragraph of ordinary prose, " * 10, "word " * 400)
MIN_PROBE_COSINE = 0.9999
# Padded tokens per encoder call: 4 passages at the model's 256-token limit, or 32 short sentences.
# Activation memory grows with it, and a larger batch was not faster (docs/speed.md, "Constants").
TOKENS_PER_BATCH = 1024
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "config.json", "tokenizer.json", "modules.json")


@dataclass(frozen=True, slots=True)
class OnnxExport:
    """An exported model on disk and what running it needs to know."""

    folder: Path
    model: str
    dimension: int
    max_seq_length: int

    @property
    def graph(self) -> Path:
        return self.folder / GRAPH

    @property
    def tokenizer(self) -> Path:
        return self.folder / TOKENIZER


def default_cache_dir() -> Path:
    from qa import settings

    return settings.cache_dir() / "onnx"


def export_folder(spec: ModelSpec, cache_dir: Path) -> Path:
    """Where the export of this model lives: keyed by its name and the size and time of its files."""
    digest = hashlib.sha256(f"{EXPORT_VERSION}\n{spec.name}\n{spec.path}".encode())
    for name in _WEIGHT_FILES:
        path = spec.path / name
        if path.exists():
            stat = path.stat()
            digest.update(f"\n{name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    slug = "".join(c if c.isalnum() or c in "-_." else "_" for c in Path(spec.name).name)[:40]
    return Path(cache_dir) / f"{slug}-{digest.hexdigest()[:16]}"


def find_export(spec: ModelSpec, cache_dir: Path | None = None) -> OnnxExport | None:
    """The published export of this model, or None when there is none yet."""
    folder = export_folder(spec, cache_dir or default_cache_dir())
    try:
        meta = json.loads((folder / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not (folder / GRAPH).exists() or not (folder / TOKENIZER).exists():
        return None
    return OnnxExport(folder=folder, model=meta["model"], dimension=int(meta["dimension"]), max_seq_length=int(meta["max_seq_length"]))


def ensure_export(spec: ModelSpec, cache_dir: Path | None = None) -> OnnxExport:
    """The export of this model, made now (with torch, a few seconds) if the cache lacks it.

    It is written into a temporary folder, checked against sentence-transformers on probe texts,
    and published by renaming the folder, so a reader never sees a half-written export."""
    cache_dir = Path(cache_dir or default_cache_dir())
    found = find_export(spec, cache_dir)
    if found is not None:
        return found
    from filelock import FileLock

    cache_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(cache_dir / ".export.lock"), timeout=600):
        found = find_export(spec, cache_dir)  # another process may have made it while we waited
        if found is not None:
            return found
        target = export_folder(spec, cache_dir)
        staging = cache_dir / f".staging-{secrets.token_hex(4)}"
        staging.mkdir()
        try:
            meta = _export(spec, staging)
            if target.exists():
                shutil.rmtree(target)  # an incomplete export left by a killed run
            os.replace(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return OnnxExport(folder=target, **meta)


def exportable(spec: ModelSpec) -> bool:
    """Whether the model is a transformer with mean pooling and normalisation, as this graph assumes."""
    try:
        modules = json.loads((spec.path / "modules.json").read_text(encoding="utf-8"))
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling = next(m for m in modules if m["type"].endswith("Pooling"))
        pool_config = json.loads((spec.path / pooling["path"] / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, StopIteration):
        return False
    mean_only = pool_config.get("pooling_mode_mean_tokens") and not any(
        pool_config.get(key) for key in ("pooling_mode_cls_token", "pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens")
    )
    return kinds == ["Transformer", "Pooling", "Normalize"] and bool(mean_only) and (spec.path / TOKENIZER).exists()


def _export(spec: ModelSpec, folder: Path) -> dict:
    if not exportable(spec):
        raise QAError(f"model {spec.name} cannot be exported to ONNX (needs transformer + mean pooling + normalize)")
    import numpy as np
    import torch

    from qa.encoders.torch_backend import SentenceTransformerEncoder

    reference = SentenceTransformerEncoder(spec)
    transformer = reference._model[0].auto_model.eval()

    class MeanPooled(torch.nn.Module):
        def __init__(self, model) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    example = torch.ones(2, 16, dtype=torch.long)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            MeanPooled(transformer), (example, example), str(folder / GRAPH),
            input_names=["input_ids", "attention_mask"], output_names=["embedding"],
            dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}, "embedding": {0: "batch"}},
            opset_version=17, dynamo=False,
        )
    shutil.copyfile(spec.path / TOKENIZER, folder / TOKENIZER)
    meta = {"model": spec.name, "dimension": reference.dimension, "max_seq_length": reference.max_seq_length}
    candidate = OnnxEncoder(OnnxExport(folder=folder, model=spec.name, dimension=reference.dimension, max_seq_length=reference.max_seq_length))
    agreement = float(np.min(np.sum(candidate.encode(list(_PROBES)) * reference.encode(list(_PROBES)), axis=1)))
    if agreement < MIN_PROBE_COSINE:
        raise QAError(f"the ONNX export of {spec.name} disagrees with sentence-transformers (cosine {agreement:.5f})")
    (folder / META).write_text(json.dumps({**meta, "export_version": EXPORT_VERSION, "probe_cosine": agreement}), encoding="utf-8")
    return meta


class OnnxEncoder:
    """Encodes with onnxruntime; tokenizes with tokenizers, truncating to the model's max_seq_length."""

    backend = "onnx"

    def __init__(self, export: OnnxExport) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        # One intra-op pool (a thread per core, at most 4) that does not spin, so the encoder and
        # FAISS threads do not fight for the cores.
        options.intra_op_num_threads = max(1, min(os.cpu_count() or 1, 4))
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        # onnxruntime's CPU arena keeps the largest batch's activations for the session's life, a
        # build's peak memory (docs/speed.md). Without it, memory follows the batch in use, and
        # TOKENS_PER_BATCH bounds that.
        options.enable_cpu_mem_arena = False
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = _session(export, options)
        tokenizer = Tokenizer.from_file(str(export.tokenizer))
        # The shipped tokenizer.json pads and truncates to 128; the model reads up to max_seq_length.
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=export.max_seq_length)
        self._pad_id = tokenizer.token_to_id("[PAD]") or 0
        self._tokenizer = tokenizer
        self.name = export.model
        self.dimension = export.dimension
        self.max_seq_length = export.max_seq_length

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Texts in batches of similar length (little padding), each at most batch_size texts and
        TOKENS_PER_BATCH padded tokens, so memory stays bounded whatever the texts' length."""
        import numpy as np

        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        first = 0
        while first < len(order):
            longest = max(1, len(encodings[order[first]].ids))
            count = max(1, min(batch_size, TOKENS_PER_BATCH // longest))
            rows = order[first : first + count]
            ids = np.full((len(rows), longest), self._pad_id, dtype=np.int64)
            mask = np.zeros((len(rows), longest), dtype=np.int64)
            for position, row in enumerate(rows):
                tokens = encodings[row].ids
                ids[position, : len(tokens)] = tokens
                mask[position, : len(tokens)] = 1
            vectors[rows] = self._session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            first += count
        return vectors


def _session(export: OnnxExport, options):
    """The graph's session. onnxruntime optimises a graph (fuses attention, layer norms…) whenever a
    session opens it, a third of a cold question's model load; the optimised graph is kept beside
    the export, for this onnxruntime version, and later sessions open it as it is. Same outputs."""
    import onnxruntime

    optimised = export.folder / f"model.ort-{onnxruntime.__version__}.onnx"
    if optimised.exists():
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
        try:
            return onnxruntime.InferenceSession(str(optimised), options, providers=["CPUExecutionProvider"])
        except Exception:  # onnxruntime raises its own classes; a damaged file is only a cache
            options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    partial = optimised.with_name(f"{optimised.name}.{secrets.token_hex(4)}.partial")
    options.optimized_model_filepath = str(partial)
    session = onnxruntime.InferenceSession(str(export.graph), options, providers=["CPUExecutionProvider"])
    try:
        os.replace(partial, optimised)  # whole or absent, whatever other processes do meanwhile
    except OSError:
        partial.unlink(missing_ok=True)  # a read-only cache: optimise every time
    return session


def open_onnx_encoder(spec: ModelSpec, cache_dir: Path | None = None, *, export_if_missing: bool = True) -> OnnxEncoder | None:
    """The ONNX encoder of this model, or None when onnxruntime is missing or the model cannot be exported."""
    try:
        import onnxruntime  # noqa: F401
        import tokenizers  # noqa: F401
    except ImportError:
        return None
    export = find_export(spec, cache_dir)
    if export is None and export_if_missing and exportable(spec):
        export = ensure_export(spec, cache_dir)
    return OnnxEncoder(export) if export is not None else None
