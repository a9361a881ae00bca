"""A small progress bar for long command-line work (exports and imports of a large history)."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TextIO

WIDTH = 30


class ProgressBar:
    """A one-line bar on stderr, redrawn in place; silent when stderr is not a terminal, so logs
    and pipes never fill with carriage returns. Call it with (done, total) as work advances."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self._shown: tuple[int, int] | None = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        filled = WIDTH * min(done, total) // total
        percent = 100 * min(done, total) // total
        if self._shown == (filled, percent):
            return
        self._shown = (filled, percent)
        bar = "#" * filled + "." * (WIDTH - filled)
        self.stream.write(f"\r{self.label} [{bar}] {percent:3d}% ({done:,}/{total:,})")
        self.stream.flush()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._shown is not None:
            self.stream.write("\n")
            self.stream.flush()
