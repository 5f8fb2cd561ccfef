"""The engine through its front door (`TaskService`), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from engine.accounts import ensure_user
from engine.commands import StepPlan, StepReport, SubstepReport, TaskPlan
from engine.errors import IllegalTransition
from engine.events import Event
from engine.service import ReportOutcome
from engine.states import StepStatus, SubstepStatus
from tests.conftest import Engine

S = StepStatus
DONE = SubstepStatus.COMPLETED

# With equal weights step 2 at 65% would make the task (100 + 65) / 4 = 41%. The spec's
# screen shows 65% for the task, which these weights reproduce exactly:
# (13 * 100 + 10 * 65) / (13 + 10 + 3 + 4) = 1950 / 30 = 65.
CRM_PLAN = TaskPlan(
    title="Cellphone Store CRM",
    kind="crm-app",
    complexity_tables=4,
    steps=(
        StepPlan("Create database tables", weight=13),
        StepPlan(
            "Generate application UI",
            weight=10,
            substeps=("Customer list", "Product list", "Sales form", "Repair board"),
        ),
        StepPlan("Add search and filters", weight=3, requires_approval=True),
        StepPlan("Configure workflows", weight=4),
    ),
)

SPEC_TASK_FIELDS = (
    "task_id",
    "title",
    "status",
    "progress",
    "current_step",
    "total_steps",
    "started_at",
    "eta_seconds",
)


async def _user(engine: Engine, name: str = "alice") -> int:
    async with engine.database.write() as conn:
        account = await ensure_user(conn, name, engine.clock.now())
    return account.id


def _spec_view(document: dict[str, Any]) -> dict[str, Any]:
    """The progress document cut down to the fields the spec's example shows."""
    view = {name: document[name] for name in SPEC_TASK_FIELDS}
    steps = []
    for step in document["steps"]:
        shown = {name: step[name] for name in ("order", "name", "status", "progress")}
        if "duration_ms" in step:
            shown["duration_ms"] = step["duration_ms"]
        if "substeps" in step:
            shown["substeps"] = [{"name": s["name"], "done": s["done"]} for s in step["substeps"]]
        steps.append(shown)
    view["steps"] = steps
    return view


