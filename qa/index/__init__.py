"""The index on disk: a manifest naming the passages file (JSON Lines, ascending passage id), the
vector store holding their passage and sentence vectors by id (`qa.stores`; FAISS files by default)
and the lexicon (BM25 and IDF), with every file's checksum.

- `manifest`: the manifest's format, and reading it;
- `reader`: opening the current generation (`load_index` → `StoredIndex`), checked, without a lock;
- `writer`: the write lock, the next generation and the atomic switch to it (`IndexDirectory`, `IndexWriter`);
- `builder`: building and updating an index from a corpus folder, incrementally (`build_index`).
"""

from qa.index.builder import BuildReport, EncoderFactory, Progress, build_index, build_index_from_passages, encode_passages, stale_files
from qa.index.manifest import FORMAT_VERSION, MANIFEST, Generation, Manifest, current_generation, read_manifest, rebuild_command, require_manifest
from qa.index.reader import StoredIndex, load_index, verify_checksums
from qa.index.writer import IndexDirectory, IndexWriter

__all__ = [
    "FORMAT_VERSION", "MANIFEST", "BuildReport", "EncoderFactory", "Generation", "IndexDirectory", "IndexWriter", "Manifest", "Progress", "StoredIndex",
    "build_index", "build_index_from_passages", "current_generation", "encode_passages", "load_index", "read_manifest", "rebuild_command", "require_manifest",
    "stale_files", "verify_checksums",
]
