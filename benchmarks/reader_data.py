"""The reader's data: SQuAD's tuning and reporting halves as questions over sentences, the folds
of the cross-validation, and the training pairs (real and synthetic near-miss negatives).

Halves (../shared/datasets/README.md): the tuning half is SQuAD v1.1 articles 0-23, with the 8 of
them that SQuAD 2.0's development set also holds read from SQuAD 2.0 (same answerable questions,
plus the unanswerable ones). The reporting half is SQuAD 2.0's other 8 articles and SQuAD v1.1
articles 24-47; only benchmarks/reader_eval.py's `report` step reads it.

Synthetic near misses turn an answerable question into one its answer sentence no longer answers,
the kinds of change SQuAD 2.0's writers made (Rajpurkar et al. 2018): a name swapped for another
of the article, a year or number changed, a negation added or dropped, a word swapped for its
antonym, two names swapped (roles), a content word swapped for another of the article. A real
question paired with the closest sentence of a sibling paragraph is a near miss of retrieval.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from qa.sentences import sentence_spans
from qa.eval.squad import normalize_answer
from qa.text import STOP_WORDS, content_terms, inverse_document_frequencies, words

DATASETS = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets"
SQUAD1 = DATASETS / "squad-dev" / "dev-v1.1.json"
SQUAD2 = DATASETS / "squad2-dev" / "dev-v2.0.json"
TUNING_ARTICLES = range(0, 24)  # of SQuAD v1.1, in file order
SQUAD2_TUNING = (
    "Normans", "Computational_complexity_theory", "Huguenot", "Steam_engine",
    "1973_oil_crisis", "European_Union_law", "Packet_switching", "Warsaw",
)
# Four folds of the tuning half, each with two SQuAD 2.0 articles (so each fold holds unanswerable
# questions) and four SQuAD v1.1-only articles, sized to be about equal.
FOLDS = (
    ("Normans", "Packet_switching", "Super_Bowl_50", "Fresno,_California", "Geology", "Teacher"),
    ("Computational_complexity_theory", "1973_oil_crisis", "Nikola_Tesla", "Southern_California", "Black_Death", "Amazon_rainforest"),
    ("Huguenot", "European_Union_law", "Martin_Luther", "Sky_(United_Kingdom)", "Ctenophora", "Apollo_program"),
    ("Steam_engine", "Warsaw", "Victoria_and_Albert_Museum", "Newcastle_upon_Tyne", "Victoria_(Australia)", "Oxygen"),
)


@dataclass(frozen=True, slots=True)
class Paragraph:
    article: str  # the title, as written in SQuAD ("Steam_engine")
    context: str
    spans: tuple[tuple[int, int], ...]  # its sentences

    @property
    def title(self) -> str:
        return self.article.replace("_", " ")

    @property
    def sentences(self) -> list[str]:
        return [self.context[a:b] for a, b in self.spans]

    def sentence_at(self, offset: int) -> int:
        """The sentence holding character offset (the next one when it falls between two)."""
        for index, (_, end) in enumerate(self.spans):
            if offset < end:
                return index
        return len(self.spans) - 1


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    text: str
    paragraph: Paragraph
    answers: tuple[str, ...]  # gold texts; empty when unanswerable
    gold: frozenset[int]  # sentences holding a gold answer's start
    plausible: frozenset[int]  # unanswerable: sentences holding a plausible answer's start

    @property
    def answerable(self) -> bool:
        return bool(self.gold)

    @property
    def article(self) -> str:
        return self.paragraph.article


@dataclass(frozen=True, slots=True)
class Article:
    title: str
    paragraphs: tuple[Paragraph, ...]
    questions: tuple[Question, ...]
    squad2: bool


def _read_article(raw: dict, squad2: bool) -> Article:
    paragraphs, questions = [], []
    for p in raw["paragraphs"]:
        context = p["context"]
        paragraph = Paragraph(article=raw["title"], context=context, spans=tuple(sentence_spans(context)) or ((0, len(context)),))
        paragraphs.append(paragraph)
        for qa in p["qas"]:
            answers = [] if qa.get("is_impossible") else qa.get("answers", [])
            gold = frozenset(paragraph.sentence_at(int(a["answer_start"])) for a in answers)
            plausible = frozenset(paragraph.sentence_at(int(a["answer_start"])) for a in qa.get("plausible_answers", []))
            questions.append(Question(
                id=str(qa["id"]), text=" ".join(str(qa["question"]).split()), paragraph=paragraph,
                answers=tuple(str(a["text"]) for a in answers), gold=gold, plausible=plausible,
            ))
    return Article(title=raw["title"], paragraphs=tuple(paragraphs), questions=tuple(questions), squad2=squad2)


def tuning_half(squad1: Path = SQUAD1, squad2: Path = SQUAD2) -> list[Article]:
    """The 24 articles of the tuning half, the 8 of SQuAD 2.0 read from SQuAD 2.0."""
    v1 = json.loads(squad1.read_text(encoding="utf-8"))["data"]
    v2 = {a["title"]: a for a in json.loads(squad2.read_text(encoding="utf-8"))["data"] if a["title"] in SQUAD2_TUNING}
    assert set(v2) == set(SQUAD2_TUNING), "the SQuAD 2.0 file lacks tuning articles"
    articles = []
    for number in TUNING_ARTICLES:
        title = v1[number]["title"]
        articles.append(_read_article(v2[title], True) if title in v2 else _read_article(v1[number], False))
    assert {t for fold in FOLDS for t in fold} == {a.title for a in articles}, "FOLDS must partition the tuning half"
    return articles


def reporting_half(squad1: Path = SQUAD1, squad2: Path = SQUAD2) -> tuple[list[Article], list[Article]]:
    """The reporting half: SQuAD 2.0's 8 other articles, and SQuAD v1.1 articles 24-47. For reporting
    figures only, once the reader and its thresholds are fixed."""
    v1 = json.loads(squad1.read_text(encoding="utf-8"))["data"]
    v2 = json.loads(squad2.read_text(encoding="utf-8"))["data"]
    tuning_titles = {a["title"] for a in v1[: TUNING_ARTICLES.stop]}
    squad2_reporting = [_read_article(a, True) for a in v2 if a["title"] not in tuning_titles]
    squad1_reporting = [_read_article(a, False) for a in v1[TUNING_ARTICLES.stop :]]
    assert len(squad2_reporting) == 8 and len(squad1_reporting) == 24
    return squad2_reporting, squad1_reporting


def fold_of(title: str) -> int:
    return next(i for i, fold in enumerate(FOLDS) if title in fold)


def subset(articles: Sequence[Article], *, holdout: int | None = None, only: int | None = None) -> list[Article]:
    """The articles outside fold holdout, or those of fold only."""
    if only is not None:
        return [a for a in articles if fold_of(a.title) == only]
    return [a for a in articles if holdout is None or fold_of(a.title) != holdout]


# ---------------------------------------------------------------------------------------------
# Lexical closeness, to pick the hardest negatives


class ArticleIndex:
    """Per-article vocabulary for the hard negatives and the near-miss questions: IDF over its
    paragraphs, its names and numbers, and its content words."""

    def __init__(self, article: Article) -> None:
        self.article = article
        self.idf = inverse_document_frequencies([p.context for p in article.paragraphs])
        text = "\n".join(p.context for p in article.paragraphs)
        self.names = [n for n, _ in Counter(m.group() for m in _NAME.finditer(text) if not _is_sentence_start(text, m.start())).most_common()]
        self.numbers = sorted({m.group() for m in _NUMBER.finditer(text)})
        self.words = sorted({w for w in words(text) if w.isalpha() and len(w) >= 4 and w not in STOP_WORDS})

        self._terms: dict[str, frozenset[str]] = {}

    def terms(self, text: str) -> frozenset[str]:
        found = self._terms.get(text)
        if found is None:
            found = self._terms[text] = frozenset(content_terms(text))
        return found

    def overlap(self, question: str, sentence: str) -> float:
        """IDF-weighted share of the question's content words that the sentence holds."""
        asked = self.terms(question)
        total = sum(self.idf.get(t, 1.0) for t in asked)
        return sum(self.idf.get(t, 1.0) for t in asked & self.terms(sentence)) / total if total else 0.0


