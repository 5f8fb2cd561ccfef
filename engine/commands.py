"""Commands on one task aggregate: pure Python, no I/O.

Each function checks everything before it changes anything, records history rows and
events in a `ChangeSet`, and finally settles the derived task status. The writer runs
them inside one database transaction and rolls the aggregate back if one raises.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from engine.clock import isoformat_z, milliseconds_between
from engine.errors import (
    Conflict,
    IllegalTransition,
    InvalidInput,
    NotFound,
    report_refused,
    step_refuses,
    task_refuses,
)
from engine.events import ChangeSet, EventType, HistoryRow, LogLine, PendingEvent, StepDuration
from engine.progress import control_for, step_event_fields, task_event_fields
from engine.progress_curve import observe as observe_curve
from engine.records import StepState, SubstepState, TaskState
from engine.states import (
    ACTIVE_STEP_STATES,
    TERMINAL_TASK_STATES,
    StepStatus,
    SubstepStatus,
    TaskStatus,
    derive_task_status,
    is_legal_step_transition,
    is_legal_task_transition,
)
from engine.statistics import log_complexity
from engine.timing import step_active_ms, task_wall_ms

S = StepStatus


@dataclass(frozen=True, slots=True)
class StepPlan:
    name: str
    key: str | None = None
    weight: float = 1.0
    requires_approval: bool = False
    substeps: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TaskPlan:
    title: str
    steps: tuple[StepPlan, ...]
    kind: str | None = None
    complexity_tables: int | None = None
    complexity_class: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class SubstepReport:
    name: str
    status: SubstepStatus


@dataclass(frozen=True, slots=True)
class StepReport:
    """What a producer says about one step; every field optional."""

    status: StepStatus | None = None
    progress: float | None = None
    substeps: tuple[SubstepReport, ...] = ()
    error: str | None = None


def new_task_id() -> str:
    return secrets.token_hex(6)


def step_key(name: str) -> str:
    """Default history key: the name, lower-cased, runs of non-alphanumerics as one dash."""
    return re.sub(r"[^0-9a-z]+", "-", name.casefold()).strip("-") or "step"


def create_task(
    plan: TaskPlan, owner_id: int, at: datetime, changes: ChangeSet, task_id: str | None = None
) -> TaskState:
    steps = [
        StepState(
            order=index,
            name=step.name,
            key=step.key or step_key(step.name),
            weight=step.weight,
            requires_approval=step.requires_approval,
            substeps=[SubstepState(position=i, name=n) for i, n in enumerate(step.substeps, 1)],
        )
        for index, step in enumerate(plan.steps, 1)
    ]
    task = TaskState(
        id=task_id or new_task_id(),
        owner_id=owner_id,
        title=plan.title,
        kind=plan.kind,
        complexity_tables=plan.complexity_tables,
        complexity_class=plan.complexity_class,
        status=TaskStatus.PENDING,
        created_at=at,
        updated_at=at,
        steps=steps,
        idempotency_key=plan.idempotency_key,
        is_new=True,
        dirty=True,
    )
    for step in steps:
        _history(task, step, at, changes)
    _event(task, EventType.TASK_CREATED, at, changes)
    _describe_task(task, changes)
    return task


def report_step(
    task: TaskState, order: int, report: StepReport, at: datetime, changes: ChangeSet
) -> str | None:
    """Apply a producer's report; returns the control word the producer must obey."""
    step = _find_step(task, order)
    if task.status is TaskStatus.CANCELLED:
        return control_for(task, step)
    target = report.status
    if target is None and step.status is S.PENDING and _carries_progress(report):
        target = S.RUNNING  # progress on a step that was never started means it started
    if target is not None and target is not step.status:
        target = _effective_target(task, step, target)
    status_changes = target is not None and target is not step.status
    if status_changes and target is not None and not is_legal_step_transition(step.status, target):
        raise report_refused(step.order, step.name, step.status, target)
    _check_substep_capacity(step, report.substeps)

    progress_changed = False
    if step.status in ACTIVE_STEP_STATES or target in {S.RUNNING, S.PAUSED, S.FAILED}:
        progress_changed = _apply_progress(task, step, report)
    if status_changes and target is not None:
        _move_step(task, step, target, at, changes, error=report.error)
    elif progress_changed:
        _event(task, EventType.PROGRESS, at, changes, step)
    if progress_changed and step.status is S.RUNNING:
        _follow_curve(step, at)
    if status_changes or progress_changed:
        step_touched(task, step, at, changes)
    _settle(task, at, changes)
    return control_for(task, step)


def append_logs(task: TaskState, lines: list[LogLine], changes: ChangeSet) -> None:
    """Log lines belong to the task's history; they do not change its state."""
    changes.logs.extend(lines)


