"""Reading one clause: the most specific rule, then the step, arguments and task phrase.

The rule decides the intent; the words it spelt out ("pause", "logs", "how is") and the spans
taken by arguments ("last 20 lines", "because ...", "by email") are removed, and the task
phrase is the longest remaining run of words that are not command or filler words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from intents.model import IntentName, StepRef
from intents.rules import RULES, Rule
from intents.steps import find_step
from intents.words import DETERMINERS, JUNK, MODIFIERS, PRONOUNS, TIME_WORDS

N = IntentName

HARD_SEPARATORS = frozenset({",", ";", ".", "!", "?"})
#: Spanning rules included: a clause kept whole by one ("kill it and start anew") needs it.
CLAUSE_RULES = RULES
_STEP_INTENTS = frozenset({N.RETRY, N.SKIP, N.APPROVE, N.REJECT, N.STATUS, N.LOGS, N.ETA})
_NO_REFERENCE = frozenset({N.HELP, N.GREETING, N.THANKS, N.LIST})

_LINES = re.compile(
    r"\b(?:(?:last|first|latest) )?(\d{1,5}) (?:log )?lines\b|\b(?:last|tail|tail n) (\d{1,5})\b"
)
_REASON = re.compile(r"(?:\b(?:because|since|as|cause|coz|cuz)\b|:) ?(.+)$")
_CHANNEL = re.compile(
    r"\b(?:(?:by|via|on|over|through|with|a|an) )?"
    r"(e ?mail(?:s|ing)?|mail|telegram|slack|browser|chat)(?: (?:message|notification|ping|dm))?\b"
)
_CHANNELS = {"mail": "email", "e mail": "email", "emails": "email", "emailing": "email"}
_EVENTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"\b(?:each|every|a) step\b|\bsteps?\b.*\b(?:complete|finish|done)"),
        "step_complete",
    ),
    (re.compile(r"\bfail"), "task_failed"),
    (re.compile(r"\bapprov"), "approval_needed"),
    (re.compile(r"\b(?:starts|started|begins)\b"), "task_started"),
    (re.compile(r"\b(?:finish|done|complete|ready|ends|over)"), "task_complete"),
)
_LIST_FILTERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\battention\b"), "attention"),
    (re.compile(r"\bapproval\b"), "approval"),
    (re.compile(r"\bpaused\b"), "paused"),
    (re.compile(r"\bfail"), "failed"),
    (re.compile(r"\b(?:pending|queued|waiting)\b"), "pending"),
    (re.compile(r"\b(?:running|in progress|active)\b"), "running"),
    (re.compile(r"\b(?:finished|completed|done)\b"), "completed"),
)


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


def _rules_by_word(rules: Sequence[Rule]) -> dict[str, tuple[int, ...]]:
    by_word: dict[str, list[int]] = {}
    for position, rule in enumerate(rules):
        for word in rule.literals:
            by_word.setdefault(word, []).append(position)
    return {word: tuple(found) for word, found in by_word.items()}


#: Every rule spells out at least one whole word that any match contains, so only the rules
#: sharing a word with the clause can match (tests check this against trying them all).
_RULES_BY_WORD = _rules_by_word(CLAUSE_RULES)


def best_rule(text: str, rules: Sequence[Rule] | None = None) -> tuple[Rule, re.Match[str]] | None:
    """The most specific matching rule: highest priority, then longest match."""
    if rules is None:
        found: set[int] = set()
        for word in set(text.split()):
            found.update(_RULES_BY_WORD.get(word, ()))
        rules = [CLAUSE_RULES[position] for position in sorted(found)]
    best: tuple[Rule, re.Match[str]] | None = None
    best_score = (-1, -1)
    for rule in rules:
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
    found = best_rule(text)
    if found is None:
        return _with_reference(
            Clause(N.UNKNOWN, 0.0, None, False, False, text), plain, words, set()
        )
    rule, match = found
    confidence = 0.95 if rule.priority >= 20 else 0.9 if rule.priority >= 10 else 0.8
    corrected = sum(p != w for p, w in zip(plain, words, strict=True))
    confidence = round(max(0.5, confidence - 0.1 * corrected), 2)
    clause = Clause(rule.intent, confidence, None, False, False, text)
    consumed = _read_arguments(clause, plain)
    if clause.intent in _NO_REFERENCE:
        return clause
    eaten: set[int] = set()
    offset = 0
    for position, word in enumerate(words):
        begin, offset = offset, offset + len(word) + 1
        in_rule = match.start() <= begin < match.end() and word in rule.literals
        if any(a <= begin < b for a, b in consumed) or (in_rule and word not in _KEPT):
            eaten.add(position)
    return _with_reference(clause, plain, words, eaten)


def _read_arguments(clause: Clause, plain: Sequence[str]) -> list[tuple[int, int]]:
    """Fill in the clause's step and arguments; returns the character spans they took."""
    text, intent, arguments = clause.text, clause.intent, clause.arguments
    consumed: list[tuple[int, int]] = []
    if intent is N.REJECT and (reason := _REASON.search(text)) is not None:
        consumed.append(reason.span())
        arguments["reason"] = _plain_span(text, plain, reason.span(1))
    if intent in _STEP_INTENTS and (step := find_step(text)) is not None:
        clause.step = step[0]
        consumed.append(step[1])
    if intent is N.LOGS and (lines := _LINES.search(text)) is not None:
        arguments["lines"] = int(lines.group(1) or lines.group(2))
        consumed.append(lines.span())
    if intent in (N.SUBSCRIBE, N.UNSUBSCRIBE) and (channel := _CHANNEL.search(text)):
        arguments["channel"] = _CHANNELS.get(channel.group(1), channel.group(1))
        consumed.append(channel.span())
    if intent is N.SUBSCRIBE:
        event = next((event for pattern, event in _EVENTS if pattern.search(text)), None)
        if event is not None:
            arguments["event"] = event
    if intent is N.LIST:
        status = next((status for pattern, status in _LIST_FILTERS if pattern.search(text)), None)
        if status is not None:
            arguments["status"] = status
    return consumed


