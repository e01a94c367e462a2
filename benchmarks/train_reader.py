"""Train the reader (qa/reader.py) on the tuning half, export it to ONNX and quantise it to int8.

    # the shipped model: all 24 tuning articles, written to qa/models/reader/ (about 30 minutes)
    nice -n 10 .venv/bin/python benchmarks/train_reader.py
    # one fold of the cross-validation: trains without fold K's articles, for benchmarks/reader_eval.py
    nice -n 10 .venv/bin/python benchmarks/train_reader.py --holdout-fold K --out CACHE/reader-foldK
    # the whole recipe end to end on a few questions, in seconds (the slow test runs it)
    .venv/bin/python benchmarks/train_reader.py --tiny --out /tmp/reader-tiny

Model: all-MiniLM-L6-v2 (the bundled package) cut to its first --layers layers, read as a
cross-encoder: `[CLS] question [SEP] title: sentence [SEP]`, at most --max-length tokens; the last
hidden states mean-pooled over the pair's tokens, then one linear logit, trained with binary cross
entropy. The word embeddings stay frozen (they are 2/3 of the weights and the data is small).
Mean pooling, not the [CLS] vector: the bi-encoder's pooled states are what its training shaped.

Data (benchmarks/reader_data.py; tuning half only): each pass draws, for each answerable question,
its answer sentence (positive), the closest and a random other sentence of its paragraph, the
closest sentence of a sibling paragraph, and two synthetic near-miss questions paired with the
answer sentence; for each unanswerable SQuAD 2.0 question, twice, its plausible-answer sentence and
two others of its paragraph. Passes are re-drawn with the pass number in the seed.

Training runs on one CPU thread (torch.set_num_threads(1)), in bfloat16 autocast with eager
attention (2.4x faster than float32 with PyTorch's fused attention on this machine's CPU); AdamW,
linear warm-up over 5 % of the steps, then linear decay to 0. Fixed seed: the same command gives
the same pairs and, up to floating-point order, the same model.

Export: torch.onnx (opset 17) to float32, checked against torch on probe pairs, then onnxruntime's
dynamic quantisation of MatMul (per channel) and Gather (the word embeddings) to int8. The folder
gets model.onnx (int8), tokenizer.json and reader.json (the recipe, and the probe pairs with torch's
scores); the torch weights go to --keep-torch as safetensors when asked (never into the package).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import reader_data as rd

from qa.reader import FORMAT_VERSION, GRAPH, INPUT_NAMES, META, MODEL_DIR, TOKENIZER, ReaderMeta, candidate_text, load_tokenizer, tokenize_pairs

SEED = 13
# Probe pairs for checking an export against torch: written for this purpose, in no dataset.
PROBES = (
    ("Who designed the new bridge over the river?", "Millbrook", "The new bridge over the river was designed by the engineer Anna Holt in 1998."),
    ("When did the library open?", "Millbrook", "The town library opened its doors to readers in March 1911."),
    ("When did the library close?", "Millbrook", "The town library opened its doors to readers in March 1911."),
    ("How many people live in the town?", "Millbrook", "About 12,000 people live in the town, most of them near the old harbour."),
    ("What is the capital of the region?", "Millbrook", "The bakery on the main square sells bread every morning."),
    ("Why was the railway line closed?", "Millbrook", "The railway line was closed in 1965 because too few passengers used it."),
    ("Who did not sign the treaty?", "Treaty of Orden", "All four kingdoms signed the treaty at Orden in the spring of 1402."),
    ("What does the pump move?", "Pumps", "A pump moves fluids, such as liquids or gases, by mechanical action."),
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help=f"folder to write (default: the package's {MODEL_DIR})")
    parser.add_argument("--holdout-fold", type=int, default=None, choices=range(len(rd.FOLDS)), help="leave this fold's articles out")
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--epochs", type=float, default=3.0, help="passes over freshly drawn pairs (a fraction cuts the last one)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--max-length", type=int, default=96)
    parser.add_argument("--near-misses", type=int, default=2, help="synthetic near-miss questions per answerable question and pass")
    parser.add_argument("--near-miss-kinds", default=",".join(rd.NEAR_MISS_KINDS))
    parser.add_argument("--sibling-negatives", type=int, default=1)
    parser.add_argument("--paragraph-negatives", type=int, default=2)
    parser.add_argument("--unanswerable-repeats", type=int, default=2)
    parser.add_argument("--unanswerable-negatives", type=int, default=2, help="sentences besides the plausible answer's, per draw")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--keep-torch", type=Path, default=None, help="also write the torch weights (safetensors) here")
    parser.add_argument("--no-quantise", action="store_true", help="ship the float32 graph")
    parser.add_argument("--keep-fp32", type=Path, default=None, help="also keep the float32 graph here (to measure what int8 costs)")
    parser.add_argument("--tiny", action="store_true", help="a few questions, one short pass: checks the recipe end to end")
    args = parser.parse_args(argv)
    if args.tiny and args.out is None:
        parser.error("--tiny needs --out (it must not overwrite the shipped model)")
    if args.holdout_fold is not None and args.out is None:
        parser.error("--holdout-fold needs --out (a fold model is not the shipped one)")
    return args


def build_model(layers: int):
    import torch
    from transformers import AutoModel

    from qa.encoders.spec import resolve_model

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    base = AutoModel.from_pretrained(str(resolve_model(None).path), attn_implementation="eager", local_files_only=True)
    base.encoder.layer = base.encoder.layer[:layers]
    base.config.num_hidden_layers = layers
    base.embeddings.word_embeddings.weight.requires_grad_(False)

    class CrossEncoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = base
            self.head = torch.nn.Linear(base.config.hidden_size, 1)
            torch.nn.init.normal_(self.head.weight, std=0.02)
            torch.nn.init.zeros_(self.head.bias)

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            return self.head(pooled).squeeze(-1)

    return CrossEncoder()


def batches(tokenizer, pairs: list[rd.Pair], batch: int, rng: random.Random):
    """Batches of similar length (sorted within windows of 50 batches), in random order."""
    import numpy as np

    texts = [(p.question, candidate_text(p.title, p.sentence)) for p in pairs]
    lengths = [len(e.ids) for e in tokenizer.encode_batch(texts)]
    order = list(range(len(pairs)))
    window = batch * 50
    groups = []
    for first in range(0, len(order), window):
        chunk = sorted(order[first : first + window], key=lambda i: lengths[i])
        groups += [chunk[i : i + batch] for i in range(0, len(chunk), batch)]
    rng.shuffle(groups)
    for rows in groups:
        ids, mask, types = tokenize_pairs(tokenizer, [texts[i] for i in rows])
        yield ids, mask, types, np.array([pairs[i].label for i in rows], dtype=np.float32)


def train(args: argparse.Namespace, articles: list[rd.Article], log) -> object:
    import torch

    from qa.encoders.spec import resolve_model

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    tokenizer = load_tokenizer(resolve_model(None).path / TOKENIZER, args.max_length)
    recipe = rd.Recipe(
        paragraph_negatives=args.paragraph_negatives, sibling_negatives=args.sibling_negatives, near_misses=args.near_misses,
        near_miss_kinds=tuple(k for k in args.near_miss_kinds.split(",") if k), unanswerable_repeats=args.unanswerable_repeats,
        unanswerable_negatives=args.unanswerable_negatives,
    )
    started = time.perf_counter()
    maker = rd.PairMaker(articles, recipe)
    first = maker.draw(random.Random(args.seed))
    log(f"pairs per pass: {len(first)} {rd.describe(first)} (prepared in {time.perf_counter() - started:.0f} s)")
    model = build_model(args.layers)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01, fused=True)
    passes = int(-(-args.epochs // 1))
    total_steps = int(args.epochs * (-(-len(first) // args.batch)))
    warmup = max(1, total_steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (total_steps - step) / max(1, total_steps - warmup)))
    )
    step, seen, running, started = 0, 0, [], time.perf_counter()
    for number in range(passes):
        rng = random.Random(args.seed * 1000 + number)
        pairs = first if number == 0 else maker.draw(rng)
        for ids, mask, types, labels in batches(tokenizer, pairs, args.batch, rng):
            if step >= total_steps:
                break
            with torch.autocast("cpu", dtype=torch.bfloat16):
                logits = model(torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(types))
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits.float(), torch.from_numpy(labels))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            seen += len(labels)
            running.append(loss.item())
            if step % 100 == 0 or step == total_steps:
                elapsed = time.perf_counter() - started
                log(f"pass {number + 1} step {step}/{total_steps} loss {sum(running) / len(running):.4f} "
                    f"{seen} pairs {elapsed:.0f} s ({seen / elapsed:.0f} pairs/s)")
                running = []
    model.eval()
    model.stats = {"steps": step, "pairs": seen, "seconds": round(time.perf_counter() - started, 1), "pairs_per_pass": len(first)}
    return model


def torch_scores(model, tokenizer, pairs: list[tuple[str, str]]):
    import torch

    ids, mask, types = tokenize_pairs(tokenizer, pairs)
    with torch.no_grad():
        return model(torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(types)).float().numpy()


def export(model, args: argparse.Namespace, folder: Path, log) -> dict:
    """Write model.onnx (int8 unless --no-quantise), tokenizer.json and reader.json into folder."""
    import numpy as np
    import onnxruntime
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from qa.encoders.spec import resolve_model
    from qa.reader import Reader

    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = load_tokenizer(resolve_model(None).path / TOKENIZER, args.max_length)
    probe_pairs = [(q, candidate_text(t, s)) for q, t, s in PROBES]
    reference = torch_scores(model, tokenizer, probe_pairs)
    with tempfile.TemporaryDirectory() as scratch:
        fp32 = Path(scratch) / "fp32.onnx"
        example = tokenize_pairs(tokenizer, probe_pairs[:2])
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model, tuple(torch.from_numpy(a) for a in example), str(fp32), input_names=list(INPUT_NAMES), output_names=["logit"],
                dynamic_axes={**{name: {0: "batch", 1: "tokens"} for name in INPUT_NAMES}, "logit": {0: "batch"}},
                opset_version=17, dynamo=False,
            )
        session = onnxruntime.InferenceSession(str(fp32), providers=["CPUExecutionProvider"])
        ids, mask, types = tokenize_pairs(tokenizer, probe_pairs)
        onnx_fp32 = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0]
        fp32_error = float(np.max(np.abs(onnx_fp32 - reference)))
        if fp32_error > 1e-3:
            raise SystemExit(f"the float32 ONNX graph disagrees with torch by {fp32_error:.5f} on the probes")
        target = folder / GRAPH
        if args.keep_fp32:
            shutil.copyfile(fp32, args.keep_fp32)
        if args.no_quantise:
            shutil.copyfile(fp32, target)
        else:
            # MatMul weights per output channel (activations are quantised per batch at run time), the
            # embedding tables per tensor. One scale per embedding row instead measured the same.
            quantize_dynamic(str(fp32), str(target), weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul", "Gather"])
    shutil.copyfile(resolve_model(None).path / TOKENIZER, folder / TOKENIZER)
    meta = ReaderMeta(
        max_length=args.max_length, layers=args.layers, format_version=FORMAT_VERSION, quantised=not args.no_quantise,
        recipe="benchmarks/train_reader.py " + " ".join(sys.argv[1:]),
        probes=tuple((q, t, s, round(float(score), 5)) for (q, t, s), score in zip(PROBES, reference, strict=True)),
    )
    meta.write(folder, {"training": getattr(model, "stats", {})})
    reader = Reader.load(folder)
    final = np.array([reader.score(q, [(t, s)])[0] for q, t, s in PROBES])
    checks = {
        "fp32_max_abs_error": round(fp32_error, 6), "int8_max_abs_error": round(float(np.max(np.abs(final - reference))), 4),
        "size_mb": round(target.stat().st_size / 2**20, 2),
    }
    log(f"export: {checks}")
    meta.write(folder, {"training": getattr(model, "stats", {}), "export": checks})
    return checks


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    out = args.out or MODEL_DIR
    out.mkdir(parents=True, exist_ok=True)
    log_lines: list[str] = []

    def log(line: str) -> None:
        stamped = f"[{time.strftime('%H:%M:%S')}] {line}"
        print(stamped, flush=True)
        log_lines.append(stamped)

    articles = rd.tuning_half()
    if args.holdout_fold is not None:
        articles = rd.subset(articles, holdout=args.holdout_fold)
    if args.tiny:
        # Two small articles, one of them SQuAD 2.0 (so unanswerable questions are drawn), few questions.
        picked = [a for a in articles if a.title in ("Packet_switching", "Geology", "Black_Death")][:2]
        articles = [rd.Article(a.title, a.paragraphs, a.questions[:12], a.squad2) for a in picked]
        args.epochs, args.layers = min(args.epochs, 1.0), min(args.layers, 2)
    log(f"articles: {len(articles)} ({sum(len(a.questions) for a in articles)} questions); args: {vars(args)}")
    model = train(args, articles, log)
    if args.keep_torch:
        from safetensors.torch import save_file

        args.keep_torch.parent.mkdir(parents=True, exist_ok=True)
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(args.keep_torch))
    export(model, args, out, log)
    if args.out:  # the package ships no log; a fold's or a trial's folder keeps one
        (out / "train-log.txt").write_text("\n".join(log_lines) + "\n", encoding="utf-8")
    log(f"wrote {out / GRAPH} and {out / META}")


if __name__ == "__main__":
    main()