def pause(task: TaskState, who: str, at: datetime, changes: ChangeSet) -> None:
    _require_task_transition(task, TaskStatus.PAUSED, "pause")
    task.paused = True
    task.paused_since = at
    for step in task.steps:
        if step.status is S.RUNNING:
            step.status = S.PAUSED
            step.paused_since = at
            step_touched(task, step, at, changes)
    task.dirty = True
    _event(task, EventType.TASK_PAUSED, at, changes, by=who)
    _settle(task, at, changes)


def resume(task: TaskState, who: str, at: datetime, changes: ChangeSet) -> None:
    if task.status is not TaskStatus.PAUSED:
        raise task_refuses(task.title, task.status, "resume")
    _end_task_pause(task, at)
    _event(task, EventType.TASK_RESUMED, at, changes, by=who)
    for step in task.steps:
        if step.status is S.PAUSED:
            gated = step.requires_approval and step.decision != "approved"
            _move_step(task, step, S.APPROVAL if gated else S.RUNNING, at, changes)
            step_touched(task, step, at, changes)
    _settle(task, at, changes)


def cancel(task: TaskState, who: str, at: datetime, changes: ChangeSet) -> None:
    if task.status in TERMINAL_TASK_STATES:
        raise task_refuses(task.title, task.status, "cancel")
    _cancel(task, who, at, changes)


def restart(task: TaskState, who: str, at: datetime, changes: ChangeSet) -> TaskState:
    """Cancel (if still going) and start over as a new attempt of the same plan."""
    if task.next_task_id is not None:
        raise Conflict(
            f'The "{task.title}" task was already restarted as task {task.next_task_id}.'
        )
    if task.status not in TERMINAL_TASK_STATES:
        _cancel(task, who, at, changes)
    plan = TaskPlan(
        title=task.title,
        kind=task.kind,
        complexity_tables=task.complexity_tables,
        complexity_class=task.complexity_class,
        steps=tuple(
            StepPlan(
                name=s.name,
                key=s.key,
                weight=s.weight,
                requires_approval=s.requires_approval,
                substeps=tuple(sub.name for sub in s.substeps),
            )
            for s in task.steps
        ),
    )
    fresh = create_task(plan, task.owner_id, at, changes)
    fresh.attempt = task.attempt + 1
    fresh.previous_task_id = task.id
    task.next_task_id = fresh.id
    task.dirty = True
    _event(task, EventType.TASK_RESTARTED, at, changes, by=who, new_task_id=fresh.id)
    _describe_task(task, changes)
    return fresh


def retry(task: TaskState, order: int, who: str, at: datetime, changes: ChangeSet) -> None:
    step = _step_for_person(task, order, "retry")
    if step.status is not S.FAILED:
        raise step_refuses(step.order, step.name, step.status, "retry")
    step.status = S.PENDING
    step.progress = 0.0
    step.error = None
    step.attempt += 1
    step.started_at = step.finished_at = step.paused_since = None
    step.approval_requested_at = step.decided_at = None
    step.decided_by = step.decision = None
    step.paused_ms = step.approval_wait_ms = 0
    step.curve = None
    for substep in step.substeps:
        substep.status = SubstepStatus.PENDING
        task.touch_substep(step, substep)
    step_touched(task, step, at, changes)
    _event(task, EventType.STEP_RETRIED, at, changes, step, by=who)
    _settle(task, at, changes)


def skip(task: TaskState, order: int, who: str, at: datetime, changes: ChangeSet) -> None:
    step = _step_for_person(task, order, "skip")
    if not is_legal_step_transition(step.status, S.SKIPPED):
        raise step_refuses(step.order, step.name, step.status, "skip")
    _move_step(task, step, S.SKIPPED, at, changes, by=who)
    step_touched(task, step, at, changes)
    _settle(task, at, changes)


def approve(task: TaskState, order: int, who: str, at: datetime, changes: ChangeSet) -> None:
    step = _step_for_person(task, order, "approve")
    if step.status is not S.APPROVAL:
        raise step_refuses(step.order, step.name, step.status, "approve")
    _decide(step, "approved", who, at)
    _event(task, EventType.STEP_APPROVED, at, changes, step, by=who)
    _move_step(task, step, _effective_target(task, step, S.RUNNING), at, changes)
    step_touched(task, step, at, changes)
    _settle(task, at, changes)


def reject(
    task: TaskState, order: int, who: str, reason: str | None, at: datetime, changes: ChangeSet
) -> None:
    step = _step_for_person(task, order, "reject")
    if step.status is not S.APPROVAL:
        raise step_refuses(step.order, step.name, step.status, "reject")
    _decide(step, "rejected", who, at)
    error = reason or f"Rejected by {who}"
    _event(task, EventType.STEP_REJECTED, at, changes, step, by=who, reason=reason)
    _move_step(task, step, S.FAILED, at, changes, error=error)
    step_touched(task, step, at, changes)
    _settle(task, at, changes)


