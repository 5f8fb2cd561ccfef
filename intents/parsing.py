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

from intents.arguments import REASON, event_in
from intents.clauses import HARD_SEPARATORS, Clause, read_clause
from intents.model import SOCIAL, TASK_INTENTS, Intent, IntentName, StepRef
from intents.rules import RULES
from intents.steps import find_step
from intents.text import Tokens, tokenize
from intents.words import DETERMINERS, JUNK, PRONOUNS, STATUS_WORDS

N = IntentName

#: Longer messages are not commands; the cap also bounds the regular expressions' work.
MAX_LENGTH = 500
_SOFT_SEPARATORS = frozenset({"and", "then", "also", "plus", "but"})
_SPANNING = tuple(rule for rule in RULES if rule.spans_clauses)
_PRONOUN_INTENTS = TASK_INTENTS | {N.SUBSCRIBE, N.UNSUBSCRIBE, N.CHANGES}
_CONDITIONS = frozenset({"if", "once", "unless"})
_RESTARTS = frozenset({"restart", "rerun", "redo"})
#: "campaign ok?", "build still going?", "the other deploy?": words that may come with a bare
#: task name asked about.
_ASKED_STATES = frozenset(
    {"still", "ok", "okay", "fine", "good", "alright", "alive", "going", "running", "yet", "now"}
    | {"all", "everything", ":", "other", "another", "so", "and"}
)
#: Words that start a new request when they follow a task name directly.
_COMMAND_STARTS = frozenset(
    {"pause", "resume", "unpause", "cancel", "abort", "kill", "stop", "retry", "skip"}
    | {"approve", "reject", "show", "give", "tell", "notify", "list", "how"}
)
#: Takes back what came before it: "cancel it, no wait, pause it".
_CORRECTION = re.compile(
    r"^(?:no |oh )?(?:wait|actually|i mean|i meant|scratch that|never ?mind"
    r"|sorry (?:i mean|i meant|wrong|no|not))\b"
)
#: "ok scrap that, cancel the cafe export": taken back when another command follows.
_RETRACTION = re.compile(
    r"^(?:(?:ok|no|oh|actually|wait) )*(?:(?:scrap|scratch|forget|ignore|disregard) "
    r"(?:that|this|it|what i said)|sorry)$"
)
#: "don't cancel the crm, just pause it": a command asked NOT to be done.
_NEGATED = re.compile(
    r"^(?:(?:please|pls|but|and|just|i|we|you) )?(?:do not|did not|never|no need to|not) "
    r"(?!bother\b|need (?:the|my|our|this|that|it|them)\b)(?:(?:want|need|have) to )?"
)
#: "stop the crm, temporarily": what makes a stop a pause.
_FOR_A_WHILE = re.compile(
    r"^(?:but |just |only )*(?:temporarily|temporary|for now|for a (?:bit|while|moment|sec|second"
    r"|minute|few minutes)|for the (?:moment|time being)|not for good|not permanently)$"
)
#: "and 4 on the build" after "skip steps 3": another step number.
_MORE_STEPS = re.compile(r"^(\d{1,2})\b")
#: "the numbers are wrong": a judgement about something, which names no task to act on.
_ASSESSMENT = re.compile(
    r"\b(?:is|are|was|were|looks?|seems?) (?:\w+ )?(?:wrong|off|bad|broken|incorrect|missing"
    r"|stale|outdated|fine|good|great|ok|okay)\b"
)
#: "the crm is taking ages", "ugh the build is stuck again": said, not asked.
_STATEMENT = re.compile(
    r"^(?:(?:ugh|so|hmm|well|ok|oh|argh|man|welp|damn|sigh) )*(?:the |my |our )?"
    r"(?:(?!(?:is|are|was|were|has|have|did|does|do|how|what|why|when|where|which|who|can"
    r"|could|would|will|any|anything|status|hey|hi|hello|tell|show|give|me|you|please|if)\b)"
    r"\w+ ){1,3}(?:is|are|am|was|has|have|looks|seems|keeps)\b"
)
_IF_SO = re.compile(r"^if (?:yes|so|it is|true)\b")
#: A clause that asks or orders, so it is no reason for a rejection before it.
_ASKING = re.compile(
    r"^(?:show|what|how|when|why|where|which|is|are|can|could|would|please|give|tell|list"
    r"|get|do|does|did|has|have)\b"
)
#: "it's hung", "that is stuck": a remark about the task a command just named.
_EXPLANATION = re.compile(r"^(?:it|that|this|they) (?:is|are|was|were|has|seems|looks)\b")
_STATES = frozenset(STATUS_WORDS) - {"done", "approval"}
_ASKED_GREETINGS = frozenset({"alright", "all right", "you alright", "alright mate"})
_SUBSCRIPTIONS = frozenset({N.SUBSCRIBE, N.UNSUBSCRIBE})
_COMMANDS = frozenset({N.PAUSE, N.RESUME, N.CANCEL, N.RESTART, N.RETRY, N.SKIP, N.APPROVE})
#: Negative commands that are commands of their own ("don't approve", "don't notify me").
_NEGATIVE_COMMANDS = frozenset({N.REJECT, N.UNSUBSCRIBE, N.UNKNOWN})


