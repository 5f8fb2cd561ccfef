"""The values the parser and the resolver hand to the conversation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class IntentName(StrEnum):
    STATUS = "status"
    LIST = "list"
    LOGS = "logs"
    ETA = "eta"
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    RESTART = "restart"
    RETRY = "retry"
    SKIP = "skip"
    APPROVE = "approve"
    REJECT = "reject"
    CHANGES = "changes"
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"
    HELP = "help"
    GREETING = "greeting"
    THANKS = "thanks"
    UNKNOWN = "unknown"


N = IntentName

#: Intents that lose work or a decision: act on them only with an unambiguous task.
DESTRUCTIVE: frozenset[IntentName] = frozenset({N.CANCEL, N.RESTART, N.REJECT, N.SKIP})
#: Intents that act on one task; without a reference they mean the task last talked about.
TASK_INTENTS: frozenset[IntentName] = frozenset(
    {
        N.STATUS,
        N.LOGS,
        N.ETA,
        N.PAUSE,
        N.RESUME,
        N.CANCEL,
        N.RESTART,
        N.RETRY,
        N.SKIP,
        N.APPROVE,
        N.REJECT,
    }
)
#: Task statuses each command applies to: settles "resume the deploy" between two deploys.
FITTING_STATUSES: dict[IntentName, frozenset[str]] = {
    N.PAUSE: frozenset({"running", "pending", "approval"}),
    N.RESUME: frozenset({"paused"}),
    N.CANCEL: frozenset({"running", "pending", "paused", "approval", "failed"}),
    N.RETRY: frozenset({"failed"}),
    N.SKIP: frozenset({"failed", "approval"}),
    N.APPROVE: frozenset({"approval"}),
    N.REJECT: frozenset({"approval"}),
    N.ETA: frozenset({"running", "pending", "paused", "approval"}),
}
#: Social or meta intents, dropped when the same message also asks for something real.
SOCIAL: frozenset[IntentName] = frozenset({N.GREETING, N.THANKS, N.UNKNOWN})


@dataclass(frozen=True, slots=True)
class StepRef:
    """Which step a person means: by position ("step 2", "the second step"), by name
    ("the filters step") or by role ("this step", "the failed step")."""

    phrase: str
    number: int | None = None
    name: str | None = None
    special: str | None = None  # "current", "failed", "last", "next"


@dataclass(frozen=True, slots=True)
class Intent:
    """One thing the person asked for. `reference` is the task phrase as typed (normalised to
    lower case), None when the message names no task; `resolve` turns it into a task."""

    name: IntentName
    confidence: float
    reference: str | None = None
    step: StepRef | None = None
    arguments: Mapping[str, str | int] = field(default_factory=dict)

    @property
    def destructive(self) -> bool:
        """True when acting on the wrong task would lose work: confirm or refuse if unclear."""
        return self.name in DESTRUCTIVE

    @property
    def needs_task(self) -> bool:
        return self.name in TASK_INTENTS

    @property
    def fitting_statuses(self) -> frozenset[str]:
        """Pass to `resolve(..., fits=)`: the statuses this command can act on."""
        return FITTING_STATUSES.get(self.name, frozenset())