async def test_the_specs_crm_task_reads_back_exactly_as_the_spec_shows(engine: Engine) -> None:
    service, clock = engine.service, engine.clock
    alice = await _user(engine)
    created, is_new = await service.create_task(alice, CRM_PLAN)
    assert is_new is True
    task_id = created["task_id"]

    # 10:00:00 step 1 starts; 10:00:15 it completes; step 2 starts right away.
    await service.report_step(alice, task_id, 1, StepReport(S.RUNNING))
    clock.advance(15)
    await service.report_step(alice, task_id, 1, StepReport(S.COMPLETED))
    await service.report_step(alice, task_id, 2, StepReport(S.RUNNING))
    # 10:02:30 step 2 is at 65% with two substeps done.
    clock.advance(135)
    substeps = (SubstepReport("Customer list", DONE), SubstepReport("Product list", DONE))
    outcome = await service.report_step(
        alice, task_id, 2, StepReport(progress=65, substeps=substeps)
    )
    assert outcome.control is None
    assert outcome.restarted_as is None

    expected = {
        "task_id": task_id,
        "title": "Cellphone Store CRM",
        "status": "running",
        "progress": 65,
        "current_step": 2,
        "total_steps": 4,
        "started_at": "2024-01-15T10:00:00Z",
        # The spec shows 180; with no history the estimate is the task's own rate:
        # 150 s of work for 65% done leaves 150 * 35 / 65 = 80.8 s.
        "eta_seconds": 81,
        "steps": [
            {
                "order": 1,
                "name": "Create database tables",
                "status": "completed",
                "progress": 100,
                "duration_ms": 15000,
            },
            {
                "order": 2,
                "name": "Generate application UI",
                "status": "running",
                "progress": 65,
                "substeps": [
                    {"name": "Customer list", "done": True},
                    {"name": "Product list", "done": True},
                    {"name": "Sales form", "done": False},
                    {"name": "Repair board", "done": False},
                ],
            },
            {"order": 3, "name": "Add search and filters", "status": "pending", "progress": 0},
            {"order": 4, "name": "Configure workflows", "status": "pending", "progress": 0},
        ],
    }
    assert _spec_view(outcome.task) == expected
    document = await service.progress(alice, task_id)
    assert _spec_view(document) == expected
    assert document == outcome.task
    assert document["duration_ms"] == 150_000
    assert document["updated_at"] == "2024-01-15T10:02:30Z"
    assert document["steps"][1]["elapsed_ms"] == 135_000
    assert [s["started_at"] for s in document["steps"]] == [
        "2024-01-15T10:00:00Z",
        "2024-01-15T10:00:15Z",
        None,
        None,
    ]

    # Read 184 s later (334 s of work in all) the same progress gives the spec's 180:
    # 334 * 35 / 65 = 179.8.
    clock.advance(184)
    assert (await service.progress(alice, task_id))["eta_seconds"] == 180

    # The spec's task_progress table, as one row per change.
    assert await service.history(alice, task_id) == [
        _row(task_id, 1, 0, "pending", "2024-01-15T10:00:00Z"),
        _row(task_id, 2, 0, "pending", "2024-01-15T10:00:00Z"),
        _row(task_id, 3, 0, "pending", "2024-01-15T10:00:00Z"),
        _row(task_id, 4, 0, "pending", "2024-01-15T10:00:00Z"),
        _row(task_id, 1, 0, "running", "2024-01-15T10:00:00Z"),
        _row(task_id, 1, 100, "completed", "2024-01-15T10:00:15Z"),
        _row(task_id, 2, 0, "running", "2024-01-15T10:00:15Z"),
        _row(task_id, 2, 65, "running", "2024-01-15T10:02:30Z"),
    ]


def _row(task_id: str, step: int, percent: float, status: str, at: str) -> dict[str, Any]:
    return {
        "task_id": task_id,
        "step": step,
        "percent": percent,
        "status": status,
        "updated_at": at,
    }


async def test_history_rows_have_exactly_the_specs_fields(engine: Engine) -> None:
    alice = await _user(engine)
    created, _ = await engine.service.create_task(alice, TaskPlan("One", (StepPlan("a"),)))
    await engine.service.report_step(alice, created["task_id"], 1, StepReport(S.RUNNING, 12.5))
    rows = await engine.service.history(alice, created["task_id"])
    assert [sorted(row) for row in rows] == [
        ["percent", "status", "step", "task_id", "updated_at"]
    ] * 2
    assert rows[1] == _row(created["task_id"], 1, 12.5, "running", "2024-01-15T10:00:00Z")


async def test_a_repeated_idempotency_key_returns_the_same_task(engine: Engine) -> None:
    alice = await _user(engine)
    bob = await _user(engine, "bob")
    plan = TaskPlan("Nightly import", (StepPlan("fetch"), StepPlan("load")), idempotency_key="k-1")
    first, first_new = await engine.service.create_task(alice, plan)
    engine.clock.advance(60)
    again, again_new = await engine.service.create_task(alice, plan)
    assert (first_new, again_new) == (True, False)
    assert again["task_id"] == first["task_id"]
    assert again["created_at"] == "2024-01-15T10:00:00Z"
    # The key is per owner: bob's task with the same key is a different task.
    bobs, bobs_new = await engine.service.create_task(bob, plan)
    assert bobs_new is True
    assert bobs["task_id"] != first["task_id"]
    # Two submissions racing into the same batch still make one task.
    racing = replace(plan, idempotency_key="k-2")
    results = await asyncio.gather(*(engine.service.create_task(alice, racing) for _ in range(5)))
    assert sorted(new for _, new in results) == [False, False, False, False, True]
    assert len({doc["task_id"] for doc, _ in results}) == 1
    assert len(await engine.service.list_tasks(alice)) == 2
    assert len(await engine.service.list_tasks(bob)) == 1


