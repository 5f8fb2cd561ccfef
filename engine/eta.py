"""Remaining-time estimate.

With no history to learn from, the honest estimate is the task's own rate: working time
so far divided by the share of work done, times the share left.
"""

from __future__ import annotations

from datetime import datetime

from engine.records import TaskState
from engine.states import DONE_STEP_STATES, TaskStatus
from engine.timing import task_active_ms


def done_fraction(task: TaskState) -> float | None:
    """Share of the task's weighted work that is done, 0-1; None for a weightless task."""
    total = 0.0
    done = 0.0
    for step in task.steps:
        total += step.weight
        done += step.weight * (100.0 if step.status in DONE_STEP_STATES else step.progress)
    if total <= 0:
        return None
    return done / (100.0 * total)


def remaining_seconds(task: TaskState, now: datetime, fraction: float | None = None) -> int | None:
    """Seconds of work left, or None when there is nothing yet to extrapolate from.

    `fraction` is `done_fraction(task)` when the caller has it already.
    """
    if task.status is TaskStatus.COMPLETED:
        return 0
    if task.status in (TaskStatus.CANCELLED, TaskStatus.FAILED):
        return None
    if fraction is None:
        fraction = done_fraction(task)
    if fraction is None or fraction <= 0.0:
        return None
    active_ms = task_active_ms(task, now)
    if active_ms <= 0:
        return None
    remaining_ms = active_ms * (1.0 - fraction) / fraction
    return max(0, round(remaining_ms / 1000))