def parse(text: str) -> list[Intent]:
    """The intents in `text`, in the order asked; [UNKNOWN] when none is recognised."""
    tokens = tokenize(text[:MAX_LENGTH])
    if tokens.words and all(w == "?" for w in tokens.words):
        return [Intent(N.HELP, 0.9)]  # "?", "❓"
    clauses = []
    for start, end in _split(tokens):
        pairs = [
            (p, w)
            for p, w in zip(tokens.plain[start:end], tokens.words[start:end], strict=True)
            if w not in HARD_SEPARATORS
        ]
        clauses.append(read_clause([p for p, _ in pairs], [w for _, w in pairs]))
    linked = _link(clauses)
    asked = "?" in tokens.words
    if len(clauses) == 1 and asked and clauses[0].text in _ASKED_GREETINGS:
        return [Intent(N.GREETING, 0.8)]  # "alright?", "you alright?": hello, in the UK
    if len(clauses) == 1 and asked and _names_only(clauses[0]):
        # "crm?", "campaign ok?": a bare task name asked about is a status question.
        linked = [replace(clauses[0], intent=N.STATUS, confidence=0.6)]
    intents = [
        Intent(c.intent, c.confidence, c.reference, c.step, MappingProxyType(dict(c.arguments)))
        for c in linked
    ]
    return intents or [Intent(N.UNKNOWN, 0.0)]


def _names_only(clause: Clause) -> bool:
    """An unmatched clause of at most four words, all of them possible task-name words or a
    state asked about ("campaign ok", "build still going")."""
    words = clause.text.split()
    return (
        clause.intent is N.UNKNOWN
        and clause.concrete
        and len(words) <= 4
        and all(w in DETERMINERS or w in _ASKED_STATES or w not in JUNK for w in words)
    )


def _unnamed(clause: Clause) -> bool:
    """No task named: no reference, or only a pronoun."""
    return clause.reference is None or not clause.concrete


def _compatible(first: Clause, second: Clause) -> bool:
    """No argument set differently: "what's running and what's failed" stays two lists."""
    return all(first.arguments.get(k, v) == v for k, v in second.arguments.items())


def _bare_noun_phrase(clause: Clause) -> bool:
    """ "the build" or "the build too": a task and nothing else, so the command before it
    carries over ("pause the crm and the build"); "it's hammering the db" is not one."""
    if not (clause.concrete and clause.noun_phrase and clause.reference):
        return False
    if _ASSESSMENT.search(clause.text):
        return False  # "the numbers are wrong": a judgement, not another task
    named = set(clause.reference.split())
    return all(w in named or w in JUNK for w in clause.text.split())


