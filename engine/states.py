"""The closed set of step and task states and the one table of legal transitions.

Every status change in the engine goes through `check_step_transition` or
`check_task_transition`; nothing else decides what may follow what.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class StepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    APPROVAL = "approval"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class TaskStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    APPROVAL = "approval"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class SubstepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"


S = StepStatus
T = TaskStatus

#: Legal step transitions. A report that repeats the current status is not a transition.
#: Producer reports are facts, so a step may finish straight from pending (too quick to
#: report its start) or from paused (done before the producer learnt of the pause).
#: failed -> pending is a person's retry; failed -> running is a producer retrying itself
#: (-> paused if a person paused the task meanwhile, -> approval if the step is gated).
STEP_TRANSITIONS: dict[StepStatus, frozenset[StepStatus]] = {
    S.PENDING: frozenset(
        {S.RUNNING, S.PAUSED, S.APPROVAL, S.COMPLETED, S.FAILED, S.SKIPPED, S.CANCELLED}
    ),
    S.RUNNING: frozenset({S.PAUSED, S.COMPLETED, S.FAILED, S.SKIPPED, S.CANCELLED}),
    S.PAUSED: frozenset({S.RUNNING, S.COMPLETED, S.FAILED, S.SKIPPED, S.CANCELLED}),
    S.APPROVAL: frozenset({S.RUNNING, S.PAUSED, S.FAILED, S.SKIPPED, S.CANCELLED}),
    S.FAILED: frozenset({S.PENDING, S.RUNNING, S.PAUSED, S.APPROVAL, S.SKIPPED}),
    S.COMPLETED: frozenset(),
    S.SKIPPED: frozenset(),
    S.CANCELLED: frozenset(),
}

#: Legal task transitions. Task status is derived from its steps plus the person's
#: pause/cancel flags; this table guards the commands and checks every derivation.
#: failed -> paused: a task paused before its step failed stays paused once retried.
TASK_TRANSITIONS: dict[TaskStatus, frozenset[TaskStatus]] = {
    T.PENDING: frozenset({T.RUNNING, T.PAUSED, T.APPROVAL, T.COMPLETED, T.FAILED, T.CANCELLED}),
    T.RUNNING: frozenset({T.PAUSED, T.APPROVAL, T.COMPLETED, T.FAILED, T.CANCELLED}),
    T.PAUSED: frozenset({T.PENDING, T.RUNNING, T.APPROVAL, T.COMPLETED, T.FAILED, T.CANCELLED}),
    T.APPROVAL: frozenset({T.RUNNING, T.PAUSED, T.COMPLETED, T.FAILED, T.CANCELLED}),
    T.FAILED: frozenset({T.PENDING, T.RUNNING, T.PAUSED, T.APPROVAL, T.COMPLETED, T.CANCELLED}),
    T.COMPLETED: frozenset(),
    T.CANCELLED: frozenset(),
}

TERMINAL_STEP_STATES = frozenset({S.COMPLETED, S.SKIPPED, S.CANCELLED})
TERMINAL_TASK_STATES = frozenset({T.COMPLETED, T.CANCELLED})
#: Steps that are underway: started and neither finished nor failed.
ACTIVE_STEP_STATES = frozenset({S.RUNNING, S.PAUSED, S.APPROVAL})
#: Steps that count as fully done for progress.
DONE_STEP_STATES = frozenset({S.COMPLETED, S.SKIPPED})
_PENDING_ONLY = frozenset({S.PENDING})


def is_legal_step_transition(current: StepStatus, target: StepStatus) -> bool:
    return target in STEP_TRANSITIONS[current]


def is_legal_task_transition(current: TaskStatus, target: TaskStatus) -> bool:
    return target in TASK_TRANSITIONS[current]


def derive_task_status(
    step_statuses: Iterable[StepStatus], *, paused: bool, cancelled: bool
) -> TaskStatus:
    """Task status from its steps (Prefect's state-group idea) and the person's flags."""
    if cancelled:
        return T.CANCELLED
    # One pass, no generators: this runs after every command on the report path.
    seen = set(step_statuses)
    if seen and seen <= DONE_STEP_STATES:
        return T.COMPLETED
    if S.FAILED in seen:
        return T.FAILED
    if paused:
        return T.PAUSED
    if S.APPROVAL in seen:
        return T.APPROVAL
    if seen - _PENDING_ONLY:
        return T.RUNNING
    return T.PENDING
