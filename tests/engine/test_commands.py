"""Commands on one in-memory task aggregate: no database, a manual clock, exact values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine import commands
from engine.clock import ManualClock
from engine.commands import StepPlan, StepReport, SubstepReport, TaskPlan
from engine.errors import Conflict, IllegalTransition, NotFound
from engine.events import ChangeSet, PendingEvent
from engine.progress import current_step, progress_document, task_percent
from engine.records import TaskState
from engine.states import StepStatus, SubstepStatus, TaskStatus

S = StepStatus
T = TaskStatus
START = datetime(2024, 1, 15, 10, 0, 0, tzinfo=UTC)

CRM_PLAN = TaskPlan(
    title="Cellphone Store CRM",
    kind="crm-app",
    complexity_tables=4,
    steps=(
        StepPlan("Create database tables"),
        StepPlan(
            "Generate application UI",
            substeps=("Customer list", "Product list", "Sales form", "Repair board"),
        ),
        StepPlan("Add search and filters", requires_approval=True),
        StepPlan("Configure workflows"),
    ),
)


class Bench:
    """One task aggregate driven the way the writer drives it: a fresh ChangeSet per command."""

    def __init__(self, plan: TaskPlan = CRM_PLAN, clock: ManualClock | None = None) -> None:
        self.clock = clock or ManualClock()
        self.changes = ChangeSet()
        self.task = commands.create_task(plan, 7, self.clock.now(), self.changes, task_id="t1")

    @property
    def now(self) -> datetime:
        return self.clock.now()

    def _fresh(self) -> ChangeSet:
        self.changes = ChangeSet()
        return self.changes

    def report(
        self,
        order: int,
        status: str | None = None,
        progress: float | None = None,
        substeps: dict[str, str] | None = None,
        error: str | None = None,
    ) -> str | None:
        report = StepReport(
            status=StepStatus(status) if status is not None else None,
            progress=progress,
            substeps=tuple(
                SubstepReport(name, SubstepStatus(state))
                for name, state in (substeps or {}).items()
            ),
            error=error,
        )
        return commands.report_step(self.task, order, report, self.now, self._fresh())

    def pause(self) -> None:
        commands.pause(self.task, "alice", self.now, self._fresh())

    def resume(self) -> None:
        commands.resume(self.task, "alice", self.now, self._fresh())

    def cancel(self) -> None:
        commands.cancel(self.task, "alice", self.now, self._fresh())

    def restart(self) -> TaskState:
        return commands.restart(self.task, "alice", self.now, self._fresh())

    def retry(self, order: int) -> None:
        commands.retry(self.task, order, "alice", self.now, self._fresh())

    def skip(self, order: int) -> None:
        commands.skip(self.task, order, "alice", self.now, self._fresh())

    def approve(self, order: int) -> None:
        commands.approve(self.task, order, "alice", self.now, self._fresh())

    def reject(self, order: int, reason: str | None) -> None:
        commands.reject(self.task, order, "alice", reason, self.now, self._fresh())

    @property
    def types(self) -> list[str]:
        """Event types the last command emitted, in order."""
        return [str(e.type) for e in self.changes.events]

    def event(self, kind: str) -> PendingEvent:
        (found,) = [e for e in self.changes.events if e.type == kind]
        return found

    @property
    def history(self) -> list[tuple[int | None, float, str, datetime]]:
        """History rows the last command recorded: (step, percent, status, updated_at)."""
        return [(h.step, h.percent, h.status, h.updated_at) for h in self.changes.history]

    def statuses(self) -> list[str]:
        return [str(s.status) for s in self.task.steps]

    def document(self) -> dict[str, Any]:
        return progress_document(self.task, self.now)


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


# --- creating and reporting ---------------------------------------------------------------


def test_create_task_is_pending_with_one_history_row_per_step() -> None:
    bench = Bench()
    task = bench.task
    assert task.status is T.PENDING
    assert (task.id, task.owner_id, task.title, task.kind) == (
        "t1",
        7,
        "Cellphone Store CRM",
        "crm-app",
    )
    assert [(s.order, s.name, s.key) for s in task.steps] == [
        (1, "Create database tables", "create-database-tables"),
        (2, "Generate application UI", "generate-application-ui"),
        (3, "Add search and filters", "add-search-and-filters"),
        (4, "Configure workflows", "configure-workflows"),
    ]
    assert [s.name for s in task.step(2).substeps] == [
        "Customer list",
        "Product list",
        "Sales form",
        "Repair board",
    ]
    assert [s.requires_approval for s in task.steps] == [False, False, True, False]
    assert bench.types == ["task_created"]
    assert bench.history == [(n, 0.0, "pending", START) for n in (1, 2, 3, 4)]
    assert task.started_at is None
    assert task_percent(task) == 0
    assert current_step(task) == 1


def test_first_running_report_starts_the_task() -> None:
    bench = Bench()
    bench.clock.advance(3)
    control = bench.report(1, "running")
    assert control is None
    assert bench.types == ["task_started", "step_started"]
    assert bench.task.status is T.RUNNING
    assert bench.task.started_at == at(3)
    assert bench.task.step(1).started_at == at(3)
    assert bench.statuses() == ["running", "pending", "pending", "pending"]
    assert bench.history == [(1, 0.0, "running", at(3))]
    started = bench.event("step_started")
    assert started.task_id == "t1"
    assert started.owner_id == 7
    assert started.at == at(3)
    assert started.data == {
        "title": "Cellphone Store CRM",
        "status": "running",
        "percent": 0,
        "current_step": 1,
        "total_steps": 4,
        "step": 1,
        "step_name": "Create database tables",
        "step_status": "running",
        "step_percent": 0,
    }


def test_a_second_step_start_does_not_start_the_task_again() -> None:
    bench = Bench()
    bench.report(1, "running")
    bench.report(1, "completed")
    assert bench.types == ["step_complete"]
    bench.report(2, "running")
    assert bench.types == ["step_started"]


def test_progress_reports_emit_progress_events() -> None:
    bench = Bench()
    bench.report(1, "running")
    bench.clock.advance(5)
    assert bench.report(1, progress=40) is None
    assert bench.types == ["progress"]
    assert bench.event("progress").data["step_percent"] == 40
    assert bench.event("progress").data["percent"] == 10
    assert bench.history == [(1, 40.0, "running", at(5))]
    assert bench.task.step(1).progress == 40.0
    # Repeating the same progress changes nothing: no event, no history row.
    bench.report(1, "running", progress=40)
    assert (bench.types, bench.history) == ([], [])


def test_substep_reports_drive_step_progress_when_no_percent_is_given() -> None:
    bench = Bench()
    bench.report(1, "completed")
    bench.report(2, "running")
    bench.report(2, substeps={"Customer list": "completed", "Product list": "completed"})
    step = bench.task.step(2)
    assert step.progress == 50.0
    assert [(s.name, s.done) for s in step.substeps] == [
        ("Customer list", True),
        ("Product list", True),
        ("Sales form", False),
        ("Repair board", False),
    ]
    assert bench.types == ["progress"]
    # A substep the plan did not name is appended, and the percent follows: 3 of 5 done.
    bench.report(2, substeps={"Sales form": "running", "Receipts": "completed"})
    assert [(s.position, s.name, str(s.status)) for s in step.substeps] == [
        (1, "Customer list", "completed"),
        (2, "Product list", "completed"),
        (3, "Sales form", "running"),
        (4, "Repair board", "pending"),
        (5, "Receipts", "completed"),
    ]
    assert step.progress == 60.0
    # An explicit percent wins over the substep count.
    bench.report(2, progress=65, substeps={"Sales form": "running"})
    assert step.progress == 65.0


def test_completing_the_last_step_completes_the_task_with_a_result() -> None:
    bench = Bench(TaskPlan("Two", (StepPlan("a"), StepPlan("b"))))
    bench.report(1, "running")
    bench.clock.advance(10)
    bench.report(1, "completed")
    assert bench.types == ["step_complete"]
    assert bench.task.status is T.RUNNING
    bench.clock.advance(2)
    bench.report(2, "running")
    bench.clock.advance(30)
    control = bench.report(2, "completed")
    assert control is None
    assert bench.types == ["step_complete", "task_complete"]
    assert bench.event("task_complete").data["result"] == {
        "status": "completed",
        "duration_ms": 42_000,
        "steps_completed": 2,
        "steps_skipped": 0,
    }
    assert bench.event("task_complete").data["percent"] == 100
    assert bench.task.status is T.COMPLETED
    assert bench.task.finished_at == at(42)
    assert bench.history == [(2, 100.0, "completed", at(42))]
    assert task_percent(bench.task) == 100
    assert current_step(bench.task) is None
    assert bench.document()["eta_seconds"] == 0
    assert [s["duration_ms"] for s in bench.document()["steps"]] == [10_000, 30_000]


def test_a_step_may_complete_straight_from_pending() -> None:
    bench = Bench(TaskPlan("One", (StepPlan("a"),)))
    bench.clock.advance(1)
    bench.report(1, "completed")
    assert bench.types == ["task_started", "step_complete", "task_complete"]
    assert bench.task.started_at == at(1)
    assert bench.task.step(1).started_at == at(1)
    assert bench.event("task_complete").data["result"]["duration_ms"] == 0


def test_failure_fails_the_step_and_the_task() -> None:
    bench = Bench()
    bench.report(1, "running")
    bench.clock.advance(4)
    control = bench.report(1, "failed", error="disk full")
    assert control is None
    assert bench.types == ["step_failed", "task_failed"]
    assert bench.event("step_failed").data["error"] == "disk full"
    assert bench.event("task_failed").data["error"] == "disk full"
    assert bench.event("task_failed").data["step"] == 1
    assert bench.task.status is T.FAILED
    assert bench.task.finished_at == at(4)
    step = bench.task.step(1)
    assert (step.status, step.error, step.finished_at) == (S.FAILED, "disk full", at(4))
    assert current_step(bench.task) == 1
    assert bench.document()["eta_seconds"] is None


def test_failure_without_an_error_gets_a_default_sentence() -> None:
    bench = Bench()
    bench.report(1, "failed")
    assert bench.task.step(1).error == "The step failed."
    assert bench.types == ["task_started", "step_failed", "task_failed"]


def test_report_for_a_missing_step() -> None:
    bench = Bench()
    with pytest.raises(NotFound) as caught:
        bench.report(5, "running")
    assert caught.value.sentence == (
        'The "Cellphone Store CRM" task has 4 steps; there is no step 5.'
    )


# --- progress and current step -----------------------------------------------------------


def test_weighted_progress_is_exact() -> None:
    bench = Bench(TaskPlan("Weighted", (StepPlan("small", weight=1), StepPlan("big", weight=3))))
    assert task_percent(bench.task) == 0
    bench.report(1, "running", progress=40)
    assert task_percent(bench.task) == 10  # 1 * 40 / 4
    bench.report(1, "completed")
    assert task_percent(bench.task) == 25  # 1 * 100 / 4
    bench.report(2, "running", progress=20)
    assert task_percent(bench.task) == 40  # (100 + 3 * 20) / 4
    bench.report(2, progress=50)
    assert task_percent(bench.task) == 63  # (100 + 150) / 4 = 62.5, rounded half up
    assert bench.event("progress").data["percent"] == 63
    bench.report(2, progress=100)
    assert task_percent(bench.task) == 99  # every step at 100, but not complete yet
    assert bench.document()["progress"] == 99
    bench.report(2, "completed")
    assert task_percent(bench.task) == 100


def test_skipped_steps_count_as_done() -> None:
    bench = Bench(TaskPlan("Skip", (StepPlan("a"), StepPlan("b"), StepPlan("c"), StepPlan("d"))))
    bench.report(1, "skipped")
    assert task_percent(bench.task) == 25


def test_current_step_follows_the_work() -> None:
    bench = Bench()
    assert current_step(bench.task) == 1
    bench.report(1, "completed")
    assert current_step(bench.task) == 2  # the next pending one
    bench.report(2, "running")
    assert current_step(bench.task) == 2
    bench.report(2, "completed")
    bench.report(3, "running")
    assert bench.task.step(3).status is S.APPROVAL
    assert current_step(bench.task) == 3  # waiting for approval is still underway
    bench.approve(3)
    bench.report(3, "completed")
    bench.report(4, "completed")
    assert current_step(bench.task) is None


# --- durations ----------------------------------------------------------------------------


def test_step_duration_excludes_pause_time() -> None:
    bench = Bench()
    bench.report(1, "running")
    bench.clock.advance(10)
    bench.pause()
    bench.clock.advance(300)
    # While paused, the step's elapsed time stands still.
    assert bench.document()["steps"][0]["elapsed_ms"] == 10_000
    bench.resume()
    assert bench.task.step(1).paused_ms == 300_000
    assert bench.task.paused_ms == 300_000
    bench.clock.advance(5.25)
    bench.report(1, "completed")
    assert bench.document()["steps"][0]["duration_ms"] == 15_250


def test_step_duration_excludes_the_approval_wait() -> None:
    bench = Bench()
    bench.report(1, "completed")
    bench.report(2, "completed")
    bench.clock.advance(1)
    bench.report(3, "running")
    bench.clock.advance(3600)
    bench.approve(3)
    bench.clock.advance(20)
    bench.report(3, "completed")
    step = bench.task.step(3)
    assert step.approval_wait_ms == 3_600_000
    assert step.started_at == at(3601)
    assert bench.document()["steps"][2]["duration_ms"] == 20_000


def test_task_duration_excludes_pause_time() -> None:
    bench = Bench(TaskPlan("One", (StepPlan("a"),)))
    bench.report(1, "running")
    bench.clock.advance(10)
    bench.pause()
    bench.clock.advance(50)
    bench.resume()
    bench.clock.advance(7)
    bench.report(1, "completed")
    assert bench.event("task_complete").data["result"]["duration_ms"] == 17_000
    assert bench.document()["duration_ms"] == 17_000


def test_completing_while_paused_ends_the_pause() -> None:
    """The producer finished before it learnt of the pause: a completed task is not paused."""
    bench = Bench(TaskPlan("One", (StepPlan("a"),)))
    bench.report(1, "running")
    bench.clock.advance(10)
    bench.pause()
    bench.clock.advance(5)
    control = bench.report(1, "completed")
    assert bench.task.status is T.COMPLETED
    assert control is None
    assert bench.task.paused is False
    assert bench.task.paused_since is None
    # Pause time is excluded the same way in the result and the document.
    assert bench.event("task_complete").data["result"]["duration_ms"] == 10_000
    assert bench.document()["duration_ms"] == 10_000
    assert bench.document()["steps"][0]["duration_ms"] == 10_000


# --- pause and resume ---------------------------------------------------------------------


def test_pause_pauses_the_running_step_and_tells_the_producer() -> None:
    bench = Bench()
    bench.report(1, "running", progress=30)
    bench.clock.advance(2)
    bench.pause()
    assert bench.types == ["task_paused"]
    assert bench.event("task_paused").data["by"] == "alice"
    assert bench.event("task_paused").data["status"] == "paused"
    assert bench.task.status is T.PAUSED
    assert bench.task.paused is True
    assert bench.statuses() == ["paused", "pending", "pending", "pending"]
    assert bench.history == [(1, 30.0, "paused", at(2))]
    # The producer's next report is kept, but the step stays paused and it hears "pause".
    bench.clock.advance(1)
    control = bench.report(1, "running", progress=45)
    assert control == "pause"
    assert bench.types == ["progress"]
    assert bench.task.step(1).status is S.PAUSED
    assert bench.task.step(1).progress == 45.0
    assert bench.history == [(1, 45.0, "paused", at(3))]
    assert bench.task.status is T.PAUSED


def test_a_step_started_while_paused_starts_paused() -> None:
    bench = Bench()
    bench.pause()
    assert bench.task.status is T.PAUSED
    assert bench.task.started_at is None
    control = bench.report(1, "running")
    assert control == "pause"
    assert bench.types == ["task_started", "step_started"]
    assert bench.task.step(1).status is S.PAUSED
    assert bench.task.status is T.PAUSED


def test_resume_puts_paused_steps_back_to_running() -> None:
    bench = Bench()
    bench.report(1, "running")
    bench.pause()
    bench.clock.advance(60)
    bench.resume()
    assert bench.types == ["task_resumed"]
    assert bench.event("task_resumed").data["status"] == "running"
    assert bench.task.status is T.RUNNING
    assert bench.task.paused is False
    assert bench.statuses() == ["running", "pending", "pending", "pending"]
    assert bench.history == [(1, 0.0, "running", at(60))]
    assert bench.report(1, progress=10) is None


def test_resume_before_any_step_started_goes_back_to_pending() -> None:
    bench = Bench()
    bench.pause()
    bench.resume()
    assert bench.task.status is T.PENDING
    assert bench.types == ["task_resumed"]


def test_pause_leaves_an_approval_wait_alone_and_resume_keeps_it() -> None:
    bench = Bench()
    bench.report(1, "completed")
    bench.report(2, "completed")
    bench.report(3, "running")
    bench.pause()
    assert bench.task.status is T.PAUSED
    assert bench.task.step(3).status is S.APPROVAL
    assert bench.report(3, "running") == "pause"
    bench.resume()
    assert bench.task.status is T.APPROVAL
    assert bench.task.step(3).status is S.APPROVAL
    assert bench.report(3, "running") == "wait"


def test_approving_while_paused_leaves_the_step_paused_until_resume() -> None:
    bench = Bench()
    bench.report(1, "completed")
    bench.report(2, "completed")
    bench.report(3, "running")
    bench.pause()
    bench.approve(3)
    assert bench.types == ["step_approved", "step_started"]
    assert bench.task.step(3).status is S.PAUSED
    assert bench.task.status is T.PAUSED
    bench.resume()
    assert bench.task.step(3).status is S.RUNNING
    assert bench.task.status is T.RUNNING


# --- cancel and restart -------------------------------------------------------------------


def test_cancel_cancels_active_steps_and_later_reports_hear_cancel() -> None:
    bench = Bench()
    bench.report(1, "completed")
    bench.report(2, "running", progress=20)
    bench.clock.advance(9)
    bench.cancel()
    assert bench.types == ["task_cancelled"]
    assert bench.event("task_cancelled").data["by"] == "alice"
    assert bench.event("task_cancelled").data["status"] == "cancelled"
    assert bench.task.status is T.CANCELLED
    assert bench.statuses() == ["completed", "cancelled", "pending", "pending"]
    assert (bench.task.cancelled_at, bench.task.cancelled_by) == (at(9), "alice")
    assert bench.task.finished_at == at(9)
    assert bench.history == [(2, 20.0, "cancelled", at(9))]
    before = bench.task.snapshot()
    bench.clock.advance(1)
    control = bench.report(2, "completed", progress=100)
    assert control == "cancel"
    assert (bench.types, bench.history) == ([], [])
    assert bench.task == before


def test_cancel_ends_a_pause() -> None:
    bench = Bench()
    bench.report(1, "running")
    bench.pause()
    bench.clock.advance(8)
    bench.cancel()
    assert bench.task.paused is False
    assert bench.task.paused_ms == 8_000
    assert bench.statuses() == ["cancelled", "pending", "pending", "pending"]
    assert bench.report(1, "running") == "cancel"


def test_restart_links_a_new_attempt_of_the_same_plan() -> None:
    bench = Bench()
    bench.report(1, "completed")
    bench.report(2, "running", substeps={"Customer list": "completed"})
    bench.clock.advance(30)
    old = bench.task
    fresh = bench.restart()
    assert fresh.id != old.id
    assert bench.types == ["task_cancelled", "task_created", "task_restarted"]
    assert [e.task_id for e in bench.changes.events] == [old.id, fresh.id, old.id]
    assert bench.event("task_restarted").data["new_task_id"] == fresh.id
    assert old.status is T.CANCELLED
    assert old.next_task_id == fresh.id
    assert fresh.previous_task_id == old.id
    assert (old.attempt, fresh.attempt) == (1, 2)
    assert fresh.status is T.PENDING
    assert fresh.created_at == at(30)
    assert (fresh.title, fresh.kind, fresh.complexity_tables, fresh.owner_id) == (
        "Cellphone Store CRM",
        "crm-app",
        4,
        7,
    )
    assert [
        (s.order, s.name, s.key, s.weight, s.requires_approval, str(s.status), s.progress)
        for s in fresh.steps
    ] == [
        (1, "Create database tables", "create-database-tables", 1.0, False, "pending", 0.0),
        (2, "Generate application UI", "generate-application-ui", 1.0, False, "pending", 0.0),
        (3, "Add search and filters", "add-search-and-filters", 1.0, True, "pending", 0.0),
        (4, "Configure workflows", "configure-workflows", 1.0, False, "pending", 0.0),
    ]
    assert [(s.name, s.done) for s in fresh.step(2).substeps] == [
        ("Customer list", False),
        ("Product list", False),
        ("Sales form", False),
        ("Repair board", False),
    ]
    # The old producer learns that its task was restarted.
    assert bench.report(2, "running") == "restart"
    with pytest.raises(Conflict) as caught:
        bench.restart()
    assert caught.value.sentence == (
        f'The "Cellphone Store CRM" task was already restarted as task {fresh.id}.'
    )


def test_restarting_a_finished_task_does_not_cancel_it() -> None:
    bench = Bench(TaskPlan("One", (StepPlan("a", key="only", weight=2.5),)))
    bench.report(1, "completed")
    fresh = bench.restart()
    assert bench.types == ["task_created", "task_restarted"]
    assert bench.task.status is T.COMPLETED
    assert bench.task.cancelled_at is None
    assert [(s.key, s.weight) for s in fresh.steps] == [("only", 2.5)]


# --- retry and skip -----------------------------------------------------------------------


def test_retry_puts_a_failed_step_back_to_pending_as_a_new_attempt() -> None:
    bench = Bench()
    bench.report(1, "completed")
    bench.report(2, "running", substeps={"Customer list": "completed"})
    bench.report(2, "failed", error="template error")
    assert bench.task.status is T.FAILED
    bench.clock.advance(12)
    bench.retry(2)
    assert bench.types == ["step_retried"]
    assert bench.event("step_retried").data["by"] == "alice"
    step = bench.task.step(2)
    assert (step.status, step.attempt, step.error, step.progress) == (S.PENDING, 2, None, 0.0)
    assert (step.started_at, step.finished_at) == (None, None)
    assert [s.done for s in step.substeps] == [False, False, False, False]
    assert bench.task.status is T.RUNNING
    assert bench.task.finished_at is None
    assert bench.history == [(2, 0.0, "pending", at(12))]
    bench.report(2, "running")
    assert bench.types == ["step_started"]
    assert step.started_at == at(12)


def test_retry_of_the_only_step_goes_back_to_pending() -> None:
    bench = Bench(TaskPlan("One", (StepPlan("a"),)))
    bench.report(1, "failed")
    bench.retry(1)
    assert bench.task.status is T.PENDING


def test_a_producer_may_retry_a_failed_step_itself() -> None:
    bench = Bench()
    bench.report(1, "failed", error="flaky")
    bench.clock.advance(3)
    assert bench.report(1, "running") is None
    assert bench.types == ["step_started"]
    step = bench.task.step(1)
    assert (step.status, step.error, step.started_at, step.attempt) == (S.RUNNING, None, at(3), 1)
    assert bench.task.status is T.RUNNING


def test_skip_a_failed_step_and_finish() -> None:
    bench = Bench(TaskPlan("Two", (StepPlan("a"), StepPlan("b"))))
    bench.report(1, "completed")
    bench.report(2, "failed", error="nope")
    bench.skip(2)
    assert bench.types == ["step_skipped", "task_complete"]
    assert bench.event("step_skipped").data["by"] == "alice"
    assert bench.event("task_complete").data["result"] == {
        "status": "completed",
        "duration_ms": 0,
        "steps_completed": 1,
        "steps_skipped": 1,
    }
    assert bench.statuses() == ["completed", "skipped"]
    assert bench.task.status is T.COMPLETED


def test_skip_a_pending_step() -> None:
    bench = Bench()
    bench.report(1, "running")
    bench.skip(4)
    assert bench.types == ["step_skipped"]
    assert bench.statuses() == ["running", "pending", "pending", "skipped"]
    assert bench.task.status is T.RUNNING
    assert current_step(bench.task) == 1


def test_retry_after_a_step_failed_while_paused() -> None:
    bench = Bench()
    bench.report(1, "running")
    bench.pause()
    bench.report(1, "failed", error="boom")
    assert bench.task.status is T.FAILED
    bench.retry(1)
    assert bench.task.step(1).status is S.PENDING
    assert bench.task.status is T.PAUSED
    bench.resume()
    assert bench.task.status is T.PENDING


# --- approval -----------------------------------------------------------------------------


def _at_approval_step(bench: Bench) -> None:
    bench.report(1, "completed")
    bench.report(2, "completed")
    bench.clock.advance(5)
    assert bench.report(3, "running") == "wait"


def test_a_step_that_requires_approval_waits_for_it() -> None:
    bench = Bench()
    _at_approval_step(bench)
    assert bench.types == ["approval_needed"]
    assert bench.event("approval_needed").data["approval"] == {
        "step": 3,
        "name": "Add search and filters",
        "requested_at": "2024-01-15T10:00:05Z",
    }
    assert bench.event("approval_needed").data["status"] == "approval"
    step = bench.task.step(3)
    assert (step.status, step.started_at, step.approval_requested_at) == (S.APPROVAL, None, at(5))
    assert bench.task.status is T.APPROVAL
    assert bench.history == [(3, 0.0, "approval", at(5))]
    # Reports while waiting keep answering "wait" and do not start the step.
    assert bench.report(3, "running") == "wait"
    assert bench.types == []
    with pytest.raises(IllegalTransition) as caught:
        bench.report(3, "completed")
    assert caught.value.sentence == (
        'Step 3 "Add search and filters" needs approval first, so it can\'t be completed.'
    )


def test_approve_starts_the_waiting_step() -> None:
    bench = Bench()
    _at_approval_step(bench)
    bench.clock.advance(60)
    bench.approve(3)
    assert bench.types == ["step_approved", "step_started"]
    assert bench.event("step_approved").data["by"] == "alice"
    step = bench.task.step(3)
    assert (step.status, step.decision, step.decided_by, step.decided_at) == (
        S.RUNNING,
        "approved",
        "alice",
        at(65),
    )
    assert step.started_at == at(65)
    assert bench.task.status is T.RUNNING
    assert bench.report(3, progress=50) is None
    bench.report(3, "completed")
    assert step.status is S.COMPLETED
    approval = bench.document()["steps"][2]["approval"]
    assert approval == {
        "requested_at": "2024-01-15T10:00:05Z",
        "decision": "approved",
        "decided_by": "alice",
        "decided_at": "2024-01-15T10:01:05Z",
    }


def test_reject_fails_the_step_with_the_reason() -> None:
    bench = Bench()
    _at_approval_step(bench)
    bench.clock.advance(7)
    bench.reject(3, "Not this quarter")
    assert bench.types == ["step_rejected", "step_failed", "task_failed"]
    assert bench.event("step_rejected").data["reason"] == "Not this quarter"
    assert bench.event("step_failed").data["error"] == "Not this quarter"
    step = bench.task.step(3)
    assert (step.status, step.error, step.decision, step.decided_by, step.decided_at) == (
        S.FAILED,
        "Not this quarter",
        "rejected",
        "alice",
        at(12),
    )
    assert step.approval_wait_ms == 7_000
    assert bench.task.status is T.FAILED


def test_reject_without_a_reason_names_who_rejected() -> None:
    bench = Bench()
    _at_approval_step(bench)
    bench.reject(3, None)
    assert bench.task.step(3).error == "Rejected by alice"
    assert "reason" not in bench.event("step_rejected").data


def test_retry_after_a_rejection_asks_for_approval_again() -> None:
    bench = Bench()
    _at_approval_step(bench)
    bench.reject(3, "no")
    bench.retry(3)
    step = bench.task.step(3)
    assert (step.status, step.decision, step.decided_by) == (S.PENDING, None, None)
    assert bench.report(3, "running") == "wait"
    assert step.status is S.APPROVAL


# --- illegal commands ---------------------------------------------------------------------


def _completed(bench: Bench) -> None:
    bench.report(1, "completed")
    bench.report(2, "completed")
    bench.report(3, "running")
    bench.approve(3)
    bench.report(3, "completed")
    bench.report(4, "completed")
    assert bench.task.status is T.COMPLETED


def _running(bench: Bench) -> None:
    bench.report(1, "completed")
    bench.report(2, "running")


def _cancelled(bench: Bench) -> None:
    bench.report(1, "running")
    bench.cancel()


CRM = '"Cellphone Store CRM" task'


@pytest.mark.parametrize(
    ("setup", "command", "sentence"),
    [
        pytest.param(
            _completed,
            Bench.pause,
            f"The {CRM} is already completed, so it can't be paused.",
            id="pause completed task",
        ),
        pytest.param(
            _cancelled,
            Bench.pause,
            f"The {CRM} is already cancelled, so it can't be paused.",
            id="pause cancelled task",
        ),
        pytest.param(
            _running,
            Bench.resume,
            f"The {CRM} is running, so it can't be resumed.",
            id="resume running task",
        ),
        pytest.param(
            lambda b: None,
            Bench.resume,
            f"The {CRM} is still pending, so it can't be resumed.",
            id="resume pending task",
        ),
        pytest.param(
            _completed,
            Bench.cancel,
            f"The {CRM} is already completed, so it can't be cancelled.",
            id="cancel completed task",
        ),
        pytest.param(
            _cancelled,
            Bench.cancel,
            f"The {CRM} is already cancelled, so it can't be cancelled.",
            id="cancel cancelled task",
        ),
        pytest.param(
            _running,
            lambda b: b.retry(1),
            'Step 1 "Create database tables" is already completed, so it can\'t be retried.',
            id="retry completed step",
        ),
        pytest.param(
            _running,
            lambda b: b.retry(2),
            'Step 2 "Generate application UI" is running, so it can\'t be retried.',
            id="retry running step",
        ),
        pytest.param(
            _completed,
            lambda b: b.retry(1),
            f"The {CRM} is already completed, so it can't be retried.",
            id="retry in completed task",
        ),
        pytest.param(
            _running,
            lambda b: b.skip(1),
            'Step 1 "Create database tables" is already completed, so it can\'t be skipped.',
            id="skip completed step",
        ),
        pytest.param(
            _cancelled,
            lambda b: b.skip(2),
            f"The {CRM} is already cancelled, so it can't be skipped.",
            id="skip in cancelled task",
        ),
        pytest.param(
            lambda b: None,
            lambda b: b.approve(3),
            'Step 3 "Add search and filters" is still pending, so it can\'t be approved.',
            id="approve pending step",
        ),
        pytest.param(
            _running,
            lambda b: b.reject(2, "no"),
            'Step 2 "Generate application UI" is running, so it can\'t be rejected.',
            id="reject running step",
        ),
        pytest.param(
            _running,
            lambda b: b.report(1, "running"),
            'Step 1 "Create database tables" is already completed, so it can\'t become running.',
            id="report completed => running",
        ),
        pytest.param(
            _running,
            lambda b: b.report(2, "pending"),
            'Step 2 "Generate application UI" is running, so it can\'t become pending.',
            id="report running => pending",
        ),
    ],
)
def test_illegal_commands_say_why_and_change_nothing(
    setup: Any, command: Any, sentence: str
) -> None:
    bench = Bench()
    setup(bench)
    before = bench.task.snapshot()
    with pytest.raises(IllegalTransition) as caught:
        command(bench)
    assert caught.value.sentence == sentence
    assert str(caught.value) == sentence
    assert caught.value.code == "illegal_transition"
    assert bench.task == before
    assert (bench.changes.events, bench.changes.history) == ([], [])
