"""The intent table: data, not code. Each rule is a regular expression over the normalised
clause with a priority; the match with the highest (priority, matched length) wins, so a
longer, more specific rule beats a shorter one (opsdroid's regex parser scores the same way).

Rules named UNKNOWN are deliberate "this is filler" matches ("hold on", "I'll resume later"):
they beat the command words inside them and the clause is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from intents.model import IntentName

N = IntentName


@dataclass(frozen=True, slots=True)
class Rule:
    intent: IntentName
    pattern: re.Pattern[str]
    priority: int
    #: True for rules that read across "and"/"then" ("cancel ... and start over").
    spans_clauses: bool = False

    #: The words the pattern spells out: inside a match they are command, not task name.
    literals: frozenset[str] = frozenset()


def _literals(source: str) -> frozenset[str]:
    cleaned = re.sub(r"\\[a-zA-Z]", " ", source)
    words = {w for w in re.findall(r"[a-z]+", cleaned) if len(w) > 1}
    words |= {w[:-1] for w in re.findall(r"([a-z]+)\?", cleaned) if len(w) > 2}  # "logs?"
    return frozenset(words)


def _r(intent: IntentName, priority: int, *patterns: str, spans: bool = False) -> list[Rule]:
    return [Rule(intent, re.compile(p), priority, spans, _literals(p)) for p in patterns]


_W = r"(?:\w+ ){0,4}"  # up to four words in between
_STOP = (
    r"(?:cancel|abort|kill|stop|scrap|terminate|drop|nuke|shut down|shutdown|call off"
    r"|throw away)"
)
_AGAIN = (
    r"(?:start (?:\w+ ){0,2}(?:over|again)|restart|rerun|redo|run (?:\w+ ){0,2}again"
    r"|start (?:a )?(?:new|fresh)(?: one| run| attempt)?)"
)

RULES: tuple[Rule, ...] = tuple(
    [
        # Cancel followed by a fresh start is one restart (the engine's restart is exactly
        # "cancel and start over as a new attempt"), so it runs as one command, not two.
        *_r(N.RESTART, 40, rf"\b{_STOP}\b.*\b(?:and|then|,) (?:\w+ )?{_AGAIN}\b", spans=True),
        *_r(
            N.RESTART,
            20,
            r"\b(?:restart|rerun|redo)\b",
            rf"\b(?:start|kick off|launch|trigger) {_W}(?:over|again)\b",
            rf"\brun {_W}again\b",
            r"\b(?:do|run) (?:\w+ ){0,3}over\b",
            r"\bfrom (?:scratch|the (?:beginning|start))\b",
        ),
        *_r(N.RESUME, 25, r"\brestart from where\b", r"\bpick (?:\w+ ){0,3}back up\b"),
        *_r(
            N.RESUME,
            10,
            r"\b(?:resume|continue|unpause|carry on|keep going|go on)\b",
            r"\bget (?:\w+ ){0,4}going again\b",
        ),
        *_r(N.UNKNOWN, 30, r"^hold on$", r"\bi will \w+ (?:\w+ )?later\b", r"^go ahead$"),
        *_r(N.PAUSE, 20, rf"\bstop {_W}for now\b", r"\bon hold\b"),
        *_r(N.PAUSE, 10, r"\b(?:pause|hold|suspend|freeze)\b", r"\btake a (?:break|pause)\b"),
        *_r(N.CANCEL, 10, rf"\b{_STOP}\b"),
        *_r(
            N.UNSUBSCRIBE,
            25,
            r"\bunsubscribe\b",
            r"\bstop (?:notifying|sending|pinging|messaging|emailing|alerting)\b",
            r"\b(?:stop|turn off|disable|mute) (?:the |all |my )?(?:notifications|alerts|updates"
            r"|emails|pings|messages)\b",
            r"\bmute\b",
            r"\bno more (?:emails|pings|notifications|updates|messages|alerts)\b",
            r"\bdo not (?:notify|email|ping|message|alert)\b",
            r"\bdo not want (?:any )?(?:more )?(?:notifications|emails|updates|pings|messages"
            r"|alerts)",
            r"\bstop (?:getting|receiving) (?:\w+ )?(?:emails|notifications|pings|messages|alerts"
            r"|updates)\b",
        ),
        *_r(
            N.SUBSCRIBE,
            20,
            r"\b(?:notify|ping|alert|email|message|text|tell|let|remind|mail|slack|telegram) me\b.*"
            r"\b(?:when|if|once|after|as soon as)\b",
            r"\blet me know\b",
            r"\bsend me\b.*\b(?:when|if|once)\b",
            r"\bkeep me (?:posted|updated|informed)\b",
            r"\bsubscribe\b",
            r"\bnotify me\b",
        ),
        *_r(N.ETA, 25, r"\btell me when (?:\w+ )?(?:will|is going to)\b"),
        *_r(
            N.ETA,
            15,
            r"\beta\b",
            r"\bhow long\b",
            r"\bhow much (?:longer|time|more time)\b",
            r"\bsoon\b",
            r"\bhow many (?:more )?(?:minutes|hours|seconds)\b",
            r"\btime (?:remaining|left)\b",
            r"\bestimated (?:time|finish|completion)\b",
            r"\bwhen (?:will|would|is|does)\b",
            r"\bwhat time (?:will|does|would)\b",
            r"\bwhen\b.*\b(?:done|finish|finishes|finished|ready|complete|completed|end)\b",
        ),
        *_r(
            N.LIST,
            12,
            r"^(?:list|ls)\b",
            r"\blist (?:all )?(?:my |the )?(?:\w+ )?(?:tasks|jobs)\b",
            r"\b(?:my|all|any) (?:\w+ )?(?:tasks|jobs)\b",
            r"\b(?:what|which) (?:\w+ )?(?:tasks|jobs)\b",
            r"\bshow (?:me )?(?:all )?(?:my |the )?(?:\w+ )?(?:tasks|jobs)\b",
            r"\bwhat is (?:\w+ )?(?:running|in progress|pending|paused|failed|failing|queued)\b",
            r"\b(?:overview|summary|dashboard)\b",
            r"\b(?:show|list) (?:me )?(?:everything|all|anything)\b",
            r"\b(?:is|are) (?:anything|something|any tasks|any jobs) (?:\w+ )?"
            r"(?:running|paused|failed|pending|waiting)\b",
            r"\bwhat (?:am i|are we) running\b",
            r"\bwhat have i got\b",
            r"\bwhat (?:do|have) i (?:have|got)\b",
            r"\bhow many (?:\w+ )?(?:tasks|jobs)\b",
            r"^(?:my )?(?:tasks|jobs)$",
            r"\bneeds? (?:my )?attention\b",
            r"\bwaiting (?:for|on) (?:my )?approval\b",
        ),
        *_r(
            N.LOGS,
            12,
            r"\b(?:logs?|output|tail|errors?|stack trace|traceback)\b",
            r"\b(?:why|where|how) did\b.*\b(?:fail|break|crash|go wrong)",
            r"\b(?:last|first) \d+ lines\b",
            r"\bprinted\b",
            r"\bwhat went wrong\b",
        ),
        *_r(
            N.CHANGES,
            14,
            r"\bwhat (?:is |has )?changed\b",
            r"\bwhat is (?:new|different)\b",
            r"\bany (?:updates|news|changes)\b",
            r"\b(?:what|anything) happen(?:ed)?\b",
            r"\banything new\b",
            r"\bcatch me up\b",
            r"\bfill me in\b",
            r"\bwhat did i miss\b",
            r"\bsince (?:i )?last\b",
        ),
        *_r(
            N.STATUS,
            10,
            r"\bstatus\b",
            r"\bprogress\b",
            r"\bhow far\b",
            r"\b(?:updates?) on\b",
            r"\bgive me an update\b",
            r"\bwhere are we\b",
            r"\bcheck on\b",
            r"^check (?:the|my)\b",
            r"\bwhat is going on with\b",
            r"\bwhat (?:step|stage|state|phase)\b",
            r"\bpercent(?:age)?\b",
            r"\bwhat is the (?:deal|story|situation) with\b",
            r"^where is\b",
            r"\bwhat is up with\b",
            r"\b(?:what|where) is (?:\w+ ){1,4}at$",
            r"\bstate of\b",
            r"\btell me about\b",
            r"\bhow is\b",
            r"\bhow does\b",
            r"\bhow are\b",
            r"\bhow\b.*\b(?:doing|going|coming)\b",
        ),
        *_r(N.STATUS, 15, r"\bany news (?:on|about|from)\b"),
        # "is X done?": a generic question shape, weaker than any command word.
        *_r(
            N.STATUS,
            9,
            r"\b(?:is|are|has|have|did)\b.*\b(?:done|finished|complete|completed|ready|running"
            r"|deployed|fail|failed|over|working|stuck|waiting|start|started|broken|approved|rejected"
            r"|cancelled|paused|failing|finish|green|red|passing|healthy|ok|built|up|live)\b",
        ),
        *_r(
            N.STATUS,
            15,
            r"\b(?:has|have|is|was) (?:\w+ ){0,4}been (?:approved|rejected|cancelled|paused)",
        ),
        *_r(N.STATUS, 5, r"^show (?:me )?(?:the |my )", r"\bshow (?:me )?(?:\w+ )?step\b"),
        *_r(N.LIST, 13, r"\b(?:status|progress) (?:of|on|for) (?:everything|all)\b"),
        *_r(N.RETRY, 10, r"\bretry\b", rf"\btry {_W}again\b", r"\banother (?:go|try|shot)\b"),
        *_r(N.SKIP, 10, r"\b(?:skip|bypass)\b", r"\bmove (?:past|on from)\b"),
        *_r(N.REJECT, 20, r"\bdo not approve\b", r"\bnot approved?\b"),
        *_r(N.REJECT, 10, r"\b(?:reject|decline|deny|refuse|disapprove)\b"),
        *_r(
            N.APPROVE,
            10,
            r"\b(?:approve|approved|lgtm|accept|sign off|signoff)\b",
            r"\bship it\b",
            r"\blooks good\b",
            r"\bgo ahead with\b",
        ),
        *_r(
            N.HELP,
            15,
            r"^(?:help|commands|\?)$",
            r"\bhelp\b",
            r"\bwhat can you do\b",
            r"\bhow do i\b",
            r"\bcommands\b",
            r"\bwhat can i (?:ask|say|do|type)\b",
        ),
        *_r(
            N.GREETING,
            1,
            r"^(?:hi|hello|hey|hiya|howdy|yo|greetings|(?:good )?(?:morning|afternoon|evening)"
            r"|what is up|sup)"
            r"(?: there| all| everyone| team| bot)?$",
        ),
        *_r(
            N.THANKS,
            1,
            r"\b(?:thanks|thank you|ty|cheers|appreciated|appreciate it|much obliged)\b",
        ),
    ]
)
