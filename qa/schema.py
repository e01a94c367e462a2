"""The records that flow through the library: Passage → Hit → Answer."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace


@dataclass(frozen=True, slots=True)
class Passage:
    """A paragraph (or a window of a long one) with an exact citation into its source."""

    doc: str  # path relative to the corpus root, with forward slashes
    title: str
    date: str | None  # ISO YYYY-MM-DD
    section: str | None
    start: int  # source_text[start:end] == text
    end: int
    text: str
    page: int | None = None  # 1-based page of a paged document (PDF); None for others
    ocr: float | None = None  # read by OCR from a scanned page: the engine's confidence (0-1); None for a text layer

    @property
    def page_label(self) -> str | None:
        """How citations name the page: "p. 3" (None when the document has no pages)."""
        return f"p. {self.page}" if self.page is not None else None

    @property
    def location(self) -> str:
        """The document and, when it has pages, the page: "report.pdf, p. 3"."""
        return f"{self.doc}, {self.page_label}" if self.page is not None else self.doc

    @property
    def id(self) -> str:
        return f"{self.doc}:{self.start}-{self.end}"

    def embedding_text(self) -> str:
        """What the encoder sees: the span, preceded by its context. The citation stays the span."""
        context = " · ".join(part for part in (self.title, self.section) if part)
        return f"{context}\n{self.text}" if context else self.text

    def to_dict(self) -> dict:
        data = asdict(self)
        if self.ocr is None:
            del data["ocr"]  # passages read from a text layer are written as before
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Passage:
        return cls(
            doc=str(data["doc"]),
            title=str(data["title"]),
            date=data.get("date"),
            section=data.get("section"),
            start=int(data["start"]),
            end=int(data["end"]),
            text=str(data["text"]),
            page=int(data["page"]) if data.get("page") is not None else None,
            ocr=float(data["ocr"]) if data.get("ocr") is not None else None,
        )


@dataclass(frozen=True, slots=True)
class Hit:
    """A passage ranked for a question."""

    rank: int  # 1-based
    score: float
    passage: Passage
    passage_id: int | None = None  # the vector store's id of the passage, when it came from a search
    # Cosine of each of the passage's sentences ("title\nsentence", as indexed) to the question, in
    # order; empty when they were not looked up (qa.pipeline.answer looks them up for the top hits).
    sentence_scores: tuple[float, ...] = ()
    # The named collection the passage is from (qa.catalog); None for an index opened by its folder.
    collection: str | None = None

    def to_dict(self) -> dict:
        """rank, score, the passage's fields, and its collection when it has one (an index opened by
        its folder gives the records it always gave)."""
        named = {"collection": self.collection} if self.collection is not None else {}
        return {"rank": self.rank, "score": round(self.score, 4), **named, **self.passage.to_dict()}


@dataclass(frozen=True, slots=True)
class Closeness:
    """How close the index comes to what is asked, in dense cosines: on the same scale whatever the
    ranking mode, so the abstention decision can read them."""

    passage: float  # cosine of the closest passage
    sentence: float = 0.0  # cosine of the closest single sentence ("title\nsentence") of any passage
    # The closest passage's cosine less the mean of the next few: a question one passage answers
    # stands out; one the corpus only touches on finds many passages about as close.
    margin: float = 0.0


@dataclass(frozen=True, slots=True)
class AnswerSentence:
    """One extracted sentence of an answer and the hit (1-based rank) it is quoted from."""

    text: str
    citation: int
    start: int  # offsets of the sentence in the source document
    end: int


@dataclass(frozen=True, slots=True)
class Answer:
    question: str
    sentences: tuple[AnswerSentence, ...]
    hits: tuple[Hit, ...]
    abstained: bool
    search_ms: float = 0.0
    history: tuple[str, ...] = field(default=())
    # The abstention model's probability that the documents answer the question (qa.abstention);
    # None when no shown passage had a sentence to quote. The bot abstains below its threshold.
    confidence: float | None = None

    @property
    def text(self) -> str:
        if self.abstained:
            return "The documents don't answer this question."
        return " ".join(f"{s.text} [{s.citation}]" for s in self.sentences)

    def distinct_passages(self) -> Answer:
        """The answer with each passage text cited once per document: a document that repeats a
        line (a list given twice) yields two hits with the same text; the later one is dropped, the
        hits renumbered and the sentences' [n] moved to the kept ones."""
        kept: list[Hit] = []
        new_rank: dict[int, int] = {}
        seen: dict[tuple[str, str], int] = {}
        for hit in self.hits:
            key = (hit.passage.doc, " ".join(hit.passage.text.split()))
            if key in seen:
                new_rank[hit.rank] = seen[key]
                continue
            rank = len(kept) + 1
            seen[key] = new_rank[hit.rank] = rank
            kept.append(replace(hit, rank=rank))
        if len(kept) == len(self.hits):
            return self
        sentences: list[AnswerSentence] = []
        for sentence in self.sentences:
            moved = replace(sentence, citation=new_rank.get(sentence.citation, sentence.citation))
            if moved not in sentences:
                sentences.append(moved)
        return replace(self, hits=tuple(kept), sentences=tuple(sentences))

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "answer": self.text,
            "abstained": self.abstained,
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "passages": [hit.to_dict() for hit in self.hits],
        }
