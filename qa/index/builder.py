"""Building and updating an index from a corpus folder, incrementally and atomically."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from qa.chunking import SPLITTER_VERSION, split_document
from qa.corpus import SourceFile, file_stamps, find_files, read_document, source_sha256
from qa.encoders import Encoder, ModelSpec, load_encoder, resolve_model
from qa.errors import CorpusError, IndexWriteError
from qa.index.file_table import FileRecord
from qa.index.manifest import FORMAT_VERSION, Manifest
from qa.index.passages import rows_of_document
from qa.index.writer import IndexDirectory, IndexWriter
from qa.schema import Passage
from qa.sentences import sentence_texts
from qa.stores import DEFAULT_STORE, IndexPolicy, StoreTarget, holds

if TYPE_CHECKING:
    import numpy as np

Progress = Callable[[int, int], None]  # (bytes done, bytes to embed)
EncoderFactory = Callable[[ModelSpec], Encoder]


@dataclass(frozen=True)
class BuildReport:
    files: int
    files_embedded: int
    files_reused: int
    passages: int
    passages_embedded: int
    seconds: float
    changed: bool
    warnings: list[str] = field(default_factory=list)  # files skipped, found this run: one plain line each
    model_seconds: float = 0.0  # of seconds, the time spent loading the model
    skipped: list[str] = field(default_factory=list)  # every file skipped, this run or unchanged since (why)
    files_renamed: int = 0  # of files_reused: files found under a new path whose vectors were moved, not embedded again

    @property
    def passages_per_second(self) -> float:
        """Encoding throughput, model loading excluded."""
        busy = self.seconds - self.model_seconds
        return self.passages_embedded / busy if busy > 0 else 0.0


def build_index(
    corpus_root: Path,
    index_dir: Path,
    model: str | None = None,
    *,
    encoder_factory: EncoderFactory = load_encoder,
    progress: Progress | None = None,
    batch_size: int = 64,
    notice: Callable[[str], None] | None = None,
    lock_timeout: float = 600,
    index_policy: IndexPolicy = IndexPolicy(),
    store: StoreTarget | None = None,
) -> BuildReport:
    """Index every supported document (.txt, .md, .html, .pdf, .docx) under corpus_root into index_dir, re-embedding only changed files.
    store: where the vectors go (qa.stores.parse_store); None keeps the store the index has (FAISS
    for a new one). Another store than the index's rebuilds it there."""
    started = time.perf_counter()
    corpus_root = Path(corpus_root)
    sources = find_files(corpus_root)
    check_index_place(Path(index_dir), corpus_root)
    spec = resolve_model(model)
    with IndexDirectory(index_dir).lock(timeout=lock_timeout, notice=notice) as directory:
        previous = directory.current(lambda manifest: _reusable(manifest, spec, store))
        root = str(corpus_root.resolve())
        if previous and previous.corpus_root == root and _unchanged(previous, sources):
            skipped = [record.skipped for record in previous.files.values() if record.skipped]
            return BuildReport(
                files=len(sources) - len(skipped), files_embedded=0, files_reused=len(sources) - len(skipped),
                passages=previous.passage_count, passages_embedded=0, seconds=time.perf_counter() - started,
                changed=False, skipped=skipped,
            )
        target = store or (StoreTarget(previous.store.kind) if previous else DEFAULT_STORE)
        build = _Build(corpus_root, directory, spec, previous, encoder_factory, progress, batch_size, index_policy, target)
        return build.run(sources, started)


