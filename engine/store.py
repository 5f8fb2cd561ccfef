"""Moving task aggregates and change sets between Python and the database.

A write batch costs a fixed handful of statements however many commands it holds: one
SELECT per table to load, one executemany per table to write.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

import orjson
from sqlalchemy import Table, bindparam, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from engine.clock import isoformat_z
from engine.events import ChangeSet, Event
from engine.models import EventCounter, EventRow, Step, Substep, Task, TaskLog, TaskProgress
from engine.records import StepState, SubstepState, TaskState
from engine.states import StepStatus, SubstepStatus, TaskStatus

tasks_t = cast(Table, Task.__table__)
steps_t = cast(Table, Step.__table__)
substeps_t = cast(Table, Substep.__table__)
history_t = cast(Table, TaskProgress.__table__)
events_t = cast(Table, EventRow.__table__)
counter_t = cast(Table, EventCounter.__table__)
logs_t = cast(Table, TaskLog.__table__)

_TASK_FIELDS = (
    "title",
    "kind",
    "complexity_tables",
    "complexity_class",
    "status",
    "attempt",
    "idempotency_key",
    "previous_task_id",
    "next_task_id",
    "paused",
    "paused_since",
    "paused_ms",
    "cancelled_at",
    "cancelled_by",
    "created_at",
    "updated_at",
    "started_at",
    "finished_at",
)
_STEP_FIELDS = (
    "name",
    "key",
    "weight",
    "requires_approval",
    "status",
    "progress",
    "error",
    "attempt",
    "started_at",
    "finished_at",
    "paused_since",
    "paused_ms",
    "approval_requested_at",
    "approval_wait_ms",
    "decision",
    "decided_by",
    "decided_at",
)


async def load_tasks(
    conn: AsyncConnection, task_ids: Iterable[str], *, lock: bool = False
) -> dict[str, TaskState]:
    """Whole aggregates for these ids. `lock` takes PostgreSQL row locks in id order."""
    ids = sorted(set(task_ids))
    if not ids:
        return {}
    query = select(tasks_t).where(tasks_t.c.id.in_(ids)).order_by(tasks_t.c.id)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    task_rows = (await conn.execute(query)).mappings().all()
    return await _assemble(conn, task_rows)


async def load_task_by_idempotency_key(
    conn: AsyncConnection, owner_id: int, key: str
) -> TaskState | None:
    query = select(tasks_t).where(tasks_t.c.owner_id == owner_id, tasks_t.c.idempotency_key == key)
    rows = (await conn.execute(query)).mappings().all()
    found = await _assemble(conn, rows)
    return next(iter(found.values()), None)


async def _assemble(conn: AsyncConnection, task_rows: Sequence[Any]) -> dict[str, TaskState]:
    ids = [row["id"] for row in task_rows]
    if not ids:
        return {}
    step_rows = (
        await conn.execute(
            select(steps_t)
            .where(steps_t.c.task_id.in_(ids))
            .order_by(steps_t.c.task_id, steps_t.c.step_order)
        )
    ).mappings()
    steps: dict[str, list[StepState]] = {task_id: [] for task_id in ids}
    for row in step_rows:
        fields = {name: row[name] for name in _STEP_FIELDS}
        fields["status"] = StepStatus(fields["status"])
        steps[row["task_id"]].append(StepState(order=row["step_order"], **fields))
    substep_rows = (
        await conn.execute(
            select(substeps_t)
            .where(substeps_t.c.task_id.in_(ids))
            .order_by(substeps_t.c.task_id, substeps_t.c.step_order, substeps_t.c.position)
        )
    ).mappings()
    for row in substep_rows:
        step = steps[row["task_id"]][row["step_order"] - 1]
        step.substeps.append(
            SubstepState(row["position"], row["name"], SubstepStatus(row["status"]))
        )
    result: dict[str, TaskState] = {}
    for row in task_rows:
        fields = {name: row[name] for name in _TASK_FIELDS}
        fields["status"] = TaskStatus(fields["status"])
        result[row["id"]] = TaskState(
            id=row["id"], owner_id=row["owner_id"], steps=steps[row["id"]], **fields
        )
    return result


async def save(
    conn: AsyncConnection, tasks: Iterable[TaskState], changes: ChangeSet
) -> list[Event]:
    """Write changed aggregates and the batch's history, logs and events; return the events."""
    new_tasks: list[dict[str, Any]] = []
    changed_tasks: list[dict[str, Any]] = []
    new_steps: list[dict[str, Any]] = []
    changed_steps: list[dict[str, Any]] = []
    new_substeps: list[dict[str, Any]] = []
    changed_substeps: list[dict[str, Any]] = []
    for task in tasks:
        if not task.dirty:
            continue
        task_row = {name: getattr(task, name) for name in _TASK_FIELDS}
        task_row["status"] = str(task.status)
        if task.is_new:
            new_tasks.append({"id": task.id, "owner_id": task.owner_id, **task_row})
        else:
            changed_tasks.append({"b_id": task.id, **task_row})
        for step in task.steps:
            if task.is_new or step.order in task.dirty_steps:
                row = _step_row(task.id, step)
                (new_steps if task.is_new else changed_steps).append(row)
        for step in task.steps:
            for substep in step.substeps:
                if task.is_new or (step.order, substep.position) in task.dirty_substeps:
                    row = {
                        "b_task_id": task.id,
                        "b_step_order": step.order,
                        "b_position": substep.position,
                        "name": substep.name,
                        "status": str(substep.status),
                    }
                    (new_substeps if task.is_new else changed_substeps).append(row)
    if new_tasks:
        await conn.execute(insert(tasks_t), new_tasks)
    if changed_tasks:
        stmt = update(tasks_t).where(tasks_t.c.id == bindparam("b_id"))
        await conn.execute(stmt, changed_tasks)
    if new_steps:
        await conn.execute(insert(steps_t), [_unprefixed(r) for r in new_steps])
    if changed_steps:
        stmt = update(steps_t).where(
            steps_t.c.task_id == bindparam("b_task_id"),
            steps_t.c.step_order == bindparam("b_step_order"),
        )
        await conn.execute(stmt, changed_steps)
    await _save_substeps(conn, new_substeps, changed_substeps)
    if changes.history:
        await conn.execute(
            insert(history_t),
            [
                {
                    "task_id": h.task_id,
                    "step": h.step,
                    "percent": h.percent,
                    "status": h.status,
                    "updated_at": h.updated_at,
                }
                for h in changes.history
            ],
        )
    if changes.logs:
        await conn.execute(
            insert(logs_t),
            [
                {
                    "task_id": x.task_id,
                    "step": x.step,
                    "level": x.level,
                    "message": x.message,
                    "at": x.at,
                }
                for x in changes.logs
            ],
        )
    return await _save_events(conn, changes)


