"""Terminal plumbing for live views: redraw a frame in place, read single key presses."""

from __future__ import annotations

import contextlib
import math
import shutil
import termios
import tty
from collections.abc import Iterator
from typing import TextIO

from bot.text_width import display_width

HIDE_CURSOR = "\x1b[?25l"
SHOW_CURSOR = "\x1b[?25h"
CLEAR_BELOW = "\x1b[J"


class Screen:
    """Shows successive frames: redrawn over the last one on a terminal (ANSI), else
    appended, blank-line separated, and only when the text changed."""

    def __init__(self, out: TextIO, *, in_place: bool) -> None:
        self._out = out
        self._in_place = in_place
        self._last: str | None = None
        self._rows = 0

    @property
    def in_place(self) -> bool:
        return self._in_place

    def show(self, frame: str) -> None:
        if frame == self._last:
            return
        if not self._in_place:
            self._out.write(("\n" if self._last is not None else "") + frame + "\n")
        else:
            start = f"\r\x1b[{self._rows}A" if self._rows else HIDE_CURSOR
            self._out.write(start + CLEAR_BELOW + frame + "\n")
            self._rows = rows(frame, shutil.get_terminal_size().columns)
        self._out.flush()
        self._last = frame

    def close(self) -> None:
        if self._in_place and self._last is not None:
            self._out.write(SHOW_CURSOR)
            self._out.flush()


def rows(frame: str, columns: int) -> int:
    """Terminal rows `frame` takes, counting lines that wrap at `columns`."""
    columns = max(1, columns)
    return sum(max(1, math.ceil(display_width(line) / columns)) for line in frame.split("\n"))


@contextlib.contextmanager
def single_keys(fd: int) -> Iterator[None]:
    """Keys arrive one at a time and unechoed (cbreak: Ctrl-C still interrupts); the
    terminal's settings come back however the block ends."""
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
