"""The spec's Progress View as data, built from a progress document, and its text box.

`build_view` is pure (document and the time in, values out) so the terminal, the web widget
and chat can share it; `render_box` hands the values to `templates/progress_box.txt.j2`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.plain_text import render
from bot.text_width import printable
from engine.states import (
    DONE_STEP_STATES,
    TERMINAL_TASK_STATES,
    StepStatus,
    TaskStatus,
    is_legal_task_transition,
)

BAR_CELLS = 30


class Mark(StrEnum):
    """How one substep is shown; the template maps each to ✓ ◐ ○ ⚠ ✕ ⏸."""

    DONE = "done"
    RUNNING = "running"
    PENDING = "pending"
    ATTENTION = "attention"
    FAILED = "failed"
    PAUSED = "paused"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


#: The mark of the substep being worked on, by the status of its step.
_ACTIVE_MARK: dict[StepStatus | None, Mark] = {
    StepStatus.RUNNING: Mark.RUNNING,
    StepStatus.PAUSED: Mark.PAUSED,
    StepStatus.APPROVAL: Mark.ATTENTION,
    StepStatus.FAILED: Mark.FAILED,
    StepStatus.CANCELLED: Mark.CANCELLED,
}


@dataclass(frozen=True)
class Span:
    """A length of time, already rounded the way it should be read."""

    hours: int = 0
    minutes: int = 0
    seconds: int = 0

    @property
    def is_zero(self) -> bool:
        return not (self.hours or self.minutes or self.seconds)


@dataclass(frozen=True)
class SubstepLine:
    name: str
    mark: Mark


@dataclass(frozen=True)
class ProgressView:
    task_id: str
    title: str
    status: str
    percent: int
    bar_filled: int
    bar_cells: int
    total_steps: int
    steps_done: int
    step: int | None
    step_name: str | None
    substeps: tuple[SubstepLine, ...]
    started: Span | None  # time since the start; None before it
    eta: Span | None  # None when unknown
    eta_range: tuple[Span, Span] | None  # p10-p90, when the estimate has a spread
    took: Span | None  # working time of a finished task
    error: str | None
    cancelled_by: str | None
    next_task_id: str | None
    actions: tuple[str, ...]  # what a person may do now: pause, resume, cancel


def build_view(document: dict[str, Any], now: datetime) -> ProgressView:
    """The values the Progress View shows for a progress document at `now`."""
    status = str(document.get("status") or "")
    percent = max(0, min(100, int(document.get("progress") or 0)))
    steps: list[dict[str, Any]] = list(document.get("steps") or [])
    order = document.get("current_step")
    if status == TaskStatus.CANCELLED:  # show where it stopped, not what would come next
        order = next((s.get("order") for s in steps if s.get("status") == "cancelled"), order)
    step = next((s for s in steps if s.get("order") == order), None) if order else None
    started_at = _parse_time(document.get("started_at"))
    eta_seconds = document.get("eta_seconds")
    live = status in (TaskStatus.PENDING, TaskStatus.RUNNING)
    return ProgressView(
        task_id=str(document.get("task_id") or ""),
        title=printable(str(document.get("title") or "")),
        status=status,
        percent=percent,
        bar_filled=bar_cells(percent),
        bar_cells=BAR_CELLS,
        total_steps=int(document.get("total_steps") or len(steps)),
        steps_done=sum(1 for s in steps if s.get("status") in DONE_STEP_STATES),
        step=step["order"] if step else None,
        step_name=printable(str(step.get("name") or "")) if step else None,
        substeps=substep_lines(step) if step else (),
        started=elapsed_span((now - started_at).total_seconds()) if started_at else None,
        eta=estimate_span(eta_seconds) if live and eta_seconds is not None else None,
        eta_range=_eta_range(document.get("eta_range")) if live else None,
        took=_took(document) if status == TaskStatus.COMPLETED else None,
        error=printable(str(step["error"])) if step and step.get("error") else None,
        cancelled_by=_optional_text(document.get("cancelled_by")),
        next_task_id=_optional_text(document.get("next_task_id")),
        actions=allowed_actions(status),
    )


def render_box(view: ProgressView, *, keys: bool = True) -> str:
    """The box as lines of equal display width; `keys` adds the [p] [r] [c] [q] hints."""
    return render("progress_box.txt.j2", view=view, keys=keys)


def bar_cells(percent: int, cells: int = BAR_CELLS) -> int:
    """Filled cells for `percent`, rounded half up; full only at 100."""
    filled = math.floor(percent * cells / 100 + 0.5)
    return min(filled, cells - 1) if percent < 100 else cells


def substep_lines(step: dict[str, Any]) -> tuple[SubstepLine, ...]:
    """Marks for a step's substeps: the first unfinished one (or those reported running)
    takes the step's own state, so a producer that only sends `done` flags still shows ◐."""
    substeps: list[dict[str, Any]] = list(step.get("substeps") or [])
    active = _ACTIVE_MARK.get(_step_status(step.get("status")))
    explicit = any(s.get("status") == "running" for s in substeps)
    lines: list[SubstepLine] = []
    claimed = False
    for substep in substeps:
        status = substep.get("status") or ("completed" if substep.get("done") else "pending")
        if substep.get("done") or status == "completed":
            mark = Mark.DONE
        elif status == "skipped":
            mark = Mark.SKIPPED
        elif status == "failed":
            mark = Mark.FAILED
        elif active is not None and (status == "running" or not (explicit or claimed)):
            mark, claimed = active, True
        else:
            mark = Mark.PENDING
        lines.append(SubstepLine(printable(str(substep.get("name") or "")), mark))
    return tuple(lines)


