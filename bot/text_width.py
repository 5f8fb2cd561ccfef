"""Terminal display width: wide (East Asian, emoji) characters take two columns.

Ambiguous-width characters (box drawing, ◐ ○ █) count as one, as Western terminals show them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

ELLIPSIS = "…"
_EMOJI_PRESENTATION = "\ufe0f"
_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\ufe0e")


def char_width(char: str) -> int:
    if char in _ZERO_WIDTH or char == _EMOJI_PRESENTATION or unicodedata.combining(char):
        return 0
    if unicodedata.category(char) in ("Cc", "Cf", "Mn", "Me"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Columns `text` occupies; a character followed by U+FE0F is shown as a wide emoji."""
    return sum(cost for _char, cost in _columns(text))


def _columns(text: str) -> Iterator[tuple[str, int]]:
    previous = 0
    for char in text:
        if char == _EMOJI_PRESENTATION and previous == 1:
            previous = 2
            yield char, 1
            continue
        previous = char_width(char)
        yield char, previous


def printable(text: str) -> str:
    """One line safe to print: newlines and tabs become spaces, other controls vanish.

    Titles and errors come from producers; an escape sequence in one must not drive the
    terminal.
    """
    out = []
    for char in text:
        category = unicodedata.category(char)
        if char in "\t\n\r\v\f\x85\u2028\u2029":
            out.append(" ")
        elif category == "Cc" or (category == "Cf" and char not in _ZERO_WIDTH):
            continue
        else:
            out.append(char)
    return "".join(out)


def clip(text: str, width: int) -> str:
    """`text` cut to at most `width` columns, ending in … when something was cut."""
    if display_width(text) <= width:
        return text
    if width <= 0:
        return ""
    budget = width - display_width(ELLIPSIS)
    kept: list[str] = []
    used = 0
    for char, cost in _columns(text):
        if used + cost > budget:
            break
        kept.append(char)
        used += cost
    return "".join(kept).rstrip() + ELLIPSIS


def pad(text: str, width: int) -> str:
    """`text` clipped to `width` columns and filled with spaces to exactly `width`."""
    text = clip(text, width)
    return text + " " * (width - display_width(text))
