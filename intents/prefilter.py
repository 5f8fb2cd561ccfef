"""Which rules can match a clause, found without trying them all.

Each rule is filed under a few whole words such that every match of its pattern contains at
least one of them ("what is (?:\\w+ ){1,4}doing" under "doing"; "(?:pause|hold)" under both),
read from the pattern by the standard library's own regular expression parser. A clause then
only tries the rules filed under its words. Patterns this cannot read are filed under every
word they spell out, which is always safe.
"""

from __future__ import annotations

import re._constants as sre
import re._parser
from collections.abc import Iterable, Sequence
from typing import Any

#: Words in nearly every message: filing a rule under them saves nothing.
_FREQUENT_WORDS = """
    a an the is are am was be it its my me i you we to of on in for with at and or what how
    when where do does did can could will would has have had this that any all up
"""
_FREQUENT = frozenset(_FREQUENT_WORDS.split())
_SPACE, _LETTERS = ord(" "), frozenset(map(ord, "abcdefghijklmnopqrstuvwxyz0123456789"))

Items = Sequence[tuple[Any, Any]]


def index_words(pattern: str, fallback: Iterable[str]) -> frozenset[str]:
    """Words that every match of `pattern` contains one of; `fallback` when unreadable."""
    try:
        found = _cover(list(re._parser.parse(pattern)), left=False, right=False)
    except (TypeError, ValueError):  # a construct this reader does not know
        found = None
    return found if found else frozenset(fallback)


def _cost(words: frozenset[str]) -> tuple[int, int]:
    return sum(100 if w in _FREQUENT else 1 for w in words), len(words)


def _cover(items: Items, left: bool, right: bool) -> frozenset[str] | None:
    """The cheapest set of words one of which any match of `items` must contain.

    `left` / `right`: whether a word boundary is certain just before / after `items`.
    """
    candidates: list[frozenset[str]] = []
    word: list[str] = []
    word_left = left  # a boundary is certain where the current word starts
    bounded = left  # a boundary is certain at the current position

    def finish(boundary_after: bool) -> None:
        if word and word_left and boundary_after:
            candidates.append(frozenset({"".join(word)}))
        word.clear()

    for position, (op, av) in enumerate(items):
        following = items[position + 1 :]
        if op is sre.LITERAL and av in _LETTERS:
            if not word:
                word_left = bounded
            word.append(chr(av))
            bounded = False
        elif (op is sre.LITERAL and av == _SPACE) or (
            op is sre.AT and av in (sre.AT_BOUNDARY, sre.AT_BEGINNING, sre.AT_END)
        ):
            finish(True)
            bounded = True
        elif op is sre.MAX_REPEAT and _optional_letter(av) and word and word_left:
            # "logs?": either spelling, when a boundary follows
            if _boundary_next(following, right):
                stem = "".join(word)
                candidates.append(frozenset({stem, stem + chr(av[2][0][1])}))
            word.clear()
            bounded = False
        else:
            finish(False)
            after = _boundary_next(following, right)
            if op is sre.SUBPATTERN:
                found = _cover(av[3], bounded, after)
                if found:
                    candidates.append(found)
                bounded = _ends_with_space(av[3])
            elif op is sre.BRANCH:
                found = _branch_cover(av[1], bounded, after)
                if found:
                    candidates.append(found)
                bounded = all(_ends_with_space(alt) for alt in av[1])
            elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
                low, _high, inner = av
                if low >= 1 and (found := _cover(inner, bounded, False)):
                    candidates.append(found)
                bounded = _ends_with_space(inner) and (bounded or low >= 1)
            elif op in (sre.ASSERT, sre.ASSERT_NOT):
                pass  # lookarounds consume nothing
            else:
                bounded = False
    finish(right)
    return min(candidates, key=_cost) if candidates else None


def _branch_cover(alternatives: Sequence[Items], left: bool, right: bool) -> frozenset[str] | None:
    words: set[str] = set()
    for alternative in alternatives:
        found = _cover(alternative, left, right)
        if not found:
            return None
        words |= found
    return frozenset(words)


def _optional_letter(av: Any) -> bool:
    low, high, inner = av
    return bool(
        low == 0
        and high == 1
        and len(inner) == 1
        and inner[0][0] is sre.LITERAL
        and inner[0][1] in _LETTERS
    )


def _boundary_next(following: Items, right: bool) -> bool:
    if not following:
        return right
    op, av = following[0]
    return (op is sre.LITERAL and av == _SPACE) or (
        op is sre.AT and av in (sre.AT_BOUNDARY, sre.AT_END)
    )


def _ends_with_space(items: Items) -> bool:
    if not items:
        return False
    op, av = items[-1]
    if op is sre.LITERAL:
        return bool(av == _SPACE)
    if op is sre.SUBPATTERN:
        return _ends_with_space(av[3])
    if op is sre.BRANCH:
        return all(_ends_with_space(alt) for alt in av[1])
    return False
