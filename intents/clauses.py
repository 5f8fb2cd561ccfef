"""Reading one clause: the most specific rule, then the step, arguments and task phrase.

The rule decides the intent; the words it spelt out ("pause", "logs", "how is") and the spans
taken by arguments ("last 20 lines", "because ...", "by email") are removed, and the task
phrase is the longest remaining run of words that are not command or filler words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from intents.arguments import read_arguments
from intents.model import IntentName, StepRef
from intents.prefilter import index_words
from intents.rules import RULES, Rule
from intents.words import (
    DETERMINERS,
    JUNK,
    MODIFIERS,
    NEWER,
    OFF_TOPIC,
    OLDER,
    PRONOUNS,
    STATUS_WORDS,
    TIME_WORDS,
)

N = IntentName

HARD_SEPARATORS = frozenset({",", ";", ".", "!", "?"})
#: Spanning rules included: a clause kept whole by one ("kill it and start anew") needs it.
#: Highest priority first (stable, so equal priorities keep the table's order): once a rule
#: has matched, no rule of lower priority can win and the search stops.
CLAUSE_RULES = tuple(sorted(RULES, key=lambda rule: -rule.priority))
_NO_REFERENCE = frozenset({N.HELP, N.GREETING, N.THANKS, N.LIST})
#: "if the build is done, restart the migration": the condition is not a request.
_CONDITION = re.compile(
    r"^(?:if(?! (?:yes|so|it is|true|needed|necessary|not)\b)|once|unless|in case"  # "if so, …"
    r"|when(?! (?:will|would|is|are|does|do|did|can|could|should|might|shall)\b))\b"
)
_RELATIVE = re.compile(
    r"\b(?:the|my) (?:one|task|job|thing) (?:that|which) (?:is |was |has |got |has been )?"
    r"(?:" + "|".join(STATUS_WORDS) + r")\b"
    r"|\b(?:the|my) (?:one|task|job|thing) (?:that |which )?(?:is )?(?:waiting (?:for|on)|needing"
    r"|needs) (?:my |your )?approval\b"
)
_CLOCK = re.compile(r"^\d{1,2}(?:am|pm)$")
#: Questions that become small talk when asked about the weather or the football.
_QUESTIONS = frozenset({N.STATUS, N.ETA, N.LOGS, N.CHANGES})
#: "how do I reset my password": a how-to about something that is not a task.
_HOW_TO = re.compile(r"^how (?:do|can|should|would) (?:i|we|you)\b|^how to\b")


@dataclass(slots=True)
class Clause:
    """A clause while the message is being read; becomes an `Intent`."""

    intent: IntentName
    confidence: float
    reference: str | None
    concrete: bool  # the reference names a task (not a pronoun)
    noun_phrase: bool  # the reference starts with a determiner or is an id
    text: str
    step: StepRef | None = None
    arguments: dict[str, str | int] = field(default_factory=dict)
    retracted: bool = False  # taken back later: "cancel it, no wait, pause it"
    typed: str = ""  # the words as typed, before typo fixes: for reasons
    remark: bool = False  # "the migration failed again": gives way to a real request


def _rules_by_word(rules: Sequence[Rule]) -> dict[str, tuple[int, ...]]:
    by_word: dict[str, list[int]] = {}
    for position, rule in enumerate(rules):
        for word in index_words(rule.pattern.pattern, rule.literals):
            by_word.setdefault(word, []).append(position)
    return {word: tuple(found) for word, found in by_word.items()}


#: Every match of a rule contains one of the words it is filed under, so only the rules
#: sharing a word with the clause can match (tests check this against trying them all).
_RULES_BY_WORD = _rules_by_word(CLAUSE_RULES)


def best_rule(text: str, rules: Sequence[Rule] | None = None) -> tuple[Rule, re.Match[str]] | None:
    """The most specific matching rule: highest priority, then longest match. `rules` must be
    in `CLAUSE_RULES` order (highest priority first)."""
    if rules is None:
        found: set[int] = set()
        for word in set(text.split()):
            found.update(_RULES_BY_WORD.get(word, ()))
        rules = [CLAUSE_RULES[position] for position in sorted(found)]
    best: tuple[Rule, re.Match[str]] | None = None
    best_score = (-1, -1)
    for rule in rules:
        if rule.priority < best_score[0]:
            break
        match = rule.pattern.search(text)
        if match is None:
            continue
        score = (rule.priority, match.end() - match.start())
        if score > best_score:
            best, best_score = (rule, match), score
    return best


def read_clause(plain: Sequence[str], words: Sequence[str]) -> Clause:
    """The intent, task phrase, step and arguments of one clause (separators removed)."""
    text = " ".join(words)
    typed = " ".join(plain)
    found = best_rule(text)
    if found is None:
        return _with_reference(
            Clause(N.UNKNOWN, 0.0, None, False, False, text, typed=typed), plain, words, set()
        )
    rule, match = found
    confidence = 0.95 if rule.priority >= 20 else 0.9 if rule.priority >= 10 else 0.8
    corrected = sum(p != w for p, w in zip(plain, words, strict=True))
    confidence = round(max(0.5, confidence - 0.1 * corrected), 2)
    remark = rule.remark or _CONDITION.match(text) is not None
    clause = Clause(rule.intent, confidence, None, False, False, text, remark=remark, typed=typed)
    clause.step, consumed = read_arguments(rule.intent, text, plain, clause.arguments)
    if clause.intent in _NO_REFERENCE:
        return clause
    eaten: set[int] = set()
    offset = 0
    for position, word in enumerate(words):
        begin, offset = offset, offset + len(word) + 1
        in_rule = match.start() <= begin < match.end() and word in rule.literals
        if any(a <= begin < b for a, b in consumed) or (in_rule and word not in _KEPT):
            eaten.add(position)
    focus = text.count(" ", 0, match.start())
    clause = _with_reference(clause, plain, words, eaten, focus)
    asks = clause.intent in _QUESTIONS or _HOW_TO.match(text) is not None
    if asks and clause.concrete and _off_topic(clause.reference):
        return Clause(N.UNKNOWN, 0.0, None, False, False, text, typed=typed)
    return clause


def _off_topic(reference: str | None) -> bool:
    named = [w for w in (reference or "").split() if w not in _KEPT]
    return bool(named) and all(w in OFF_TOPIC for w in named)


def _with_reference(
    clause: Clause, plain: Sequence[str], words: Sequence[str], eaten: set[int], focus: int = 0
) -> Clause:
    found = _reference(words, plain, eaten, focus)
    clause.reference, clause.concrete, clause.noun_phrase = found
    return clause


def _reference(
    words: Sequence[str], plain: Sequence[str], eaten: set[int], focus: int = 0
) -> tuple[str | None, bool, bool]:
    """The task phrase: the longest run of non-command words, else a pronoun; between equal
    runs, one inside or after the command (`focus`, its first word) rather than a subject
    before it ("the client is asking when the website will be live")."""
    runs: list[list[int]] = []
    current: list[int] = []
    for index, word in enumerate(words):
        if word in PRONOUNS and words[index + 1 : index + 2] and words[index + 1] in TIME_WORDS:
            eaten.add(index)
        # "step 1 and 2", "my 3pm build": not a task name
        small_number = (word.isdigit() and len(word) < 4) or _CLOCK.match(word) is not None
        keep = index not in eaten and not small_number and (word not in JUNK or word in _KEPT)
        if keep and word in PRONOUNS:
            if current:
                runs.append(current)
            runs.append([index])
            current = []
        elif keep:
            current.append(index)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    runs = _joined_by_of(runs, words)
    joined = " ".join(words)
    relative = _RELATIVE.search(joined)
    if relative is not None:  # "the one that failed": named by its state
        first = joined.count(" ", 0, relative.start())
        last = first + relative.group(0).count(" ")
        return " ".join(plain[first : last + 1]), True, True
    best: list[int] = []
    pronoun: str | None = None
    best_key = (False, 0, False)
    for run in runs:
        content = sum(words[i] not in _KEPT for i in run)
        # "is it possible to restart the migration": a noun phrase beats a stray word.
        named = words[run[0]] in DETERMINERS
        key = (named, content, named and run[0] >= focus)
        if content > 0 and key > best_key:
            best, best_key = run, key
        elif content == 0 and pronoun is None and words[run[0]] in PRONOUNS:
            pronoun = words[run[0]]
    if best:
        # "expect the build": a noun phrase starts at its determiner.
        first = next((n for n, i in enumerate(best) if words[i] in DETERMINERS), 0)
        if any(words[i] not in _KEPT for i in best[first:]):
            best = best[first:]
        while best and (
            (words[best[-1]] in _KEPT and words[best[-1]] not in _TRAILING)
            or words[best[-1]] in ("of", "from")
            or (words[best[-1]] in _HINTS and words[best[-2] if len(best) > 1 else 0] != "from")
        ):
            best = best[:-1]
        phrase = " ".join(plain[i] for i in best)
        return phrase, True, words[best[0]] in DETERMINERS or any(c.isdigit() for c in phrase)
    for run in runs:  # "the failed one": a status picks the task, no title word needed
        if (
            len(run) > 2
            and words[run[0]] in DETERMINERS
            and words[run[-1]] in _NOUNS
            and any(words[i] in STATUS_WORDS for i in run)
        ):
            return " ".join(plain[i] for i in run), True, True
    return pronoun, False, False


def _joined_by_of(runs: list[list[int]], words: Sequence[str]) -> list[list[int]]:
    """ "the deployment of the website", "the build from yesterday", "the deploy for the api":
    one task phrase."""
    joined: list[list[int]] = []
    for run in runs:
        previous = joined[-1] if joined else None
        if (
            previous is not None
            and run[0] - previous[-1] == 2
            and words[run[0] - 1] in ("of", "from", "for")
            # "the deploy for the api" is one task; "the build for sarah" is for someone
            and (words[run[0] - 1] != "for" or words[run[0]] in DETERMINERS)
            and words[previous[-1]] not in PRONOUNS
            and words[run[0]] not in PRONOUNS
        ):
            joined[-1] = [*previous, run[0] - 1, *run]
        else:
            joined.append(run)
    return joined


_NOUNS = frozenset({"task", "one", "job", "thing", "work", "project", "process"})
#: Kept at the end of a task phrase: a noun, or a time hint ("the build from yesterday").
_TRAILING = _NOUNS | OLDER | NEWER
#: A hint after the name counts only as "from yesterday": "the build I started earlier" is not
#: "the earlier build".
_HINTS = OLDER | NEWER
#: Kept in a task phrase without naming a task themselves.
_KEPT = DETERMINERS | PRONOUNS | MODIFIERS
