"""A one-line status with a spinner."""

from __future__ import annotations

from rich.text import Text
from textual.timer import Timer
from textual.widgets import Static

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class Spinner(Static):
    """A one-line status with a spinner; static (no timer) when the app does not animate."""

    def __init__(self, label: str = "", *, animate: bool = True, **kwargs) -> None:
        super().__init__("", markup=False, **kwargs)
        self._label = label
        self._frame = 0
        self._spinning = animate
        self._timer: Timer | None = None

    def on_mount(self) -> None:
        self._draw()
        if self._spinning:
            self._timer = self.set_interval(0.08, self._tick)

    def spin(self, spinning: bool) -> None:
        """Pause the animation while the spinner is hidden (no wake-ups when idle)."""
        if self._timer is not None:
            self._timer.resume() if spinning else self._timer.pause()

    def set_label(self, label: str) -> None:
        self._label = label
        self._draw()

    def _tick(self) -> None:
        self._frame = (self._frame + 1) % len(SPINNER)
        self._draw()

    def _draw(self) -> None:
        mark = SPINNER[self._frame] if self._spinning else "…"
        self.update(Text.assemble((mark, "bold"), " ", self._label))
