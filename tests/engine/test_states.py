"""The transition tables, checked pair by pair against an expected table written out here.

The expected table is deliberately independent of `engine.states`: derived from it, this
test could never fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from engine.states import (
    ACTIVE_STEP_STATES,
    DONE_STEP_STATES,
    STEP_TRANSITIONS,
    TASK_TRANSITIONS,
    TERMINAL_STEP_STATES,
    TERMINAL_TASK_STATES,
    StepStatus,
    TaskStatus,
    derive_task_status,
    is_legal_step_transition,
    is_legal_task_transition,
)

S = StepStatus
T = TaskStatus

#: Every legal step transition; any pair not listed (same-state pairs included) is illegal.
EXPECTED_STEP_TRANSITIONS: dict[str, set[str]] = {
    # Producer reports are facts: a quick step may finish or fail straight from pending;
    # pending -> paused is a start reported while the person has the task paused;
    # pending -> approval is the start of a step that requires approval.
    "pending": {"running", "paused", "approval", "completed", "failed", "skipped", "cancelled"},
    "running": {"paused", "completed", "failed", "skipped", "cancelled"},
    # paused -> completed/failed: the producer finished before it learnt of the pause.
    "paused": {"running", "completed", "failed", "skipped", "cancelled"},
    # approve -> running (or paused, when the task is paused); reject -> failed.
    "approval": {"running", "paused", "failed", "skipped", "cancelled"},
    # failed -> pending is a person's retry; failed -> running a producer retrying itself,
    # which lands in paused while the person has the task paused, or in approval when the
    # step is gated (after a rejection the producer may ask again).
    "failed": {"pending", "running", "paused", "approval", "skipped"},
    "completed": set(),
    "skipped": set(),
    "cancelled": set(),
}

#: Every legal task transition; any pair not listed (same-state pairs included) is illegal.
EXPECTED_TASK_TRANSITIONS: dict[str, set[str]] = {
    "pending": {"running", "paused", "approval", "completed", "failed", "cancelled"},
    "running": {"paused", "approval", "completed", "failed", "cancelled"},
    # paused -> pending: resuming a task that was paused before any step started.
    "paused": {"pending", "running", "approval", "completed", "failed", "cancelled"},
    "approval": {"running", "paused", "completed", "failed", "cancelled"},
    # A retry or skip of the failed step moves a failed task on; a task the person paused
    # before its step failed is paused once the step is retried.
    "failed": {"pending", "running", "paused", "approval", "completed", "cancelled"},
    "completed": set(),
    "cancelled": set(),
}


def _pairs(kind: str, statuses: Any, expected: dict[str, set[str]]) -> Iterator[Any]:
    for current in statuses:
        for target in statuses:
            legal = target.value in expected[current.value]
            yield pytest.param(current, target, legal, id=f"{current.value} => {target.value}")


def test_expected_tables_name_every_status() -> None:
    assert set(EXPECTED_STEP_TRANSITIONS) == {s.value for s in StepStatus}
    assert set(EXPECTED_TASK_TRANSITIONS) == {t.value for t in TaskStatus}
    assert set(STEP_TRANSITIONS) == set(StepStatus)
    assert set(TASK_TRANSITIONS) == set(TaskStatus)


@pytest.mark.parametrize(
    ("current", "target", "legal"), list(_pairs("step", StepStatus, EXPECTED_STEP_TRANSITIONS))
)
def test_step_transition(current: StepStatus, target: StepStatus, legal: bool) -> None:
    assert is_legal_step_transition(current, target) is legal


@pytest.mark.parametrize(
    ("current", "target", "legal"), list(_pairs("task", TaskStatus, EXPECTED_TASK_TRANSITIONS))
)
def test_task_transition(current: TaskStatus, target: TaskStatus, legal: bool) -> None:
    assert is_legal_task_transition(current, target) is legal


def test_pair_counts() -> None:
    """8 x 8 step pairs and 7 x 7 task pairs, of which exactly this many are legal."""
    step_legal = sum(is_legal_step_transition(a, b) for a in StepStatus for b in StepStatus)
    task_legal = sum(is_legal_task_transition(a, b) for a in TaskStatus for b in TaskStatus)
    assert (len(StepStatus), len(TaskStatus)) == (8, 7)
    assert step_legal == 27
    assert task_legal == 28


def test_terminal_sets() -> None:
    assert {s.value for s in TERMINAL_STEP_STATES} == {"completed", "skipped", "cancelled"}
    assert {t.value for t in TERMINAL_TASK_STATES} == {"completed", "cancelled"}
    assert {s.value for s in ACTIVE_STEP_STATES} == {"running", "paused", "approval"}
    assert {s.value for s in DONE_STEP_STATES} == {"completed", "skipped"}


@pytest.mark.parametrize("state", sorted(TERMINAL_STEP_STATES), ids=str)
def test_terminal_step_state_has_no_way_out(state: StepStatus) -> None:
    assert STEP_TRANSITIONS[state] == frozenset()
    assert [t for t in StepStatus if is_legal_step_transition(state, t)] == []


@pytest.mark.parametrize("state", sorted(TERMINAL_TASK_STATES), ids=str)
def test_terminal_task_state_has_no_way_out(state: TaskStatus) -> None:
    assert TASK_TRANSITIONS[state] == frozenset()
    assert [t for t in TaskStatus if is_legal_task_transition(state, t)] == []


@pytest.mark.parametrize(
    ("steps", "paused", "cancelled", "expected"),
    [
        pytest.param("", False, False, "pending", id="no steps => pending"),
        pytest.param("", False, True, "cancelled", id="no steps, cancelled => cancelled"),
        pytest.param("pending pending", False, False, "pending", id="all pending"),
        pytest.param("pending pending", True, False, "paused", id="paused before start"),
        pytest.param("running pending", False, False, "running", id="one running"),
        pytest.param("completed pending", False, False, "running", id="between steps"),
        pytest.param("skipped pending", False, False, "running", id="skipped then pending"),
        pytest.param("paused pending", True, False, "paused", id="paused flag"),
        # The flag decides, not the step: a paused step without the flag is still underway.
        pytest.param("paused pending", False, False, "running", id="paused step, no flag"),
        pytest.param("completed approval", False, False, "approval", id="approval wait"),
        pytest.param("completed approval", True, False, "paused", id="paused over approval"),
        pytest.param("completed failed", False, False, "failed", id="failed"),
        pytest.param("running failed", False, False, "failed", id="failed over running"),
        pytest.param("approval failed", False, False, "failed", id="failed over approval"),
        pytest.param("paused failed", True, False, "failed", id="failed over paused flag"),
        pytest.param("completed completed", False, False, "completed", id="all completed"),
        pytest.param("completed skipped", False, False, "completed", id="completed or skipped"),
        pytest.param("skipped skipped", False, False, "completed", id="all skipped"),
        pytest.param("completed completed", True, False, "completed", id="done while paused"),
        pytest.param("running pending", False, True, "cancelled", id="cancelled flag"),
        pytest.param("running pending", True, True, "cancelled", id="cancelled over paused"),
        pytest.param("completed failed", True, True, "cancelled", id="cancelled over failed"),
        pytest.param("completed completed", False, True, "cancelled", id="cancelled over done"),
    ],
)
def test_derive_task_status(steps: str, paused: bool, cancelled: bool, expected: str) -> None:
    statuses = [StepStatus(s) for s in steps.split()]
    derived = derive_task_status(statuses, paused=paused, cancelled=cancelled)
    assert derived is TaskStatus(expected)


def test_derive_task_status_accepts_a_generator() -> None:
    statuses = (s for s in [S.COMPLETED, S.COMPLETED])
    assert derive_task_status(statuses, paused=False, cancelled=False) is T.COMPLETED
