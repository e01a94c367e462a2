"""The library's front door for asking: open an index, or several named collections asked as one
(updating each when its corpus changed), ask questions, move to a new generation of an index when a
build (`qa watch`, `qa index`) commits one, re-index. The chat, `qa ask` and `qa mcp` ask through it;
building, inspecting and benchmarking have their own entry points (qa.index, qa.inspection, qa.eval)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from qa import lexicon, pipeline, settings
from qa.answer import AnswerPolicy
from qa.chunking import SPLITTER_VERSION
from qa.corpus import read_source
from qa.encoders import Encoder, ModelSpec, load_encoder, resolve_model
from qa.errors import IndexMismatchError, IndexMissingError, QAError
from qa.index import (
    FORMAT_VERSION,
    BuildReport,
    EncoderFactory,
    Generation,
    Manifest,
    Progress,
    StoredIndex,
    build_index,
    current_generation,
    load_index,
    read_manifest,
    rebuild_command,
    require_manifest,
    stale_files,
)
from qa.pipeline import NamedIndex
from qa.query import Query
from qa.ranking import DEFAULT_MODE, MODES, Retrievers
from qa.schema import Answer, Hit
from qa.settings import DEFAULT_CORPUS_DIR

if TYPE_CHECKING:
    from qa.catalog import Catalog, Collection

DEFAULT_K = 5

Notice = Callable[[str], None]
_T = TypeVar("_T")


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
    """What an index holds, as the chat's header and `qa index` count it (several collections: their
    sums, corpus_root their folders joined by ", ", and collections their names)."""

    corpus_root: str
    documents: int  # files indexed (a file without text is skipped, so each has passages)
    skipped: int  # files found in the corpus but not indexed (unreadable, binary, no text)
    passages: int
    collections: tuple[str, ...] = ()  # the named collections it counts, in the order asked; () for an index opened by its folder
    corpus_found: bool = True  # False when a corpus folder is gone: answers still come, its sources cannot be read


@dataclass(frozen=True)
class _Place:
    """An index to open: its collection's name and documents folder (None for an index named by its
    folder) and its folder."""

    name: str | None
    index_dir: Path
    documents: Path | None = None


@dataclass
class _Opened:
    """One opened index: the generation it holds and its ranking modes."""

    place: _Place
    index: StoredIndex
    retrievers: Retrievers
    generation: Generation | None
    stale: bool = field(default=False)  # a newer generation could not be opened (said once)
    idf: dict[str, float] | None = None  # the answer's IDF table, read when first asked


class Bot:
    """Answers questions from one index, or from several named collections as one (qa.catalog).
    load() does the slow part (indexes and model) once; each question first moves any index whose
    build committed a new generation to it (one stat per index: refresh())."""

    def __init__(
        self,
        index_dir: Path | None = None,
        model: str | None = None,
        *,
        collections: Sequence[Collection] = (),
        notice: Notice = _ignore,
        encoder_factory: EncoderFactory = load_encoder,
        policy: AnswerPolicy | None = None,
        auto_update: bool = True,
        mode: str = DEFAULT_MODE,
        follow_generations: bool = True,
    ) -> None:
        if collections and index_dir is not None:
            raise ValueError("give an index directory or collections, not both")
        self.model = model
        self.notice = notice
        self.encoder_factory = encoder_factory
        self.policy = policy or AnswerPolicy.configured()  # the fitted one, at $QA_ABSTAIN_BELOW when set
        self.auto_update = auto_update
        self.mode = mode
        self.follow_generations = follow_generations
        self._places: tuple[_Place, ...] = ()
        self._opened: dict[_Place, _Opened] = {}
        self._encoder: Encoder | None = None
        self._idf: tuple[tuple[_Opened, ...], dict[str, float]] | None = None  # the combined IDF of the parts last asked together
        if collections:
            self.use(collections)
        else:
            self._places = (_Place(None, Path(index_dir) if index_dir is not None else settings.index_dir()),)

    @classmethod
    def for_collections(cls, choices: Sequence[str] = ("all",), *, catalog: Catalog | None = None, **options) -> Bot:
        """A bot over the named collections that choices name (names, 'all', or folders a collection
        holds: qa.catalog.Catalog.resolve). options: as Bot's."""
        from qa.catalog import Catalog

        return cls(collections=(catalog or Catalog()).resolve(choices), **options)

    # -- what it asks -------------------------------------------------------------------------

    @property
    def index_dir(self) -> Path:
        """The index directory (the first collection's, when there are several)."""
        return self._places[0].index_dir

    @property
    def collections(self) -> tuple[str, ...]:
        """The names of the collections it asks, in order; () for an index opened by its folder."""
        return tuple(place.name for place in self._places if place.name is not None)

    def use(self, collections: Sequence[Collection]) -> None:
        """Ask these collections from now on: those already open stay open (the model too), the
        others open at the next question or load()."""
        if not collections:
            raise QAError("choose at least one collection")
        self._places = tuple(_Place(c.name, Path(c.index_dir), Path(c.folder)) for c in collections)
        self._opened = {place: opened for place, opened in self._opened.items() if place in self._places}

    @property
    def manifest(self) -> Manifest:
        return self.index.manifest

    @property
    def index(self) -> StoredIndex:
        """The loaded index: its manifest, passages and vector store (the first collection's)."""
        return self._part(self._places[0]).index

    def index_of(self, collection: str | None) -> StoredIndex:
        """The loaded index of a collection it asks (QAError naming them for another)."""
        return self._part(self._place_of(collection)).index

    def retrievers_of(self, collection: str | None = None) -> Retrievers:
        """The ranking modes over one loaded index (the only one, or a collection it asks)."""
        return self._part(self._place_of(collection)).retrievers

    def _loaded_retrievers(self) -> Retrievers:  # the name tests and benchmarks knew
        return self._part(self._places[0]).retrievers

    def _loaded_index(self) -> StoredIndex:
        return self.index

    def summary(self) -> IndexSummary:
        parts = [self.summary_of(place.name) for place in self._places]
        if len(parts) == 1:
            return parts[0]
        return IndexSummary(
            ", ".join(p.corpus_root for p in parts), sum(p.documents for p in parts), sum(p.skipped for p in parts),
            sum(p.passages for p in parts), self.collections, corpus_found=all(p.corpus_found for p in parts),
        )

    def summary_of(self, collection: str | None) -> IndexSummary:
        """What one collection it asks holds."""
        place = self._place_of(collection)
        manifest = self._part(place).index.manifest
        named = (place.name,) if place.name is not None else ()
        return IndexSummary(manifest.corpus_root, manifest.document_count, manifest.skipped_count, manifest.passage_count, named,
                            corpus_found=Path(manifest.corpus_root).is_dir())

    # -- loading ------------------------------------------------------------------------------

    def load(self, progress: Progress | None = None) -> Bot:
        """Open every index it asks (updating each first if its corpus changed) and the model that built
        them. progress hears an update's count as reindex's does (bytes embedded, of those to embed)."""
        for place in self._places:
            self._opened[place] = self._load(place, progress)
        self._check_same_model()
        return self

    def refresh(self) -> tuple[str | None, ...]:
        """Move every open index whose build committed a new generation to it; the collections it
        moved (None for an index opened by its folder). A generation that cannot be opened (its
        index was removed, or is damaged) leaves the one open in place, said once through notice."""
        moved = []
        for place, opened in list(self._opened.items()):
            generation = current_generation(place.index_dir)
            if generation == opened.generation:
                continue
            try:
                self._opened[place] = self._open_generation(place, generation)
            except QAError as error:
                if not opened.stale:
                    self.notice(f"Could not open the new index of {place.name or place.index_dir} ({error}); answering from the one open.")
                opened.stale, opened.generation = True, generation
                continue
            moved.append(place.name)
        return tuple(moved)

    def _load(self, place: _Place, progress: Progress | None = None) -> _Opened:
        generation = current_generation(place.index_dir)  # before the manifest is read: a later commit is seen as new
        try:
            manifest = require_manifest(place.index_dir)
        except IndexMissingError:
            if place.name is None:
                raise
            raise IndexMissingError(f"collection {place.name} has no index yet; build it with: qa index {place.documents}") from None
        self._check_model(place, manifest)
        opened: tuple[StoredIndex, Encoder] | None = None
        reason = _outdated(manifest) if self.auto_update else None
        if self.auto_update and reason is None:
            from concurrent.futures import ThreadPoolExecutor

            # Checking for changed files stats every file of the corpus, mostly in system calls that
            # release the GIL: the index and the model load meanwhile.
            with ThreadPoolExecutor(max_workers=1) as pool:
                check = pool.submit(stale_files, manifest)
                try:
                    opened = self._open(place, manifest)
                except QAError:
                    if not check.result():
                        raise  # a damaged index of an unchanged corpus: its message names the fix
                reason = _changed(check.result())
        built = reason is not None and self._update(place, manifest, reason, progress)
        if built:
            generation = current_generation(place.index_dir)
        index, encoder = self._open(place, None) if built else opened or self._open(place, manifest)
        return _Opened(place, index, Retrievers(index, encoder), generation)

    def _open_generation(self, place: _Place, generation: Generation | None) -> _Opened:
        index, encoder = self._open(place, None)
        return _Opened(place, index, Retrievers(index, encoder), generation)

    def _open(self, place: _Place, manifest: Manifest | None) -> tuple[StoredIndex, Encoder]:
        """The index (from this manifest, just read, or the current one) and its model's encoder."""
        index = load_index(place.index_dir, manifest=manifest)
        spec = resolve_model(index.manifest.model)
        encoder = self._shared_encoder(spec)
        if encoder.dimension != index.manifest.dimension:
            raise IndexMismatchError(
                f"model {spec.name} makes {encoder.dimension}-dimensional vectors but the index holds "
                f"{index.manifest.dimension}; {rebuild_command(place.index_dir, index.manifest)}"
            )
        return index, encoder

    modes = tuple(MODES)

    # -- asking -------------------------------------------------------------------------------

    def ask(
        self, question: str | Query, history: Sequence[str] = (), k: int = DEFAULT_K, mode: str | None = None,
        collections: Sequence[str] | None = None,
    ) -> Answer:
        """Answer a question: its text (checked: QuestionError when empty or too long) with history,
        the conversation's earlier questions, oldest first, read only when it leans on them; or a
        Query already made (Query.of), which carries its own.
        mode picks a retrieval mode for this question only (default: self.mode); collections, some
        of the collections it asks, for this question only (default: all of them)."""
        query = question if isinstance(question, Query) else Query.of(question, history)

        def asked() -> Answer:
            parts = self._asked(collections)
            indexes = [NamedIndex(part.place.name, part.retrievers) for part in parts]
            return pipeline.ask_across(indexes, query, mode=mode or self.mode, k=k, idf=self._document_frequencies(parts), policy=self.policy)

        return self._again_if_replaced(asked)

    def search(
        self, question: str | Query, history: Sequence[str] = (), k: int = DEFAULT_K, mode: str | None = None,
        collections: Sequence[str] | None = None,
    ) -> list[Hit]:
        """The k best passages for a question, ranked as ask ranks them, without composing an answer."""
        query = question if isinstance(question, Query) else Query.of(question, history)

        def searched() -> list[Hit]:
            indexes = [NamedIndex(part.place.name, part.retrievers) for part in self._asked(collections)]
            return pipeline.search_across(indexes, query, mode=mode or self.mode, k=k)

        return self._again_if_replaced(searched)

    def _again_if_replaced(self, work: Callable[[], _T]) -> _T:
        """work(), asked once more of the new generation when a build replaced the one open while
        work read it (a file it had not opened yet was deleted with its generation)."""
        try:
            return work()
        except (OSError, IndexMismatchError):
            if not self.follow_generations or not self.refresh():
                raise
            return work()

    def _asked(self, collections: Sequence[str] | None) -> list[_Opened]:
        if self.follow_generations:
            self.refresh()
        places = self._places if collections is None else tuple(dict.fromkeys(self._place_of(name) for name in collections))
        if not places:
            raise QAError("choose at least one collection")
        return [self._part(place) for place in places]

    def reindex(self, corpus_dir: Path | None = None, progress: Progress | None = None) -> BuildReport:
        """Bring the index up to date with its corpus folder (or a new one), then reload it. With
        several collections, each is brought up to date with its own folder (corpus_dir: not allowed)."""
        reports = []
        for place in self._places:
            manifest = readable_manifest(place.index_dir)
            if corpus_dir and len(self._places) > 1:
                raise QAError("several collections are open: each is re-indexed from its own folder")
            # A collection is built from its own folder, also when it has no index yet (never the seeds).
            corpus = Path(corpus_dir) if corpus_dir else place.documents or corpus_of(manifest)
            model = self.model or (manifest.model if manifest else None)
            reports.append(build_index(corpus, place.index_dir, model, encoder_factory=self._shared_encoder, progress=progress))
        self.load()
        return reports[0] if len(reports) == 1 else _summed(reports)

    def skipped_files(self) -> list[str]:
        """Why each corpus file that is not in an index it asks was skipped: one plain line each, as
        `qa index --verbose` lists them."""
        return [record.skipped for place in self._places for record in self._part(place).index.manifest.files.values() if record.skipped]

    def source_text(self, doc: str, collection: str | None = None) -> str:
        """The whole text of a document, as its passages' offsets refer to it; collection: the one it
        is in, when several are open (else the first that holds it)."""
        if collection is None and len(self._places) > 1:
            holding = next((p for p in self._places if doc in self._part(p).index.manifest.files), self._places[0])
            return read_source(Path(self._part(holding).index.manifest.corpus_root), doc)
        return read_source(Path(self.index_of(collection).manifest.corpus_root), doc)

    # -- parts --------------------------------------------------------------------------------

    def _place_of(self, collection: str | None) -> _Place:
        if collection is None and len(self._places) == 1:
            return self._places[0]
        for place in self._places:
            if place.name == collection:
                return place
        asked = ", ".join(self.collections) or str(self.index_dir)
        raise QAError(f"collection {collection!r} is not among those open ({asked})")

    def _part(self, place: _Place) -> _Opened:
        if place not in self._opened:
            self._opened[place] = self._load(place)
            self._check_same_model()
        return self._opened[place]

    def _check_same_model(self) -> None:
        models = {opened.index.manifest.model: opened.place for opened in self._opened.values()}
        if len(models) > 1:
            (first, one), (second, other) = list(models.items())[:2]
            raise IndexMismatchError(
                f"collections {one.name or one.index_dir} ({first}) and {other.name or other.index_dir} ({second}) were built with "
                f"different models and cannot be asked together; ask them one at a time, or rebuild one with the other's --model"
            )

    def _shared_encoder(self, spec: ModelSpec) -> Encoder:
        if self._encoder is None or self._encoder.name != spec.name:
            self._encoder = self.encoder_factory(spec)
        return self._encoder

    def _check_model(self, place: _Place, manifest: Manifest) -> None:
        if self.model is None:
            return
        wanted = resolve_model(self.model).name
        if wanted != manifest.model:
            raise IndexMismatchError(
                f"the index in {place.index_dir} was built with model {manifest.model}, not {wanted}; "
                + rebuild_command(place.index_dir, manifest, self.model)
            )

    def _update(self, place: _Place, manifest: Manifest, reason: str, progress: Progress | None = None) -> bool:
        """Bring the index up to date; whether that worked (if not, the index as it is still answers)."""
        named = f"The index of {place.name}" if place.name else "The index"
        self.notice(f"{named} is out of date: {reason}; updating it…")
        try:
            # lock_timeout=0: while another build writes, answer from the complete index there is.
            build_index(Path(manifest.corpus_root), place.index_dir, self.model or manifest.model,
                        encoder_factory=self._shared_encoder, lock_timeout=0, progress=progress)
        except QAError as error:
            self.notice(f"Could not update the index ({error}); answering from the index as it is.")
            return False
        return True

    def _document_frequencies(self, parts: Sequence[_Opened]) -> dict[str, float]:
        """The answer's IDF table: the index's, computed by its build; over several, combined (and
        kept until one of them moves to another generation)."""
        for part in parts:
            if part.idf is None:
                part.idf = lexicon.load_idf(part.index.directory, part.index.manifest.lexicon)
        if len(parts) == 1:
            assert parts[0].idf is not None
            return parts[0].idf
        kept = self._idf
        if kept is None or len(kept[0]) != len(parts) or any(a is not b for a, b in zip(kept[0], parts, strict=True)):
            kept = self._idf = (tuple(parts), lexicon.combined_idf([(part.idf or {}, len(part.index.passages)) for part in parts]))
        return kept[1]


def _summed(reports: Sequence[BuildReport]) -> BuildReport:
    return BuildReport(
        files=sum(r.files for r in reports), files_embedded=sum(r.files_embedded for r in reports),
        files_reused=sum(r.files_reused for r in reports), passages=sum(r.passages for r in reports),
        passages_embedded=sum(r.passages_embedded for r in reports), seconds=sum(r.seconds for r in reports),
        changed=any(r.changed for r in reports), warnings=[w for r in reports for w in r.warnings],
        model_seconds=sum(r.model_seconds for r in reports), skipped=[w for r in reports for w in r.skipped],
        files_renamed=sum(r.files_renamed for r in reports),
    )