def build_index_from_passages(
    passages: list[Passage],
    index_dir: Path,
    spec: ModelSpec,
    *,
    source: str,
    encoder_factory: EncoderFactory = load_encoder,
    progress: Progress | None = None,
    batch_size: int = 64,
    index_policy: IndexPolicy = IndexPolicy(),
    store: StoreTarget = DEFAULT_STORE,
) -> BuildReport:
    """Index passages that come ready-made (a benchmark corpus), replacing whatever index_dir held."""
    started = time.perf_counter()
    with IndexDirectory(index_dir).lock() as directory:
        encoder = encoder_factory(spec)
        model_seconds = time.perf_counter() - started
        writer = directory.begin(encoder.dimension, store=store, model=spec.name, policy=index_policy)
        try:
            step = batch_size * 4
            for first in range(0, len(passages), step):
                batch = passages[first : first + step]
                writer.add(batch, *encode_passages(encoder, batch, batch_size))
                if progress:
                    progress(first + len(batch), len(passages))
            writer.commit(dict(model=spec.name, dimension=encoder.dimension, splitter_version="as given", corpus_root=source, files={}))
        except BaseException:
            writer.abort()
            raise
    return BuildReport(
        files=0, files_embedded=0, files_reused=0, passages=len(passages), passages_embedded=len(passages),
        seconds=time.perf_counter() - started, changed=True, model_seconds=model_seconds,
    )


