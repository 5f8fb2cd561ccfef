"""Remaining-time estimate.

With no history to learn from, the honest estimate is the task's own rate: working time
so far divided by the share of work done, times the share left.
"""

from __future__ import annotations

from datetime import datetime

from engine.records import TaskState
from engine.states import DONE_STEP_STATES, TaskStatus
from engine.timing import task_active_ms


def remaining_seconds(task: TaskState, now: datetime) -> int | None:
    """Seconds of work left, or None when there is nothing yet to extrapolate from."""
    if task.status is TaskStatus.COMPLETED:
        return 0
    if task.status in (TaskStatus.CANCELLED, TaskStatus.FAILED):
        return None
    total_weight = sum(s.weight for s in task.steps)
    if total_weight <= 0:
        return None
    done = sum(
        s.weight * (100.0 if s.status in DONE_STEP_STATES else s.progress) for s in task.steps
    )
    fraction = done / (100.0 * total_weight)
    active_ms = task_active_ms(task, now)
    if fraction <= 0.0 or active_ms <= 0:
        return None
    remaining_ms = active_ms * (1.0 - fraction) / fraction
    return max(0, round(remaining_ms / 1000))
