"""What the write path does for estimates after each command: learn, warn, stamp.

Pure functions over aggregates and statistics; the writer calls them inside the batch's
transaction, so statistics, slow notices and events commit together with the command.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from engine.eta import Estimate, StatsLookup, estimate, step_prior
from engine.events import ChangeSet, EventType, PendingEvent, StepDuration
from engine.progress import estimate_fields, step_event_fields, task_event_fields
from engine.records import StepState, TaskState
from engine.states import StepStatus
from engine.statistics import Z90, StepStats, observe
from engine.timing import step_active_ms


def learn(
    stats: dict[tuple[str, str], StepStats],
    changed: set[tuple[str, str]],
    durations: Iterable[StepDuration],
) -> None:
    """Fold completed steps' active durations into the running statistics."""
    for item in durations:
        key = (item.kind, item.key)
        stats[key] = observe(stats.get(key), item.log_complexity, item.seconds)
        changed.add(key)


def slow_threshold_ms(task: TaskState, step: StepState, stats: StatsLookup) -> int | None:
    """The step's p90 active time at this task's complexity; None without history."""
    prior = step_prior(task, step, stats)
    if prior is None:
        return None
    return round(prior.quantile_z(Z90) * 1000.0)


def flag_slow_steps(
    task: TaskState, now: datetime, stats: StatsLookup, changes: ChangeSet
) -> list[StepState]:
    """Announce `step_slow` for running steps past their p90, once per step attempt."""
    flagged = []
    for step in task.steps:
        if step.status is not StepStatus.RUNNING or step.slow_attempt == step.attempt:
            continue
        threshold = slow_threshold_ms(task, step, stats)
        elapsed = step_active_ms(step, now)
        if threshold is None or elapsed is None or elapsed <= threshold:
            continue
        step.slow_attempt = step.attempt
        task.touch_step(step)
        data = step_event_fields(step)
        data.update(elapsed_ms=elapsed, expected_ms=threshold, attempt=step.attempt)
        data.update(task_event_fields(task))
        changes.events.append(PendingEvent(EventType.STEP_SLOW, task.id, task.owner_id, now, data))
        flagged.append(step)
    return flagged


def stamp_estimates(
    tasks: Iterable[TaskState],
    now: datetime,
    stats: StatsLookup,
    changes: ChangeSet,
    estimates: dict[str, Estimate | None],
) -> None:
    """Add the estimate after the command to each of its events, like the task fields.

    `estimates` holds what the command's own progress document already computed.
    """
    by_id = {task.id: task for task in tasks}
    fields: dict[str, dict[str, object]] = {}
    for event in changes.events:
        if event.task_id not in fields:
            task = by_id.get(event.task_id)
            if task is None:
                fields[event.task_id] = {}
                continue
            if task.id not in estimates:
                estimates[task.id] = estimate(task, now, stats)
            fields[event.task_id] = estimate_fields(estimates[task.id])
        event.data.update(fields[event.task_id])
