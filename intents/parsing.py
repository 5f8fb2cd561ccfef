"""`parse(text)`: one message in, the intents it asks for out (several for compound ones).

A message is split into clauses at punctuation and at "and"/"then", except where a rule that
reads across clauses matches ("cancel it and start over" is one restart). Each clause is read
on its own (`clauses.read_clause`); then the clauses are linked: pronouns and bare clauses
borrow the task named elsewhere in the message, so "pause the build and show me its logs" is
pause + logs, both on "the build".
"""

from __future__ import annotations

import re
from dataclasses import replace
from types import MappingProxyType

from intents.clauses import HARD_SEPARATORS, Clause, read_clause
from intents.model import SOCIAL, TASK_INTENTS, Intent, IntentName
from intents.rules import RULES
from intents.steps import find_step
from intents.text import Tokens, tokenize
from intents.words import DETERMINERS, JUNK

N = IntentName

#: Longer messages are not commands; the cap also bounds the regular expressions' work.
MAX_LENGTH = 500
_SOFT_SEPARATORS = frozenset({"and", "then", "also", "plus"})
_SPANNING = tuple(rule for rule in RULES if rule.spans_clauses)
_PRONOUN_INTENTS = TASK_INTENTS | {N.SUBSCRIBE, N.UNSUBSCRIBE, N.CHANGES}
#: Takes back what came before it: "cancel it, no wait, pause it".
_CORRECTION = re.compile(r"^(?:no |oh )?(?:wait|actually|sorry|i mean|scratch that|never ?mind)\b")


def parse(text: str) -> list[Intent]:
    """The intents in `text`, in the order asked; [UNKNOWN] when none is recognised."""
    if text.strip() == "?":
        return [Intent(N.HELP, 0.9)]
    tokens = tokenize(text[:MAX_LENGTH])
    clauses = []
    for start, end in _split(tokens):
        pairs = [
            (p, w)
            for p, w in zip(tokens.plain[start:end], tokens.words[start:end], strict=True)
            if w not in HARD_SEPARATORS
        ]
        clauses.append(read_clause([p for p, _ in pairs], [w for _, w in pairs]))
    linked = _link(clauses)
    if len(clauses) == 1 and text.rstrip().endswith("?") and _names_only(clauses[0]):
        # "crm?": a bare task name asked about is a status question.
        linked = [replace(clauses[0], intent=N.STATUS, confidence=0.6)]
    intents = [
        Intent(c.intent, c.confidence, c.reference, c.step, MappingProxyType(dict(c.arguments)))
        for c in linked
    ]
    return intents or [Intent(N.UNKNOWN, 0.0)]


def _names_only(clause: Clause) -> bool:
    """An unmatched clause of at most three words, all of them possible task-name words."""
    words = clause.text.split()
    return (
        clause.intent is N.UNKNOWN
        and clause.concrete
        and len(words) <= 3
        and all(w in DETERMINERS or w not in JUNK for w in words)
    )


def _split(tokens: Tokens) -> list[tuple[int, int]]:
    """Token ranges of the clauses; separators inside a spanning rule's match do not split."""
    words = tokens.words
    joined = " ".join(words)
    protected: set[int] = set()
    for rule in _SPANNING:
        for match in rule.pattern.finditer(joined):
            first = joined.count(" ", 0, match.start())
            last = joined.count(" ", 0, match.end())
            protected.update(range(first, last + 1))
    ranges: list[tuple[int, int]] = []
    start = 0
    for index, word in enumerate(words):
        splits = word in HARD_SEPARATORS or word in _SOFT_SEPARATORS
        if splits and index not in protected:
            if index > start:
                ranges.append((start, index))
            start = index + 1
    if start < len(words):
        ranges.append((start, len(words)))
    return ranges


def _link(clauses: list[Clause]) -> list[Clause]:
    """Resolve the clauses against each other: reasons, bare noun phrases, pronouns."""
    linked: list[Clause] = []
    for clause in clauses:
        previous = linked[-1] if linked else None
        if clause.intent is N.UNKNOWN and _CORRECTION.match(clause.text):
            for earlier in linked:
                earlier.retracted = True
            continue
        if clause.intent is N.UNKNOWN and previous is not None:
            if previous.intent is N.REJECT and "reason" in previous.arguments:
                previous.arguments["reason"] = f"{previous.arguments['reason']} and {clause.text}"
                continue
            if previous.intent is N.REJECT and clause.text:
                previous.arguments["reason"] = clause.text
                continue
            if previous.intent in TASK_INTENTS and clause.concrete and clause.noun_phrase:
                clause = replace(clause, intent=previous.intent, confidence=0.7)
            elif previous.step is not None and (step := find_step(clause.text)) is not None:
                # "approve step 1 and step 2": the same command for another step.
                clause = replace(clause, intent=previous.intent, confidence=0.7, step=step[0])
        linked.append(clause)
    # Pronouns and missing references borrow the task named elsewhere in the message.
    antecedent: str | None = None
    for clause in linked:
        if clause.concrete and (clause.intent is not N.UNKNOWN or clause.noun_phrase):
            antecedent = clause.reference
        elif (
            antecedent is not None
            and clause.intent in _PRONOUN_INTENTS
            and (clause.reference is not None or clause.intent is not N.CHANGES)
        ):
            clause.reference, clause.concrete = antecedent, True
    linked = [c for c in linked if not c.retracted]
    actionable = [c for c in linked if c.intent not in SOCIAL]
    if actionable:
        linked = actionable
    elif len(linked) > 1:
        social = [c for c in linked if c.intent is not N.UNKNOWN]
        linked = social[:1] or linked[:1]
    merged: list[Clause] = []
    for clause in linked:
        last = merged[-1] if merged else None
        if last is not None and last.intent is clause.intent:
            if clause.reference is None and clause.step is None:
                last.arguments = {**clause.arguments, **last.arguments}
                continue
            if last.reference is None and last.step is None:
                clause.arguments = {**last.arguments, **clause.arguments}
                merged[-1] = clause
                continue
        merged.append(clause)
    # A command without a task takes the one named later: "approve step 3 and resume the crm".
    later: str | None = None
    for clause in reversed(merged):
        if clause.concrete:
            later = clause.reference
        elif later is not None and clause.reference is None and clause.intent in TASK_INTENTS:
            clause.reference, clause.concrete = later, True
    if not merged:
        return []
    if all(c.intent is N.UNKNOWN for c in merged):
        return [replace(merged[0], reference=None, step=None, arguments={})]
    return merged
