"""How long steps and tasks have really worked: pauses and approval waits excluded."""

from __future__ import annotations

from datetime import datetime

from engine.clock import milliseconds_between
from engine.records import StepState, TaskState


def step_active_ms(step: StepState, now: datetime) -> int | None:
    """Working time of a step so far (or in total, once finished); None if never started."""
    if step.started_at is None:
        return None
    end = step.finished_at or now
    paused = step.paused_ms
    if step.paused_since is not None and step.finished_at is None:
        paused += milliseconds_between(step.paused_since, now)
    return max(0, milliseconds_between(step.started_at, end) - paused)


def task_active_ms(task: TaskState, now: datetime) -> int:
    """Sum of the steps' working time: the clock a live-rate estimate runs on."""
    return sum(step_active_ms(step, now) or 0 for step in task.steps)


def task_wall_ms(task: TaskState, now: datetime) -> int | None:
    """Start to finish (or now), minus the time the task stood paused."""
    if task.started_at is None:
        return None
    end = task.finished_at or now
    paused = task.paused_ms
    if task.paused_since is not None:
        paused += milliseconds_between(task.paused_since, end)
    return max(0, milliseconds_between(task.started_at, end) - paused)
