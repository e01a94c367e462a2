"""The chat's widgets, one a module: the prompt, an exchange (question and reply), a passage card, the spinner."""

from ui.widgets.exchange import Exchange
from ui.widgets.passage_card import PassageCard, copy_citation
from ui.widgets.prompt import Prompt
from ui.widgets.spinner import Spinner

__all__ = ["Exchange", "PassageCard", "Prompt", "Spinner", "copy_citation"]