def encode_passages(encoder: Encoder, passages: list[Passage], batch_size: int) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Vectors of the passages, of their sentences, and how many sentences each passage has.
    One encode call for both, so the encoder batches texts of similar length together. Each distinct
    text is encoded once: a one-sentence passage's sentence is its own passage text, and a corpus of
    short notes is mostly such passages."""
    sentences = [sentence_texts(p.title, p.text) for p in passages]
    texts = [p.embedding_text() for p in passages] + [text for group in sentences for text in group]
    distinct = {text: row for row, text in enumerate(dict.fromkeys(texts))}
    vectors = encoder.encode(list(distinct), batch_size=batch_size)[[distinct[text] for text in texts]]
    return vectors[: len(passages)], vectors[len(passages) :], [len(group) for group in sentences]


def stale_files(manifest: Manifest) -> list[str]:
    """Corpus files added, removed or changed since the index was built (empty when up to date)."""
    root = Path(manifest.corpus_root)
    try:
        found = file_stamps(root)
    except CorpusError:
        return []
    known = manifest.files.stamps()
    changed = list(known.keys() - found.keys())
    for doc, stamp in found.items() - known.items():
        if doc not in known:
            changed.append(doc)
            continue
        try:  # touched, or changed: only its bytes tell
            if source_sha256(SourceFile(doc, root / doc, *stamp)) != manifest.files[doc].sha256:
                changed.append(doc)
        except CorpusError:
            changed.append(doc)
    return sorted(changed)


def check_index_place(index_dir: Path, corpus_root: Path) -> None:
    """Refuse to write an index into a folder of documents: inside the corpus it indexes, or, for a
    new index, into a folder that holds documents (an index among a user's files, which its next
    scan of that folder would also read). IndexWriteError names the fix."""
    from qa.corpus import SUPPORTED_SUFFIXES
    from qa.index.manifest import MANIFEST

    index, corpus = index_dir.resolve(), corpus_root.resolve()
    if index == corpus or corpus in index.parents:
        raise IndexWriteError(
            f"the index would be written into the documents folder {corpus_root}; give it a folder of its own "
            f"with --index-dir, or leave --index-dir out (qa index {corpus_root} keeps it in the user data directory)"
        )
    if (index / MANIFEST).exists():
        return
    try:
        with os.scandir(index) as listing:
            documents = [entry.name for entry in listing if entry.name.lower().endswith(SUPPORTED_SUFFIXES) and entry.is_file()]
    except OSError:
        return  # absent (a build makes it) or unreadable (the lock says so)
    if documents:
        raise IndexWriteError(
            f"{index_dir} holds documents ({documents[0]}{', …' if len(documents) > 1 else ''}), not an index; an index is never "
            f"written among documents: index that folder with qa index {index_dir}, or give the index an empty --index-dir"
        )


def _reusable(manifest: Manifest, spec: ModelSpec, store: StoreTarget | None) -> bool:
    """Whether a build can start from this index: same model, splitter and format, and the store
    asked for (None: any) is the one it has (moving the index to another store embeds everything again)."""
    return (
        manifest.model == spec.name and manifest.splitter_version == SPLITTER_VERSION and manifest.format_version == FORMAT_VERSION
        and (store is None or holds(store, manifest.store))
    )


def _return_freed_memory() -> None:
    """Give memory freed so far back to the system. glibc keeps a freed heap for the process's
    reuse: after a 162,240-passage build dropped its encoder, 140 MB of it stayed in RSS, under
    the BM25 and ANN builds of the commit (peak 647 MB)."""
    import ctypes
    import gc
    from contextlib import suppress

    gc.collect()
    with suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL(None).malloc_trim(0)


def _unchanged(manifest: Manifest, sources: list[SourceFile]) -> bool:
    return manifest.files.stamps() == {s.doc: (s.size, s.mtime_ns) for s in sources}


class _Build:
    def __init__(self, corpus_root, directory, spec, previous, encoder_factory, progress, batch_size, index_policy, store) -> None:
        self.index_policy = index_policy
        self.store = store
        self.corpus_root = corpus_root
        self.directory: IndexDirectory = directory
        self.spec = spec
        self.previous = previous
        self.encoder_factory = encoder_factory
        self.progress = progress
        self.batch_size = batch_size
        self._encoder: Encoder | None = None
        self.model_seconds = 0.0
        self.pending: list[Passage] = []
        self.pending_bytes = 0  # size of the files whose passages wait in self.pending
        self.done_bytes = self.total_bytes = 0
        self.embedded = self.files_embedded = self.files_reused = 0
        self.warnings: list[str] = []  # skipped this run
        self.skipped: list[str] = []  # skipped this run or before, unchanged since
        self.files_renamed = 0
        # Documents gone from the corpus, by the checksum of their bytes: a new path with the same bytes
        # is the same file renamed or moved, whose vectors are moved rather than embedded again.
        self.gone_by_content: dict[str, str] = {}

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            started = time.perf_counter()
            self._encoder = self.encoder_factory(self.spec)
            self.model_seconds = time.perf_counter() - started
        return self._encoder

    def run(self, sources: list[SourceFile], started: float) -> BuildReport:
        self.total_bytes = sum(s.size for s in sources if not self._same_stat(s))
        # The current index, if any, was verified by IndexDirectory.current under the lock this build holds.
        writer = self.directory.begin(self._dimension(), base=self.previous, store=self.store, model=self.spec.name, policy=self.index_policy)
        try:
            present = {source.doc for source in sources}
            gone = [doc for doc in (self.previous.files if self.previous else {}) if doc not in present]
            for doc in gone:
                record = self.previous.files[doc]
                if record.sha256 and record.passages and not record.skipped:
                    self.gone_by_content.setdefault(record.sha256, doc)
            records = {source.doc: self._add_file(writer, source) for source in sources}
            self._flush(writer)
            writer.remove_documents(gone)  # after the files that took their vectors
            if writer.count == 0:
                raise CorpusError(f"no indexable text in corpus folder {self.corpus_root}; the previous index is unchanged")
            dimension = self._dimension()
            # The encoder (onnxruntime's arena: hundreds of MB) is not needed past this point; let its
            # memory go before the commit builds BM25 and any ANN index.
            self._encoder = None
            _return_freed_memory()
            writer.commit(
                dict(
                    model=self.spec.name,
                    dimension=dimension,
                    splitter_version=SPLITTER_VERSION,
                    corpus_root=str(Path(self.corpus_root).resolve()),
                    files=records,
                )
            )
        except BaseException:
            writer.abort()
            raise
        return BuildReport(
            files=sum(1 for r in records.values() if not r.skipped), files_embedded=self.files_embedded,
            files_reused=self.files_reused, passages=writer.count, passages_embedded=self.embedded,
            seconds=time.perf_counter() - started, changed=True, warnings=self.warnings, model_seconds=self.model_seconds,
            skipped=self.skipped, files_renamed=self.files_renamed,
        )

    def _add_file(self, writer: IndexWriter, source: SourceFile) -> FileRecord:
        """Keep the file's passages and vectors when it is unchanged; otherwise split it for embedding."""
        old = self.previous.files.get(source.doc) if self.previous else None
        if old is not None and self._same_stat(source):
            if old.skipped:
                self.skipped.append(old.skipped)  # said when it was first skipped; counted, not repeated
            else:
                self.files_reused += 1
            return old
        try:
            document = read_document(source, progress=self._reading(source.size))
        except CorpusError as warning:
            writer.remove_documents([source.doc])
            return self._skip(source, str(warning))
        if old is not None and old.sha256 == document.sha256:
            self.files_reused += 1
            self._advance(source.size)
            return FileRecord(document.sha256, source.size, source.mtime_ns, old.passages)
        writer.remove_documents([source.doc])
        layout = split_document(source.doc, document.text, extracted=document.extracted)
        if not layout.passages:
            return self._skip(source, f"{source.doc}: skipped, no text to index (all of it is page furniture)")
        if old is None and self._moved(writer, document.sha256, layout.passages):
            self.files_reused += 1
            self.files_renamed += 1
            self._advance(source.size)
            return FileRecord(document.sha256, source.size, source.mtime_ns, len(layout.passages))
        self.files_embedded += 1
        self.pending.extend(layout.passages)
        self.pending_bytes += source.size
        if len(self.pending) >= self.batch_size * 4:
            self._flush(writer)
        return FileRecord(document.sha256, source.size, source.mtime_ns, len(layout.passages))

    def _moved(self, writer: IndexWriter, sha256: str, passages: list[Passage]) -> bool:
        """Add a new file's passages with the vectors of a gone file with the same bytes (a rename or
        a move), when the encoder would see the same texts (a title taken from the file's name
        would differ); whether it did."""
        import numpy as np

        doc = self.gone_by_content.get(sha256)
        index = writer.base_index
        if doc is None or index is None:
            return False
        rows = rows_of_document(index.passages, doc)
        before = [index.passages[row] for row in rows]
        if [p.embedding_text() for p in before] != [p.embedding_text() for p in passages] or [p.title for p in before] != [p.title for p in passages]:
            return False
        ids = index.ids[rows]
        sentence_vectors, owners = writer.store.sentence_vectors(ids)
        vectors = np.array(writer.store.vectors(ids), dtype=np.float32)  # copied out of the generation being replaced
        writer.add(passages, vectors, np.array(sentence_vectors, dtype=np.float32), np.bincount(owners, minlength=len(ids)).tolist())
        del self.gone_by_content[sha256]
        return True

    def _skip(self, source: SourceFile, why: str) -> FileRecord:
        self.warnings.append(why)
        self.skipped.append(why)
        self._advance(source.size)
        return FileRecord("", source.size, source.mtime_ns, 0, skipped=why)

    def _reading(self, size: int):
        """Progress within a file being read (a long PDF, a scan read by OCR), so that the count
        moves while it is read: reading is taken as half of a file's work, embedding the rest."""
        if not self.progress:
            return None
        progress = self.progress

        def report(done: int, total: int) -> None:
            if total > 1:
                progress(self.done_bytes + self.pending_bytes + size * done // (2 * total), self.total_bytes)

        return report

    def _advance(self, size: int) -> None:
        self.done_bytes += size
        if self.progress:
            self.progress(self.done_bytes, self.total_bytes)

    def _same_stat(self, source: SourceFile) -> bool:
        old = self.previous.files.get(source.doc) if self.previous else None
        return old is not None and (old.size, old.mtime_ns) == (source.size, source.mtime_ns)

    def _dimension(self) -> int:
        return self.previous.dimension if self.previous else self.encoder.dimension

    def _flush(self, writer: IndexWriter) -> None:
        while self.pending:
            batch, self.pending = self.pending[: self.batch_size * 4], self.pending[self.batch_size * 4 :]
            writer.add(batch, *encode_passages(self.encoder, batch, self.batch_size))
            self.embedded += len(batch)
        self._advance(self.pending_bytes)
        self.pending_bytes = 0
