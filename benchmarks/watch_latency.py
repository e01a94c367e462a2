"""Save-to-answer latency under `qa watch`: from a saved edit to the moment an open bot's answer
changes.

    QA_CACHE_DIR=/tmp/qa-cache .venv/bin/python benchmarks/watch_latency.py                 # the seeds
    QA_CACHE_DIR=/tmp/qa-cache .venv/bin/python benchmarks/watch_latency.py --files 10000 \\
        --from ../shared/datasets/scifact --from ../shared/datasets/nfcorpus --from ../shared/datasets/cranfield

A folder is made under $QA_CACHE_DIR/watch-bench: a copy of the seeds (five press releases, one to
three pages each), and with --files N, N short documents besides (the first 500 characters, cut at a
sentence, of the documents of the BEIR folders given), and indexed once as a collection (kept for
later runs). Then `qa watch` runs in its own process, as a user runs it, while this process holds a
loaded `qa.Bot` over the collection. Each round writes a new paragraph into a seeds press release (a
one-page edit: the file is rewritten in place, as an editor saves it) stating a number not in the
corpus; every 20 ms the bot's index folder is looked at (one stat, as the bot does before each
question), and when a new generation is there the bot is asked the question that paragraph answers,
until the answer quotes the number (the time includes that question). Prints each round's latency and the update line `qa watch` printed, then the median and
the largest.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EDITED = "003_cc08bda86b037607.txt"  # "Foreign Secretary visits Japan…", about one page
QUESTION = "How many cherry trees did the delegation plant in Hyde Park?"


def make_folder(folder: Path, files: int, sources: list[Path]) -> None:
    if folder.exists():
        return
    work = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(REPO / "seeds", work)
    written = 0
    for source in sources:
        with (source / "corpus.jsonl").open(encoding="utf-8") as lines:
            for line in lines:
                if written >= files:
                    break
                record = json.loads(line)
                text = str(record.get("text") or "")[:500]
                cut = max(text.rfind(". "), text.rfind(".\n"))
                text = text[: cut + 1] if cut > 150 else text
                if not text.strip():
                    continue
                title = str(record.get("title") or "").strip() or f"Note {written}"
                shard = work / "notes" / f"{written // 1000:02d}"
                shard.mkdir(parents=True, exist_ok=True)
                (shard / f"{source.name}-{record['_id']}.txt".replace("/", "_")).write_text(f"{title}\n\n{text}\n", encoding="utf-8")
                written += 1
    if written < files:
        sys.exit(f"only {written} documents in the folders given; --files {files} needs more (add --from FOLDER)")
    work.rename(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=0, help="short documents besides the seeds (default 0)")
    parser.add_argument("--from", dest="sources", action="append", type=Path, default=[], help="BEIR folders to take them from")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    from qa import Bot, settings
    from qa.catalog import Catalog
    from qa.index import current_generation

    home = settings.cache_dir() / "watch-bench" / f"files-{args.files}"
    folder = home / "docs"
    make_folder(folder, args.files, args.sources)
    env = {**os.environ, "QA_DATA_DIR": str(home / "data")}
    os.environ["QA_DATA_DIR"] = env["QA_DATA_DIR"]
    edited = folder / EDITED
    original = (REPO / "seeds" / EDITED).read_text(encoding="utf-8")
    edited.write_text(original, encoding="utf-8")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "qa", "index", str(folder), "--name", "bench", "-q"], env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(done.stderr)
    print(done.stdout.strip().splitlines()[-1], f"({time.perf_counter() - started:.1f} s)", flush=True)
    print(subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip(), flush=True)

    watcher = subprocess.Popen([sys.executable, "-m", "qa", "watch", "bench"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(iter(watcher.stdout.readline, "")), daemon=True).start()  # type: ignore[union-attr]
    try:
        while not any(line.startswith("Watching") for line in lines):
            time.sleep(0.05)
        collection = Catalog().get("bench")
        index_dir = collection.index_dir
        bot = Bot(collections=[collection], auto_update=False).load()
        bot.ask(QUESTION)  # warm
        latencies = []
        for round_ in range(args.rounds):
            number = f"{4_101 + 7 * round_:,}"
            assert number not in bot.ask(QUESTION).text
            paragraph = f"During the visit the delegation planted {number} cherry trees in Hyde Park, one for each Japanese pupil studying in London."
            seen = len(lines)
            text = original.replace("\n\n", f"\n\n{paragraph}\n\n", 1)
            with edited.open("w", encoding="utf-8") as handle:  # saved in place, as an editor does
                handle.write(text)
            saved = time.perf_counter()
            generation = current_generation(index_dir)
            while True:  # a new generation is looked for every 20 ms (one stat), then asked as the chat would ask
                if time.perf_counter() - saved > 120:
                    sys.exit(f"no change after 120 s; qa watch said: {lines[seen:]}")
                if current_generation(index_dir) != generation:
                    generation = current_generation(index_dir)
                    if number in bot.ask(QUESTION).text:
                        break
                time.sleep(0.02)
            latency = time.perf_counter() - saved
            latencies.append(latency)
            time.sleep(0.3)
            said = [line.strip() for line in lines[seen:] if re.match(r"\d\d:\d\d:\d\d ", line)]
            print(f"round {round_ + 1}: {latency:.2f} s   qa watch: {' | '.join(said)}", flush=True)
            time.sleep(1.0)
        print(f"save to answer changed, {len(latencies)} rounds: median {statistics.median(latencies):.2f} s, largest {max(latencies):.2f} s")
    finally:
        watcher.terminate()
        watcher.wait(20)
        edited.write_text(original, encoding="utf-8")
    print(subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip())


if __name__ == "__main__":
    main()
