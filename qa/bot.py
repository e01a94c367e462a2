"""The library's front door for asking: open an index (updating it when its corpus changed), ask
questions, re-index. The chat and `qa ask` ask through it; building, inspecting and benchmarking
have their own entry points (qa.index, qa.inspection, qa.eval)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from qa import lexicon, pipeline, settings
from qa.answer import AnswerPolicy
from qa.chunking import SPLITTER_VERSION
from qa.corpus import read_source
from qa.encoders import Encoder, ModelSpec, load_encoder, resolve_model
from qa.errors import IndexMismatchError, QAError
from qa.index import (
    FORMAT_VERSION,
    BuildReport,
    EncoderFactory,
    Manifest,
    Progress,
    StoredIndex,
    build_index,
    load_index,
    read_manifest,
    rebuild_command,
    require_manifest,
    stale_files,
)
from qa.query import Query
from qa.ranking import DEFAULT_MODE, MODES, Retrievers
from qa.schema import Answer
from qa.settings import DEFAULT_CORPUS_DIR

DEFAULT_K = 5

Notice = Callable[[str], None]


def _ignore(message: str) -> None:
    pass


def readable_manifest(index_dir: Path) -> Manifest | None:
    """The index's manifest, or None when there is none or it is damaged (a build replaces it)."""
    try:
        return read_manifest(index_dir)
    except QAError:
        return None


def corpus_of(manifest: Manifest | None) -> Path:
    """The folder an index was built from, or the default corpus for a new index."""
    return Path(manifest.corpus_root) if manifest else DEFAULT_CORPUS_DIR


def _outdated(manifest: Manifest) -> str | None:
    """Why the index must be rebuilt whatever the corpus holds, or None."""
    if manifest.format_version != FORMAT_VERSION:
        return f"it has index format {manifest.format_version}, this version of qa needs format {FORMAT_VERSION} (sentence vectors)"
    if manifest.splitter_version != SPLITTER_VERSION:
        return "it was split by an older version of the splitter"
    return None


def _changed(files: list[str]) -> str | None:
    if not files:
        return None
    named = ", ".join(files[:3]) + ("…" if len(files) > 3 else "")
    return f"{len(files)} file{'s' if len(files) != 1 else ''} changed since it was built ({named})"


@dataclass(frozen=True)
class IndexSummary:
    """What an index holds, as the chat's header and `qa index` count it."""

    corpus_root: str
    documents: int  # files indexed (a file without text is skipped, so each has passages)
    skipped: int  # files found in the corpus but not indexed (unreadable, binary, no text)
    passages: int
    corpus_found: bool = True  # False when the corpus folder is gone: answers still come, sources cannot be read


