"""`qa mcp`: the collections served to AI agents over the Model Context Protocol (the official
`mcp` SDK, 2.x): on standard input and output by default, or as streamable HTTP on 127.0.0.1.

Tools (each with a JSON schema for its structured output):
- `search(query, collections?, k?, mode?)`: passages, ranked as `qa ask` ranks them across the
  collections, each with its collection, document, title, date, section, page, character span, text,
  score and a stable id;
- `answer(question, collections?)`: the answer's sentences with their citations, or, when the
  documents do not answer, that said plainly and the closest passages labelled as not an answer;
- `get_passage(id, neighbours?)`: a passage by its id, with the passages around it in its document;
- `list_collections()`: what can be asked.

A passage's id is its address, `qa://COLLECTION/DOC#START-END` (DOC percent-encoded): stable while
the passage's text stays where it is, through updates and full rebuilds alike, and readable as a
resource: `qa://COLLECTION/DOC` is a document's whole text, `#START-END` a span of it (the text the
citations' offsets index). The model loads once, at start; a call waits for the one before it. Each
call first moves to any new generation of an index (`qa watch` or `qa index` committed one), so the
server follows its folders without a restart. Bad input gets an MCP error with one plain line:
never a traceback, never a dead server.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from contextlib import redirect_stdout, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import quote, unquote

from pydantic import Field

from qa.errors import IndexMissingError, QAError
from qa.ranking import DEFAULT_MODE, MODES

if TYPE_CHECKING:
    from qa.bot import Bot
    from qa.catalog import Catalog, Collection
    from qa.schema import Answer, Hit, Passage

SCHEME = "qa"
MAX_K = 50
MAX_NEIGHBOURS = 5
DEFAULT_K = 5
INSTRUCTIONS = (
    "Search and cite the user's own documents, kept in named collections. search finds passages (with a stable id "
    "and exact character offsets into the source file); answer quotes the sentences that answer a question, each "
    "citing its passage, or says plainly that the documents do not answer; get_passage reads a passage and its "
    "neighbours by id; list_collections tells what can be searched. Cite passages by their id (qa://...)."
)


class ToolProblem(QAError):
    """A call that cannot be served as asked; its message is one line for the caller."""


# -- what the tools return ---------------------------------------------------------------------


@dataclass(frozen=True)
class PassageOut:
    """A passage of a collection: where it is (document, page, character span), what it says, and
    its id (qa://COLLECTION/DOC#START-END, also the URI of its text as a resource)."""

    id: str
    collection: str
    doc: str
    title: str
    date: str | None
    section: str | None
    page: int | None
    start: int
    end: int
    text: str
    score: float | None = None  # the ranking mode's score (search and answer); None when read by id
    rank: int | None = None


@dataclass(frozen=True)
class SearchResult:
    query: str
    mode: str
    collections: list[str]
    passages: list[PassageOut]


@dataclass(frozen=True)
class CitedSentence:
    """A sentence of the answer, quoted from the passage it cites (citation: its rank, from 1)."""

    text: str
    citation: int
    passage_id: str
    start: int  # offsets of the sentence in its document
    end: int


@dataclass(frozen=True)
class AnswerResult:
    question: str
    abstained: bool  # True: the documents do not answer; passages are the closest ones, not an answer
    answer: str
    note: str
    sentences: list[CitedSentence]
    passages: list[PassageOut]
    collections: list[str]


@dataclass(frozen=True)
class PassageInContext:
    passage: PassageOut
    before: list[PassageOut] = field(default_factory=list)  # the passages just before it in its document, in order
    after: list[PassageOut] = field(default_factory=list)


@dataclass(frozen=True)
class CollectionOut:
    name: str
    folder: str
    state: str  # ready, not built (a first build running or interrupted), damaged
    documents: int
    passages: int
    updated: str | None
    store: str
    folder_found: bool


@dataclass(frozen=True)
class CollectionsResult:
    collections: list[CollectionOut]


# -- ids -----------------------------------------------------------------------------------------


def passage_uri(collection: str, doc: str, start: int | None = None, end: int | None = None) -> str:
    """qa://COLLECTION/DOC, with #START-END for a span (a passage's id)."""
    base = f"{SCHEME}://{collection}/{quote(doc, safe='/')}"
    return base if start is None else f"{base}#{start}-{end}"


@dataclass(frozen=True)
class Address:
    collection: str
    doc: str
    span: tuple[int, int] | None


def parse_uri(uri: str) -> Address:
    """The collection, document and span a qa:// URI names (ToolProblem for anything else)."""
    hint = f"passage ids look like {SCHEME}://COLLECTION/DOC#START-END, as search returns them"
    prefix = f"{SCHEME}://"
    if not isinstance(uri, str) or not uri.startswith(prefix) or len(uri) > 4096:
        raise ToolProblem(f"not a {SCHEME}:// address: {str(uri)[:80]!r}; {hint}")
    rest, _, fragment = uri[len(prefix):].partition("#")
    collection, _, doc = rest.partition("/")
    if not collection or not doc:
        raise ToolProblem(f"{uri[:120]!r} names no document; {hint}")
    span = None
    if fragment:
        first, _, last = fragment.partition("-")
        if not (first.isdigit() and last.isdigit()) or int(first) > int(last):
            raise ToolProblem(f"{uri[:120]!r} has no character span START-END after '#'; {hint}")
        span = (int(first), int(last))
    return Address(collection, unquote(doc), span)


# -- the service: the bot, behind a lock, speaking in plain errors ------------------------------


class Service:
    """What the tools do, with the bot they share: one call at a time, every failure a ToolProblem."""

    def __init__(self, bot: Bot, *, follow_catalog: bool = False, catalog: Catalog | None = None, unnamed: str = "index") -> None:
        self.bot = bot
        self.follow_catalog = follow_catalog  # serving every collection: ones added later are served too
        self._catalog = catalog
        self.unnamed = unnamed  # the name an index opened by its folder is served under
        self._lock = threading.Lock()
        self._catalog_stamp: tuple[int, int] | None = None
        self._waiting: dict[str, Collection] = {}  # registered, no complete index yet

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            from qa.catalog import Catalog

            self._catalog = Catalog()
        return self._catalog

    def start(self) -> None:
        """Open the indexes and load the model, before the first call."""
        with self._lock:
            self._follow()
            if self.bot.collections or not self.follow_catalog:
                try:
                    self.bot.load()
                except IndexMissingError:
                    if not self.bot.collections:
                        raise

    # tools

    def search(self, query: str, collections: Sequence[str] | None, k: int, mode: str) -> SearchResult:
        from qa.query import Query
        from qa.ranking import MODES

        text = self._question(query)
        _check_k(k)
        if mode not in MODES:
            raise ToolProblem(f"unknown mode {mode!r}; choose one of: {', '.join(MODES)}")
        with self._lock:
            names = self._asked(collections)
            hits = self._call(lambda: self.bot.search(Query.of(text), k=k, mode=mode, collections=self._internal(names)), names)
        return SearchResult(query=text, mode=mode, collections=names, passages=[self._passage_of(hit) for hit in hits])

    def answer(self, question: str, collections: Sequence[str] | None) -> AnswerResult:
        from qa.query import Query

        text = self._question(question)
        with self._lock:
            names = self._asked(collections)
            answer: Answer = self._call(lambda: self.bot.ask(Query.of(text), k=DEFAULT_K, collections=self._internal(names)), names)
        passages = [self._passage_of(hit) for hit in answer.hits]
        ids = {hit.rank: passage.id for hit, passage in zip(answer.hits, passages, strict=True)}
        if answer.abstained:
            note = "The documents don't answer this question. The passages listed are the closest ones found; they are not an answer."
        else:
            note = "Each sentence is quoted from the passage its citation names: [n] is passages[n-1]."
        return AnswerResult(
            question=text, abstained=answer.abstained, answer=answer.text, note=note,
            sentences=[CitedSentence(s.text, s.citation, ids[s.citation], s.start, s.end) for s in answer.sentences],
            passages=passages, collections=names,
        )

    def get_passage(self, passage_id: str, neighbours: int) -> PassageInContext:
        if not isinstance(neighbours, int) or not 0 <= neighbours <= MAX_NEIGHBOURS:
            raise ToolProblem(f"neighbours must be 0 to {MAX_NEIGHBOURS} (got {neighbours})")
        address = parse_uri(passage_id)
        if address.span is None:
            raise ToolProblem(f"{passage_id[:120]!r} names a document, not a passage: add #START-END, as search returns it")
        with self._lock:
            names = self._asked([address.collection])
            passages = self._call(lambda: self._document_passages(names[0], address.doc), names)
        at = next((n for n, p in enumerate(passages) if (p.start, p.end) == address.span), None)
        if at is None:
            raise ToolProblem(
                f"no passage at characters {address.span[0]}–{address.span[1]} of {address.doc} in {address.collection} "
                "(the document changed since that id was given?); search again"
            )
        shown = [self._out(names[0], p) for p in passages[max(0, at - neighbours) : at + neighbours + 1]]
        middle = min(at, neighbours)
        return PassageInContext(passage=shown[middle], before=shown[:middle], after=shown[middle + 1 :])

    def list_collections(self) -> CollectionsResult:
        from qa.catalog import CollectionState, info

        with self._lock:
            self._follow()
            if not self.bot.collections:
                summary = self.bot.summary() if self._loaded_any() else None
                return CollectionsResult([CollectionOut(
                    self.unnamed, summary.corpus_root if summary else str(self.bot.index_dir), "ready" if summary else CollectionState.NOT_BUILT.value,
                    summary.documents if summary else 0, summary.passages if summary else 0, None, "", True,
                )])
            served = [*self.bot.collections, *self._waiting]
            known = {c.name: c for c in self.catalog.collections()}
            items = [info(known[name]) for name in served if name in known]
        return CollectionsResult([
            CollectionOut(i.name, str(i.collection.folder), i.state.value, i.documents, i.passages,
                          i.updated.isoformat(timespec="seconds") if i.updated else None, i.store, i.folder_found)
            for i in items
        ])

    def document(self, address: Address) -> str:
        """A document's text (as citations index it), or the span of it the address names."""
        with self._lock:
            names = self._asked([address.collection])
            index = self._call(lambda: self.bot.index_of(self._key(names[0])), names)
            record = index.manifest.files.get(address.doc)
            if record is None or record.skipped:
                raise ToolProblem(f"no document {address.doc!r} in collection {address.collection}")
            text = self._call(lambda: self.bot.source_text(address.doc, self._key(names[0])), names)
        if address.span is None:
            return text
        start, end = address.span
        if end > len(text):
            raise ToolProblem(f"{address.doc} has {len(text):,} characters; {start}–{end} is past its end")
        return text[start:end]

    # helpers

    def _question(self, text: object) -> str:
        from qa.query import check_question

        if not isinstance(text, str):
            raise ToolProblem("the query must be a string")
        try:
            return check_question(text)
        except QAError as error:
            raise ToolProblem(str(error)) from None

    def _asked(self, collections: Sequence[str] | None) -> list[str]:
        """The served names a call asks (default: all served), checked."""
        self._follow()
        served = list(self.bot.collections) or [self.unnamed]
        if collections is None or len(collections) == 0:
            if not self.bot.collections and self._waiting and self.follow_catalog:
                raise ToolProblem(self._building_message(list(self._waiting)))
            return served
        if not isinstance(collections, list | tuple) or not all(isinstance(n, str) for n in collections):
            raise ToolProblem("collections must be a list of collection names")
        wanted = list(dict.fromkeys(collections))
        for name in wanted:
            if name in self._waiting:
                raise ToolProblem(self._building_message([name]))
            if name not in served:
                raise ToolProblem(f"no collection named {name!r} is served here; the collections are: {', '.join(served)}")
        return wanted

    def _internal(self, names: Sequence[str]) -> list[str] | None:
        """The bot's collection names for served names (None: the index opened by its folder)."""
        return None if not self.bot.collections else list(names)

    def _key(self, name: str) -> str | None:
        return name if self.bot.collections else None

    def _call(self, work, names: Sequence[str]):
        """work(), its failures said in one line; an index being built (none complete yet) said so."""
        try:
            return work()
        except IndexMissingError as error:
            building = [n for n in names if self._is_building(n)]
            raise ToolProblem(self._building_message(building) if building else str(error)) from None
        except QAError as error:
            raise ToolProblem(str(error)) from None
        except (OSError, KeyError, ValueError) as error:  # a generation replaced while it was read: the next call opens the new one
            raise ToolProblem(f"the index changed while it was read ({error.__class__.__name__}); try again") from None

    def _building_message(self, names: Sequence[str]) -> str:
        return f"collection {', '.join(names)} is being indexed and has no complete index yet; try again when the build ends"

    def _is_building(self, name: str) -> bool:
        from qa.index import IndexDirectory

        place = self.bot.index_dir if not self.bot.collections else next(
            (c.index_dir for c in self.catalog.collections() if c.name == name), None)
        return place is not None and IndexDirectory(Path(place)).is_writing()

    def _follow(self) -> None:
        """Serving every collection: take in collections registered, renamed or removed since."""
        if not self.follow_catalog:
            return
        stamp = self.catalog.stamp()
        if stamp == self._catalog_stamp and self.bot.collections:
            waiting_ready = [c for c in self._waiting.values() if _has_index(c)]
            if not waiting_ready:
                return
        self._catalog_stamp = stamp
        collections = self.catalog.collections()
        ready = [c for c in collections if _has_index(c)]
        self._waiting = {c.name: c for c in collections if not _has_index(c)}
        if ready:
            self.bot.use(ready)
        elif not collections:
            raise ToolProblem("there are no collections yet; make one with: qa index FOLDER")

    def _loaded_any(self) -> bool:
        try:
            self.bot.summary()
        except QAError:
            return False
        return True

    def _document_passages(self, name: str, doc: str) -> list[Passage]:
        from qa.index.passages import rows_of_document

        if self.bot.follow_generations:
            self.bot.refresh()
        index = self.bot.index_of(self._key(name))
        rows = rows_of_document(index.passages, doc)
        if not rows:
            raise ToolProblem(f"no document {doc!r} in collection {name}")
        return [index.passages[row] for row in rows]

    def _passage_of(self, hit: Hit) -> PassageOut:
        return self._out(hit.collection or self.unnamed, hit.passage, score=round(hit.score, 4), rank=hit.rank)

    def _out(self, collection: str, passage: Passage, score: float | None = None, rank: int | None = None) -> PassageOut:
        return PassageOut(
            id=passage_uri(collection, passage.doc, passage.start, passage.end), collection=collection, doc=passage.doc,
            title=passage.title, date=passage.date, section=passage.section, page=passage.page, start=passage.start,
            end=passage.end, text=passage.text, score=score, rank=rank,
        )


def _check_k(k: object) -> None:
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_K:
        raise ToolProblem(f"k must be a whole number from 1 to {MAX_K} (got {k!r})")


def _has_index(collection: Collection) -> bool:
    from qa.index import current_generation

    return current_generation(collection.index_dir) is not None


# -- the MCP server ------------------------------------------------------------------------------


# The tools' parameters, as their JSON schema describes them to the client.
QueryText = Annotated[str, Field(description="what to look for, in plain words (1 to 2,000 characters)")]
QuestionText = Annotated[str, Field(description="the question (1 to 2,000 characters)")]
CollectionNames = Annotated[list[str] | None, Field(description="collections to search (default: every one served); list_collections names them")]
Depth = Annotated[int, Field(description=f"how many passages (1 to {MAX_K})")]
ModeName = Annotated[str, Field(description=f"ranking mode: {', '.join(MODES)} (default {DEFAULT_MODE}, the best measured)")]
PassageId = Annotated[str, Field(description="the passage's id, as search returns it")]
Neighbours = Annotated[int, Field(description=f"passages to include before and after it (0 to {MAX_NEIGHBOURS})")]


def build_server(service: Service):
    """The MCP server (mcp.server.MCPServer) whose tools and resources call the service."""
    from mcp.server import MCPServer
    from mcp.server.mcpserver.exceptions import ResourceError, ToolError
    from mcp.types import ToolAnnotations

    from qa import __version__

    server = MCPServer("qa", instructions=INSTRUCTIONS, version=__version__, log_level="WARNING")
    read_only = ToolAnnotations(read_only_hint=True, open_world_hint=False)

    def tool_errors(work):
        try:
            return work()
        except QAError as error:
            raise ToolError(str(error)) from None
        except Exception as error:  # never a traceback to the caller, never a dead server
            raise ToolError(f"internal error ({error.__class__.__name__}); the server goes on") from None

    @server.tool(annotations=read_only, description=(
        "Find the passages of the user's documents that best match a query, ranked as one list across the collections. "
        "Each passage has its collection, document, title, date, section, page, exact character span, text, score and a "
        "stable id (qa://...) for get_passage and citations."))
    def search(query: QueryText, collections: CollectionNames = None, k: Depth = DEFAULT_K, mode: ModeName = DEFAULT_MODE) -> SearchResult:
        return tool_errors(lambda: service.search(query, collections, k, mode))

    @server.tool(annotations=read_only, description=(
        "Answer a question with sentences quoted from the user's documents, each citing the passage it is from. When the "
        "documents don't answer, says so (abstained: true) and lists the closest passages, which are not an answer."))
    def answer(question: QuestionText, collections: CollectionNames = None) -> AnswerResult:
        return tool_errors(lambda: service.answer(question, collections))

    @server.tool(annotations=read_only, description=(
        "Read a passage by its id (qa://COLLECTION/DOC#START-END, from search or answer), with the passages around it "
        "in its document."))
    def get_passage(id: PassageId, neighbours: Neighbours = 1) -> PassageInContext:
        return tool_errors(lambda: service.get_passage(id, neighbours))

    @server.tool(annotations=read_only, description="The collections that can be searched: name, folder, documents, passages, last update, store.")
    def list_collections() -> CollectionsResult:
        return tool_errors(service.list_collections)

    def read(address: Address) -> str:
        try:
            return service.document(address)
        except QAError as error:
            raise ResourceError(str(error)) from None

    @server.resource(f"{SCHEME}://{{collection}}/{{+doc}}#{{span}}", name="passage", mime_type="text/plain", description=(
        "The text of a span of a document (a passage's id names one): characters START to END of its text."))
    def span(collection: str, doc: str, span: str) -> str:
        return read(parse_uri(passage_uri(collection, doc) + f"#{span}"))

    @server.resource(f"{SCHEME}://{{collection}}/{{+doc}}", name="document", mime_type="text/plain", description=(
        "A document's whole text, as the citations' character offsets index it."))
    def document(collection: str, doc: str) -> str:
        return read(Address(collection, doc, None))

    return server


def http_security(port: int):
    """What the HTTP transport accepts: requests to 127.0.0.1 or localhost on this port only (Host),
    from no browser page but this server's own origin (Origin): no DNS rebinding, no other site."""
    from mcp.server.transport_security import TransportSecuritySettings

    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[f"127.0.0.1:{port}", f"localhost:{port}"],
        allowed_origins=[f"http://127.0.0.1:{port}", f"http://localhost:{port}"],
    )


def serve(bot: Bot, *, http: bool = False, port: int = 8765, all_collections: bool = False) -> int:
    """Run the server until the client closes it (stdio) or Ctrl+C (HTTP)."""
    from qa.catalog import default_name

    service = Service(bot, follow_catalog=all_collections, unnamed=default_name(bot.index_dir) if not bot.collections else "index")
    with redirect_stdout(sys.stderr):  # stdout is the protocol's: whatever loading prints goes to stderr
        service.start()
        server = build_server(service)
    served = ", ".join(bot.collections) or str(bot.index_dir)
    if not http:
        print(f"qa mcp: serving {served} on standard input and output", file=sys.stderr, flush=True)
        server.run("stdio")
        return 0
    security = http_security(port)
    print(f"qa mcp: serving {served} at http://127.0.0.1:{port}/mcp (Ctrl+C stops)", file=sys.stderr, flush=True)
    with suppress(KeyboardInterrupt):
        server.run("streamable-http", host="127.0.0.1", port=port, transport_security=security)
    return 0