def allowed_actions(status: str) -> tuple[str, ...]:
    """The commands the transition table allows from `status`, in key order."""
    try:
        current = TaskStatus(status)
    except ValueError:
        return ()
    actions: list[str] = []
    if current is not TaskStatus.PAUSED and is_legal_task_transition(current, TaskStatus.PAUSED):
        actions.append("pause")
    if current is TaskStatus.PAUSED:
        actions.append("resume")
    if current not in TERMINAL_TASK_STATES:
        actions.append("cancel")
    return tuple(actions)


def elapsed_span(seconds: float) -> Span:
    """Time since something, rounded down: under 10 s is zero ("just now")."""
    whole = int(seconds)
    if whole < 10:
        return Span()
    if whole < 60:
        return Span(seconds=whole)
    hours, minutes = divmod(whole // 60, 60)
    return Span(hours=hours, minutes=minutes)


def estimate_span(seconds: float) -> Span:
    """An estimate, rounded as people say it: to 10 s under a minute, else to the minute."""
    if seconds <= 0:
        return Span()
    if seconds < 55:
        return Span(seconds=max(10, math.floor(seconds / 10 + 0.5) * 10))
    hours, minutes = divmod(max(1, math.floor(seconds / 60 + 0.5)), 60)
    return Span(hours=hours, minutes=minutes)


def _eta_range(value: object) -> tuple[Span, Span] | None:
    if not isinstance(value, list | tuple) or len(value) != 2:
        return None
    low, high = (estimate_span(float(v)) for v in value)
    return None if low == high else (low, high)


def duration_span(seconds: float) -> Span:
    """How long something took: whole seconds under a minute, else to the nearest minute."""
    if seconds < 60:
        return Span(seconds=max(1, math.floor(seconds + 0.5)))
    hours, minutes = divmod(math.floor(seconds / 60 + 0.5), 60)
    return Span(hours=hours, minutes=minutes)


def _took(document: dict[str, Any]) -> Span | None:
    duration_ms = document.get("duration_ms")
    if isinstance(duration_ms, int | float):
        return duration_span(duration_ms / 1000)
    started = _parse_time(document.get("started_at"))
    finished = _parse_time(document.get("finished_at"))
    if started is None or finished is None:
        return None
    return duration_span((finished - started).total_seconds())


def _step_status(value: object) -> StepStatus | None:
    try:
        return StepStatus(str(value))
    except ValueError:
        return None


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _optional_text(value: object) -> str | None:
    return printable(str(value)) if value else None