def holds_answer(sentence: str, answers: Iterable[str]) -> bool:
    haystack = f" {normalize_answer(sentence)} "
    return any(f" {g} " in haystack for g in map(normalize_answer, answers) if g)


# ---------------------------------------------------------------------------------------------
# Synthetic near-miss questions

_NAME = re.compile(r"\b[A-Z][\w'’.-]*[a-z][\w'’-]*(?:\s+(?:of|de|da|von|van|the|and|del|la)?\s*[A-Z][\w'’-]*[a-z][\w'’-]*)*")
_NUMBER = re.compile(r"(?<![\w.,])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\w])")
_YEAR = re.compile(r"^(?:1[0-9]\d\d|20\d\d)$")
_WH = frozenset("what which who whom whose when where why how in on at by for from to during after before".split())
_AUXILIARIES = {
    "is": "isn't", "was": "wasn't", "are": "aren't", "were": "weren't", "did": "didn't", "does": "doesn't", "do": "don't",
    "can": "can't", "could": "couldn't", "has": "hasn't", "have": "haven't", "had": "hadn't", "will": "won't",
    "would": "wouldn't", "should": "shouldn't", "must": "mustn't",
}
_NEGATIONS = re.compile(r"\s+(?:not|never)\b|n['’]t\b", re.IGNORECASE)
# General English antonyms; both directions are used.
_ANTONYM_PAIRS = """first last; largest smallest; biggest smallest; most least; more less; highest lowest; high low; before after;
early late; earliest latest; increase decrease; increased decreased; north south; east west; northern southern; eastern western;
major minor; maximum minimum; older younger; oldest youngest; longest shortest; long short; win lose; won lost; start end; began ended;
begin end; open close; opened closed; rise fall; rose fell; positive negative; public private; ancient modern; upper lower; internal external;
success failure; successful unsuccessful; accept reject; accepted rejected; allow prohibit; allowed prohibited; strong weak; strongest weakest;
inside outside; same different; cheap expensive; cheapest most_expensive; best worst; better worse; good bad; large small; big small; heavy light;
fast slow; fastest slowest; hot cold; warm cool; wet dry; rich poor; richest poorest; legal illegal; true false; common rare; commonly rarely;
include exclude; included excluded; import export; imported exported; imports exports; buy sell; bought sold; support oppose; supported opposed;
attack defend; attacked defended; gain loss; gained lost; above below; top bottom; front back; left right; entered left; arrive depart;
arrived departed; birth death; born died; create destroy; created destroyed; built demolished; increase reduce; raised lowered; higher lower;
wider narrower; deep shallow; deepest shallowest; thick thin; simple complex; easy hard; easier harder; hardest easiest; young old; new old;
newest oldest; full empty; first final; male female; men women; man woman; king queen; father mother; son daughter; brother sister; husband wife;
internal foreign; domestic foreign; national international; agree disagree; agreed disagreed; like dislike; love hate; friend enemy; allies enemies;
victory defeat; won defeated; peace war; always never; often rarely; many few; maximum minimum; inner outer; urban rural; majority minority;
lowest highest; primary secondary; direct indirect; official unofficial; legal unlawful; before since; increase fall; dependent independent"""
_ANTONYMS: dict[str, list[str]] = {}
for _pair in _ANTONYM_PAIRS.replace("\n", " ").split(";"):
    _a, _b = (w.replace("_", " ") for w in _pair.split())
    _ANTONYMS.setdefault(_a, []).append(_b)
    _ANTONYMS.setdefault(_b, []).append(_a)
