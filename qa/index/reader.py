"""Opening an index to read: the current generation its manifest names, checked against the
manifest's checksums. Readers take no lock: a build never changes the files a manifest names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from qa.errors import IndexMismatchError
from qa.index.manifest import FORMAT_VERSION, Manifest, read_manifest, rebuild_command, require_manifest
from qa.index.passages import PassageTable
from qa.schema import Passage
from qa.stores import IndexPolicy, VectorSet, VectorStore, load_store

if TYPE_CHECKING:
    import numpy as np

HASH_ON_LOAD_BYTES = 8 << 20  # larger files are checked by size when a reader loads the index


@dataclass(frozen=True)
class StoredIndex:
    """A loaded index: the manifest, the passages in ascending id order with their ids, and the store."""

    manifest: Manifest
    passages: Sequence[Passage]
    ids: np.ndarray  # int64, ascending: ids[i] is the id of passages[i]
    store: VectorStore
    directory: Path = Path(".")

    def passage(self, passage_id: int) -> Passage:
        return self.passages[self.row_of(passage_id)]

    def row_of(self, passage_id: int) -> int:
        import numpy as np

        row = int(np.searchsorted(self.ids, passage_id))
        if row >= len(self.ids) or self.ids[row] != passage_id:
            raise KeyError(f"no passage with id {passage_id}")
        return row

    def search(self, queries: np.ndarray, k: int, target: VectorSet = VectorSet.PASSAGES) -> tuple[np.ndarray, np.ndarray]:
        """Scores and passage ids of the k nearest passages (or sentences) for each query row (-1 pads)."""
        return self.store.search(queries, k, target)


def load_index(
    index_dir: Path, verified: bool = False, manifest: Manifest | None = None, policy: IndexPolicy = IndexPolicy(),
    workdir: Path | None = None,
) -> StoredIndex:
    """The current index. verified: its files' checksums were just checked by a caller holding the
    write lock (so they cannot have changed), and need not be hashed again. manifest: the manifest
    the caller has just read, which spares reading it again (a large corpus's takes a while).
    workdir: where a build that changes the store may keep its temporary files."""
    index_dir = Path(index_dir)
    for _ in range(3):
        manifest = manifest or require_manifest(index_dir)
        try:
            return _load_files(index_dir, manifest, verified, policy, workdir)
        except IndexMismatchError:
            # A build may have committed, and removed the files this manifest names, while they were read.
            if read_manifest(index_dir) == manifest:
                raise
            manifest = None
    return _load_files(index_dir, require_manifest(index_dir), verified, policy, workdir)


def verify_checksums(index_dir: Path, manifest: Manifest, full: bool = True) -> None:
    """Raise IndexMismatchError when a file of the index is missing or differs from what the build wrote.

    full=False (every reader's load): files over HASH_ON_LOAD_BYTES are checked by size only, since
    hashing costs about a second per GB (docs/speed.md): at 160,000 passages the index holds 650 MB
    of vectors. Builds (qa index) always hash every file before reusing any of them."""
    for name, expected in manifest.checksums.items():
        path = Path(index_dir) / name
        try:
            size = path.stat().st_size
            if not full and size > HASH_ON_LOAD_BYTES and manifest.sizes.get(name) == size:
                continue
            actual = sha256_file(path)
        except OSError as error:
            raise IndexMismatchError(f"damaged index in {index_dir} ({name}: {error.strerror}); {rebuild_command(index_dir, manifest)}") from error
        if actual != expected:
            raise IndexMismatchError(
                f"damaged index in {index_dir} ({name} does not match its checksum in the manifest); {rebuild_command(index_dir, manifest)}"
            )


def sha256_file(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _load_files(index_dir: Path, manifest: Manifest, verified: bool, policy: IndexPolicy, workdir: Path | None) -> StoredIndex:
    import numpy as np

    rebuild = rebuild_command(index_dir, manifest)
    if manifest.format_version != FORMAT_VERSION:
        raise IndexMismatchError(
            f"index in {index_dir} has format {manifest.format_version}, this version of qa reads format {FORMAT_VERSION}"
            f" (stable passage ids); {rebuild}"
        )
    if not verified:
        verify_checksums(index_dir, manifest, full=False)
    try:
        passages = PassageTable(index_dir / manifest.passages_file, damaged=f"damaged index in {index_dir}; {rebuild}")
        store = load_store(index_dir, manifest.store, policy, workdir)
        store.validate(manifest.passage_count)
    except (OSError, RuntimeError, ValueError, KeyError) as error:
        raise IndexMismatchError(f"damaged index in {index_dir} ({str(error).splitlines()[0][:120]}); {rebuild}") from error
    if len(passages) != manifest.passage_count or store.dimension != manifest.dimension or store.count(VectorSet.SENTENCES) != manifest.sentence_count:
        raise IndexMismatchError(
            f"index in {index_dir} is inconsistent ({store.count()} vectors, {len(passages)} passages, "
            f"manifest says {manifest.passage_count}); {rebuild}"
        )
    return StoredIndex(manifest=manifest, passages=passages, ids=np.asarray(store.ids(), dtype=np.int64), store=store, directory=index_dir)