def step_touched(task: TaskState, step: StepState, at: datetime, changes: ChangeSet) -> None:
    task.touch_step(step)
    task.updated_at = at
    _history(task, step, at, changes)


# --- internals ---------------------------------------------------------------------------


def _carries_progress(report: StepReport) -> bool:
    return report.progress is not None or bool(report.substeps)


def _find_step(task: TaskState, order: int) -> StepState:
    if not 1 <= order <= len(task.steps):
        raise NotFound(
            f'The "{task.title}" task has {len(task.steps)} steps; there is no step {order}.',
            field="order",
        )
    return task.step(order)


def _step_for_person(task: TaskState, order: int, action: str) -> StepState:
    step = _find_step(task, order)
    if task.status in TERMINAL_TASK_STATES:
        raise task_refuses(task.title, task.status, action)
    return step


def _require_task_transition(task: TaskState, target: TaskStatus, action: str) -> None:
    if not is_legal_task_transition(task.status, target):
        raise task_refuses(task.title, task.status, action)


def _effective_target(task: TaskState, step: StepState, target: StepStatus) -> StepStatus:
    """Where a step really goes: approval gates and a person's pause come first."""
    if target is S.RUNNING:
        if step.requires_approval and step.decision != "approved":
            return S.APPROVAL
        if task.paused:
            return S.PAUSED
        if step.status is S.PAUSED:
            return S.PAUSED  # the producer's "still running" does not undo a person's pause
    if target is S.COMPLETED and step.requires_approval and step.decision != "approved":
        raise IllegalTransition(
            f'Step {step.order} "{step.name}" needs approval first, so it can\'t be completed.',
            field="status",
        )
    return target


def _apply_progress(task: TaskState, step: StepState, report: StepReport) -> bool:
    changed = False
    for item in report.substeps:
        substep = next((s for s in step.substeps if s.name == item.name), None)
        if substep is None:
            substep = SubstepState(position=len(step.substeps) + 1, name=item.name)
            step.substeps.append(substep)
            substep.status = item.status
            task.touch_substep(step, substep)
            changed = True
        elif substep.status is not item.status:
            substep.status = item.status
            task.touch_substep(step, substep)
            changed = True
    progress = report.progress
    if progress is None and report.substeps and step.substeps:
        done = sum(1 for s in step.substeps if s.done)
        progress = 100.0 * done / len(step.substeps)
    if progress is not None and progress != step.progress:
        step.progress = float(progress)
        changed = True
    return changed


def _follow_curve(step: StepState, at: datetime) -> None:
    """Add where the step now stands to its progress curve (for the estimate)."""
    active_ms = step_active_ms(step, at)
    if active_ms:
        step.curve = observe_curve(step.curve, step.progress / 100.0, active_ms / 1000.0)


def _check_substep_capacity(step: StepState, reported: tuple[SubstepReport, ...]) -> None:
    if not reported:
        return
    known = {s.name for s in step.substeps}
    new = {item.name for item in reported} - known
    if len(known) + len(new) > 100:
        raise InvalidInput(
            f'Step {step.order} "{step.name}" would have more than 100 substeps.',
            field="substeps",
        )


def _move_step(
    task: TaskState,
    step: StepState,
    target: StepStatus,
    at: datetime,
    changes: ChangeSet,
    *,
    error: str | None = None,
    by: str | None = None,
) -> None:
    previous = step.status
    if previous is S.PAUSED:
        _close_pause(step, at)
    step.status = target
    if task.started_at is None and target is not S.CANCELLED:
        task.started_at = at
        task.dirty = True
        _event(task, EventType.TASK_STARTED, at, changes)
    if target is S.APPROVAL:
        step.approval_requested_at = at
        approval = {"step": step.order, "name": step.name, "requested_at": isoformat_z(at)}
        _event(task, EventType.APPROVAL_NEEDED, at, changes, step, approval=approval)
        return
    if target in (S.RUNNING, S.PAUSED) and previous in (S.PENDING, S.FAILED, S.APPROVAL):
        if step.started_at is None or previous is S.FAILED:
            step.started_at = at
            step.curve = None
        step.finished_at = None
        step.error = None
        if target is S.PAUSED:
            step.paused_since = at
        _event(task, EventType.STEP_STARTED, at, changes, step)
        return
    if target is S.COMPLETED:
        step.progress = 100.0
        step.finished_at = at
        step.started_at = step.started_at or at
        _record_duration(task, step, at, changes)
        _event(task, EventType.STEP_COMPLETE, at, changes, step)
    elif target is S.FAILED:
        step.error = error or step.error or "The step failed."
        step.finished_at = at
        step.started_at = step.started_at or at
        _event(task, EventType.STEP_FAILED, at, changes, step, error=step.error)
    elif target is S.SKIPPED:
        step.finished_at = at
        _event(task, EventType.STEP_SKIPPED, at, changes, step, by=by)
    elif target is S.CANCELLED:
        step.finished_at = at
    # paused -> running is a resume: task_resumed already says so


