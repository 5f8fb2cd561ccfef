"""Text normalisation: case, accents, emoji, contractions and typos of command words.

Typos are corrected only towards the small vocabulary of command words (edit distance 1,
found through a delete index, so a lookup costs a few dict probes); task titles are left
alone here and matched fuzzily by the resolver.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: Emoji that carry meaning; every other symbol is dropped.
EMOJI_WORDS: dict[str, str] = {
    "—": " : ",  # "reject — the numbers are wrong"
    "–": " : ",
    "⏸": " pause ",
    "▶": " resume ",
    "⏯": " resume ",
    "⏹": " cancel ",
    "🛑": " cancel ",
    "👋": " hello ",
    "🙏": " thanks ",
    "👍": " ok ",
    "❓": " ? ",
    "🔁": " restart ",
    "🔄": " restart ",
}

CONTRACTIONS: dict[str, str] = {
    "how's": "how is",
    "hows": "how is",
    "what's": "what is",
    "whats": "what is",
    "where's": "where is",
    "when's": "when is",
    "whens": "when is",
    "who's": "who is",
    "it's": "it is",
    "that's": "that is",
    "there's": "there is",
    "it'll": "it will",
    "itll": "it will",
    "i'll": "i will",
    "ill": "i will",
    "i'm": "i am",
    "im": "i am",
    "i've": "i have",
    "i'd": "i would",
    "let's": "let us",
    "don't": "do not",
    "dont": "do not",
    "doesn't": "does not",
    "doesnt": "does not",
    "didn't": "did not",
    "didnt": "did not",
    "isn't": "is not",
    "isnt": "is not",
    "aren't": "are not",
    "can't": "cannot",
    "cant": "cannot",
    "won't": "will not",
    "wont": "will not",
    "gonna": "going to",
    "wanna": "want to",
    "gimme": "give me",
    "pls": "please",
    "plz": "please",
    "thx": "thanks",
    "thanx": "thanks",
    "u": "you",
    "ur": "your",
}


def words(text: str) -> frozenset[str]:
    """A word list written as running text, for readability."""
    return frozenset(text.split())


#: Command words typos are corrected towards.
VOCABULARY: frozenset[str] = words(
    """
    status progress going doing finished complete completed ready running failed
    list tasks jobs logs output error lines tail
    eta long remaining estimated minutes hours
    pause paused hold suspend freeze resume continue unpause carry keep
    cancel abort terminate kill scrap stop restart rerun redo start again scratch beginning
    retry skip bypass approve approved approval reject decline deny refuse
    changed happened anything notify notifying notifications subscribe unsubscribe
    email emails telegram slack browser mute alert remind
    help commands hello thanks thank cheers appreciated morning afternoon evening
    please could would should update updates pending
    """
)

#: Function words and filler: never typos, never part of a task name.
COMMON_WORDS: frozenset[str] = words(
    """
        a an about after again ahead all along also am and any anymore anything are as asked
        at away back be been being bother but by can cannot check coming could did do does
        doing done each else every everything far finally for forget from get give go going
        good got great had has have here hey hi how i if in into is just know later let like
        long look looks me more much need needs no not now of off ok okay on once out over
        please put quick really right see should show since so some still tell than thanks
        there time to today up us was we were what when where which while why will with
        would yet you your yes yeah um uh er hmm hm just want idea percent step steps
        minutes minute hours left remaining until till take taking currently now lines line
        last first latest display print give gimme tail again able mind kindly want wanted
        go finish finishes finished complete completes completed ready ends end done fail
        fails failed failing deployed stuck working run running rerun started starts start
        over scratch beginning new news changed change changes happened miss missed catch
        thing stuff whats whole sure nice cool awesome fine alright lol great thanks
        update updates message messages notification notifications text ping send
        sending notifying emails mail message approval attention waiting went wrong error
        errors output log logs trace traceback lot stop stopped sign gone yo hello
        wait actually sorry mean never mind nevermind quick question full entire
        permanently forever completely entirely yep yup nope nah or fill real quick quickly hit
        expect live looking stage state finishing starting ending dump different
        alerts pings messages updates
    """
)

#: Common words that look like typos of a command word but are not.
KNOWN_WORDS: frozenset[str] = (
    words(
        """
    last past cause close lose will still steps step shop ship show slow star stat
    going gone done none some sure more most lost list lint mail main hello hell
    rest test best post host coming keeps kept logo long song lone lane name same
    ready read real tall tell fill fall kills skill mile mute mike hole held help
    when what with that this then them they there their these those
    task one job thing jobs tasks data date sales store fail fails finish finishes
    along about sending
    """
    )
    | VOCABULARY
    | COMMON_WORDS
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
    """The command word `token` is one edit away from, or None when none or several."""
    if token in _TYPO_CACHE:
        return _TYPO_CACHE[token]
    found: set[str] = set()
    if len(token) >= 4 and token.isalpha() and token not in KNOWN_WORDS:
        for key in {token} | _deletes(token):
            for word in _DELETE_INDEX.get(key, ()):
                if _osa_distance(token, word) <= 1:
                    found.add(word)
    result = found.pop() if len(found) == 1 else None
    if len(_TYPO_CACHE) < 10_000:
        _TYPO_CACHE[token] = result
    return result


_SEPARATORS = re.compile(r"([,;:.!?])")
_NOT_WORD = re.compile(r"[^a-z0-9',;:.!?# ]+")
_HYPHENATED = re.compile(r"(?<=[a-z])-(?=[a-z])")


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


def tokenize(text: str) -> Tokens:
    """Split into words and separator tokens ("," ";" ":" "." "!" "?")."""
    for emoji, word in EMOJI_WORDS.items():
        if emoji in text:
            text = text.replace(emoji, word)
    text = _HYPHENATED.sub("", fold(text))
    text = _NOT_WORD.sub(" ", text)
    text = _SEPARATORS.sub(r" \1 ", text)
    plain: list[str] = []
    for raw in text.split():
        token = raw.strip("'")
        if not token:
            continue
        expanded = CONTRACTIONS.get(token)
        if expanded is not None:
            plain.extend(expanded.split())
            continue
        if token.endswith("'s"):
            token = token[:-2]
        plain.append(token.replace("'", ""))
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
