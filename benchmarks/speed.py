"""Every speed and memory figure, measured in one run (ratios come from figures of the same run).

    .venv/bin/python benchmarks/speed.py            # all: seeds figures, then the 1,000,000-passage scale test
    .venv/bin/python benchmarks/speed.py --quick    # seeds figures only (about 2 minutes)
    .venv/bin/python benchmarks/speed.py --memory CORPUS --question "..."   # peak RSS of qa index / qa ask against their budgets

Seeds part: `qa --help`; a fresh `qa index seeds`; a no-change re-index; a cold `qa ask`; the warm
end-to-end ask (encode, search, answer) in process, p50/p95 over 50 questions; the query encoder
alone (ONNX and torch); the chat's first paint and first answer in tmux; index build throughput
against the bare encoder's on the same passages.

Scale part: a set of 1,000,000 vectors made from REAL embeddings (documents of the BEIR folders
in ../shared/datasets, encoded by the real model and cached per dataset), topped up with
perturbed copies: copy = normalise(v + noise), the noise drawn with the real set's per-dimension
spread and scaled so that a copy lies as far from its source as a real vector lies from its nearest
real neighbour (median cosine). Queries are the datasets' real queries. Exact ground truth by
brute force. The machine load (`uptime`) is printed with the figures: other work skews them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
QA = [sys.executable, "-m", "qa"]
DATASETS = REPO.parent / "shared" / "datasets"
BEIR = ("scifact", "nfcorpus", "cranfield", "cisi")
QUESTION = "Who did Kishida and Nakatani meet in London?"


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def wall(*args: str, repeat: int = 1, env: dict | None = None) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run([*QA, *args], check=True, capture_output=True, cwd=REPO, env=env)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def row(name: str, figure: str, target: str = "", met: bool | None = None) -> None:
    verdict = "" if met is None else ("met" if met else "NOT met")
    print(f"{name:<46} {figure:>22}  {target:<14} {verdict}", flush=True)


# --- seeds ----------------------------------------------------------------------------------------


def seeds_part(index_dir: Path) -> None:
    from qa import Bot
    from qa.encoders import load_encoder, resolve_model
    from qa.encoders.torch_backend import SentenceTransformerEncoder

    print(f"== seeds ({uptime()})")
    load_encoder(None)  # the ONNX export is made once per model and cached; not part of the timings
    row("qa --help", f"{wall('--help', repeat=5):.2f} s")
    build_s = wall("index", "seeds", "--index-dir", str(index_dir), "-q")
    row("qa index seeds (fresh build)", f"{build_s:.2f} s")
    nochange = wall("index", "seeds", "--index-dir", str(index_dir), "-q", repeat=5)
    row("qa index seeds (no change)", f"{nochange:.2f} s", "<= 0.5 s", nochange <= 0.5)
    cold = wall("ask", QUESTION, "--index-dir", str(index_dir), repeat=5)
    row("qa ask, cold (process start to answer)", f"{cold:.2f} s", "<= 1.0 s", cold <= 1.0)

    questions = [json.loads(line)["question"] for line in (REPO / "benchmarks/seeds/questions.jsonl").open(encoding="utf-8")]
    bot = Bot(index_dir).load()
    for question in questions[:5]:
        bot.ask(question)  # warm-up
    latencies = []
    for question in (questions * 2)[:50]:
        started = time.perf_counter()
        bot.ask(question)
        latencies.append((time.perf_counter() - started) * 1000)
    p50 = pct(latencies, 50)
    row("warm ask in process (encode+search+answer)", f"p50 {p50:.1f} / p95 {pct(latencies, 95):.1f} ms", "p50 <= 5 ms", p50 <= 5)

    spec = resolve_model(None)
    # ONNX first: once torch is loaded its OpenMP threads compete with onnxruntime's for the cores.
    encoders = {"onnx": bot._encoder}
    for name in ("onnx", "torch"):
        encoder = encoders.setdefault(name, SentenceTransformerEncoder(spec) if name == "torch" else bot._encoder)
        times = []
        for question in questions[:40]:
            started = time.perf_counter()
            encoder.encode([question])
            times.append((time.perf_counter() - started) * 1000)
        row(f"query encode alone ({name})", f"p50 {pct(times, 50):.1f} ms")

    chat_first_paint_and_answer(index_dir)
    throughput(bot.index.passages, encoders)


def chat_first_paint_and_answer(index_dir: Path) -> None:
    """Launch `qa chat` in tmux at 120x40, type the question at once, poll the screen every 10 ms."""
    if shutil.which("tmux") is None:
        row("chat first paint / first answer", "skipped (no tmux)")
        return
    qa = Path(sys.executable).with_name("qa")
    paints, answers = [], []
    for attempt in range(3):
        with tempfile.TemporaryDirectory() as tmp:
            socket, session = str(Path(tmp) / "sock"), f"speed-{os.getpid()}-{attempt}"
            command = f"cd {REPO} && QA_DATA_DIR={tmp}/data TERM=xterm-256color {qa} chat --index-dir {index_dir}; sleep 30"
            started = time.perf_counter()
            subprocess.run(["tmux", "-S", socket, "new-session", "-d", "-s", session, "-x", "120", "-y", "40", command], check=True)
            try:
                paint = answer = None
                typed = False
                while time.perf_counter() - started < 60 and answer is None:
                    screen = subprocess.run(["tmux", "-S", socket, "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout
                    now = time.perf_counter() - started
                    if paint is None and "Ask a question" in screen:
                        paint = now
                    if paint is not None and not typed:
                        subprocess.run(["tmux", "-S", socket, "send-keys", "-t", session, "-l", QUESTION])
                        subprocess.run(["tmux", "-S", socket, "send-keys", "-t", session, "Enter"])
                        typed = True
                    if typed and "[1]" in screen and "Sources" in screen:
                        answer = now
                    time.sleep(0.01)
            finally:
                subprocess.run(["tmux", "-S", socket, "kill-server"], capture_output=True)
        paints.append(paint or float("nan"))
        answers.append(answer or float("nan"))
    paint, answer = statistics.median(paints), statistics.median(answers)
    row("chat first paint (median of 3)", f"{paint:.2f} s", "<= 0.5 s", paint <= 0.5)
    row("chat first cited answer after launch", f"{answer:.2f} s", "<= 1.5 s", answer <= 1.5)


def throughput(passages, encoders) -> None:
    """Bare encoder vs a full build (split passages given, vectors written) on the same passages, same run.
    The build encodes each passage and each of its sentences, so one bare figure encodes those same
    texts, and another the passage texts alone (what the build would cost without sentence vectors);
    passages/s of all three are passages over the time taken. The passages are 300 distinct SciFact
    abstracts when ../shared/datasets/scifact is there (a build encodes a repeated text once), else the
    seeds' passages."""
    from qa.encoders import resolve_model
    from qa.eval.datasets import load_beir
    from qa.index import build_index_from_passages
    from qa.sentences import sentence_texts

    scifact = REPO.parent / "shared" / "datasets" / "scifact"
    passages = load_beir(scifact).passages[:300] if scifact.is_dir() else list(passages)
    texts = [p.embedding_text() for p in passages]
    texts += [text for p in passages for text in sentence_texts(p.title, p.text)]
    spec = resolve_model(None)
    figures = {}
    for name, encoder in encoders.items():
        encoder.encode(texts[:16])
        started = time.perf_counter()
        encoder.encode(texts[: len(passages)], batch_size=64)
        alone = len(passages) / (time.perf_counter() - started)
        started = time.perf_counter()
        encoder.encode(texts, batch_size=64)
        bare = len(passages) / (time.perf_counter() - started)
        with tempfile.TemporaryDirectory() as tmp:
            report = build_index_from_passages(passages, Path(tmp), spec, source="speed", encoder_factory=lambda _spec, e=encoder: e)
        figures[name] = (bare, report.passages_per_second)
        ratio = report.passages_per_second / bare
        row(f"build throughput ({name}, {len(passages)} passages)", f"{report.passages_per_second:.1f} / {bare:.1f} p/s", ">= 90 % of bare", ratio >= 0.9)
        row(f"  build / bare encoder ({name})", f"{ratio:.0%}")
        ratio = report.passages_per_second / alone
        # No bar: sentence vectors are kept for their quality (docs/speed-build.md); the ratio is what they cost.
        row(f"  build / bare on passage texts alone ({name})", f"{ratio:.0%} of {alone:.1f} p/s")
    row("  texts encoded per passage (passage + its sentences)", f"{len(texts) / len(passages):.2f}")
    row("  ONNX / torch build throughput", f"{figures['onnx'][1] / figures['torch'][1]:.2f}x")