def _bare_name_after(previous: Clause, clause: Clause) -> bool:
    """ "status crm and build": a bare name after a command on a bare name, no other words."""
    if not (clause.concrete and clause.reference and previous.concrete and previous.reference):
        return False
    if previous.noun_phrase or clause.noun_phrase:
        return False
    words = clause.text.split()
    return len(words) <= 3 and not any(w in JUNK for w in words)


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
        splits = word in HARD_SEPARATORS or (
            word in _SOFT_SEPARATORS
            # "paused and failed tasks": one list of two kinds, not two requests
            and not (0 < index < len(words) - 1 and {words[index - 1], words[index + 1]} <= _STATES)
        )
        if splits and index not in protected:
            if index > start:
                ranges.append((start, index))
            start = index + 1
        elif (
            (word in _COMMAND_STARTS or (word in _RESTARTS and words[start] in _CONDITIONS))
            and start < index < len(words) - 1
            and index not in protected
            and words[index + 1] not in HARD_SEPARATORS
            and words[index - 1] not in DETERMINERS
            and (
                (
                    words[index - 1] not in JUNK | PRONOUNS
                    and any(w in DETERMINERS for w in words[start:index])
                )
                or (words[start] in _CONDITIONS and index - start > 2)
            )
        ):
            # "pause the crm show me the logs": a new command after a task name, no "and";
            # "if it's stuck restart it": the command after its condition
            ranges.append((start, index))
            start = index
    if start < len(words):
        ranges.append((start, len(words)))
    return ranges


def _link(clauses: list[Clause]) -> list[Clause]:
    """Resolve the clauses against each other: reasons, bare noun phrases, pronouns."""
    linked: list[Clause] = []
    for position, clause in enumerate(clauses):
        previous = linked[-1] if linked else None
        if _RETRACTION.match(clause.text) and any(
            c.intent is not N.UNKNOWN for c in clauses[position + 1 :]
        ):
            for earlier in linked:
                earlier.retracted = True
            continue
        if clause.intent is N.UNKNOWN and _CORRECTION.match(clause.text):
            if previous is not None and previous.intent in _PRONOUN_INTENTS and clause.concrete:
                # "resume the campaign, sorry i mean the crm": the same request, another task
                previous.reference, previous.concrete = clause.reference, True
                previous.noun_phrase = clause.noun_phrase
                continue
            for earlier in linked:
                earlier.retracted = True
            continue
        if previous is not None and _IF_SO.match(clause.text):
            previous.remark = False  # "done yet? if so notify me": the question stands
        if clause.intent not in _NEGATIVE_COMMANDS and _NEGATED.match(clause.text):
            clause.retracted = True  # still names the task for "just pause it"
        if (
            previous is not None
            and previous.intent is N.REJECT
            and "reason" not in previous.arguments
            and clause.intent in (N.STATUS, N.LOGS)
            and not _ASKING.match(clause.text)
        ):
            # "reject step 2, it's broken", "reject it, error rate is too high": why
            clause = replace(clause, intent=N.UNKNOWN)
        elif (
            previous is not None
            and previous.intent in _COMMANDS
            and clause.intent is N.STATUS
            and not _ASKING.match(clause.text)
            and (_EXPLANATION.match(clause.text) or not clause.noun_phrase)
        ):
            # "kill the crm job, it's hung", "hold the deploy, incident in progress": why,
            # not a second question
            continue
        if (
            clause.intent is N.SUBSCRIBE
            and "event" not in clause.arguments
            and previous is not None
            and previous.text.split()[:1] in (["if"], ["once"], ["when"])
            and (event := event_in(previous.text)) is not None
        ):
            clause.arguments["event"] = event  # "if the build fails, notify me"
        if (
            clause.intent is N.CHANGES
            and clause.reference is None
            and previous is not None
            and previous.intent is N.UNKNOWN
            and previous.concrete
            and (_bare_noun_phrase(previous) or previous.text == previous.reference)
        ):
            # "the api deploy… any news?": news of one task is its status
            clause = replace(clause, intent=N.STATUS, reference=previous.reference, concrete=True)
        if clause.intent is N.UNKNOWN and previous is not None:
            if previous.intent is N.CANCEL and _FOR_A_WHILE.match(clause.text):
                previous.intent = N.PAUSE  # "stop the crm, just for now": a pause
                continue
            if previous.intent is N.REJECT and "reason" in previous.arguments:
                previous.arguments["reason"] = f"{previous.arguments['reason']} and {clause.typed}"
                continue
            if previous.intent is N.REJECT and clause.typed:
                reason = REASON.search(clause.typed)  # "sorry: numbers are wrong"
                previous.arguments["reason"] = reason.group(1) if reason else clause.typed
                continue
            if previous.intent in TASK_INTENTS and (
                _bare_noun_phrase(clause) or _bare_name_after(previous, clause)
            ):
                if _NEGATED.match(clause.text):
                    continue  # "pause my campaign, not the newsletter": which one is NOT meant
                clause = replace(clause, intent=previous.intent, confidence=0.7)
            elif previous.step is not None and (step := find_step(clause.text)) is not None:
                # "approve step 1 and step 2": the same command for another step.
                clause = replace(clause, intent=previous.intent, confidence=0.7, step=step[0])
            elif (
                previous.step is not None
                and previous.step.number
                and (more := _MORE_STEPS.match(clause.text)) is not None
            ):
                # "skip steps 2 and 3", "skip steps 3 and 4 on the build"
                number = StepRef(f"step {more.group(1)}", number=int(more.group(1)))
                clause = replace(clause, intent=previous.intent, confidence=0.7, step=number)
        linked.append(clause)
    _borrow_antecedents(linked)
    linked = [c for c in linked if not c.retracted]
    for clause in linked:
        if clause.intent in (N.STATUS, N.ETA) and _STATEMENT.match(clause.text):
            clause.remark = True  # "the api deploy is stuck again, restart it": why, not what
    actionable = [c for c in linked if c.intent not in SOCIAL]
    if actionable:
        linked = [c for c in actionable if not c.remark] or actionable
    elif len(linked) > 1:
        social = [c for c in linked if c.intent is not N.UNKNOWN]
        thanks = [c for c in social if c.intent is N.THANKS]
        linked = thanks[:1] or social[:1] or linked[:1]  # "hey, thanks for that": thanks
    merged = _merged(linked)
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
    for position in range(len(merged) - 1):
        if merged[position].text.startswith("before "):
            # "before you restart the build, show me the logs": the logs come first
            merged[position], merged[position + 1] = merged[position + 1], merged[position]
    for clause in merged:
        if clause.intent in _SUBSCRIPTIONS and clause.step is not None and clause.reference is None:
            # "tell me when step 3 is done": a step belongs to a task, the one talked about
            clause.reference = "it"
    return merged


