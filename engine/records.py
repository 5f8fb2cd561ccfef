"""In-memory task aggregates: what a command reads and changes inside one transaction.

Loaded from the database at the start of a write batch, mutated by `engine.commands`,
and written back by `engine.store`. Dirty sets say which rows changed.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from engine.progress_curve import ProgressCurve
from engine.states import StepStatus, SubstepStatus, TaskStatus

_Slotted = TypeVar("_Slotted")


@dataclass(slots=True)
class SubstepState:
    position: int
    name: str
    status: SubstepStatus = SubstepStatus.PENDING
    #: Whether a row exists for it: the writer inserts new substeps and updates stored ones.
    stored: bool = False

    @property
    def done(self) -> bool:
        return self.status is SubstepStatus.COMPLETED


@dataclass(slots=True)
class StepState:
    order: int
    name: str
    key: str
    weight: float = 1.0
    requires_approval: bool = False
    status: StepStatus = StepStatus.PENDING
    progress: float = 0.0
    error: str | None = None
    attempt: int = 1
    started_at: datetime | None = None
    finished_at: datetime | None = None
    paused_since: datetime | None = None
    paused_ms: int = 0
    approval_requested_at: datetime | None = None
    approval_wait_ms: int = 0
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision: str | None = None
    #: The attempt for which `step_slow` was announced, so it is announced once per attempt.
    slow_attempt: int | None = None
    #: How this attempt's progress has grown with its working time, for the estimate.
    curve: ProgressCurve | None = None
    substeps: list[SubstepState] = field(default_factory=list)
    #: Column values as last loaded or saved, so only changed columns are written.
    saved_image: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    def copy(self) -> StepState:
        clone = _bare_copy(self)
        clone.substeps = [
            SubstepState(s.position, s.name, s.status, s.stored) for s in self.substeps
        ]
        return clone


@dataclass(slots=True)
class TaskState:
    id: str
    owner_id: int
    title: str
    kind: str | None
    complexity_tables: int | None
    complexity_class: str | None
    status: TaskStatus
    created_at: datetime
    updated_at: datetime
    steps: list[StepState]
    attempt: int = 1
    idempotency_key: str | None = None
    previous_task_id: str | None = None
    next_task_id: str | None = None
    paused: bool = False
    paused_since: datetime | None = None
    paused_ms: int = 0
    cancelled_at: datetime | None = None
    cancelled_by: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    is_new: bool = False
    dirty: bool = False
    dirty_steps: set[int] = field(default_factory=set)
    #: (step order, substep position) pairs whose rows must be inserted or updated.
    dirty_substeps: set[tuple[int, int]] = field(default_factory=set)
    saved_image: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    def step(self, order: int) -> StepState:
        return self.steps[order - 1]

    def touch_step(self, step: StepState) -> None:
        self.dirty = True
        self.dirty_steps.add(step.order)

    def touch_substep(self, step: StepState, substep: SubstepState) -> None:
        self.dirty = True
        self.dirty_substeps.add((step.order, substep.position))

    def mark_saved(self) -> None:
        self.is_new = False
        self.dirty = False
        self.dirty_steps.clear()
        self.dirty_substeps.clear()

    def snapshot(self, steps: Collection[int] | None = None) -> TaskState:
        """A copy deep enough to roll a failed command back without the database.

        `steps` limits the deep copy to the steps the command may change (None: all);
        the others are shared, which keeps the common one-step report cheap.
        """
        clone = _bare_copy(self)
        clone.steps = [s.copy() if steps is None or s.order in steps else s for s in self.steps]
        clone.dirty_steps = set(self.dirty_steps)
        clone.dirty_substeps = set(self.dirty_substeps)
        return clone


def _bare_copy(obj: _Slotted) -> _Slotted:
    """Shallow copy of a slotted dataclass, ten times faster than `dataclasses.replace`."""
    cls: type = type(obj)
    copier: Callable[[_Slotted], _Slotted] = _copier(cls)
    return copier(obj)


@cache
def _copier(cls: type) -> Callable[[Any], Any]:
    # Generated straight-line attribute copies, the way dataclasses builds __init__.
    names: tuple[str, ...] = cls.__slots__  # type: ignore[attr-defined]
    lines = [f"    clone.{name} = obj.{name}" for name in names]
    source = "def copy(obj):\n    clone = new(cls)\n" + "\n".join(lines) + "\n    return clone\n"
    namespace: dict[str, Any] = {"new": object.__new__, "cls": cls}
    exec(source, namespace)
    copy: Callable[[Any], Any] = namespace["copy"]
    return copy