class Bot:
    """Answers questions from one index. load() does the slow part (index and model) once."""

    def __init__(
        self,
        index_dir: Path | None = None,
        model: str | None = None,
        *,
        notice: Notice = _ignore,
        encoder_factory: EncoderFactory = load_encoder,
        policy: AnswerPolicy | None = None,
        auto_update: bool = True,
        mode: str = DEFAULT_MODE,
    ) -> None:
        self.index_dir = Path(index_dir) if index_dir is not None else settings.index_dir()
        self.model = model
        self.notice = notice
        self.encoder_factory = encoder_factory
        self.policy = policy or AnswerPolicy.configured()  # the fitted one, at $QA_ABSTAIN_BELOW when set
        self.auto_update = auto_update
        self.mode = mode
        self._index: StoredIndex | None = None
        self._encoder: Encoder | None = None
        self._retrievers: Retrievers | None = None
        self._idf: dict[str, float] | None = None

    @property
    def manifest(self) -> Manifest:
        return self.index.manifest

    @property
    def index(self) -> StoredIndex:
        """The loaded index: its manifest, passages and vector store."""
        return self._loaded_index()

    def summary(self) -> IndexSummary:
        manifest = self.manifest
        return IndexSummary(manifest.corpus_root, manifest.document_count, manifest.skipped_count, manifest.passage_count,
                            corpus_found=Path(manifest.corpus_root).is_dir())

    def load(self, progress: Progress | None = None) -> Bot:
        """Open the index (updating it first if the corpus changed) and the model that built it.
        progress hears an update's count as reindex's does (bytes embedded, of those to embed)."""
        manifest = require_manifest(self.index_dir)
        self._check_model(manifest)
        opened: tuple[StoredIndex, Encoder] | None = None
        reason = _outdated(manifest) if self.auto_update else None
        if self.auto_update and reason is None:
            from concurrent.futures import ThreadPoolExecutor

            # Checking for changed files stats every file of the corpus, mostly in system calls that
            # release the GIL: the index and the model load meanwhile.
            with ThreadPoolExecutor(max_workers=1) as pool:
                check = pool.submit(stale_files, manifest)
                try:
                    opened = self._open(manifest)
                except QAError:
                    if not check.result():
                        raise  # a damaged index of an unchanged corpus: its message names the fix
                reason = _changed(check.result())
        built = reason is not None and self._update(manifest, reason, progress)
        index, encoder = self._open(None) if built else opened or self._open(manifest)
        self._index, self._retrievers, self._idf = index, Retrievers(index, encoder), None
        return self

    def _open(self, manifest: Manifest | None) -> tuple[StoredIndex, Encoder]:
        """The index (from this manifest, just read, or the current one) and its model's encoder."""
        index = load_index(self.index_dir, manifest=manifest)
        spec = resolve_model(index.manifest.model)
        encoder = self._shared_encoder(spec)
        if encoder.dimension != index.manifest.dimension:
            raise IndexMismatchError(
                f"model {spec.name} makes {encoder.dimension}-dimensional vectors but the index holds "
                f"{index.manifest.dimension}; {rebuild_command(self.index_dir, index.manifest)}"
            )
        return index, encoder

    modes = tuple(MODES)

    def ask(self, question: str | Query, history: Sequence[str] = (), k: int = DEFAULT_K, mode: str | None = None) -> Answer:
        """Answer a question: its text (checked: QuestionError when empty or too long) with history,
        the conversation's earlier questions, oldest first, read only when it leans on them; or a
        Query already made (Query.of), which carries its own.
        mode picks a retrieval mode for this question only (default: self.mode)."""
        query = question if isinstance(question, Query) else Query.of(question, history)
        return pipeline.ask(
            self._loaded_retrievers(), query, mode=mode or self.mode, k=k, idf=self._document_frequencies(), policy=self.policy
        )

    def reindex(self, corpus_dir: Path | None = None, progress: Progress | None = None) -> BuildReport:
        """Bring the index up to date with its corpus folder (or a new one), then reload it."""
        manifest = readable_manifest(self.index_dir)
        corpus = Path(corpus_dir) if corpus_dir else corpus_of(manifest)
        model = self.model or (manifest.model if manifest else None)
        report = build_index(corpus, self.index_dir, model, encoder_factory=self._shared_encoder, progress=progress)
        self.load()
        return report

    def skipped_files(self) -> list[str]:
        """Why each corpus file that is not in the index was skipped: one plain line each, as `qa index --verbose` lists them."""
        return [record.skipped for record in self._loaded_index().manifest.files.values() if record.skipped]

    def source_text(self, doc: str) -> str:
        """The whole text of a document, as its passages' offsets refer to it."""
        return read_source(Path(self._loaded_index().manifest.corpus_root), doc)

    def _shared_encoder(self, spec: ModelSpec) -> Encoder:
        if self._encoder is None or self._encoder.name != spec.name:
            self._encoder = self.encoder_factory(spec)
        return self._encoder

    def _check_model(self, manifest: Manifest) -> None:
        if self.model is None:
            return
        wanted = resolve_model(self.model).name
        if wanted != manifest.model:
            raise IndexMismatchError(
                f"the index in {self.index_dir} was built with model {manifest.model}, not {wanted}; "
                + rebuild_command(self.index_dir, manifest, self.model)
            )

    def _update(self, manifest: Manifest, reason: str, progress: Progress | None = None) -> bool:
        """Bring the index up to date; whether that worked (if not, the index as it is still answers)."""
        self.notice(f"The index is out of date: {reason}; updating it…")
        try:
            # lock_timeout=0: while another build writes, answer from the complete index there is.
            build_index(Path(manifest.corpus_root), self.index_dir, self.model or manifest.model,
                        encoder_factory=self._shared_encoder, lock_timeout=0, progress=progress)
        except QAError as error:
            self.notice(f"Could not update the index ({error}); answering from the index as it is.")
            return False
        return True

    def _loaded_index(self) -> StoredIndex:
        if self._index is None:
            self.load()
        assert self._index is not None
        return self._index

    def _loaded_retrievers(self) -> Retrievers:
        if self._retrievers is None:
            self.load()
        assert self._retrievers is not None
        return self._retrievers

    def _document_frequencies(self) -> dict[str, float]:
        if self._idf is None:
            index = self._loaded_index()
            self._idf = lexicon.load_idf(index.directory, index.manifest.lexicon)  # computed by the build
        return self._idf