def _with_reference(
    clause: Clause, plain: Sequence[str], words: Sequence[str], eaten: set[int]
) -> Clause:
    clause.reference, clause.concrete, clause.noun_phrase = _reference(words, plain, eaten)
    return clause


def _plain_span(text: str, plain: Sequence[str], span: tuple[int, int]) -> str:
    """The words as typed (before typo fixes) that fall inside a span of `text`."""
    first = text.count(" ", 0, span[0])
    last = text.count(" ", 0, max(span[0], span[1] - 1))
    return " ".join(plain[first : last + 1]).strip(" :")


def _reference(
    words: Sequence[str], plain: Sequence[str], eaten: set[int]
) -> tuple[str | None, bool, bool]:
    """The task phrase: the longest run of non-command words, else a pronoun."""
    runs: list[list[int]] = []
    current: list[int] = []
    for index, word in enumerate(words):
        if word in PRONOUNS and words[index + 1 : index + 2] and words[index + 1] in TIME_WORDS:
            eaten.add(index)
        small_number = word.isdigit() and len(word) < 4  # "step 1 and 2": not a task
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
    best: list[int] = []
    best_content = 0
    pronoun: str | None = None
    for run in runs:
        content = sum(words[i] not in _KEPT for i in run)
        if content > best_content:
            best, best_content = run, content
        elif content == 0 and pronoun is None and words[run[0]] in PRONOUNS:
            pronoun = words[run[0]]
    if best:
        # "expect the build": a noun phrase starts at its determiner.
        first = next((n for n, i in enumerate(best) if words[i] in DETERMINERS), 0)
        if any(words[i] not in _KEPT for i in best[first:]):
            best = best[first:]
        while best and words[best[-1]] in _KEPT and words[best[-1]] not in _NOUNS:
            best = best[:-1]
        phrase = " ".join(plain[i] for i in best)
        return phrase, True, words[best[0]] in DETERMINERS or any(c.isdigit() for c in phrase)
    return pronoun, False, False


_NOUNS = frozenset({"task", "one", "job", "thing", "work", "project", "process"})
#: Kept in a task phrase without naming a task themselves.
_KEPT = DETERMINERS | PRONOUNS | MODIFIERS
