"""Ask questions of a folder of documents; get extractive answers with exact citations.

    >>> from qa import Bot
    >>> answer = Bot("embeddings").ask("Who did Kishida meet in London?")
    >>> answer.text, answer.hits[0].passage.doc
"""

from qa.answer import AnswerPolicy
from qa.bot import DEFAULT_K, Bot, IndexSummary
from qa.errors import IndexMismatchError, IndexMissingError, QAError
from qa.index import BuildReport, build_index
from qa.query import MAX_QUESTION_CHARS, Query
from qa.ranking import DEFAULT_MODE, MODES, ModeInfo
from qa.schema import Answer, AnswerSentence, Hit, Passage
from qa.settings import DEFAULT_CORPUS_DIR, DEFAULT_INDEX_DIR

__all__ = [
    "Answer", "AnswerPolicy", "AnswerSentence", "Bot", "BuildReport", "DEFAULT_CORPUS_DIR", "DEFAULT_INDEX_DIR", "DEFAULT_K", "DEFAULT_MODE",
    "Hit", "IndexMismatchError", "IndexMissingError", "IndexSummary", "MAX_QUESTION_CHARS", "MODES", "ModeInfo", "Passage", "QAError", "Query", "build_index",
]
__version__ = "0.1.0"
