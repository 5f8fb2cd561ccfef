"""Event types and the record of what one command changed (events + history rows).

Events get their sequence numbers only when the write batch commits, from a counter row
that serialises numbering, so `seq` order is commit order on every database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    TASK_CREATED = "task_created"
    TASK_STARTED = "task_started"
    PROGRESS = "progress"
    STEP_STARTED = "step_started"
    STEP_COMPLETE = "step_complete"
    STEP_FAILED = "step_failed"
    STEP_SKIPPED = "step_skipped"
    STEP_RETRIED = "step_retried"
    APPROVAL_NEEDED = "approval_needed"
    STEP_APPROVED = "step_approved"
    STEP_REJECTED = "step_rejected"
    TASK_PAUSED = "task_paused"
    TASK_RESUMED = "task_resumed"
    TASK_COMPLETE = "task_complete"
    TASK_FAILED = "task_failed"
    TASK_CANCELLED = "task_cancelled"
    TASK_RESTARTED = "task_restarted"
    STEP_SLOW = "step_slow"


@dataclass(frozen=True, slots=True)
class Event:
    """A committed event, as stored and as sent to WebSocket clients."""

    seq: int
    type: str
    task_id: str
    owner_id: int
    at: datetime
    data: dict[str, Any]


@dataclass(slots=True)
class PendingEvent:
    type: EventType
    task_id: str
    owner_id: int
    at: datetime
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One row of the spec's `task_progress` table."""

    task_id: str
    step: int | None
    percent: float
    status: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class LogLine:
    task_id: str
    step: int | None
    level: str
    message: str
    at: datetime


@dataclass(frozen=True, slots=True)
class StepDuration:
    """A completed step's active time, for the running statistics of its (kind, key)."""

    kind: str
    key: str
    log_complexity: float | None
    seconds: float


@dataclass(slots=True)
class ChangeSet:
    """Everything one command adds besides row updates; merged into the batch on success."""

    events: list[PendingEvent] = field(default_factory=list)
    history: list[HistoryRow] = field(default_factory=list)
    logs: list[LogLine] = field(default_factory=list)
    durations: list[StepDuration] = field(default_factory=list)

    def extend(self, other: ChangeSet) -> None:
        self.events.extend(other.events)
        self.history.extend(other.history)
        self.logs.extend(other.logs)
        self.durations.extend(other.durations)
