"""Put an int8-quantised copy of the ONNX encoder into a separate cache folder, to judge it by `qa bench`.

    .venv/bin/python benchmarks/int8_encoder.py $CACHE_INT8          # quantise, then compare speed
    QA_CACHE_DIR=$CACHE_INT8 .venv/bin/qa bench ../shared/datasets/scifact --mode fused --mode dense --mode bm25

The copy is the exported fp32 graph (made first if missing) with its MatMul weights quantised to int8
per output channel (onnxruntime's dynamic quantisation); activations are quantised at run time.
Quantising every op per tensor instead gave a median cosine of 0.94 to fp32 on SciFact abstracts;
per channel on MatMul only, 0.995. Every `qa` command run with QA_CACHE_DIR=$CACHE_INT8 then encodes
passages, sentences and questions with int8, and its bench indexes are cached apart from fp32's. The
script also prints the speed of both on 300 SciFact abstracts and their sentences, in one run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import speed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cache", type=Path, help="the cache folder to write (use it as QA_CACHE_DIR)")
    parser.add_argument("--scifact", type=Path, default=speed.REPO.parent / "shared" / "datasets" / "scifact")
    parser.add_argument("--documents", type=int, default=300)
    args = parser.parse_args()

    import numpy as np
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from qa.encoders import resolve_model
    from qa.encoders.onnx_backend import GRAPH, OnnxEncoder, OnnxExport, ensure_export, export_folder
    from qa.sentences import sentence_texts

    spec = resolve_model(None)
    fp32 = ensure_export(spec)
    folder = export_folder(spec, args.cache / "onnx")
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(fp32.folder, folder)
    quantize_dynamic(str(fp32.graph), str(folder / GRAPH), weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul"])
    int8 = OnnxExport(folder=folder, model=fp32.model, dimension=fp32.dimension, max_seq_length=fp32.max_seq_length)
    print(f"int8 export in {folder} ({(folder / GRAPH).stat().st_size / 2**20:.0f} MB; fp32 {fp32.graph.stat().st_size / 2**20:.0f} MB)")

    records = [json.loads(line) for line in args.scifact.joinpath("corpus.jsonl").open(encoding="utf-8")][: args.documents]
    passages = [f"{r['title']}\n{r['text']}" for r in records]
    sentences = [text for r in records for text in sentence_texts(r["title"], r["text"])]
    encoders = {"fp32": OnnxEncoder(fp32), "int8": OnnxEncoder(int8)}
    vectors, seconds = {}, {}
    print(f"{len(passages)} passages, {len(sentences)} sentences ({speed.uptime()})")
    for name, encoder in [*encoders.items(), *encoders.items()]:  # twice, alternating; the second counts
        started = time.perf_counter()
        vectors[name] = encoder.encode(passages), encoder.encode(sentences)
        seconds[name] = time.perf_counter() - started
    for kind, texts in (("passages", 0), ("sentences", 1)):
        cosines = np.sum(vectors["fp32"][texts] * vectors["int8"][texts], axis=1)
        print(f"{kind}: cosine int8 to fp32 min {cosines.min():.4f}, median {np.median(cosines):.4f}")
    speed.row("passages + sentences: fp32 / int8", f"{seconds['fp32']:.1f} / {seconds['int8']:.1f} s", f"int8 {seconds['fp32'] / seconds['int8']:.2f}x")


if __name__ == "__main__":
    main()
