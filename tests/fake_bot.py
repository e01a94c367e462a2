"""A deterministic stand-in for qa.Bot, for the chat's tests.

It answers from three small fixed documents with the library's own records (Answer, Hit,
Passage, AnswerSentence), so snapshots do not move when the model, the ranking or the machine changes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from qa import Answer, AnswerPolicy, AnswerSentence, BuildReport, Hit, IndexSummary, Passage, QAError

DOCUMENTS = {
    "london-meeting.txt": (
        "Japan-UK Foreign and Defence Ministers' Meeting\n"
        "\n"
        "January 23, 2015\n"
        "On January 21, Mr. Fumio Kishida, Minister for Foreign Affairs, and Mr. Gen Nakatani, "
        "Minister of Defence, met Mr. Philip Hammond and Mr. Michael Fallon in London. "
        "An overview of the meeting is as follows:\n"
        "1. The two sides shared the view that they would enhance cooperation in security and defence.\n"
        "2. The ministers discussed the situation in Ukraine, North Korea and the South China Sea.\n"
        "3. The four ministers agreed to hold the next meeting in Tokyo at a mutually convenient time.\n"
    ),
    "tokyo-meeting.txt": (
        "Second Japan-UK Foreign and Defence Ministerial Meeting\n"
        "\n"
        "January 8, 2016\n"
        "The ministers met in Tokyo on 8 January 2016 for the second meeting. "
        "They welcomed the progress on the Acquisition and Cross-Servicing Agreement.\n"
        "Attendees included senior officials of both ministries.\n"
    ),
    "notes [bold]x[/].txt": (
        "Notes [link=http://e]y[/link]\n"
        "\n"
        "A passage with [bold]markup[/] and \x1b[31man escape\x1b[0m inside.\n"
    ),
}
TITLES = {
    "london-meeting.txt": ("Japan-UK Foreign and Defence Ministers' Meeting", "2015-01-23", "Overview"),
    "tokyo-meeting.txt": ("Second Japan-UK Foreign and Defence Ministerial Meeting", "2016-01-08", None),
    "notes [bold]x[/].txt": ("Notes [link=http://e]y[/link]", None, "[i]Section[/i]"),
}


def passage(doc: str, snippet: str) -> Passage:
    text = DOCUMENTS[doc]
    start = text.index(snippet)
    title, date, section = TITLES[doc]
    return Passage(doc=doc, title=title, date=date, section=section, start=start, end=start + len(snippet), text=snippet)


def sentence(p: Passage, snippet: str, citation: int) -> AnswerSentence:
    start = DOCUMENTS[p.doc].index(snippet)
    return AnswerSentence(text=snippet, citation=citation, start=start, end=start + len(snippet))


LONDON = passage(
    "london-meeting.txt",
    "On January 21, Mr. Fumio Kishida, Minister for Foreign Affairs, and Mr. Gen Nakatani, Minister of Defence, "
    "met Mr. Philip Hammond and Mr. Michael Fallon in London. An overview of the meeting is as follows:",
)
NEXT = passage(
    "london-meeting.txt", "3. The four ministers agreed to hold the next meeting in Tokyo at a mutually convenient time."
)
TOKYO = passage(
    "tokyo-meeting.txt",
    "The ministers met in Tokyo on 8 January 2016 for the second meeting. "
    "They welcomed the progress on the Acquisition and Cross-Servicing Agreement.",
)
ATTENDEES = passage("tokyo-meeting.txt", "Attendees included senior officials of both ministries.")
MARKUP = passage("notes [bold]x[/].txt", "A passage with [bold]markup[/] and \x1b[31man escape\x1b[0m inside.")

# The stand-in's confidence that the documents answer each kind of question (Answer.confidence);
# it abstains below its policy's threshold, as the library does.
CONFIDENCE = {"london": 0.83, "attend": 0.41, "markup": 0.6, "other": 0.05}
# With collections, each document is in one of two: the London press release in "press", the rest in "notes".
COLLECTION_OF = {"london-meeting.txt": "press", "tokyo-meeting.txt": "notes", "notes [bold]x[/].txt": "notes"}


@dataclass
class FakeManifest:
    corpus_root: str = "/data/corpus"
    model: str = "fake-model"
    passage_count: int = 5
    files: dict = field(default_factory=lambda: dict.fromkeys(DOCUMENTS))
    skipped: int = 1  # a file of the corpus that was not indexed (binary)
    corpus_found: bool = True


class FakeBot:
    """Quacks like qa.Bot for the chat; answers a few known questions, abstains on the rest. With
    collections=("press", "notes"), it asks two named collections, and its hits name theirs."""

    modes = ("fused", "dense", "bm25")

    def __init__(self, *, load_gate: threading.Event | None = None, load_error: Exception | None = None,
                 collections: Sequence[str] = ()) -> None:
        self.index_dir = Path("embeddings")
        self.collections: tuple[str, ...] = tuple(collections)
        self.used: list[tuple[str, ...]] = []  # the names of each use()
        self.moved: tuple[str | None, ...] = ()  # what the next refresh() reports as moved to a new generation
        self.policy = AnswerPolicy()
        self.model = None
        self.mode = "fused"
        self.notice: Callable[[str], None] = lambda message: None
        self.manifest = FakeManifest()
        self.load_gate = load_gate
        self.load_error = load_error
        self.calls: list[tuple[str, tuple[str, ...], int]] = []
        self.modes_asked: list[str | None] = []
        self.loads = 0
        self.documents = dict(DOCUMENTS)
        self.reindexed: list[Path | None] = []  # the corpus_dir of each reindex()  # the corpus as it is now: a test may change a document

    def summary(self) -> IndexSummary:
        manifest = self.manifest
        return IndexSummary(manifest.corpus_root, len(manifest.files), manifest.skipped, manifest.passage_count,
                            self.collections, corpus_found=manifest.corpus_found)

    def summary_of(self, collection: str | None) -> IndexSummary:
        manifest = self.manifest
        docs = [doc for doc in manifest.files if COLLECTION_OF.get(doc) == collection]
        return IndexSummary(f"{manifest.corpus_root}/{collection}", len(docs), 0, len(docs), (collection,) if collection else (),
                            corpus_found=manifest.corpus_found)

    def use(self, collections) -> None:
        self.collections = tuple(c.name for c in collections)
        self.used.append(self.collections)

    def refresh(self) -> tuple[str | None, ...]:
        moved, self.moved = self.moved, ()
        return moved

    def load(self, progress=None) -> FakeBot:
        self.loads += 1
        if self.load_gate is not None:
            self.load_gate.wait(30)
        if self.load_error is not None:
            raise self.load_error
        return self

    def ask(self, question: str, history: Sequence[str] = (), k: int = 5, mode: str | None = None) -> Answer:
        question = question.strip()
        if not question:
            raise QAError("the question is empty")
        self.calls.append((question, tuple(history), k))
        self.modes_asked.append(mode)
        lowered = question.lower()
        if "london" in lowered:
            hits = (Hit(1, 0.61, LONDON), Hit(2, 0.44, TOKYO), Hit(3, 0.32, NEXT))
            sentences = (sentence(LONDON, LONDON.text.split(". An overview")[0] + ".", 1),)
        elif "attend" in lowered:
            hits = (Hit(1, 0.52, ATTENDEES), Hit(2, 0.40, TOKYO))
            sentences = (sentence(ATTENDEES, ATTENDEES.text, 1),)
        elif "markup" in lowered:
            hits = (Hit(1, 0.5, MARKUP),)
            sentences = (sentence(MARKUP, MARKUP.text, 1),)
        else:
            hits = (Hit(1, 0.12, NEXT), Hit(2, 0.08, TOKYO))
            sentences = ()
        kind = next((word for word in ("london", "attend", "markup") if word in lowered), "other")
        confidence = CONFIDENCE[kind]
        if confidence < self.policy.abstention.min_probability:
            sentences = ()
        if self.collections:
            hits = tuple(replace(hit, collection=COLLECTION_OF[hit.passage.doc]) for hit in hits)
        return Answer(
            question=question, sentences=sentences, hits=hits[:k], abstained=not sentences,
            search_ms=12.0, history=tuple(history), confidence=confidence,
        )

    def reindex(self, corpus_dir: Path | None = None, progress=None) -> BuildReport:
        self.reindexed.append(corpus_dir)
        for done in range(0, 101, 25):
            if progress:
                progress(done, 100)
        self.load_error = None
        return BuildReport(files=3, files_embedded=3, files_reused=0, passages=5, passages_embedded=5,
                           seconds=0.1, changed=True)

    def skipped_files(self) -> list[str]:
        return ["scan [1].pdf: no text layer in 3 pages (a scanned PDF? run OCR on it first)"][: self.manifest.skipped]

    def source_text(self, doc: str, collection: str | None = None) -> str:
        if collection is not None and COLLECTION_OF.get(doc) != collection:
            raise QAError(f"{doc}: not in collection {collection}")
        if doc not in self.documents:
            raise QAError(f"{doc}: cannot read (No such file or directory)")  # as qa.corpus.read_source says it
        return self.documents[doc]
