"""From a question to a cited answer, the one path the bot, `qa bench` and the tuning scripts share:
rank the passages, look up how close the index comes to the question and the cosines of the shown
passages' sentences (whatever the ranking mode), then compose the extractive answer. Several indexes
(named collections asked together) take the same path, ranked as one (`ask_across`)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from qa.answer import AnswerPolicy, compose_answer
from qa.ranking.dense import closeness_of
from qa.schema import Answer, Hit

if TYPE_CHECKING:
    from qa.index import StoredIndex
    from qa.query import Query
    from qa.ranking import DenseRetriever, Ranking, Retriever, Retrievers


def ask(
    retrievers: Retrievers, query: Query, *, mode: str, k: int, idf: Mapping[str, float], policy: AnswerPolicy = AnswerPolicy()
) -> Answer:
    """The bot's answer: the k best passages by mode, and the sentences quoted from them."""
    started = time.perf_counter()
    hits = hits_of(retrievers.index, retrievers.get(mode).rank(query, k)[:k])
    return answer(retrievers, query, hits, idf=idf, policy=policy, search_ms=(time.perf_counter() - started) * 1000)


@dataclass(frozen=True)
class NamedIndex:
    """One of several indexes asked together: its collection's name (None for an index opened by
    its folder) and its ranking modes."""

    name: str | None
    retrievers: Retrievers


def ask_across(
    indexes: Sequence[NamedIndex], query: Query, *, mode: str, k: int, idf: Mapping[str, float], policy: AnswerPolicy = AnswerPolicy()
) -> Answer:
    """The bot's answer from several indexes ranked as one (qa.ranking.merged); each hit names its collection."""
    started = time.perf_counter()
    hits = search_across(indexes, query, mode=mode, k=k)
    search_ms = (time.perf_counter() - started) * 1000
    if len(indexes) == 1:
        return answer(indexes[0].retrievers, query, hits, idf=idf, policy=policy, search_ms=search_ms)
    by_name = {part.name: part.retrievers for part in indexes}
    scored = []
    for hit in hits[: policy.passages_considered]:
        dense = by_name[hit.collection].dense
        scored.append(replace(hit, sentence_scores=dense.sentence_scores(query, [hit.passage_id])[0]) if hit.passage_id is not None else hit)
    hits = [*scored, *hits[policy.passages_considered :]]
    closeness = closeness_of([part.retrievers.dense.nearest(query) for part in indexes])
    return compose_answer(query, hits, idf=idf, policy=policy, search_ms=search_ms, closeness=closeness)


def search_across(indexes: Sequence[NamedIndex], query: Query, *, mode: str, k: int) -> list[Hit]:
    """The k best passages of all the indexes as one ranking, as hits naming their collection."""
    from qa.ranking.merged import rank_across

    placed = rank_across([part.retrievers for part in indexes], query, mode, k)
    return [
        Hit(rank=rank, score=score, passage=indexes[n].retrievers.index.passage(pid), passage_id=pid, collection=indexes[n].name)
        for rank, (n, pid, score) in enumerate(placed, start=1)
    ]


def search(retriever: Retriever, index: StoredIndex, query: Query, k: int = 5) -> list[Hit]:
    """The k best passages for the query, as hits."""
    return hits_of(index, retriever.rank(query, k)[:k])


def hits_of(index: StoredIndex, ranking: Ranking) -> list[Hit]:
    """A ranking's passages as hits, ranked from 1."""
    return [Hit(rank=rank, score=score, passage=index.passage(pid), passage_id=pid) for rank, (pid, score) in enumerate(ranking, start=1)]


def answer(
    retrievers: Retrievers, query: Query, hits: Sequence[Hit], *, idf: Mapping[str, float], policy: AnswerPolicy = AnswerPolicy(),
    search_ms: float = 0.0,
) -> Answer:
    """The answer the bot gives from a question's ranked hits (the benchmark measures exactly this).
    It searches the index once more, for how close its closest passage comes to the question, which
    the abstention decision reads; and the selector reads the dense cosine of each shown sentence."""
    hits = with_sentence_scores(retrievers.dense, query, hits, policy.passages_considered)
    closeness = retrievers.dense.closeness(query)
    # Answer sentences come only from the passages shown, so every [n] has its card; a document that
    # repeats a line gives two hits with the same text, shown once wherever the answer goes.
    return compose_answer(query, hits, idf=idf, policy=policy, search_ms=search_ms, closeness=closeness).distinct_passages()


def with_sentence_scores(dense: DenseRetriever, query: Query, hits: Sequence[Hit], count: int) -> list[Hit]:
    """The hits, the first count of them (those that came from the index) with the cosine of each of
    their sentences to the question, which the sentence selector reads whatever the ranking mode."""
    ids = {hit.rank: hit.passage_id for hit in hits[:count] if hit.passage_id is not None}
    scores = dict(zip(ids, dense.sentence_scores(query, list(ids.values())), strict=True))
    return [replace(hit, sentence_scores=scores[hit.rank]) if hit.rank in scores else hit for hit in hits]
