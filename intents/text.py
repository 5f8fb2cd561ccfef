"""Text normalisation: case, accents, emoji, Slack mentions and shortcodes, contractions,
held-down letters ("heyyy"), inflections ("rejecting") and typos of command words.

Typos are corrected only towards the small vocabulary of command words (edit distance 1,
found through a delete index, so a lookup costs a few dict probes), and never turn a real
word into one (`intents.lookalikes`); task titles are left alone here and matched fuzzily by
the resolver. The word lists live in `intents.lexicon`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from intents.lexicon import (
    CONTRACTIONS,
    EMOJI_WORDS,
    INFLECTED_VERBS,
    KNOWN_WORDS,
    LEADING_EMOJI,
    SHORTCODES,
    STATES_AFTER_IS,
    VOCABULARY,
)


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _osa_distance(a: str, b: str) -> int:
    """Optimal string alignment distance (edits plus adjacent swaps); tiny words only."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


def _build_delete_index(words: frozenset[str]) -> dict[str, frozenset[str]]:
    index: dict[str, set[str]] = {}
    for word in words:
        if len(word) < 4:
            continue
        for key in {word} | _deletes(word):
            index.setdefault(key, set()).add(word)
    return {key: frozenset(found) for key, found in index.items()}


_DELETE_INDEX = _build_delete_index(VOCABULARY)
_TYPO_CACHE: dict[str, str | None] = {}


def correct_typo(token: str) -> str | None:
    """The known word `token` stretches ("heyyy", "pleaseee") or the command word it is one
    edit away from; None when it is known already, or matches none or several."""
    if token in _TYPO_CACHE:
        return _TYPO_CACHE[token]
    result = None
    if token.isalpha() and token not in KNOWN_WORDS:
        squeezed = _unstretch(token) if _REPEATED.search(token) else None
        dropped_g = token + "g" if token.endswith("in") and token + "g" in KNOWN_WORDS else None
        result = squeezed or dropped_g or _one_edit_away(token) or _uninflected(token)
    if len(_TYPO_CACHE) < 10_000:
        _TYPO_CACHE[token] = result
    return result


_REPEATED = re.compile(r"(.)\1")


def _unstretch(token: str) -> str | None:
    """ "heyy" -> "hey", "thaaanks" -> "thanks": letters held down, then maybe a typo."""
    variants = (
        _REPEATED_3.sub(r"\1", token),
        _REPEATED_3.sub(r"\1\1", token),
        _REPEATED_2.sub(r"\1", token),
    )
    for variant in variants:
        if variant in KNOWN_WORDS:
            return variant
    for variant in variants:
        if variant != token and (fixed := _one_edit_away(variant)) is not None:
            return fixed
    return None


_REPEATED_3 = re.compile(r"(.)\1{2,}")
_REPEATED_2 = re.compile(r"(.)\1+")


def _uninflected(token: str) -> str | None:
    """ "rejecting" -> "reject", "approving" -> "approve", "skipping" -> "skip"."""
    options: tuple[str, ...]
    if token.endswith("ing"):
        stem = token[:-3]
        options = (stem, stem + "e", stem[:-1])
    elif token.endswith("ies"):
        options = (token[:-3] + "y",)
    elif token.endswith("s"):
        options = (token[:-1], token[:-2])
    else:
        return None
    return next((verb for verb in options if verb in INFLECTED_VERBS), None)


def _one_edit_away(token: str) -> str | None:
    found: set[str] = set()
    if len(token) >= 4:
        for key in {token} | _deletes(token):
            for word in _DELETE_INDEX.get(key, ()):
                if _osa_distance(token, word) <= 1 and _plausible(token, word):
                    found.add(word)
    if len(found) > 1:  # "dong": "doing", not "long"; first letters are seldom mistyped
        found = {word for word in found if word[0] == token[0]}
    return found.pop() if len(found) == 1 else None


_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_KEY_AT = {
    key: (row, col) for row, keys in enumerate(_KEYBOARD_ROWS) for col, key in enumerate(keys)
}


def _plausible(token: str, word: str) -> bool:
    """In a four-letter word one wrong letter is a slip to a neighbouring key ("logz": logs)
    or a vowel for a vowel ("halp": help); "stor" is not "stop"."""
    if len(token) > 4 or len(token) != len(word):
        return True
    wrong = [(a, b) for a, b in zip(token, word, strict=True) if a != b]
    if len(wrong) != 1:
        return True  # a swap of two letters
    if all(ch in "aeiou" for ch in wrong[0]):
        return True  # "halp": a vowel for a vowel
    typed, meant = (_KEY_AT.get(ch) for ch in wrong[0])
    return (
        typed is not None
        and meant is not None
        and abs(typed[0] - meant[0]) <= 1
        and abs(typed[1] - meant[1]) <= 1
    )


