"""Copy an index built on the FAISS store into a Milvus store, without encoding anything again.

The passage and sentence vectors are read from the FAISS store and written to Milvus with the same
passage ids; the passages file and the lexical files are copied; the new manifest records the
Milvus store. Used to compare the two stores on a benchmark whose encoding takes many minutes
(SciFact): with a `qa bench` cache folder as SOURCE and no TARGET, the copy goes where
`qa bench DATASET --store STORE` looks for its index, so that command then runs on it.

Usage:
  .venv/bin/python benchmarks/faiss_to_milvus.py SOURCE_INDEX_DIR --store milvus:PATH.db [--target DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import time
from pathlib import Path

BATCH = 512


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="an index directory on the FAISS store")
    parser.add_argument("--store", required=True, help="the Milvus store, as for qa index --store")
    parser.add_argument("--target", type=Path, help="the new index directory (default: where qa bench --store looks)")
    args = parser.parse_args()

    import numpy as np

    from qa.eval.bench import _store_path
    from qa.index import MANIFEST, load_index
    from qa.index.reader import sha256_file
    from qa.index.writer import write_atomic
    from qa.stores import VectorSet, create_store, parse_store

    source = load_index(args.source)
    target, spec = (args.target, parse_store(args.store)) if args.target else _store_path(args.source, parse_store(args.store))
    target.mkdir(parents=True, exist_ok=True)
    manifest = source.manifest
    started = time.perf_counter()
    store = create_store(spec, manifest.dimension, model=manifest.model)
    for first in range(0, len(source.ids), BATCH):
        ids = source.ids[first : first + BATCH]
        sentences, owners = source.store.sentence_vectors(ids)
        counts = np.bincount(owners, minlength=len(ids))
        store.add(source.passages[first : first + BATCH], ids, source.store.vectors(ids), sentences, counts)
    record = store.save(target, "copy")
    seconds = time.perf_counter() - started
    copied = [manifest.passages_file, *manifest.lexicon.values()]
    for name in copied:
        shutil.copyfile(args.source / name, target / name)
    if (args.source / "build.json").exists():
        shutil.copyfile(args.source / "build.json", target / "build.json")
    new = dataclasses.replace(
        manifest, store=record, checksums={name: sha256_file(target / name) for name in copied},
        sizes={name: (target / name).stat().st_size for name in copied},
    )
    write_atomic(target / MANIFEST, new.to_json())
    print(f"copied {len(source.ids)} passages and {store.count(VectorSet.SENTENCES)} sentence vectors"
          f" into {spec.spec} in {seconds:.1f} s ({len(source.ids) / seconds:.0f} passages/s); index directory {target}")


if __name__ == "__main__":
    main()
