"""Values derived from a task's steps, and the progress document the API serves.

Nothing here is stored: progress, current step and durations are computed from the
step rows every time, so they can never disagree with them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.clock import isoformat_z
from engine.eta import NO_STATS, Estimate, StatsLookup, done_fraction, estimate
from engine.records import StepState, TaskState
from engine.states import ACTIVE_STEP_STATES, StepStatus, TaskStatus
from engine.timing import step_active_ms, task_wall_ms


def task_percent(task: TaskState, fraction: float | None = None) -> int:
    """Weighted mean of step progress; done steps count fully. 100 only when complete."""
    if fraction is None:
        fraction = done_fraction(task)
    if fraction is None:
        return 100 if task.status is TaskStatus.COMPLETED else 0
    percent = int(fraction * 100.0 + 0.5)
    if percent >= 100 and task.status is not TaskStatus.COMPLETED:
        return 99
    return percent


def current_step(task: TaskState) -> int | None:
    """The step underway, else the failed one, else the next pending one; None when done."""
    for wanted in (ACTIVE_STEP_STATES, {StepStatus.FAILED}, {StepStatus.PENDING}):
        for step in task.steps:
            if step.status in wanted:
                return step.order
    return None


def control_for(task: TaskState, step: StepState | None) -> str | None:
    """What the producer must do next: the person's wishes, as one word."""
    if task.status is TaskStatus.CANCELLED:
        return "restart" if task.next_task_id else "cancel"
    if task.paused:
        return "pause"
    if step is not None and step.status is StepStatus.APPROVAL:
        return "wait"
    return None


def task_event_fields(task: TaskState) -> dict[str, Any]:
    """What every event carries about its task, so a client can redraw from any one event."""
    return {
        "title": task.title,
        "status": str(task.status),
        "percent": task_percent(task),
        "current_step": current_step(task),
        "total_steps": len(task.steps),
    }


def estimate_fields(found: Estimate | None) -> dict[str, Any]:
    """`eta_seconds` and `eta_range` ([p10, p90] seconds), None when there is no estimate."""
    if found is None:
        return {"eta_seconds": None, "eta_range": None}
    return {"eta_seconds": found.seconds, "eta_range": [found.low, found.high]}


def step_event_fields(step: StepState) -> dict[str, Any]:
    return {
        "step": step.order,
        "step_name": step.name,
        "step_status": str(step.status),
        "step_percent": as_number(step.progress),
    }


def progress_document(
    task: TaskState,
    now: datetime,
    stats: StatsLookup = NO_STATS,
    estimates: dict[str, Estimate | None] | None = None,
) -> dict[str, Any]:
    """The spec's progress shape, plus fields clients need beyond it.

    `stats` are the running step statistics of the task's kind (see `engine.eta`);
    `estimates` memoises the estimate per task id for the rest of one command.
    """
    fraction = done_fraction(task)
    if estimates is not None and task.id in estimates:
        eta = estimates[task.id]
    else:
        eta = estimate(task, now, stats, fraction)
        if estimates is not None:
            estimates[task.id] = eta
    finished = task.finished_at
    return {
        "task_id": task.id,
        "title": task.title,
        "status": task.status.value,
        "progress": task_percent(task, fraction),
        "current_step": current_step(task),
        "total_steps": len(task.steps),
        "started_at": isoformat_z(task.started_at),
        "eta_seconds": eta.seconds if eta is not None else None,
        "eta_range": [eta.low, eta.high] if eta is not None else None,
        "kind": task.kind,
        "complexity": task.complexity_tables
        if task.complexity_tables is not None
        else task.complexity_class,
        "complexity_class": task.complexity_class,
        "attempt": task.attempt,
        "previous_task_id": task.previous_task_id,
        "next_task_id": task.next_task_id,
        "created_at": isoformat_z(task.created_at),
        "updated_at": isoformat_z(task.updated_at),
        "finished_at": isoformat_z(finished),
        "duration_ms": task_wall_ms(task, now),
        "paused": task.paused,
        "cancelled_by": task.cancelled_by,
        "steps": [_step_document(step, now) for step in task.steps],
    }


def _step_document(step: StepState, now: datetime) -> dict[str, Any]:
    elapsed = step_active_ms(step, now)
    doc: dict[str, Any] = {
        "order": step.order,
        "name": step.name,
        "status": step.status.value,
        "progress": as_number(step.progress),
    }
    if step.finished_at is not None and elapsed is not None:
        doc["duration_ms"] = elapsed
    if step.substeps:
        doc["substeps"] = [
            {"name": s.name, "done": s.done, "status": s.status.value} for s in step.substeps
        ]
    doc["key"] = step.key
    doc["weight"] = as_number(step.weight)
    doc["requires_approval"] = step.requires_approval
    doc["attempt"] = step.attempt
    doc["started_at"] = isoformat_z(step.started_at)
    doc["finished_at"] = isoformat_z(step.finished_at)
    doc["elapsed_ms"] = elapsed
    doc["error"] = step.error
    if step.requires_approval:
        doc["approval"] = {
            "requested_at": isoformat_z(step.approval_requested_at),
            "decision": step.decision,
            "decided_by": step.decided_by,
            "decided_at": isoformat_z(step.decided_at),
        }
    return doc


def as_number(value: float) -> int | float:
    """65.0 -> 65 and 33.333 -> 33.33, as people write percentages."""
    return int(value) if float(value).is_integer() else round(value, 2)