def _borrow_antecedents(clauses: list[Clause]) -> None:
    """Pronouns and missing references borrow the task named earlier in the message."""
    antecedent: str | None = None
    for clause in clauses:
        if clause.concrete and (
            clause.intent is not N.UNKNOWN
            or (clause.noun_phrase and not _ASSESSMENT.search(clause.text))
            or (
                clause.reference is not None and clause.text == clause.reference
            )  # "crm, is it done?"
        ):
            antecedent = clause.reference
        elif (
            antecedent is not None
            and clause.intent in _PRONOUN_INTENTS
            and (clause.reference is not None or clause.intent is not N.CHANGES)
        ):
            clause.reference, clause.concrete = antecedent, True


def _merged(clauses: list[Clause]) -> list[Clause]:
    """Neighbouring parts of one request become one intent ("the build log, last 20 lines")."""
    merged: list[Clause] = []
    for clause in clauses:
        last = merged[-1] if merged else None
        if last is not None and last.intent is clause.intent and _compatible(last, clause):
            if clause.reference is None and clause.step is None:
                last.arguments = {**clause.arguments, **last.arguments}
                continue
            if last.reference is None and last.step is None:
                clause.arguments = {**last.arguments, **clause.arguments}
                merged[-1] = clause
                continue
            if _unnamed(last) and _unnamed(clause) and None in (last.step, clause.step):
                # "step 2 looks good, approve it": one approval of step 2
                last.step = last.step or clause.step
                last.reference = last.reference or clause.reference
                last.arguments = {**clause.arguments, **last.arguments}
                continue
            if (clause.reference, clause.step) == (last.reference, last.step):
                # "the build log, last 20 lines": one request said in two parts
                last.arguments = {**clause.arguments, **last.arguments}
                continue
        merged.append(clause)
    return merged
