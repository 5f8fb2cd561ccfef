"""Step references inside a clause: "step 2", "the second step", "the filters step"."""

from __future__ import annotations

import re

from intents.model import StepRef

NUMBER_WORDS: dict[str, int] = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}
ORDINALS: dict[str, int] = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "fifth": 5,
    "5th": 5,
    "sixth": 6,
    "6th": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
}
SPECIAL: dict[str, str] = {
    "this": "current",
    "current": "current",
    "running": "current",
    "failed": "failed",
    "failing": "failed",
    "broken": "failed",
    "last": "last",
    "final": "last",
    "next": "next",
}
_NOT_NAMES = frozenset({"each", "every", "a", "that", "one", "same", "whole", "the", "my", "any"})

_NUMBERED = re.compile(
    r"\b(?:steps?|stages?) (?:number |no |#)?(\d{1,3}|" + "|".join(NUMBER_WORDS) + r")\b"
    r"(?! (?:more|time)\b)"  # "the second step one more time"
)
#: "the deploy gate": an approval step is also called a gate.
_NAMED = re.compile(r"\b(?:the |this |that )?(\w+) (?:step|gate)\b")
_NAMED_LONG = re.compile(r"\bthe ((?:\w+ ){1,2}\w+) (?:step|gate)\b")


def find_step(text: str) -> tuple[StepRef, tuple[int, int]] | None:
    """The step a clause mentions and its character span, or None."""
    match = _NUMBERED.search(text)
    if match is not None:
        raw = match.group(1)
        number = int(raw) if raw.isdigit() else NUMBER_WORDS[raw]
        return StepRef(match.group(0), number=number), match.span()
    match = _NAMED.search(text)
    if match is None:
        return None
    word = match.group(1)
    if word in _NOT_NAMES:
        return None
    if word in ORDINALS:
        return StepRef(match.group(0), number=ORDINALS[word]), match.span()
    if word in SPECIAL:
        return StepRef(match.group(0), special=SPECIAL[word]), match.span()
    longer = _NAMED_LONG.search(text)
    if longer is not None and longer.end() == match.end():
        return StepRef(longer.group(0), name=longer.group(1)), longer.span()
    return StepRef(match.group(0), name=word), match.span()
