"""The bordered panel of a modal screen."""

from __future__ import annotations

from typing import TypeVar

from textual.widget import Widget

W = TypeVar("W", bound=Widget)


def titled(panel: W, title: str, subtitle: str) -> W:
    """A bordered panel of a modal screen, with its title and the keys that close it."""
    panel.border_title = title
    panel.border_subtitle = subtitle
    return panel
