"""The intent table: data, not code. Each rule is a regular expression over the normalised
clause with a priority; the match with the highest (priority, matched length) wins, so a
longer, more specific rule beats a shorter one (opsdroid's regex parser scores the same way).

Rules named UNKNOWN are deliberate "this is filler" matches ("hold on", "I'll resume later"):
they beat the command words inside them and the clause is dropped. Rules marked `remark`
("the migration failed again", "all good") stand alone but give way to any request in the
same message.
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
    #: True for remarks rather than requests ("the migration failed again"): dropped when the
    #: same message also asks for something else.
    remark: bool = False

    #: The words the pattern spells out: inside a match they are command, not task name.
    literals: frozenset[str] = frozenset()


def _literals(source: str) -> frozenset[str]:
    cleaned = re.sub(r"\\[a-zA-Z]", " ", source)
    words = {w for w in re.findall(r"[a-z]+", cleaned) if len(w) > 1}
    words |= {w[:-1] for w in re.findall(r"([a-z]+)\?", cleaned) if len(w) > 2}  # "logs?"
    return frozenset(words)


def _r(
    intent: IntentName, priority: int, *patterns: str, spans: bool = False, remark: bool = False
) -> list[Rule]:
    return [Rule(intent, re.compile(p), priority, spans, remark, _literals(p)) for p in patterns]


_W = r"(?:\w+ ){0,4}"  # up to four words in between
_BOT = r"(?:you|it|this|this bot|this thing|the bot|tasktalk)"
_STOP = (
    r"(?:cancel|abort|kill|stop|scrap|terminate|drop|nuke|shut (?:\w+ ){0,3}down|shutdown"
    r"|call (?:\w+ ){0,3}off|throw away|ditch|axe|scrub|pull the plug|get rid of|put an end to"
    r"|abandon|discard|delete|remove|wipe|call it quits|discontinue|cease|roll back|rollback"
    r"|blow away|trash)"
)
_AGAIN = (
    r"(?:(?:start|kick|fire|launch|trigger|begin|spin) (?:\w+ ){0,2}(?:over|again|anew)|restart"
    r"|(?:start|begin|run|do) (?:\w+ ){0,2}from (?:scratch|the (?:beginning|start|top))"
    r"|rerun|redo|reboot|relaunch|retrigger|run (?:\w+ ){0,2}again"
    r"|(?:start|initiate|begin|launch|kick off) (?:a )?(?:new|fresh)(?: one| run| attempt)?)"
)

#: "needs the build restarted", "would like the crm paused": the command wanted done.
_WANTS = (
    r"\b(?:wants?|needs?|would like|like|wanted) (?:the|my|our|this|that|it|step) (?:\w+ ){0,4}"
)

_HELLO = (
    r"(?:hi|hello|hey|hiya|howdy|yo|greetings|(?:good )?(?:morning|afternoon|evening)"
    r"|what is up|sup|gm|hola|heya|good day|gday|salutations|ayy|ayo|heyo)"
)
#: Words that may come before the command verb that opens a clause ("ok please pause …").
_LEAD = r"(?:(?:please|pls|ok|okay|now|just|and|so|then|yes|yeah) )*"
#: What may follow the fresh start of a cancel-and-restart: the same task, or nothing new.
_SAME = r"(?:it|that|this|them|one|from|please|pls|now|as well|again|over|right|asap)"

RULES: tuple[Rule, ...] = tuple(
    [
        # Cancel followed by a fresh start is one restart (the engine's restart is exactly
        # "cancel and start over as a new attempt"), so it runs as one command, not two.
        # Not when the fresh start names another task: "cancel the crm then restart the build".
        *_r(
            N.RESTART,
            40,
            rf"\b{_STOP}\b.*\b(?:and|then|,) (?:\w+ )?{_AGAIN}\b(?=$| [,;.!?]| {_SAME}\b)",
            rf"\b{_STOP} (?:(?:it|that|this|everything) )?(?:, )?(?:and|then) (?:\w+ )?{_AGAIN}\b",
            spans=True,
        ),
        *_r(
            N.RESTART,
            20,
            r"\b(?:restart|rerun|redo|reboot|relaunch|retrigger|reset|rebuild|reload|respawn"
            r"|requeue|resubmit|reexecute|reinitiate|redeploy|bounce)\b",
            rf"\b(?:start|kick|kick off|launch|trigger|fire|spin|begin) {_W}(?:over|again|anew)\b",
            rf"\brun {_W}again\b",
            r"\b(?:do|run) (?:\w+ ){0,3}over\b",
            r"\bfrom (?:scratch|the (?:beginning|start|top)|beginning|start)\b",
            r"\b(?:fresh|clean) (?:start|run|restart)\b|\bstart (?:\w+ )?(?:fresh|clean)$",
            r"\bfrom square one\b",
            r"\bafresh\b",
        ),
        *_r(
            N.RESUME,
            25,
            r"\brestart from where\b",
            r"\b(?:restart|start|continue|resume|pick up) (?:\w+ ){0,5}(?:from )?where"
            r" (?:\w+ ){1,3}(?:stopped|left off|paused|was|were)\b",
            r"\bpick (?:\w+ ){0,3}back up\b",
            r"\b(?:start|turn|switch|fire|spin|kick|bring|put) (?:\w+ ){0,4}back (?:up|on)\b",
            r"\blet (?:\w+ ){0,4}(?:run|go|continue|proceed|carry on)\b",
            r"\b(?:off|out of) (?:hold|pause|ice)\b",
        ),
        *_r(
            N.RESUME,
            10,
            r"\b(?:resume|continue|unpause|unfreeze|unhalt|unhold|unpark|unblock|unsnooze|reinstate"
            r"|recommence"
            r"|carry on"
            r"|keep going|go on|proceed with|push on|crack on|press on|get on with)\b",
            r"\b(?:send|do|finish|run) the rest\b",
            r"\bwake (?:\w+ ){0,4}up\b",
            r"\b(?:get|go) back to\b",
            r"\blet (?:it|them|that) rip\b",
            r"\bkeep (?:\w+ ){1,4}(?:going|running)\b",
            r"\bget (?:\w+ ){0,4}(?:going|moving|running) again\b",
        ),
        *_r(
            N.UNKNOWN,
            30,
            r"^hold on$",
            r"\bi will \w+ (?:\w+ )?later\b",
            r"^go ahead$",
            r"^(?:we|i) (?:are|am|have|had|were|was) (?:\w+ )?(?:done|finished) with\b",
            r"^who (?:is going to|will|won|wins)\b",
            r"\b(?:sorry|apologies) (?:for|about) (?:the |that |this |my )?(?:hold ?up|delay|wait"
            r"|confusion|noise|spam|trouble|mess|mix ?up)\b",
            # "legal approved it": news about someone else's decision, not a command
            r"^(?!i |we )\w+ (?:has |have |already )?(?:approved|signed off|okayed) (?:it|this|that"
            r"|them)\b",
        ),
        *_r(
            N.PAUSE,
            20,
            rf"\b(?:stop|halt|kill) {_W}(?:for now|temporarily|temporary|for (?:a|the) (?:bit|while"
            r"|moment|sec|second|minute|few))\b",
            r"\bon (?:hold|ice|pause)\b",
            r"\btemporarily (?:stop|halt|kill|suspend|cancel)\b",
            r"\b(?:into|in) a (?:paused|suspended|held) state\b",
        ),
        *_r(
            N.PAUSE,
            10,
            r"\b(?:pause|hold|suspend|freeze|halt|park|postpone|defer|delay|snooze|sigstop)\b",
            r"\btake a (?:break|pause)\b",
            r"\bto sleep\b",
            r"\b(?:hit|pump|slam|put) the brakes\b",
            r"\b(?:hang|hold) fire\b",
            r"\b(?:stop|halt|wait) (?:for )?(?:a|one) (?:moment|minute|sec|second|bit)\b",
            r"\bback burner\b",
            r"\b(?:shelve|sideline)\b",
        ),
        # A clause that starts with a command verb is that command: "approve the one waiting
        # for approval" approves (a list question is weaker).
        *_r(N.PAUSE, 13, rf"^{_LEAD}pause\b"),
        *_r(N.RESUME, 13, rf"^{_LEAD}(?:resume|unpause)\b"),
        *_r(N.CANCEL, 13, rf"^{_LEAD}(?:cancel|abort)\b"),
        *_r(N.RESTART, 13, rf"^{_LEAD}(?:restart|rerun)\b"),
        *_r(N.RETRY, 13, rf"^{_LEAD}retry\b"),
        *_r(N.SKIP, 13, rf"^{_LEAD}skip\b"),
        *_r(N.APPROVE, 13, rf"^{_LEAD}approve\b"),
        *_r(N.REJECT, 13, rf"^{_LEAD}reject\b"),
        *_r(
            N.CANCEL,
            10,
            rf"\b{_STOP}\b",
            r"^(?:please |pls |just )?(?:end|bin) (?:the|my|it|this|that)\b",
        ),
        # "we don't need the api deploy anymore", "the cafe export is not needed": a task no
        # longer wanted is cancelled; after another command ("skip step 4, we don't need it")
        # this is only its reason.
        *_r(
            N.CANCEL,
            11,
            r"^(?:\w+ )?(?:do not|no longer) need (?:the|my|our|this|that|it)\b",
            r"\b(?:not|no longer) needed\b",
            remark=True,
        ),
        # "I would like the migration to be cancelled": the command in the passive.
        *_r(N.CANCEL, 12, r"\bbe (?:cancelled|canceled|stopped|killed|aborted|terminated)\b"),
        # "sarah needs the build restarted", "they would like the crm paused": wanted done.
        *_r(N.CANCEL, 12, rf"{_WANTS}(?:cancelled|canceled|killed|aborted|terminated)$"),
        *_r(N.PAUSE, 12, rf"{_WANTS}(?:paused|put on hold|suspended)(?: (?:until|till) \w+)?$"),
        *_r(N.RESUME, 12, rf"{_WANTS}(?:resumed|unpaused|continued)$"),
        *_r(N.RESTART, 12, rf"{_WANTS}(?:restarted|rerun|redone)$"),
        *_r(N.RETRY, 12, rf"{_WANTS}(?:retried|tried again)$"),
        *_r(N.SKIP, 12, rf"{_WANTS}(?:skipped|bypassed)$"),
        *_r(N.APPROVE, 12, rf"{_WANTS}(?:approved|signed off)(?: asap| today| now)?$"),
        *_r(N.REJECT, 12, rf"{_WANTS}(?:rejected|declined)$"),
        *_r(N.PAUSE, 12, r"\bbe (?:paused|put on hold|suspended)\b"),
        *_r(N.RESUME, 12, r"\bbe (?:resumed|unpaused|continued)\b"),
        *_r(N.RESTART, 12, r"\bbe (?:restarted|rerun|redone)\b"),
        *_r(N.SKIP, 12, r"\bbe (?:skipped|bypassed|omitted)\b"),
        *_r(N.APPROVE, 12, r"\b(?:may|can|should|could) be approved\b"),
        *_r(N.REJECT, 12, r"\b(?:may|can|should|could) be (?:rejected|declined)\b"),
        *_r(
            N.UNSUBSCRIBE,
            25,
            r"\bunsubscribe\b",
            r"^(?:\w+ )?too many (?:notifications|alerts|updates|emails|pings|messages|dms)\b",
            r"\b(?:stop|quit|cease|refrain from) (?:notifying|sending|pinging|messaging|emailing"
            r"|alerting"
            r"|telling|bugging|bothering|spamming|reminding|updating|texting|buzzing|paging)\b",
            r"\b(?:unfollow|unwatch|opt out)\b",
            r"\bstop (?:watching|monitoring|following|tracking)\b",
            r"\b(?:take me off|remove me from)\b",
            r"\b(?:turn|switch) (?:\w+ ){0,3}(?:notifications|alerts|updates|emails|pings) off\b",
            r"\bdo not (?:tell|update|bother|bug) me\b",
            r"\b(?:stop|quit|turn off|switch off|disable|mute|silence|enough|enough with|cut"
            r"|kill|drop|cancel|end|no|discontinue|cease)"
            r" (?:\w+ ){0,3}(?:notifications|alerts|updates|emails|pings|messages|dms"
            r"|(?:daily |hourly |morning )?digests?)\b"
            # "pause the emails campaign": a task's name, not the notifications
            r"(?! (?:campaign|campaigns|task|job|export|import|report|blast|newsletter|sync)\b)",
            # "pause notifications" mutes; "pause the customer emails" pauses what sends them
            r"\bpause (?:\w+ ){0,3}(?:notifications|alerts|pings|dms)\b",
            r"\bmute\b",
            r"\bno more (?:emails?|pings?|notifications?|updates?|messages?|alerts?)\b",
            r"\bdo not (?:notify|email|ping|message|alert)\b",
            r"\b(?:do not|not|never|no need to) send (?:me |us )?(?:any )?(?:more )?"
            r"(?:notifications?|messages?|emails?|updates?|alerts?|pings?)\b",
            r"\b(?:do not|no longer) (?:want|need|wish|care) (?:\w+ ){0,4}"
            r"(?:notifications?|emails?|updates?|pings?|messages?|alerts?)\b",
            r"\bstop (?:getting|receiving) (?:\w+ )?(?:emails|notifications|pings|messages|alerts"
            r"|updates)\b",
        ),
        *_r(
            N.SUBSCRIBE,
            20,
            r"\b(?:notify|ping|page|alert|email|message|text|tell|let|remind|mail|slack|telegram|update"
            r"|dm|buzz|warn) me\b.*"
            r"\b(?:when|if|once|after|as soon as|every time|each time|whenever|any ?time|should"
            r"|upon|in case|(?<!at )the moment|the second|the minute|the instant)\b",
            # "let me know how the report is coming" asks now; it is not a subscription.
            r"\blet me know\b(?! (?:how|what|where|whether|about)\b)",
            r"\bsend (?:me |us )?(?:an? )?(?:\w+ )?(?:e ?mail|message|notification|ping|text|alert"
            r"|dm)s?\b.*\b(?:when|if|once|after)\b",
            r"\bsend me\b.*\b(?:when|if|once)\b",
            # "push notification when the build is done": what to send, and when
            r"^(?:(?:a|an|please|send|get|want) )*(?:push |email |slack |telegram |browser )?"
            r"(?:notification|alert|ping|email|message|text|dm|heads up)s? (?:me )?(?:when|if|once"
            r"|as soon as)\b",
            r"\b(?:webhook|hook|call|poke|nudge) me\b.*\b(?:when|if|once|as soon as)\b",
            r"\bsend me (?:\w+ )?(?:notifications|updates|alerts|emails|pings)\b",
            r"\b(?:email|message|text|ping|slack|telegram|dm) me (?:\w+ )?(?:updates|notifications"
            r"|alerts)\b",
            r"\bkeep me (?:posted|updated|informed|in the loop)\b",
            # "alert me about failures": a kind of event, not a task asked about now
            r"\b(?:notify|alert|ping|tell|let|email|message|text|warn|dm) me (?:know )?"
            r"(?:about|of|on) (?:any |all |the )?(?:failures|errors|problems|issues|crashes"
            r"|breakages)\b",
            r"\bloop me in\b",
            r"\binform me\b",
            r"\b(?:want|like|need) to know (?:when|if|once)\b",
            r"\b(?:shout|holler|give me a shout|drop me a (?:line|note|message))"
            r" (?:\w+ ){0,2}(?:when|if|once)\b",
            r"\bsubscribe\b",
            r"\bnotify me\b",
            r"^(?:please |pls |then |just )?(?:ping|alert|email|message|text|tell|page|dm|buzz"
            r"|let me know) me$",
            r"\b(?:want|wants|get|gets|receive|like|needs?) (?:\w+ )?(?:updates|notifications"
            r"|alerts|emails|pings)\b",
            r"\b(?:appreciate|want|like|get|need) (?:an? )?(?:email|message|ping|text|notification"
            r"|alert|heads up)\b.*\b(?:when|once|if|after|as soon as)\b",
            r"^(?:please |pls )?(?:follow|watch)\b",
            r"\bkeep (?:an eye|tabs|a watch|watch) on\b",
            r"\b(?:watch|monitor) (?:the|my|it|this|that|over)\b",
            r"\b(?:give|send) (?:me|us) a heads ?up\b",
            r"\b(?:be|get|getting|stay) (?:notified|alerted|pinged|emailed|updated|informed"
            r"|told)\b",
        ),
        *_r(N.ETA, 25, r"\btell me when (?:\w+ ){0,4}(?:will|would|is going to)\b"),
        # "is the site deploy still on hold?", "should i restart it?": asked, not ordered.
        *_r(
            N.STATUS,
            31,
            r"^(?:is|are) (?!(?:anything|something|everything|any|all|there)\b)(?:\w+ ){1,5}"
            r"(?:on (?:hold|ice|pause)|paused|suspended)\b",
            r"\bshould (?:i|we) (?:\w+ )?(?:restart|cancel|pause|resume|retry|skip|stop|kill"
            r"|rerun)\b",
            r"\bshould (?:\w+ ){1,4}be (?:approved|rejected|cancelled|paused|restarted|skipped"
            r"|retried|resumed)\b",
        ),
        # "tell me if the migration ever finished": about what already happened, asked now.
        *_r(
            N.STATUS,
            21,
            r"\b(?:tell|let) me (?:know )?(?:if|whether) (?:\w+ ){1,4}(?:ever|already|actually)"
            r" (?:finished|completed|failed|succeeded|worked|passed|crashed|started|ran|went)\b",
            r"\b(?:tell|let) me (?:know )?(?:if|whether) (?:\w+ ){1,4}(?:has|have|did) (?:\w+ )?"
            r"(?:finished|completed|failed|succeeded|worked|passed|crashed|started|finish|complete"
            r"|fail|succeed|work|pass|crash|start)\b",
        ),
        *_r(
            N.ETA,
            15,
            r"\beta\b",
            r"\bhow long\b",
            r"\bhow much (?:longer|time|more time)\b",
            r"\b(?:be|take) (?:much |any |a lot |a bit |way |very )?longer\b",
            # "will the report be ready?", "can the crm finish tonight?": when, asked yes or no
            r"\b(?:will|can|could) (?:the|my|our|it|this|that) (?:\w+ ){0,4}(?:be (?:ready|done"
            r"|finished|complete|completed|live|over)|finish|complete|wrap up)\b",
            r"\bsoon\b",
            r"\bhow many (?:more )?(?:minutes|hours|seconds)\b",
            r"\btime (?:remaining|left)\b",
            r"\b(?:what|how much) (?:is |has |still )?(?:left|remaining)\b",
            r"^(?:\w+ ){0,4}(?:will|(?:is|are) (?:\w+ ){1,4}going to) (?:\w+ ){0,4}(?:finish"
            r"|be done|be ready|be finished|complete|end|wrap up) (?:today|tonight|soon|on time"
            r"|in time|by|before|this)\b",
            r"\b(?:time to (?:completion|finish|complete|done)|completion (?:time|date)"
            r"|finish time)\b",
            r"\bhow (?:close|near)\b",
            r"\b(?:turnaround|finish line|ttc)\b",
            r"\btime of (?:completion|finish|arrival)\b",
            r"\b(?:late|delayed|overdue|behind schedule)\b",
            r"\b(?:due(?! to\b)|estimate|landing|land)\b",
            r"\bhow (?:long|much|many \w+) to go\b",
            r"\b(?:estimated|expected|projected) (?:time|finish|completion|end)\b",
            r"^(?:hours|minutes|days) or (?:minutes|hours|seconds|days)\b",
            r"\bwhen (?:will|would|is|does|do|should|can|could|might|are)\b",
            r"\bwhat time (?:will|does|would|should|can)\b",
            r"\b(?:finish|finished|done|ready|complete|completed|end|wrap up|over|live) when$",
            r"\bby (?:what time|when)\b",
            r"\bwhen\b.*\b(?:done|finish|finishes|finished|ready|complete|completed|end|wrap up"
            r"|wrapped up|over|live|shipped|released)\b",
        ),
        *_r(
            N.LIST,
            12,
            r"^(?:list|ls)\b|^ps$",
            r"\blist (?:all )?(?:my |the )?(?:\w+ )?(?:tasks|jobs)\b",
            r"\b(?:my|all|any) (?:\w+ )?(?:tasks|jobs)\b",
            r"\b(?:what|which) (?:\w+ )?(?:tasks|jobs)\b",
            r"\bshow (?:me )?(?:all )?(?:my |the )?(?:\w+ )?(?:tasks|jobs)\b",
            r"\b(?:show|list) (?:me )?(?:all |just |only )?(?:my |the )?(?:running|paused|failed"
            r"|pending|queued|active|finished|completed|stuck|blocked) (?:stuff|things|ones)\b",
            r"\b(?:anything|something|what) (?:\w+ )?(?:needs?|waiting (?:on|for))"
            r" (?:me|my input)\b",
            # "what is still running" lists; "what is it waiting for" asks about one task
            r"\bwhat is (?!(?:it|that|this|the|my|our|its) )(?:\w+ )?(?:running|active|in progress"
            r"|pending|paused|failed|failing|queued|waiting|blocked|stuck|broken)\b",
            r"^(?:\w+ )?which (?:ones? )?(?:is|are) (?:\w+ )?(?:running|active|in progress|pending"
            r"|paused|failed|failing|queued|waiting|blocked|stuck|broken)\b",
            r"^(?:(?:give|show|get) (?:me |us )?)?(?:an |the |a |my )?(?:quick )?(?:overview"
            r"|summary|dashboard)\b",
            r"\b(?:show|list) (?:me )?(?:everything|all|anything)\b",
            r"\b(?:is|are) (?:anything|something|any tasks|any jobs) (?:\w+ )?"
            r"(?:running|paused|failed|pending|waiting)\b",
            r"\bwhat (?:am i|are we) running\b",
            r"\b(?:anything|something) (?:\w+ )?(?:failed|fail|running|paused|pending|stuck|broken"
            r"|blocked|waiting|queued|done|finished|completed|complete)\b",
            r"\b(?:tasks|jobs) (?:that are |which are )?(?:in progress|running|paused|failed"
            r"|failing|pending|queued|waiting|stuck|done|finished|completed)\b",
            r"^(?:everything|anything|all|whatever)(?: of mine)? (?:that|which) (?:is|are)"
            r" (?:still )?(?:running|paused|failed|failing|pending|queued|waiting|stuck|done"
            r"|finished|completed|blocked|broken)\b",
            r"\b(?:on my plate|in my queue|my queue|my workload|in flight|on the go|my stuff)\b",
            r"\bwhat is (?:cooking|queued|open|outstanding|on fire|burning)\b",
            r"\b(?:anything|something) outstanding\b",
            r"\benumerate\b",
            r"\blist of (?:my |the |all )?(?:tasks?|jobs?|everything)\b",
            r"\b(?:tasks|jobs) (?:that |which )?(?:need|needs|require|requires|are waiting for)"
            r" (?:my |an )?approval\b",
            r"\bwhat (?:do i own|is mine)\b",
            r"\bwhat (?:am i|are we) waiting (?:on|for)\b",
            r"^what (?:did|have) (?:i|we) (?:kick off|kicked off|start|started|launch|launched|run"
            r"|ran)\b",
            r"^what (?:did|have|do) (?:i|we) (?:\w+ ){0,2}(?:paused|running|failed|pending"
            r"|queued)\b",
            r"\bwhich (?:ones|of (?:them|mine|my \w+))\b",
            r"\bwhat have i got\b",
            r"\bwhat (?:i|we) (?:have|have got|got) (?:going on|running|on|going)\b",
            r"\bwhat (?:do|have) i (?:have|got)\b",
            r"\bhow many (?:\w+ )?(?:tasks|jobs)\b",
            r"^(?:(?:my|all|the|any) )*(?:(?:running|paused|failed|failing|pending|active|finished"
            r"|completed|queued|current|open) )?(?:tasks|jobs|stuff|things)(?: please| now)?$",
            r"\bneeds? (?:my )?attention\b",
            r"\b(?:anything|something|what|which (?:\w+ )?) (?:\w+ )?needs? (?:my |an )?(?:approval"
            r"|attention|sign ?off|review)\b",
            r"^what (?:has |have )?(?:finished|completed|failed|started)(?: today| yesterday"
            r"| overnight| recently| so far)?$",
            # "anything waiting for my approval" lists; "is the report waiting on approval" asks
            r"(?:^|\b(?:anything|something|what|which|tasks|jobs|everything)\b.*)waiting (?:for|on)"
            r" (?:my )?approval\b",
        ),
        *_r(
            N.LOGS,
            12,
            r"\b(?:logs?|logged|logging|output|tail|errors?|warnings?|stdout|stderr|console"
            r"|stack trace|stacktrace|traceback)\b",
            r"\bwhat did (?:\w+ ){1,4}(?:print|say|output|log|spit out|write)\b",
            r"\b(?:spat|spit) out\b",
            r"\b(?:show|see|read|display|view) (?:me )?(?:the |its |all )?messages"
            r" (?:from|of|for)\b",
            r"\bcrash (?:log|report|dump)\b",
            r"\b(?:complaining|moaning|whining|yelling|screaming) about\b",
            r"\bdiagnostics\b",
            r"\berrors? did (?:\w+ ){1,4}(?:throw|raise|hit|report)\b",
            r"\bwhy (?:is|are|does|do|has|did)\b.*\b(?:fail|failing|failed|broken|erroring|crash"
            r"|crashing|crashed)",
            r"\b(?:why|where|how) did\b.*\b(?:fail|break|crash|go wrong|stop|die|hang|error|abort)",
            r"\bwhat (?:exactly |actually |just )?(?:broke|failed|crashed|went wrong|errored)\b",
            r"\b(?:last|first) \d+ lines\b",
            r"\b(?:more|fewer|all|full|next|previous|earlier|older) lines\b",
            r"^(?:the )?(?:last|first|tail) \d+$",
            r"\bprinted\b",
            r"\bwhat went wrong\b",
        ),
        *_r(
            N.CHANGES,
            14,
            r"\bwhat (?:is |has )?changed\b",
            r"\bwhat is (?:new|different)\b",
            r"\bany (?:updates|news|changes)\b",
            r"\b(?:what|anything) (?:is |has )?(?:happen|happened|moved)\b",
            r"^(?:(?:give|show|tell|list|send|get) (?:me |us )?)?(?:the|any|all|recent|latest)"
            r" changes\b",
            r"\b(?:anything|something) new\b",
            r"^new(?: anything| stuff)?$",
            r"\b(?:anything|something) (?:has |have )?changed?\b",
            r"\bcatch me up\b",
            r"\bfill me in\b",
            r"\bwhat did i miss\b",
            r"\b(?:anything|something|what) (?:have |did )?(?:i|we) (?:missed|miss)\b",
            r"^(?:\w+ )?what is the (?:news|latest|latest news|word)$",
            r"\bsince (?:i |we |you )?last\b",
            r"\b(?:recap|rundown|digest|diff|delta|highlights|headlines|developments)\b",
            r"\bbrief me\b",
            r"\b(?:bring|get) (?:me|us) up to speed\b",
            r"\bwhat (?:is|has) been (?:happening|going on)\b",
            r"\b(?:anything|something) i should know\b",
            r"\banything to report\b",
            r"\b(?:summary|list|overview) of (?:the )?(?:changes|updates)\b",
            r"^(?:any |the |recent |latest )?changes\b",
            r"\b(?:progress|updates?|news|happened|new|different|movement|activity)\b.*\bsince\b",
            r"^(?:any )?updates?$",
        ),
        *_r(
            N.STATUS,
            10,
            r"\bstatus\b",
            r"\bprogress\b",
            r"\bhow far\b",
            r"\b(?:almost|nearly) (?:there|done|finished|ready|complete)\b",
            r"\b(?:updates?) (?:on|regarding|about|concerning|re)\b",
            r"\bgive me an update\b",
            r"\bupdate (?:me|us)\b",
            r"\bwhere are we\b",
            r"\bcheck on\b",
            r"\bcheck (?:the|my|our)\b",
            r"^(?:(?:can|could|would) (?:you|u) )?(?:please )?(?:check|have a look|take a look)"
            r"(?: (?:it|that|this|again|now|please))?$",
            r"\bwhat is going on with\b",
            r"\b(?:sitrep|lowdown)\b",
            r"\bhow is (?:\w+ ){1,4}(?:faring|holding up)\b",
            r"\bwhat is (?:\w+ ){1,4}(?:up to|working on|chewing on|busy with)\b",
            r"\b(?:check in on|status check|temperature check)\b",
            r"\bhow (?:is|are) (?:\w+ ){1,4}getting on\b",
            r"\bhow (?:\w+ ){1,4}(?:is|are) getting on\b",
            r"\bwhat (?:step|stage|state|phase)\b",
            r"\b(?:what|which) (?:is |are )?(?:the )?(?:\w+ )?(?:step|stage|phase)\b",
            r"\bwhat is (?:\w+ ){1,4}doing\b",
            r"\bwhat is (?:blocking|holding up|holding back|stopping|slowing down|delaying)\b",
            r"\b(?:worried|concerned|nervous|anxious) (?:about|for)\b",
            r"\b(?:looking|getting|any) (?:any )?(?:better|worse)\b",
            r"^(?:has|have|did) (?:anyone|someone|somebody) (?:\w+ )?(?:touched|changed|modified"
            r"|looked at|messed with)\b",
            r"\btaking (?:so |too |a |much )?(?:long|longer|forever|ages|while)\b",
            r"\bwhere (?:do|does) (?:\w+ ){1,4}stand\b",
            r"\bwhere (?:\w+ ){1,4}(?:is|are) at$",
            r"\btell me where\b",
            r"^(?:and |so |ok )?(?:how about |what about )?now$",
            r"\b(?:the )?latest (?:on|for|with|about)\b",
            r"\bon (?:track|schedule|target)\b",
            r"\bhealth(?: check)?\b",
            r"^(?!any )(?:\w+ ){1,3}update$",
            r"^(?:and |so |ok )?(?:what|how) about (?:the|my|our|it|that|this|task)\b",
            r"\b(?:is|are) (?:\w+ ){1,4}(?:on|at|past) step\b",
            r"\bhow many (?:more )?steps\b",
            r"\bhow many (?:\w+ ){1,2}(?:has|have|did)\b",
            r"^report on\b",
            r"^(?:please |can you )?compare\b",
            r"\b(?:percent|percentage)\b",
            r"\bwhat is the (?:deal|story|situation|holdup|hold up|latest|word|verdict|scoop|news"
            r"|craic)"
            r" (?:with|on|of)\b",
            r"\b(?:situation|condition) (?:of|with|on)\b",
            r"\bwhy (?:is|are|has|does|do)\b",
            r"\b(?:everything|all|things) (?:ok|okay|good|fine|alright|well) (?:with|on|for)\b",
            r"\b(?:any|what) (?:issues|problems|trouble|blockers|blocker) (?:with|on|for)\b",
            r"^where is\b",
            r"\bwhat is up with\b",
            r"\bwhat is (?:happening|going on|the latest) (?:with|on|for|in)\b",
            r"\bhow are things\b",
            r"\b(?:what|where) is (?:\w+ ){1,4}at$",
            r"\btell me about\b",
            r"\bhow is\b",
            r"\bhow does\b",
            r"\bhow are\b",
            r"\bhow (?:goes|did)\b",
            r"\bhow\b.*\b(?:doing|going|coming|proceeding|progressing|faring|moving)\b",
        ),
        *_r(
            N.STATUS,
            15,
            r"\bany (?:news|movement|progress|word|luck|update) (?:on|about|from|with)\b",
            r"\bstate of\b",
            r"\bsigns? of life\b",
            r"\b(?:anything|something|what is) wrong with\b",
        ),
        # "when did the build start", "how long has the crm been running": about what has
        # happened so far, not an estimate of what is to come.
        *_r(
            N.STATUS,
            16,
            r"\b(?:when|what time) (?:did|was|were|had)\b",
            r"\bhow long (?:has|have|had|did) (?:\w+ ){1,4}(?:been|run|ran|taken|take|gone)\b",
        ),
        # "is the migration knackered?": any yes/no question about a task, weakest of all.
        *_r(N.STATUS, 7, r"^(?:is|are|was|were|has|have|did|does) (?:the|my|our)\b"),
        # "is X done?": a generic question shape, weaker than any command word.
        *_r(
            N.STATUS,
            9,
            r"\b(?:is|are|has|have|did)\b.*\b(?:done|finished|complete|completed|ready|running"
            r"|deployed|fail|failed|over|working|stuck|waiting|start|started|broken|approved|rejected"
            r"|cancelled|paused|failing|finish|green|red|passing|healthy|ok|built|up|live|succeed"
            r"|succeeded|worked|passed|through|alive|moving|progressing|hanging|frozen|going|okay|fine|alright|good"
            r"|fixed|resolved|sorted|unblocked|blocked|hung|queued|scheduled|out|shipped|released"
            r"|pass|behaving|chugging|progress|crash|crashed|break|broke|die|died|errored"
            r"|ticking|humming|cruising|trucking|kicking|headway|normal|sending|processing|syncing"
            r"|importing|exporting|deploying|building|migrating|uploading|generating|concluded"
            r"|ended|reviewed|looked|seen|checked|touched|signed)\b",
        ),
        *_r(
            N.STATUS,
            15,
            r"\b(?:has|have|is|was) (?:\w+ ){0,4}been (?:approved|rejected|cancelled|paused)",
        ),
        # "is my report approved?": asks about a command word, weaker than a list question.
        *_r(
            N.STATUS,
            11,
            r"^(?:did|have|has) (?:you|we|anyone|someone|somebody) (?:already )?(?:pause|cancel"
            r"|restart|resume|approve|reject|skip|retry|stop|kill)\b",
            r"^(?:\w+ ){1,4}(?:is|was|has been|got) (?:approved|rejected|cancelled|paused|finished"
            r"|done|started|stopped)(?: already| yet| now)?$",
            r"\bwho (?:approved|rejected|cancelled|paused|started|restarted|stopped|killed|skipped"
            r"|resumed)\b",
            r"\b(?:check|see|find out|know|confirm|verify) (?:if|whether)\b",
            r"\bgot (?:approved|rejected|cancelled|paused|resumed|restarted|stopped|killed|skipped"
            r"|done|finished|deployed)\b",
            r"^(?:\w+ )?(?:is|was|has|have|did|are|were) (?:\w+ ){1,5}(?:approved|rejected"
            r"|cancelled|paused|resumed|restarted|skipped|retried|stopped|killed|aborted)\b",
        ),
        *_r(N.STATUS, 5, r"^show (?:me )?(?:the |my )", r"\bshow (?:me )?(?:\w+ )?step\b"),
        # "crm finished yet", "build done": a task and a state, no verb.
        *_r(
            N.STATUS,
            8,
            r"^(?:done|finished|complete|ready|over) (?:yet|already)$",
            r"^(?!(?:all|we|i|you)\b)(?:[\w:]+ ){1,4}(?:still )?(?:done|finished|complete|completed"
            r"|ready|failed|stuck"
            r"|running|paused|live|deployed|working|broken|green|red|healthy|passing|failing|erroring"
            r"|erroring out|hanging|hung|alive|waiting(?: (?:for|on) (?:me|us|you|approval|my"
            r" approval))?)(?: at \d+)?(?: yet| already| now| again)?$",
            remark=True,
        ),
        # "everything ok?", "running?" ask about all tasks; after a command ("approve it, all
        # good", "is the build up and running") they are only remarks.
        *_r(
            N.LIST,
            12,
            r"^how (?:is|are) (?:everything|things|stuff)(?: going| looking| doing)?$",
            r"^what (?:is|are) (?:everything|things) looking like$",
            r"^(?:is )?(?:everything|all) (?:ok|okay|good|fine|alright)$",
            r"^(?:running|paused|failed|failing|pending|queued|active|stuck)$",
            remark=True,
        ),
        *_r(
            N.LIST,
            14,
            r"\b(?:anything|something|what) (?:\w+ ){0,3}(?:need|needs|have|has) to (?:be )?"
            r"(?:approve|approved|sign off|review)\b",
            r"^(?:\w+ )?(?:anything|something) (?:for me )?to (?:approve|sign off|review)\b",
        ),
        *_r(
            N.LIST,
            15,
            r"\b(?:rundown|summary|overview|recap|digest|list) of (?:all )?(?:my |the |our )?"
            r"(?:tasks|jobs)\b",
        ),
        # "eta for all running tasks", "status of every job": one answer per task is a list.
        *_r(
            N.LIST,
            16,
            r"\b(?:eta|etas|status|progress|how long)\b.*\b(?:all|every|each) (?:of )?"
            r"(?:my |the |our )?(?:\w+ )?(?:tasks|jobs)\b",
            r"\b(?:eta|etas|status|progress) (?:on|for|of) (?:everything|all(?: of them)?)$",
        ),
        *_r(
            N.LIST,
            13,
            r"\b(?:status|progress) (?:of|on|for) (?:everything|all)\b",
            r"^(?:status|progress) (?:everything|all)(?: tasks| jobs)?$",
        ),
        *_r(
            N.RETRY,
            10,
            r"\bretry\b",
            r"\btry (?:\w+ ){0,6}again\b",
            r"\banother (?:go|try|shot|crack|attempt|run|whirl|spin|bash)\b",
            r"\breattempt\b",
            r"\bunstick\b|\bget (?:\w+ ){0,3}unstuck\b",
            r"\b(?:try|run|do|attempt) (?:\w+ ){0,4}(?:once more|again)\b",
            r"\b(?:(?:try|run|do|give) (?:\w+ ){0,4})?one more (?:try|go|shot|time)\b",
        ),
        *_r(N.RETRY, 22, r"\b(?:do|run|try) (?:it )?again (?:the )?step\b"),
        # A step is retried, not restarted: "rerun step 3", "redo the filters step".
        *_r(
            N.RETRY,
            22,
            r"\b(?:restart|rerun|redo|run|start|reexecute|execute|repeat)\b (?:\w+ ){0,3}?(?:step"
            r"|stage \d)\b",
        ),
        *_r(
            N.SKIP,
            10,
            r"\b(?:skip|bypass|omit)\b",
            r"\b(?:move|proceed|go|get) (?:past|on from)\b",
            r"\bjump (?:over |past )?(?:the )?step\b",
            r"\bjump (?:over|past)\b",
            r"\b(?:ignore|disregard|pass on|leave out|pass over|drop) (?:\w+ ){0,3}step\b",
            r"\bdo not bother with (?:\w+ ){0,3}step\b",
            r"\bfast forward\b",
        ),
        *_r(
            N.REJECT,
            20,
            r"\bdo not approve\b",
            r"\bnot approved?\b",
            r"(?<!\bor )\b(?:not|never|do not|cannot|can not) (?:accept|approve|ok|okay)\b",
        ),
        *_r(
            N.REJECT,
            10,
            r"\b(?:reject|decline|deny|refuse|disapprove|rejected|declined|denied|veto|nack)\b",
            r"\bthumbs down\b",
            r"\b(?:turn down|push back on|no go|(?:kick|bounce) (?:it|this|that|them) back)\b",
            r"\b(?:that is|it is|this is) a (?:no|hard no|nope)\b",
            r"^(?:a )?no (?:to|for|on) (?:the |this |that )?(?:\w+ )?(?:step|report|it)\b",
            r"\bsend (?:\w+ ){0,3}back\b",
        ),
        *_r(
            N.APPROVE,
            10,
            r"\b(?:approve|approved|lgtm|accept|sign off|signoff|greenlight|green light"
            r"|thumbs up|authorize|authorise)\b",
            r"^(?:ok|okay|confirm|yes to) (?:on |with |for )?(?:the \w+ )?step\b",
            r"\bship it\b",
            r"\b(?:has|have) (?:my|our) (?:approval|blessing|sign ?off|go ahead)\b",
            r"\b(?:grant|give) (?:my |our |the )?(?:approval|blessing|sign ?off|go ahead"
            r"|green light)\b",
            r"\bsign (?:it|this|that|step \w+) off\b",
            r"^(?:\w+ ){0,4}(?:is|are|looks|seems) good to go$",
            r"\blooks good\b",
            r"\bgo ahead with\b",
            r"\b(?:ok|okay|good|clear|cleared|fine|safe) to (?:proceed|go ahead|continue|ship"
            r"|release|move on)\b",
        ),
        # "how do I restart a task?": how to, about tasks in general, beats the command word.
        *_r(
            N.HELP,
            25,
            r"\bhow (?:do|can|should|would) (?:i|we|you|one) (?:\w+ ){1,3}(?:a|an|any) (?:task|job"
            r"|step)\b",
            r"\b(?:show|tell|teach) (?:me|us) how to\b",
            r"\bhow (?:to|do i|can i|do you) (?:\w+ ){1,2}(?:something|anything|a task|a job|tasks"
            r"|jobs)\b",
            r"\bwhat (?:is|are) an eta$|\bwhat does (?:an |the )?eta (?:mean|stand for)\b",
        ),
        *_r(
            N.HELP,
            15,
            r"^(?:help|commands|\?)$",
            r"\bhelp\b",
            r"^(?:show (?:me )?)?(?:the )?(?:guide|tutorial|menu|examples|example commands)$",
            rf"\bwhat can {_BOT} do\b",
            r"\btell me (?:about|more about) (?:yourself|you|this bot|the bot|tasktalk)\b",
            r"\b(?:explain|describe|tell me) (?:what|how) (?:you|this bot|the bot|tasktalk|this)"
            r" (?:do|does|work|works)\b",
            rf"\bwhat (?:do|does) {_BOT} do\b",
            rf"\bwhat (?:are|is) {_BOT} (?:able to|capable of|for|good for)\b",
            rf"\bhow (?:does|do) {_BOT} work\b",
            r"\bwhat (?:you|this bot|the bot|tasktalk) (?:can|could|are able to|is able to) do\b",
            r"^(?:usage|manual|docs|instructions|man|man page|manpage)$",
            r"\bhow to use\b",
            r"^what (?:are|is) (?:you|this bot|tasktalk)$",
            r"^how (?:do |can |should )?(?:i|we) use (?:you|this|it|the bot|tasktalk)\b",
            r"\bhow do i\b",
            r"\bcommands\b",
            r"\bwhat (?:can|should|do) i (?:ask|say|do|type|write)\b",
            r"\bwhat (?:kinds? of |sorts? of )?(?:things|stuff|questions|commands)"
            r" (?:can|should|do) (?:i|we) (?:ask|say|do|type)\b",
            r"\bwhat (?:i|we) (?:can|should) (?:ask|say|do|type|write)\b",
            r"\bi am (?:lost|confused)\b",
            r"\bhow (?:am i|are we) (?:supposed|meant) to\b",
            r"\bwhat (?:are|is) (?:my|the) (?:options|choices)\b",
            r"\bwhat (?:functions|features|capabilities|commands|options) (?:do|does|are|can)\b",
            r"\bwhat (?:assistance|help|support) (?:can|do|could|would) you\b",
        ),
        # A whole message of greeting: nothing else in it to give way to.
        *_r(
            N.GREETING,
            11,
            # "how are you?" and "how's it going, bot?" are small talk, not status questions
            rf"^(?:{_HELLO} )?how are (?:you|ya)(?: doing| today| doing today| going)?(?: bot"
            r"| tasktalk| buddy| mate)?$",
            r"^(?:hey |hi )?how is it going (?:bot|tasktalk|buddy|mate)$",
            rf"^{_HELLO}(?: {_HELLO}){{0,2}}"
            r"(?: (?:there|all|everyone|team|bot|folks|guys|tasktalk|friend|buddy|again|to you))"
            rf"{{0,2}}(?: {_HELLO})?$",
            r"^o$",  # "o/": a wave
        ),
        # "thanks for the help" thanks; it does not ask for help.
        *_r(
            N.THANKS,
            20,
            r"\b(?:thanks|thank you|ty|cheers) (?:\w+ ){0,2}for (?:the |your |all the |all "
            r"your )?(?:help|info|information|update|updates|heads up|assistance)\b",
            r"^(?:that|this|it|you) (?:help|helps|helped|is helpful|was helpful|were helpful)$",
            r"\b(?:grateful|thankful) (?:for|to)\b",
            # "thanks for pausing it" ("pausing" reads as "pause"): thanks for what was done
            r"^(?:thanks|thank you|ty|cheers) (?:\w+ )?for (?:\w+ing|pause|resume|cancel|restart"
            r"|retry|skip|approve|reject|stop|notify)(?: (?:it|that|this|them))?$",
        ),
        *_r(
            N.THANKS,
            1,
            r"\b(?:thanks|thank you|ty|cheers|appreciated|appreciate it|much obliged)\b",
            r"^ta(?: very much)?$",
            r"\b(?:merci|gracias|danke|kudos|nice one|you rock|you are a star|grateful|thankful)\b",
        ),
    ]
)