TASKS = 20
#: Ten reports per task, in producer order: (step, status, progress).
SCRIPT: list[tuple[int, StepStatus | None, float | None]] = [
    (1, S.RUNNING, None),
    (1, None, 20),
    (1, None, 40),
    (1, None, 60),
    (1, None, 80),
    (1, S.COMPLETED, None),
    (2, S.RUNNING, None),
    (2, None, 30),
    (2, None, 60),
    (2, S.COMPLETED, None),
]
#: The history rows each script step writes: (step, percent, status).
SCRIPT_HISTORY = [
    (1, 0, "running"),
    (1, 20, "running"),
    (1, 40, "running"),
    (1, 60, "running"),
    (1, 80, "running"),
    (1, 100, "completed"),
    (2, 0, "running"),
    (2, 30, "running"),
    (2, 60, "running"),
    (2, 100, "completed"),
]


async def test_many_concurrent_reports_all_land_in_order(engine: Engine) -> None:
    service = engine.service
    alice = await _user(engine)
    batches: list[list[Event]] = []
    engine.writer.add_listener(batches.append)
    plan = TaskPlan("Build", (StepPlan("compile"), StepPlan("package")))
    task_ids = [(await service.create_task(alice, plan))[0]["task_id"] for _ in range(TASKS)]
    batches.clear()
    # Round robin: report i of every task before report i + 1 of any.
    submissions = [
        service.report_step(alice, task_id, step, StepReport(status, progress))
        for step, status, progress in SCRIPT
        for task_id in task_ids
    ]
    assert len(submissions) == 200
    outcomes = await asyncio.gather(*submissions)
    assert all(isinstance(o, ReportOutcome) and o.control is None for o in outcomes)
    # Group commit really grouped them (200 commands, far fewer commits).
    assert 1 <= len(batches) < 200
    for task_id in task_ids:
        document = await service.progress(alice, task_id)
        assert (document["status"], document["progress"]) == ("completed", 100)
        history = await service.history(alice, task_id)
        assert [(r["step"], r["percent"], r["status"]) for r in history] == [
            (1, 0, "pending"),
            (2, 0, "pending"),
            *SCRIPT_HISTORY,
        ]
    # 20 tasks x (2 rows at creation + 10 reports).
    rows = sum([len(await service.history(alice, task_id)) for task_id in task_ids])
    assert rows == 240
    events = await service.events_between(alice, 0, 10**9)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    for task_id in task_ids:
        assert [e.type for e in events if e.task_id == task_id] == [
            "task_created",
            "task_started",
            "step_started",
            "progress",
            "progress",
            "progress",
            "progress",
            "step_complete",
            "step_started",
            "progress",
            "progress",
            "step_complete",
            "task_complete",
        ]
    assert len(events) == TASKS * 13


async def test_an_illegal_command_in_a_batch_leaves_the_others_alone(engine: Engine) -> None:
    service = engine.service
    alice = await _user(engine)
    plan = TaskPlan("Deploy", (StepPlan("build"), StepPlan("ship")))
    first = (await service.create_task(alice, plan))[0]["task_id"]
    second = (await service.create_task(alice, plan))[0]["task_id"]
    await service.report_step(alice, first, 1, StepReport(S.COMPLETED))
    batches: list[list[Event]] = []
    engine.writer.add_listener(batches.append)
    engine.clock.advance(1)

    results = await asyncio.gather(
        service.report_step(alice, second, 1, StepReport(S.RUNNING)),
        service.report_step(alice, first, 1, StepReport(S.RUNNING, progress=5)),  # illegal
        service.report_step(alice, first, 2, StepReport(S.RUNNING, progress=10)),
        service.task_action(alice, first, "resume", "alice"),  # illegal
        service.report_step(alice, second, 1, StepReport(progress=50)),
        return_exceptions=True,
    )

    refused = results[1]
    assert isinstance(refused, IllegalTransition)
    assert refused.sentence == 'Step 1 "build" is already completed, so it can\'t become running.'
    resumed = results[3]
    assert isinstance(resumed, IllegalTransition)
    assert resumed.sentence == 'The "Deploy" task is running, so it can\'t be resumed.'
    assert [r.task["progress"] for r in results if isinstance(r, ReportOutcome)] == [0, 55, 25]
    # All five went through one commit.
    assert len(batches) == 1
    assert [(e.type, e.task_id) for e in batches[0]] == [
        ("task_started", second),
        ("step_started", second),
        ("step_started", first),
        ("progress", second),
    ]
    first_doc = await service.progress(alice, first)
    assert [(s["status"], s["progress"]) for s in first_doc["steps"]] == [
        ("completed", 100),
        ("running", 10),
    ]
    second_doc = await service.progress(alice, second)
    assert [(s["status"], s["progress"]) for s in second_doc["steps"]] == [
        ("running", 50),
        ("pending", 0),
    ]
    assert [
        (r["step"], r["percent"], r["status"]) for r in await service.history(alice, first)
    ] == [
        (1, 0, "pending"),
        (2, 0, "pending"),
        (1, 100, "completed"),
        (2, 10, "running"),
    ]


