"""Reading a reply to a question the bot asked: yes, no, or which of the offered options.

"Which task do you mean? 1. CRM  2. CRM import" is answered with "the second one", "2",
"#1", "last one"; "Cancel the CRM task?" with "yes", "yep go ahead", "no", "never mind".
A reply that names a task by its title is left to `resolve` over the offered options.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from intents.text import fold

_ORDINALS = {
    "first": 1,
    "1st": 1,
    "one": 1,
    "second": 2,
    "2nd": 2,
    "two": 2,
    "third": 3,
    "3rd": 3,
    "three": 3,
    "fourth": 4,
    "4th": 4,
    "four": 4,
    "fifth": 5,
    "5th": 5,
    "five": 5,
}
_YES = frozenset(
    {
        "yes",
        "y",
        "yeah",
        "yea",
        "yep",
        "yup",
        "sure",
        "ok",
        "okay",
        "k",
        "confirm",
        "confirmed",
        "correct",
        "right",
        "absolutely",
        "definitely",
        "please",
        "pls",
        "go",
        "ahead",
        "do",
        "it",
        "that",
        "one",
        "👍",
        "✅",
    }
)
_YES_CORE = frozenset(
    {"yes", "y", "yeah", "yea", "yep", "yup", "sure", "ok", "okay", "k", "confirm", "confirmed"}
    | {"correct", "absolutely", "definitely", "go", "👍", "✅"}
)
_NO = frozenset(
    {"no", "n", "nope", "nah", "never", "mind", "nevermind", "don't", "dont", "not", "thanks"}
    | {"thank", "you", "wait", "stop"}
)
_NO_CORE = frozenset({"no", "n", "nope", "nah", "nevermind", "👎", "❌"})
_NO_PHRASES = ("never mind", "forget it", "don't", "dont", "leave it", "not now", "abort")
_YES_PHRASES = ("do it", "go ahead", "go for it", "sounds good")
_FILLER = frozenset({"the", "a", "an", "number", "no.", "option", "task", "please", "pls", "oh"})
_TOKEN = re.compile(r"[#]?[\w']+|[👍👎✅❌]")


class AnswerKind(StrEnum):
    YES = "yes"
    NO = "no"
    CHOICE = "choice"


@dataclass(frozen=True, slots=True)
class Answer:
    kind: AnswerKind
    choice: int | None = None  # 1-based position among the options, for CHOICE


def read_answer(text: str, options: int) -> Answer | None:
    """The reply as an answer to a question with `options` choices (0 for yes/no), or None."""
    folded = fold(text).strip()
    words = _TOKEN.findall(folded)
    if not words:
        return None
    if options:
        choice = _choice(words, options)
        if choice is not None:
            return Answer(AnswerKind.CHOICE, choice)
    if any(phrase in folded for phrase in _NO_PHRASES) or (
        words[0] in _NO_CORE and all(w in _NO | _NO_CORE | _FILLER for w in words)
    ):
        return Answer(AnswerKind.NO)
    if (any(w in _YES_CORE for w in words) or any(p in folded for p in _YES_PHRASES)) and all(
        w in _YES | _FILLER | {"for", "sounds", "good"} for w in words
    ):
        return Answer(AnswerKind.YES)
    return None


def _choice(words: list[str], options: int) -> int | None:
    content = [w for w in words if w not in _FILLER and w not in ("one", "please")]
    if not content:
        content = [w for w in words if w == "one"]
    if len(content) != 1:
        return None
    word = content[0].lstrip("#")
    if word in ("last", "latter", "bottom"):
        return options
    number = int(word) if word.isdigit() else _ORDINALS.get(word)
    if number is not None and 1 <= number <= options:
        return number
    return None