_SHORTCODE = re.compile(r":([a-z0-9_+-]+):")
_SEPARATORS = re.compile(r"([,;:.!?])")
_NOT_WORD = re.compile(r"[^a-z0-9',;:.!?# ]+")
_HYPHENATED = re.compile(r"(?<=[a-z])-(?=[a-z])")
#: "@tasktalk", "<@U0123>": addressing the bot (or someone), not part of the request.
_MENTION = re.compile(r"<@[^>]*>|(?<![\w.])@[\w.-]+")
#: Slack's "<https://ci/builds/42|the nightly build>": the label is what was said.
_LINK = re.compile(r"<[a-z]+:[^|>\s]*(?:\|([^>]*))?>")
_URL = re.compile(r"\b(?:https?|ftp)://\S+")
#: Slack's strikethrough, "~cancel~": taken back as it was typed.
_STRUCK = re.compile(r"~[^~\n]+~")
#: "reject step 1 - wrong logo": a dash between spaces sets off what follows, like ":".
_DASH = re.compile(r"(?<=\s)-{1,2}(?=\s)")


def fold(text: str) -> str:
    """Lower case without accents or curly quotes: "Café’s" -> "cafe's"."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKD", text.replace("’", "'").replace("‘", "'"))
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


@dataclass(frozen=True, slots=True)
class Tokens:
    """Aligned token lists: `plain` as typed (folded, contractions expanded) for reasons and
    task phrases; `words` with command-word typos fixed, for matching."""

    plain: tuple[str, ...]
    words: tuple[str, ...]
    corrections: int


def _rejoined(plain: list[str]) -> list[str]:
    """ "re run" -> "rerun", "re start" -> "restart": a prefix typed apart; "last night's
    build" is yesterday's."""
    if "re" not in plain and "night" not in plain:
        return plain
    joined: list[str] = []
    for token in plain:
        if joined and joined[-1] == "re" and "re" + token in VOCABULARY:
            joined[-1] = "re" + token
        elif joined and joined[-1] == "last" and token == "night":
            joined[-1] = "yesterday"
        else:
            joined.append(token)
    return joined


#: A command word run into the word after it: "cancelthe", "pausemy".
_GLUED = re.compile(r"^([a-z]{4,})(the|my|it)$")
_QUESTION_WORDS = frozenset({"what", "how", "where", "when", "who", "why"})


def tokenize(text: str) -> Tokens:
    """Split into words and separator tokens ("," ";" ":" "." "!" "?")."""
    opening = text.lstrip()
    for emoji, word in LEADING_EMOJI.items():
        if opening.startswith(emoji):
            rest = opening[len(emoji) :]
            following = fold(rest).split()[:1]
            if not (following and following[0] in VOCABULARY):  # not "❌ cancel the build"
                text = word + rest
            break
    if "://" in text or "<" in text:
        text = _URL.sub(" ", _LINK.sub(lambda link: f" {link.group(1) or ''} ", text))
    if "~" in text:
        text = _STRUCK.sub(" ", text)  # "~cancel~ pause the campaign": crossed out
    for emoji, word in EMOJI_WORDS.items():
        if emoji in text:
            text = text.replace(emoji, word)
    if "@" in text:
        text = _MENTION.sub(" ", text)
    text = fold(text)
    if ":" in text:
        text = _SHORTCODE.sub(lambda code: SHORTCODES.get(code.group(1), " "), text)
    text = _HYPHENATED.sub("", text)
    if "-" in text:
        text = _DASH.sub(" : ", text)
    text = _NOT_WORD.sub(" ", text)
    text = _SEPARATORS.sub(r" \1 ", text)
    plain: list[str] = []
    raws = text.split()
    for position, raw in enumerate(raws):
        token = raw.strip("'")
        if not token:
            continue
        expanded = CONTRACTIONS.get(token)
        if expanded is not None:
            plain.extend(expanded.split())
            continue
        if token.endswith("'s"):
            token = token[:-2]
            if CONTRACTIONS.get(token) in _QUESTION_WORDS:  # "wat's" -> "what is"
                plain.extend((CONTRACTIONS[token], "is"))
                continue
            after = raws[position + 1] if position + 1 < len(raws) else ""
            if after in ("been", "gone", "got"):
                plain.extend((token.replace("'", ""), "has"))  # "crm's been running"
                continue
            if after in STATES_AFTER_IS:
                plain.extend((token.replace("'", ""), "is"))  # "report's ready"
                continue
        token = token.replace("'", "")
        glued = _GLUED.match(token)
        if glued is not None and glued.group(1) in VOCABULARY:
            plain.extend(glued.groups())  # "cancelthe api deploy": a space left out
            continue
        plain.append(token)
    plain = _rejoined(plain)
    words: list[str] = []
    corrections = 0
    for token in plain:
        fixed = correct_typo(token)
        if fixed is None:
            words.append(token)
        else:
            words.append(fixed)
            corrections += 1
    return Tokens(tuple(plain), tuple(words), corrections)