# --- scale ----------------------------------------------------------------------------------------


def cache_dir() -> Path:
    from qa import settings

    return settings.cache_dir() / "speed"


def real_vectors(names: list[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Real document and query vectors of the BEIR folders, encoded by the real model.
    Each dataset is cached as it completes (keyed by its corpus file and the model), smallest first."""
    from qa.encoders import load_encoder
    from qa.eval.datasets import load_beir

    encoder = None
    docs, queries, used = [], [], []
    for name in sorted((n for n in names if (DATASETS / n / "corpus.jsonl").exists()), key=lambda n: (DATASETS / n / "corpus.jsonl").stat().st_size):
        corpus = DATASETS / name / "corpus.jsonl"
        key = hashlib.sha256(f"{name}:{corpus.stat().st_size}:{corpus.stat().st_mtime_ns}:all-MiniLM-L6-v2".encode()).hexdigest()[:12]
        docs_file, queries_file = cache_dir() / f"{name}-docs-{key}.npy", cache_dir() / f"{name}-queries-{key}.npy"
        if not (docs_file.exists() and queries_file.exists()):
            encoder = encoder or load_encoder(None)
            dataset = load_beir(DATASETS / name, split="test")
            started = time.perf_counter()
            arrays = (encoder.encode([p.embedding_text() for p in dataset.passages], batch_size=64),
                      encoder.encode([q.text for q in dataset.queries], batch_size=64))
            cache_dir().mkdir(parents=True, exist_ok=True)
            for path, array in zip((docs_file, queries_file), arrays, strict=True):
                tmp = path.with_name(path.stem + ".tmp.npy")
                np.save(tmp, array.astype(np.float32), allow_pickle=False)
                os.replace(tmp, path)
            print(f"   encoded {name}: {len(dataset.passages)} documents, {len(dataset.queries)} queries in {time.perf_counter() - started:.0f} s", flush=True)
        docs.append(np.load(docs_file, allow_pickle=False))
        queries.append(np.load(queries_file, allow_pickle=False))
        used.append(name)
    return np.vstack(docs), np.vstack(queries), used


class Perturbation:
    """Copies of real vectors: normalise(v + noise), the noise drawn with the real set's
    per-dimension spread and scaled so that a copy's cosine to its source is the median cosine of a
    real vector to its nearest real neighbour."""

    def __init__(self, real: np.ndarray, rng: np.random.Generator) -> None:
        import faiss

        probe = real[rng.choice(len(real), size=min(1000, len(real)), replace=False)]
        scores, _ = faiss.knn(probe, real, 2, metric=faiss.METRIC_INNER_PRODUCT)
        self.neighbour_cos = float(np.median(scores[:, 1]))  # [:, 0] is the vector itself
        self.radius = np.sqrt(1 / self.neighbour_cos**2 - 1)  # |noise| giving that cosine to the source
        self.spread = real.std(axis=0)
        self.rng = rng

    def __call__(self, source: np.ndarray) -> np.ndarray:
        noise = self.rng.standard_normal(source.shape).astype(np.float32) * self.spread
        noise *= self.radius / np.linalg.norm(noise, axis=1, keepdims=True)
        block = source + noise
        return (block / np.linalg.norm(block, axis=1, keepdims=True)).astype(np.float32)


def synthesise(real: np.ndarray, total: int, seed: int = 7) -> tuple[np.ndarray, float]:
    """The real vectors, then perturbed copies of them up to `total` rows (see the module docstring)."""
    rng = np.random.default_rng(seed)
    perturb = Perturbation(real, rng)
    out = np.empty((total, real.shape[1]), dtype=np.float32)
    out[: len(real)] = real
    for first in range(len(real), total, 100_000):
        count = min(100_000, total - first)
        out[first : first + count] = perturb(real[rng.integers(0, len(real), size=count)])
    return out, perturb.neighbour_cos


def scale_part(total: int, extra: int, real_file: list[Path] | None, query_file: Path | None, datasets: list[str]) -> None:
    import faiss

    from qa.stores import faiss_index
    from qa.stores.policy import IndexPolicy

    print(f"== scale: {total:,} passages ({uptime()})")
    if real_file:
        real = np.vstack([np.load(path) for path in real_file]).astype(np.float32)
        queries = np.load(query_file).astype(np.float32)
        origin = ", ".join(path.name for path in real_file)
    else:
        real, queries, names = real_vectors(list(datasets))
        origin = f"{' + '.join(names)} documents"
    real = real / np.linalg.norm(real, axis=1, keepdims=True)
    vectors, neighbour_cos = synthesise(real, total + extra)
    base, added = vectors[:total], vectors[total:]
    rng = np.random.default_rng(3)
    queries = queries[rng.choice(len(queries), size=min(300, len(queries)), replace=False)]
    print(f"   {len(real):,} real vectors ({origin}); copies at median cosine {neighbour_cos:.3f} to their source; {len(queries)} real queries")

    started = time.perf_counter()
    _, exact = faiss.knn(queries, base, 10, metric=faiss.METRIC_INNER_PRODUCT)
    flat_times = []
    for query in queries[:30]:
        t = time.perf_counter()
        faiss.knn(query[None, :], base, 10, metric=faiss.METRIC_INNER_PRODUCT)
        flat_times.append((time.perf_counter() - t) * 1000)
    row("exact flat search, one query", f"p50 {pct(flat_times, 50):.1f} ms", f"({time.perf_counter() - started:.0f} s for ground truth)")
    row("exact flat index memory (float32)", f"{base.nbytes / 2**30:.2f} GiB")

    policy = IndexPolicy()
    started = time.perf_counter()
    index, spec = faiss_index.build(base, base.shape[1], policy)
    build_s = time.perf_counter() - started
    memory = faiss_index.memory_bytes(index)
    row(f"build {spec.kind} {spec.params}", f"{build_s:.1f} s")
    row("index memory (serialised)", f"{memory / 2**30:.2f} GiB", "<= 1 GiB", memory <= 2**30)
    ivf = faiss.extract_index_ivf(index)
    for nprobe in sorted({8, 16, 32, 64, 128, spec.params["nprobe"]}):
        ivf.nprobe = nprobe
        _, found = index.search(queries, 10)
        recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, exact, strict=True)])
        times = []
        for query in queries:
            t = time.perf_counter()
            index.search(query[None, :], 10)
            times.append((time.perf_counter() - t) * 1000)
        chosen = nprobe == spec.params["nprobe"]
        row(f"  nprobe {nprobe:>3}{' (policy)' if chosen else ''}: recall@10 vs exact", f"{recall:.3f}", ">= 0.95" if chosen else "", recall >= 0.95 if chosen else None)
        row(f"  nprobe {nprobe:>3}: query p50 / p95", f"{pct(times, 50):.2f} / {pct(times, 95):.2f} ms", "p50 <= 20 ms" if chosen else "", pct(times, 50) <= 20 if chosen else None)
    ivf.nprobe = spec.params["nprobe"]
    started = time.perf_counter()
    faiss_index.add(index, added)
    add_s = time.perf_counter() - started
    row(f"add {len(added):,} passages (no retraining)", f"{add_s:.2f} s", f"vs build {build_s:.0f} s", index.ntotal == total + extra and add_s < build_s / 10)
    bm25_scale()


def bm25_scale() -> None:
    """bm25s indexing and query time on real text: the BEIR documents, repeated to 100k passages."""
    from qa import lexicon
    from qa.eval.datasets import load_beir
    from qa.schema import Passage

    texts = []
    for name in BEIR:
        if (DATASETS / name / "corpus.jsonl").exists():
            texts += [p.text for p in load_beir(DATASETS / name, split="test").passages]
    if not texts:
        return
    for size in (len(texts), 100_000):
        passages = [Passage(doc=str(i), title="", date=None, section=None, start=0, end=0, text=texts[i % len(texts)]) for i in range(size)]

        started = time.perf_counter()
        model = lexicon.build_bm25([p.embedding_text() for p in passages])
        index_s = time.perf_counter() - started
        times = []
        for question in ("effect of vitamin D on bone density", "boundary layer heat transfer", "information retrieval evaluation"):
            t = time.perf_counter()
            np.argsort(-model.get_scores(lexicon.tokenize([question], return_ids=False)[0]))[:10]
            times.append((time.perf_counter() - t) * 1000)
        row(f"BM25 (bm25s) on {size:,} passages: index / query", f"{index_s:.1f} s / {statistics.median(times):.0f} ms")
        with tempfile.TemporaryDirectory() as tmp:  # what persisting it would cost and save (numpy arrays + JSON, no pickle)
            import bm25s

            started = time.perf_counter()
            model.save(tmp)
            save_s = time.perf_counter() - started
            started = time.perf_counter()
            bm25s.BM25.load(tmp, mmap=True)
            row(f"  BM25 on {size:,}: save / load from disk", f"{save_s:.2f} s / {time.perf_counter() - started:.2f} s")


# --- memory on a real corpus -----------------------------------------------------------------------

INDEX_RSS_MB = 600  # peak RSS of `qa index`, at any corpus size
ASK_RSS_MB = 500  # peak RSS of `qa ask`


def peak_rss(*args: str) -> tuple[float, float]:
    """(peak RSS in MB, wall seconds) of one `qa` command in a fresh process (this script's own
    memory is not counted: the command runs in a child of a small runner)."""
    runner = "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, capture_output=True); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", runner, *QA, *args], check=True, capture_output=True, text=True, cwd=REPO)
    return int(done.stdout.split()[-1]) / 1024, time.perf_counter() - started


def memory_part(corpus: Path, questions: list[str]) -> None:
    """The memory regression check: peak RSS of `qa index` and of a cold `qa ask` against their
    budgets, the cold ask's wall time, and the warm in-process p50 (fused, the default)."""
    from qa import Bot

    print(f"== memory on {corpus} ({uptime()})")
    with tempfile.TemporaryDirectory() as tmp:
        index = Path(tmp) / "index"
        rss, seconds = peak_rss("index", str(corpus), "--index-dir", str(index))
        bot = Bot(index).load()
        passages = len(bot._loaded_index().passages)
        row(f"qa index: {passages:,} passages, peak RSS", f"{rss:.0f} MB ({seconds:.0f} s)", f"<= {INDEX_RSS_MB} MB", rss <= INDEX_RSS_MB)
        rss, seconds = peak_rss("ask", questions[0], "--index-dir", str(index))
        row("cold qa ask: peak RSS", f"{rss:.0f} MB", f"<= {ASK_RSS_MB} MB", rss <= ASK_RSS_MB)
        row("cold qa ask: wall", f"{seconds:.2f} s", "<= 1.0 s", seconds <= 1.0)
        bot.ask(questions[0])
        times = []
        for question in questions * max(1, 20 // len(questions)):
            started = time.perf_counter()
            bot.ask(question)
            times.append((time.perf_counter() - started) * 1000)
        row("warm ask p50 / p95 (fused)", f"{statistics.median(times):.0f} / {pct(times, 95):.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="seeds figures only (no 1,000,000-passage test)")
    parser.add_argument("--scale-only", action="store_true", help="only the scale test")
    parser.add_argument("--total", type=int, default=1_000_000, help="passages in the scale test")
    parser.add_argument("--real-vectors", type=Path, nargs="*", help="use these .npy document vectors instead of encoding the datasets (development)")
    parser.add_argument("--query-vectors", type=Path, help="with --real-vectors: .npy query vectors")
    parser.add_argument("--datasets", nargs="+", default=list(BEIR), help=f"BEIR folders whose documents give the real vectors (default: {' '.join(BEIR)})")
    parser.add_argument("--memory", type=Path, metavar="CORPUS",
                        help="only the memory check on this corpus folder (make one with benchmarks/scale_corpus.py)")
    parser.add_argument("--question", action="append", default=[], help="with --memory: a question to ask (repeat)")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}; python {sys.version.split()[0]}")
    if args.memory:
        memory_part(args.memory, args.question or [QUESTION])
        return
    if not args.scale_only:
        with tempfile.TemporaryDirectory() as tmp:
            seeds_part(Path(tmp) / "index")
    if not args.quick:
        scale_part(args.total, 10_000, args.real_vectors, args.query_vectors, args.datasets)
    print(f"== done ({uptime()})")


if __name__ == "__main__":
    main()