_NUMBER_WORDS = "two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty hundred thousand million billion".split()
NEAR_MISS_KINDS = ("name", "number", "negation", "antonym", "roles", "word")
# How often each kind is tried first, where it applies: SQuAD 2.0's writers swapped entities and
# antonyms most, negated and changed roles less (Rajpurkar et al. 2018, table 2).
NEAR_MISS_WEIGHTS = {"name": 3.0, "number": 3.0, "antonym": 2.0, "negation": 1.5, "roles": 1.5, "word": 1.0}


def _is_sentence_start(text: str, at: int) -> bool:
    before = text[:at].rstrip()
    return not before or before[-1] in ".!?\n\"“"


def _question_names(question: str) -> list[re.Match]:
    """Capitalised names in a question, less its first word (capitalised as any first word is)."""
    first = question.find(" ")
    return [m for m in _NAME.finditer(question) if m.start() > first]


def near_miss(kind: str, question: str, sentence: str, paragraph: str, index: ArticleIndex, rng: random.Random) -> str | None:
    """The question changed by one near-miss kind so that sentence (and most likely paragraph)
    no longer answers it, or None when the kind does not apply."""
    if kind == "name":
        names = [m for m in _question_names(question) if m.group() in sentence]
        if not names:
            return None
        target = rng.choice(names)
        size = len(target.group().split())
        # A name sharing no word with the paragraph: "Nikola" for "Tesla" would still be answered.
        held = set(words(paragraph))
        pool = [n for n in index.names if not set(words(n)) & held and n not in question]
        same = [n for n in pool if len(n.split()) == size]
        pool = same if len(same) >= 3 else pool
        if not pool:
            return None
        return question[: target.start()] + rng.choice(pool[:200]) + question[target.end() :]
    if kind == "number":
        numbers = [m for m in _NUMBER.finditer(question) if m.group() in sentence]
        spelled = [m for m in re.finditer(r"\b(?:" + "|".join(_NUMBER_WORDS) + r")\b", question, re.IGNORECASE)
                   if re.search(rf"\b{m.group()}\b", sentence, re.IGNORECASE)]
        if numbers:
            target = rng.choice(numbers)
            value = target.group()
            for _ in range(20):
                if _YEAR.match(value):
                    new = str(int(value) + rng.choice([-1, 1]) * rng.randint(1, 40))
                else:
                    pool = [n for n in index.numbers if n != value and n not in paragraph]
                    if pool and rng.random() < 0.5:
                        new = rng.choice(pool)
                    else:
                        digits = value.replace(",", "")
                        try:
                            number = float(digits)
                        except ValueError:
                            return None
                        factor = rng.choice([0.5, 2, 3, 10, 1.5, 0.25])
                        changed = number * factor + rng.choice([0, 1, -1])
                        new = f"{changed:,.0f}" if "," in value else (f"{changed:.0f}" if "." not in value else f"{changed:.1f}")
                if new not in paragraph and new != value:
                    return question[: target.start()] + new + question[target.end() :]
            return None
        if spelled:
            target = rng.choice(spelled)
            new = rng.choice([w for w in _NUMBER_WORDS[:11] if w != target.group().lower()])
            return question[: target.start()] + new + question[target.end() :]
        return None
    if kind == "negation":
        if _NEGATIONS.search(question):  # drop the question's own negation
            dropped = _NEGATIONS.sub("", question, count=1)
            return dropped if dropped != question else None
        tokens = question.split(" ")
        for i, token in enumerate(tokens[:6]):
            lowered = token.lower()
            if lowered in _AUXILIARIES:
                if rng.random() < 0.5 or lowered in ("did", "does", "do"):
                    new = _AUXILIARIES[lowered]
                    new = new[0].upper() + new[1:] if token[0].isupper() else new
                    return " ".join(tokens[:i] + [new] + tokens[i + 1 :])
                return " ".join(tokens[: i + 1] + ["not"] + tokens[i + 1 :])
        if len(tokens) > 2 and tokens[0].lower() in ("who", "what", "which") and tokens[1].endswith("ed"):
            return " ".join(tokens[:1] + ["never"] + tokens[1:])
        return None
    if kind == "antonym":
        # Lower-case words only ("the Great Northern War" is a name), and not "how many/much".
        found = [m for m in re.finditer(r"(?<![\w-])[a-z]+(?![\w-])", question) if m.group() in _ANTONYMS
                 and not (m.group() in ("many", "much") and question[: m.start()].lower().endswith("how "))]
        if not found:
            return None
        target = rng.choice(found)
        new = rng.choice(_ANTONYMS[target.group().lower()])
        if re.search(rf"\b{re.escape(new)}\b", sentence, re.IGNORECASE):
            return None  # the sentence says both, so the swap may still be answered
        return question[: target.start()] + new + question[target.end() :]
    if kind == "roles":
        # Exactly two names, both in the sentence: "Who did Edison hire after Tesla left?" and the
        # same with the two swapped ask different things.
        names = [m for m in _question_names(question) if m.group() in sentence]
        if len(names) != 2 or names[0].group() == names[1].group():
            return None
        first, second = names
        return question[: first.start()] + second.group() + question[first.end() : second.start()] + first.group() + question[second.end() :]
    if kind == "word":
        held = set(words(sentence))
        found = [m for m in re.finditer(r"[a-z]{4,}", question) if m.group() not in STOP_WORDS and m.group() in held]
        if not found:
            return None
        target = rng.choice(found)
        lowered_paragraph = set(words(paragraph))
        pool = [w for w in index.words if w not in lowered_paragraph]
        # A word ending as the one it replaces reads more like a real question ("weight" -> "height").
        same_ending = [w for w in pool if w[-2:] == target.group()[-2:]]
        pool = same_ending if len(same_ending) >= 5 else pool
        if not pool:
            return None
        return question[: target.start()] + rng.choice(pool) + question[target.end() :]
    raise ValueError(f"unknown near-miss kind {kind!r}")


