"""Fuzz the document parsers with broken and hostile files, then index them all.

    .venv/bin/python tests/fuzz.py                 # the full run (a few minutes)
    .venv/bin/python tests/fuzz.py --scale 0.1     # a small run (tests/test_fuzz.py runs one)
    .venv/bin/python tests/fuzz.py --json          # one JSON object instead of the table

It lives with the tests because it is one, run at a larger scale, and it builds its documents with
the tests' own fixtures. Each file is made from a valid document of its format (tests/format_fixtures.py)
by a mutation: truncation, flipped bytes, spliced random bytes; or it is hostile by construction:
random bytes under a document's name, HTML nested 100,000 deep, a 50 MB text file, a zip bomb
named .docx, a PDF whose stream inflates to 1 GB, a PDF of more pages than the limit.

Every file goes through `read_document` (what `qa index` does with it). A file must either be read,
its passages citing its extracted text exactly, or be skipped with a one-line warning that names
it; anything else is a crash. Then the whole folder is indexed with a hashing encoder (the parsers
are under test, not the model), and every valid control document must be in the index whole.
Prints per kind: the count, how many were read or skipped, the slowest file, and the run's size,
duration and peak memory. Exits non-zero on any crash or loss.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import re
import resource
import sys
import tempfile
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

from format_fixtures import make_docx, make_pdf, pdf_file, zip_bomb

from qa.chunking import split_document
from qa.corpus import SourceFile, read_document
from qa.encoders.hashing import HashingEncoder
from qa.errors import CorpusError

WORDS = ["harbour", "festival", "council", "budget", "library", "tea", "green", "report", "page", "boats", "music", "tickets", "town", "hall"]


def _sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14))).capitalize() + "."


def valid_documents(rng: random.Random) -> dict[str, bytes]:
    """One well-formed document per format: the seeds every mutation starts from."""
    paragraphs = [_sentence(rng) + " " + _sentence(rng) for _ in range(6)]
    html = "<html><head><title>Fuzz page</title></head><body><nav>Home</nav><main><h1>Fuzz</h1>" + "".join(
        f"<h2>Part {i}</h2><p>{p}</p>" for i, p in enumerate(paragraphs)) + "</main></body></html>"
    pdf = make_pdf([[p[:60], p[60:], ""] for p in paragraphs[:3]] + [[p] for p in paragraphs[3:]])
    docx = make_docx([("Heading 1", "Fuzz")] + [("", p) for p in paragraphs])
    md = "---\ntitle: Fuzz\n---\n\n# Fuzz\n\n" + "\n\n".join(f"## Part {i}\n\n{p}" for i, p in enumerate(paragraphs))
    text = "Fuzz notes\n\n" + "\n\n".join(paragraphs)
    return {"pdf": pdf, "html": html.encode(), "docx": docx, "md": md.encode(), "txt": text.encode()}


def _truncate(rng, data):
    return data[: rng.randrange(0, len(data))]


def _flip(rng, data):
    buffer = bytearray(data)
    for _ in range(rng.randint(1, 20)):
        buffer[rng.randrange(len(buffer))] = rng.randrange(256)
    return bytes(buffer)


def _splice(rng, data):
    at = rng.randrange(len(data))
    return data[:at] + rng.randbytes(rng.randint(1, 4096)) + data[at + rng.randint(0, 512):]


def _flate_bomb_pdf(inflated: int = 1 << 30) -> bytes:
    """A one-page PDF whose content stream (a line of text, then spaces) inflates to `inflated` bytes."""
    compressor = zlib.compressobj(9)
    chunk = b" " * (1 << 20)
    stream = compressor.compress(b"BT /F1 12 Tf 72 720 Td (Inflated page) Tj ET\n")
    stream += b"".join(compressor.compress(chunk) for _ in range(inflated >> 20)) + compressor.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    return pdf_file(objects, root=1)


def hostile_files(rng: random.Random, scale: float) -> Iterator[tuple[str, str, bytes]]:
    """(kind, file name, bytes) for every file of the run."""
    seeds = valid_documents(rng)
    n = max(1, round(40 * scale))
    for fmt, data in seeds.items():
        yield "control (valid)", f"control.{fmt}", data
    for fmt in ("pdf", "docx", "html", "md", "txt"):
        for i in range(n):
            yield f"{fmt}: truncated", f"{fmt}-truncated-{i}.{fmt}", _truncate(rng, seeds[fmt])
            yield f"{fmt}: bytes flipped", f"{fmt}-flipped-{i}.{fmt}", _flip(rng, seeds[fmt])
            yield f"{fmt}: random bytes spliced in", f"{fmt}-spliced-{i}.{fmt}", _splice(rng, seeds[fmt])
        for i in range(max(1, n // 4)):
            yield f"{fmt}: random bytes", f"{fmt}-random-{i}.{fmt}", rng.randbytes(rng.randint(0, 65536))
    yield "pdf: image only (no text layer)", "pdf-scanned.pdf", make_pdf([None, None, None])
    yield "pdf: more pages than the limit", "pdf-2500-pages.pdf", make_pdf([["p"]] * 2500)
    yield f"pdf: stream inflating to {1 if scale >= 1 else 0.25} GB", "pdf-flate-bomb.pdf", _flate_bomb_pdf(1 << 30 if scale >= 1 else 1 << 28)
    yield "html: nested 100,000 deep", "html-deep.html", b"<div>" * 100_000 + b"deep" + b"</div>" * 100_000
    yield "html: unclosed tags, 80,000", "html-unclosed.html", b"<p><b><i><span>x" * 20_000
    yield "html: unclosed divs, 50,000", "html-unclosed-divs.html", b"<td><div>x" * 50_000
    yield "docx: zip bomb (300 MB inside)", "docx-zip-bomb.docx", zip_bomb(300 * 1024 * 1024)
    yield "docx: a zip that is not a docx", "docx-not-word.docx", _plain_zip()
    yield "txt: 50 MB of text", "txt-50mb.txt", (_sentence(rng) + "\n").encode() * (50 * 1024 * 1024 // 80)
    yield "txt: one 10 MB line", "txt-long-line.txt", b"x" * (10 * 1024 * 1024)
    yield "txt: not UTF-8", "txt-latin1.txt", "café crème brûlée".encode("latin-1")


def _plain_zip() -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hello")
    return buffer.getvalue()


def run(scale: float, seed: int) -> dict:
    from qa.index import build_index, load_index

    rng = random.Random(seed)
    rows: dict[str, Counter] = defaultdict(Counter)
    slowest: dict[str, float] = defaultdict(float)
    reasons: dict[str, Counter] = defaultdict(Counter)
    crashes: list[str] = []
    total_bytes = files = 0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="qa-fuzz-") as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        for kind, name, data in hostile_files(rng, scale):
            path = corpus / name
            path.write_bytes(data)
            files += 1
            total_bytes += len(data)
            stat = path.stat()
            source = SourceFile(doc=name, path=path, size=stat.st_size, mtime_ns=stat.st_mtime_ns)
            began = time.perf_counter()
            try:
                document = read_document(source)
                layout = split_document(name, document.text, extracted=document.extracted)
                if any(document.text[p.start : p.end] != p.text for p in layout.passages):
                    crashes.append(f"{name}: a passage does not match its offsets")
                rows[kind]["read"] += 1
            except CorpusError as warning:
                message = str(warning)
                if "\n" in message or not message.startswith(f"{name}: skipped, "):
                    crashes.append(f"{name}: warning is not one line naming the file: {message!r}")
                rows[kind]["skipped"] += 1
                reasons[kind][re.sub(r"\d[\d,.]*", "N", message.split("skipped, ", 1)[-1])[:70]] += 1
            except Exception as error:
                crashes.append(f"{name}: {error.__class__.__name__}: {error}")
                rows[kind]["crashed"] += 1
            slowest[kind] = max(slowest[kind], time.perf_counter() - began)
        read_seconds = time.perf_counter() - started
        index_started = time.perf_counter()
        report = build_index(corpus, Path(tmp) / "index", encoder_factory=lambda spec: HashingEncoder(dimension=32))
        index = load_index(Path(tmp) / "index")
        index_seconds = time.perf_counter() - index_started
        lost = []
        for fmt in ("pdf", "html", "docx", "md", "txt"):
            name = f"control.{fmt}"
            stat = (corpus / name).stat()
            document = read_document(SourceFile(name, corpus / name, stat.st_size, stat.st_mtime_ns))
            expected = split_document(name, document.text, extracted=document.extracted).passages
            if [p for p in index.passages if p.doc == name] != expected:
                lost.append(name)
    return {
        "seed": seed,
        "scale": scale,
        "files": files,
        "megabytes": round(total_bytes / 1e6, 1),
        "read_seconds": round(read_seconds, 1),
        "index_seconds": round(index_seconds, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "indexed_files": report.files,
        "indexed_passages": report.passages,
        "warnings": len(report.warnings),
        "kinds": {
            kind: {**counts, "slowest_s": round(slowest[kind], 3), "reasons": dict(reasons[kind].most_common(3))}
            for kind, counts in rows.items()
        },
        "crashes": crashes,
        "controls_lost": lost,
    }


def _print_table(result: dict) -> None:
    print("| kind | files | read | skipped | crashed | slowest file | why skipped (most common) |")
    print("|---|---|---|---|---|---|---|")
    for kind, row in result["kinds"].items():
        total = row.get("read", 0) + row.get("skipped", 0) + row.get("crashed", 0)
        why = "; ".join(result["kinds"][kind]["reasons"]) or "–"
        print(f"| {kind} | {total} | {row.get('read', 0)} | {row.get('skipped', 0)} | {row.get('crashed', 0)} "
              f"| {row['slowest_s']:.2f} s | {why} |")
    print()
    print(f"{result['files']} files, {result['megabytes']} MB; read in {result['read_seconds']} s, indexed in "
          f"{result['index_seconds']} s ({result['indexed_files']} files, {result['indexed_passages']} passages, "
          f"{result['warnings']} warnings); peak memory {result['peak_rss_mb']} MB")
    print(f"crashes: {len(result['crashes'])}; valid control documents lost: {len(result['controls_lost'])}")
    for crash in result["crashes"][:20]:
        print("  " + crash)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="mutations per format: 40 × scale of each kind")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.scale, args.seed)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _print_table(result)
    return 1 if result["crashes"] or result["controls_lost"] else 0


if __name__ == "__main__":
    sys.exit(main())
