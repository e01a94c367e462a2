"""Errors the user can act on. Each message is one line naming the problem and, where there is one, the fix."""


class QAError(Exception):
    """Base class: the CLI prints str(error) on one line and exits non-zero."""


class CorpusError(QAError):
    """The corpus folder is missing, empty, or holds nothing readable."""


class QuestionError(QAError):
    """The question is empty or too long."""


class IndexMissingError(QAError):
    """There is no index where one was expected."""


class IndexMismatchError(QAError):
    """The index was built with another model or splitter, or is damaged."""


class IndexWriteError(QAError):
    """The index directory cannot be written."""


class StoreUnavailableError(QAError):
    """The store holding the vectors (a Milvus server or file) cannot be reached or refused the request."""