# ---------------------------------------------------------------------------------------------
# Training pairs


@dataclass(frozen=True, slots=True)
class Pair:
    question: str
    title: str
    sentence: str
    label: float
    kind: str  # positive, paragraph, sibling, plausible, unanswerable, or a near-miss kind


@dataclass(frozen=True, slots=True)
class Recipe:
    """How many pairs of each kind an answerable or unanswerable question gives per pass."""

    paragraph_negatives: int = 2  # other sentences of the answer's paragraph: the closest, then random
    sibling_negatives: int = 1  # the closest sentence of another paragraph of the article
    near_misses: int = 2  # synthetic near-miss questions paired with the answer sentence
    near_miss_kinds: tuple[str, ...] = NEAR_MISS_KINDS
    unanswerable_repeats: int = 2  # each pass, each unanswerable question gives this many draws of…
    unanswerable_negatives: int = 2  # …its plausible-answer sentence and this many others of its paragraph


def _closest(index: ArticleIndex, question: str, candidates: Sequence[tuple[int, str]]) -> list[int]:
    scored = sorted(candidates, key=lambda c: -index.overlap(question, c[1]))
    return [i for i, _ in scored]


class PairMaker:
    """Draws each pass's pairs from a set of articles; the hard negatives are precomputed once."""

    def __init__(self, articles: Sequence[Article], recipe: Recipe) -> None:
        self.recipe = recipe
        self.items: list[tuple[Question, ArticleIndex, list[int], str | None]] = []
        for article in articles:
            index = ArticleIndex(article)
            sibling_sentences = [(p, s) for p in article.paragraphs for s in p.sentences]
            for q in article.questions:
                paragraph = q.paragraph
                ranked = _closest(index, q.text, list(enumerate(paragraph.sentences)))
                sibling = None
                if q.answerable and recipe.sibling_negatives:
                    best = -1.0
                    for p, s in sibling_sentences:
                        if p is paragraph or holds_answer(s, q.answers):
                            continue
                        score = index.overlap(q.text, s)
                        if score > best:
                            best, sibling = score, s
                self.items.append((q, index, ranked, sibling))

    def draw(self, rng: random.Random) -> list[Pair]:
        recipe, pairs = self.recipe, []
        for q, index, ranked, sibling in self.items:
            paragraph, title = q.paragraph, q.paragraph.title
            sentences = paragraph.sentences
            if q.answerable:
                gold = min(q.gold)
                answer = sentences[gold]
                pairs.append(Pair(q.text, title, answer, 1.0, "positive"))
                others = [i for i in ranked if i not in q.gold and not holds_answer(sentences[i], q.answers)]
                chosen = others[:1] + rng.sample(others[1:], min(len(others) - 1, recipe.paragraph_negatives - 1)) if others else []
                pairs += [Pair(q.text, title, sentences[i], 0.0, "paragraph") for i in chosen[: recipe.paragraph_negatives]]
                if sibling is not None and recipe.sibling_negatives:
                    pairs.append(Pair(q.text, title, sibling, 0.0, "sibling"))
                # Weighted order without replacement: each kind's key is u ** (1 / weight).
                kinds = sorted(recipe.near_miss_kinds, key=lambda k: -rng.random() ** (1.0 / NEAR_MISS_WEIGHTS[k]))
                made = 0
                for kind in kinds:
                    if made >= recipe.near_misses:
                        break
                    changed = near_miss(kind, q.text, answer, paragraph.context, index, rng)
                    if changed and changed != q.text:
                        pairs.append(Pair(changed, title, answer, 0.0, kind))
                        made += 1
            else:
                for _ in range(recipe.unanswerable_repeats):
                    plausible = sorted(q.plausible) or ranked[:1]
                    chosen = [rng.choice(plausible)]
                    rest = [i for i in ranked if i not in chosen]
                    chosen += rest[:1] + rng.sample(rest[1:], min(len(rest) - 1, recipe.unanswerable_negatives - 1)) if rest else []
                    pairs += [Pair(q.text, title, sentences[i], 0.0, "plausible" if i in q.plausible else "unanswerable")
                              for i in chosen[: 1 + recipe.unanswerable_negatives]]
        rng.shuffle(pairs)
        return pairs


def describe(pairs: Sequence[Pair]) -> dict[str, int]:
    return dict(Counter(p.kind for p in pairs).most_common())

