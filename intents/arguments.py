"""The arguments a clause carries besides its task: the step, how many log lines, the reason
for a rejection, the channel and event of a subscription, the status a list is filtered by.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from intents.model import IntentName, StepRef
from intents.steps import find_step

N = IntentName

_STEP_INTENTS = frozenset(
    {N.RETRY, N.SKIP, N.APPROVE, N.REJECT, N.STATUS, N.LOGS, N.ETA, N.SUBSCRIBE}
)
_STEP_COMMANDS = frozenset({N.RETRY, N.SKIP, N.APPROVE, N.REJECT})
_BARE_STEP = re.compile(r"\b(?:retry|skip|approve|reject|rerun|redo) #?(\d{1,2})\b")
_COUNTS = {
    "five": 5,
    "ten": 10,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "hundred": 100,
}
_COUNT = r"(\d{1,5}|" + "|".join(_COUNTS) + ")"
_LINES = re.compile(
    rf"\b(?:(?:last|first|latest|final) )?(?:a )?{_COUNT} (?:(?:most )?(?:recent|latest|last) )?"
    r"(?:log )?lines\b|\b(?:last|tail|tail n) "
    rf"{_COUNT}\b"
    r"|(?<!step )(?<!task )(?<!id )(?<!number )(?<!no )\b(\d{1,4})$"  # "logs crm 50"
)
REASON = re.compile(
    r"(?:\b(?:because(?: of)?|since|as|cause|coz|cuz|due to|given that|reason being"
    r"|on the grounds that)\b|:) ?(.+)$"
)
_COMMANDS = frozenset({N.PAUSE, N.RESUME, N.CANCEL, N.RESTART, N.RETRY, N.SKIP, N.APPROVE})
#: Why a command is given; only a rejection keeps it as an argument.
_BECAUSE = re.compile(r"\b(?:because|cause|coz|cuz|due to|since|given that) .+$")
#: "reject step 2 the logo is wrong": a judgement after the command is its reason.
_VERDICT = re.compile(
    r"(?<=\S )((?:the|this|that|it|its|these|those|they) (?:(?!that\b|which\b|who\b)\w+ ){0,3}"
    r"(?:is|are|was|were|looks?|seems?) (?:still |so |too |all |very )?(?:not \w+|wrong|off|bad"
    r"|broken|incorrect|missing|stale|outdated|ugly|blurry|misspelled|empty|late|inaccurate"
    r"|invalid|out of date)\b.*)$"
)
#: "what changed since I last checked": when, not which task.
_SINCE = re.compile(
    r"\b(?:since|while|in the (?:last|past)|over the (?:last|past))\b"
    r"(?:(?!\b(?:about|on|for|with|in|to)\b).)*"  # "... since I last asked about the build"
)
_CHANNEL = re.compile(
    r"\b(?:(?:by|via|on|over|through|with|a|an) )?"
    r"(e ?mail(?:s|ing)?|mail|telegram|slack|browser|web ?push|push|chat)"
    r"(?: (?:message|notification|ping|dm)s?)?\b"
)
_CHANNELS = {
    "mail": "email",
    "e mail": "email",
    "emails": "email",
    "emailing": "email",
    "browser": "webpush",
    "push": "webpush",
    "web push": "webpush",
}
_EVENTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"\b(?:each|every|a) step\b|\bsteps?\b.*\b(?:complete|finish|done)"),
        "step_complete",
    ),
    (re.compile(r"\b(?:fail|break|broke|crash|error)"), "task_failed"),
    (re.compile(r"\b(?:approv|sign ?off|review)"), "approval_needed"),
    (re.compile(r"\b(?:starts|started|begins)\b"), "task_started"),
    (
        re.compile(
            r"\b(?:finish|done|complet|ready|ends|over|deployed|live|shipped|released|wrap"
            r"|conclu)"
        ),
        "task_complete",
    ),
)
_LIST_FILTERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\battention\b"), "attention"),
    (re.compile(r"\b(?:approv|sign ?off)"), "approval"),
    (re.compile(r"\bpaused\b"), "paused"),
    (re.compile(r"\b(?:fail|on fire|burning|broken|broke|crashed|erroring|errored)"), "failed"),
    (re.compile(r"\b(?:pending|queued|waiting)\b"), "pending"),
    (re.compile(r"\b(?:running|in progress|active|ongoing)\b"), "running"),
    (re.compile(r"\b(?:finished|completed|done)\b"), "completed"),
)


def read_arguments(
    intent: IntentName, text: str, plain: Sequence[str], arguments: dict[str, str | int]
) -> tuple[StepRef | None, list[tuple[int, int]]]:
    """Fill in `arguments` for a clause of `intent`; returns its step and the character spans
    of `text` that the step and arguments took (they are not part of the task phrase)."""
    step_ref: StepRef | None = None
    consumed: list[tuple[int, int]] = []
    if intent is N.REJECT and (
        (reason := REASON.search(text)) is not None or (reason := _VERDICT.search(text)) is not None
    ):
        consumed.append(reason.span())
        arguments["reason"] = _plain_span(text, plain, reason.span(1))
    elif intent in _COMMANDS and (why := _BECAUSE.search(text)) is not None:
        consumed.append(why.span())  # "skip step 3 because it's flaky": why, not which task
    if intent in _STEP_INTENTS and (step := find_step(text)) is not None:
        step_ref = step[0]
        consumed.append(step[1])
    elif intent in _STEP_COMMANDS and (bare := _BARE_STEP.search(text)) is not None:
        step_ref = StepRef(bare.group(0), number=int(bare.group(1)))  # "retry 2"
        consumed.append(bare.span(1))
    if intent is N.LOGS and (lines := _LINES.search(text)) is not None:
        count = lines.group(1) or lines.group(2) or lines.group(3)
        arguments["lines"] = _COUNTS[count] if count in _COUNTS else int(count)
        consumed.append(lines.span())
    if intent in (N.SUBSCRIBE, N.UNSUBSCRIBE) and (channel := _channel(text)):
        arguments["channel"] = _CHANNELS.get(channel.group(1), channel.group(1))
        consumed.append(channel.span())
    if intent is N.SUBSCRIBE and (event := event_in(text)) is not None:
        arguments["event"] = event
    if intent is N.CHANGES and (since := _SINCE.search(text)) is not None:
        consumed.append(since.span())
    if intent is N.LIST:
        status = next((status for pattern, status in _LIST_FILTERS if pattern.search(text)), None)
        if status is not None:
            arguments["status"] = status
    return step_ref, consumed


def event_in(text: str) -> str | None:
    """The event a subscription asks about: "when it finishes" -> task_complete."""
    return next((event for pattern, event in _EVENTS if pattern.search(text)), None)


def _channel(text: str) -> re.Match[str] | None:
    """The channel named, not counting a task's name: "the email campaign" is no channel,
    "the email notifications" and "the emails" are."""
    for match in _CHANNEL.finditer(text):
        if not _NAME_PART.match(text, match.start()):
            return match
    return None


#: A determiner, a singular channel word and a word that is not about notifications.
_NAME_PART = re.compile(
    r"(?:(?<=\bthe )|(?<=\bour )|(?<=\bmy ))(?:email|mail|slack|telegram) "
    r"(?!(?:notifications?|alerts?|updates?|messages?|pings?|dms?)\b)\w"
)


def _plain_span(text: str, plain: Sequence[str], span: tuple[int, int]) -> str:
    """The words as typed (before typo fixes) that fall inside a span of `text`."""
    first = text.count(" ", 0, span[0])
    last = text.count(" ", 0, max(span[0], span[1] - 1))
    return " ".join(plain[first : last + 1]).strip(" :")