async def test_events_come_out_with_contiguous_seq_numbers(engine: Engine) -> None:
    service = engine.service
    alice = await _user(engine)
    bob = await _user(engine, "bob")
    assert await service.last_seq() == 0
    mine = (await service.create_task(alice, CRM_PLAN))[0]["task_id"]
    theirs = (await service.create_task(bob, TaskPlan("Other", (StepPlan("x"),))))[0]["task_id"]
    await service.report_step(alice, mine, 1, StepReport(S.RUNNING))
    await service.report_step(bob, theirs, 1, StepReport(S.COMPLETED))
    await service.task_action(alice, mine, "pause", "alice")
    await service.task_action(alice, mine, "resume", "alice")
    await service.report_step(alice, mine, 1, StepReport(S.COMPLETED))
    await service.report_step(alice, mine, 2, StepReport(S.COMPLETED))
    outcome = await service.report_step(alice, mine, 3, StepReport(S.RUNNING))
    assert outcome.control == "wait"
    await service.step_action(alice, mine, 3, "reject", "alice", "Not now")

    everyone = await service.events_after(0)
    assert [e.seq for e in everyone] == list(range(1, 16))
    assert await service.last_seq() == 15
    assert [(e.seq, e.type) for e in everyone if e.task_id == theirs] == [
        (2, "task_created"),
        (5, "task_started"),
        (6, "step_complete"),
        (7, "task_complete"),
    ]
    alices = await service.events_between(alice, 0, 15)
    assert [(e.seq, e.type) for e in alices] == [
        (1, "task_created"),
        (3, "task_started"),
        (4, "step_started"),
        (8, "task_paused"),
        (9, "task_resumed"),
        (10, "step_complete"),
        (11, "step_complete"),
        (12, "approval_needed"),
        (13, "step_rejected"),
        (14, "step_failed"),
        (15, "task_failed"),
    ]
    assert len(everyone) == 15
    assert alices[-1].data["error"] == "Not now"
    # Replaying from a seq gives exactly the later events.
    assert [e.seq for e in await service.events_between(alice, 12, 15)] == [13, 14, 15]
    assert [e.seq for e in await service.events_between(alice, 0, 15, task_id=mine)] == [
        e.seq for e in alices
    ]


@pytest.mark.parametrize("action", ["pause", "cancel"])
async def test_a_persons_command_reaches_the_producer_on_its_next_report(
    engine: Engine, action: str
) -> None:
    alice = await _user(engine)
    task_id = (await engine.service.create_task(alice, CRM_PLAN))[0]["task_id"]
    await engine.service.report_step(alice, task_id, 1, StepReport(S.RUNNING))
    document = await engine.service.task_action(alice, task_id, action, "alice")
    assert document["status"] == {"pause": "paused", "cancel": "cancelled"}[action]
    outcome = await engine.service.report_step(alice, task_id, 1, StepReport(progress=50))
    assert outcome.control == action