async def _save_substeps(
    conn: AsyncConnection, new: list[dict[str, Any]], changed: list[dict[str, Any]]
) -> None:
    if changed:
        keys = {(r["b_task_id"], r["b_step_order"], r["b_position"]) for r in changed}
        found = await conn.execute(
            select(substeps_t.c.task_id, substeps_t.c.step_order, substeps_t.c.position).where(
                tuple_(substeps_t.c.task_id, substeps_t.c.step_order, substeps_t.c.position).in_(
                    list(keys)
                )
            )
        )
        existing = {tuple(row) for row in found}
        updates = [
            r for r in changed if (r["b_task_id"], r["b_step_order"], r["b_position"]) in existing
        ]
        new = new + [r for r in changed if r not in updates]
        if updates:
            stmt = (
                update(substeps_t)
                .where(
                    substeps_t.c.task_id == bindparam("b_task_id"),
                    substeps_t.c.step_order == bindparam("b_step_order"),
                    substeps_t.c.position == bindparam("b_position"),
                )
                .values(status=bindparam("status"))
            )
            await conn.execute(
                stmt, [{k: r[k] for k in (*_SUBSTEP_KEYS, "status")} for r in updates]
            )
    if new:
        await conn.execute(insert(substeps_t), [_unprefixed(r) for r in new])


_SUBSTEP_KEYS = ("b_task_id", "b_step_order", "b_position")


async def _save_events(conn: AsyncConnection, changes: ChangeSet) -> list[Event]:
    """Number the batch's events from the counter row, taken last to keep the lock short."""
    if not changes.events:
        return []
    count = len(changes.events)
    last = (
        await conn.execute(
            update(counter_t)
            .where(counter_t.c.id == 1)
            .values(value=counter_t.c.value + count)
            .returning(counter_t.c.value)
        )
    ).scalar_one()
    first = last - count + 1
    events = [
        Event(first + i, str(p.type), p.task_id, p.owner_id, p.at, p.data)
        for i, p in enumerate(changes.events)
    ]
    await conn.execute(
        insert(events_t),
        [
            {
                "seq": e.seq,
                "type": e.type,
                "task_id": e.task_id,
                "owner_id": e.owner_id,
                "at": e.at,
                "data": encode_data(e.data),
            }
            for e in events
        ],
    )
    return events


def _step_row(task_id: str, step: StepState) -> dict[str, Any]:
    row = {name: getattr(step, name) for name in _STEP_FIELDS}
    row["status"] = str(step.status)
    return {"b_task_id": task_id, "b_step_order": step.order, **row}


def _unprefixed(row: dict[str, Any]) -> dict[str, Any]:
    renamed = {"b_task_id": "task_id", "b_step_order": "step_order", "b_position": "position"}
    return {renamed.get(k, k): v for k, v in row.items()}


def encode_data(data: dict[str, Any]) -> str:
    return orjson.dumps(data, default=_json_default).decode()


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return isoformat_z(value)
    raise TypeError(f"cannot encode {type(value).__name__}")