def _record_duration(task: TaskState, step: StepState, at: datetime, changes: ChangeSet) -> None:
    """A completed step's active time (pauses and approval waits excluded) feeds the ETA."""
    active_ms = step_active_ms(step, at)
    if active_ms:
        x = log_complexity(task.complexity_tables, task.complexity_class)
        changes.durations.append(StepDuration(task.kind or "", step.key, x, active_ms / 1000.0))


def _end_task_pause(task: TaskState, at: datetime) -> None:
    if task.paused_since is not None:
        task.paused_ms += max(0, milliseconds_between(task.paused_since, at))
    task.paused = False
    task.paused_since = None
    task.dirty = True


def _close_pause(step: StepState, at: datetime) -> None:
    if step.paused_since is not None:
        step.paused_ms += max(0, milliseconds_between(step.paused_since, at))
        step.paused_since = None


def _decide(step: StepState, decision: str, who: str, at: datetime) -> None:
    step.decision = decision
    step.decided_by = who
    step.decided_at = at
    if step.approval_requested_at is not None:
        step.approval_wait_ms += max(0, milliseconds_between(step.approval_requested_at, at))


def _cancel(task: TaskState, who: str, at: datetime, changes: ChangeSet) -> None:
    for step in task.steps:
        if step.status in ACTIVE_STEP_STATES:
            _move_step(task, step, S.CANCELLED, at, changes)
            step_touched(task, step, at, changes)
    _end_task_pause(task, at)
    task.cancelled_at = at
    task.cancelled_by = who
    _event(task, EventType.TASK_CANCELLED, at, changes, by=who)
    _settle(task, at, changes, quiet=True)


def _settle(task: TaskState, at: datetime, changes: ChangeSet, *, quiet: bool = False) -> None:
    """Derive the task status from its steps and announce task-level outcomes."""
    status = derive_task_status(
        [s.status for s in task.steps],
        paused=task.paused,
        cancelled=task.cancelled_at is not None,
    )
    if status is not task.status:
        _change_task_status(task, status, at, changes, quiet=quiet)
    _describe_task(task, changes)


def _describe_task(task: TaskState, changes: ChangeSet) -> None:
    """Stamp the task's state after the command on each of its events."""
    fields = task_event_fields(task)
    for event in changes.events:
        if event.task_id == task.id:
            event.data.update(fields)


def _change_task_status(
    task: TaskState, status: TaskStatus, at: datetime, changes: ChangeSet, *, quiet: bool
) -> None:
    if not is_legal_task_transition(task.status, status):
        raise IllegalTransition(
            f'The "{task.title}" task can\'t go from {task.status} to {status}.'
        )
    task.status = status
    task.updated_at = at
    task.dirty = True
    if status in (TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED):
        task.finished_at = at
    else:
        task.finished_at = None
    if status is TaskStatus.COMPLETED:
        _end_task_pause(task, at)  # finished before the producer learnt of the pause
    if quiet:
        return
    if status is TaskStatus.COMPLETED:
        _event(task, EventType.TASK_COMPLETE, at, changes, result=_result(task, at))
    elif status is TaskStatus.FAILED:
        failed = next(s for s in task.steps if s.status is S.FAILED)
        _event(task, EventType.TASK_FAILED, at, changes, failed, error=failed.error)


def _result(task: TaskState, at: datetime) -> dict[str, object]:
    return {
        "status": "completed",
        "duration_ms": task_wall_ms(task, at),
        "steps_completed": sum(1 for s in task.steps if s.status is S.COMPLETED),
        "steps_skipped": sum(1 for s in task.steps if s.status is S.SKIPPED),
    }


def _history(task: TaskState, step: StepState, at: datetime, changes: ChangeSet) -> None:
    changes.history.append(HistoryRow(task.id, step.order, step.progress, step.status, at))


def _event(
    task: TaskState,
    kind: EventType,
    at: datetime,
    changes: ChangeSet,
    step: StepState | None = None,
    **extra: object,
) -> None:
    data = step_event_fields(step) if step is not None else {}
    data.update({k: v for k, v in extra.items() if v is not None})
    changes.events.append(PendingEvent(kind, task.id, task.owner_id, at, data))
