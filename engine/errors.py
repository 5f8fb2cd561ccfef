"""Domain errors. Each carries a machine code and a sentence a person can read.

Surfaces map them to HTTP statuses and chat replies; the engine never knows which.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base class: `code` for machines, `sentence` for people, `field` for forms."""

    code = "domain_error"

    def __init__(self, sentence: str, *, field: str | None = None) -> None:
        super().__init__(sentence)
        self.sentence = sentence
        self.field = field


class NotFound(DomainError):
    """A task or step that does not exist, or that belongs to someone else."""

    code = "not_found"


class IllegalTransition(DomainError):
    """The current state forbids the command (HTTP 409)."""

    code = "illegal_transition"


class InvalidInput(DomainError):
    """A value the engine cannot accept (HTTP 422); `field` names it."""

    code = "invalid"


class Conflict(DomainError):
    """A command that would contradict an earlier one, such as restarting twice."""

    code = "conflict"


ACTION_PHRASES = {
    "pause": "paused",
    "resume": "resumed",
    "cancel": "cancelled",
    "restart": "restarted",
    "retry": "retried",
    "skip": "skipped",
    "approve": "approved",
    "reject": "rejected",
}


def task_refuses(title: str, status: str, action: str) -> IllegalTransition:
    """'The "Cellphone Store CRM" task is completed, so it can't be paused.'"""
    return IllegalTransition(
        f'The "{title}" task is {_status_phrase(status)}, so it can\'t be {ACTION_PHRASES[action]}.'
    )


def step_refuses(order: int, name: str, status: str, action: str) -> IllegalTransition:
    """'Step 2 "Generate application UI" is completed, so it can't be retried.'"""
    return IllegalTransition(
        f'Step {order} "{name}" is {_status_phrase(status)}, '
        f"so it can't be {ACTION_PHRASES[action]}.",
        field="status",
    )


def report_refused(order: int, name: str, status: str, target: str) -> IllegalTransition:
    """A producer report that the table forbids, e.g. completed -> running."""
    return IllegalTransition(
        f'Step {order} "{name}" is {_status_phrase(status)}, so it can\'t become {target}.',
        field="status",
    )


def _status_phrase(status: str) -> str:
    return {
        "approval": "waiting for approval",
        "pending": "still pending",
        "running": "running",
    }.get(status, f"already {status}")
