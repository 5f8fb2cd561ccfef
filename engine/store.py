"""Moving task aggregates and change sets between Python and the database.

Plain synchronous SQLAlchemy Core: the writer runs it on its own thread for SQLite and
through `AsyncConnection.run_sync` for PostgreSQL, so a whole batch is one hop. A batch
costs a fixed handful of statements however many commands it holds.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any, cast

import orjson
from sqlalchemy import Connection, Table, insert, select, tuple_

from engine.bulk import BulkWrite
from engine.clock import isoformat_z
from engine.events import ChangeSet, Event
from engine.models import (
    EventCounter,
    EventRow,
    Step,
    StepStat,
    Substep,
    Task,
    TaskLog,
    TaskProgress,
)
from engine.progress_curve import ProgressCurve
from engine.records import StepState, SubstepState, TaskState
from engine.states import StepStatus, SubstepStatus, TaskStatus
from engine.statistics import StepStats
from engine.subscriptions import subscription_version, version_t

tasks_t = cast(Table, Task.__table__)
steps_t = cast(Table, Step.__table__)
substeps_t = cast(Table, Substep.__table__)
history_t = cast(Table, TaskProgress.__table__)
events_t = cast(Table, EventRow.__table__)
counter_t = cast(Table, EventCounter.__table__)
logs_t = cast(Table, TaskLog.__table__)
stats_t = cast(Table, StepStat.__table__)
_STATS_FIELDS = ("count", "weight", "mean_x", "mean_y", "m2_x", "m2_y", "c_xy")

_READ_COUNTER = select(counter_t.c.value).where(counter_t.c.id == 1)
_LOCK_COUNTER = _READ_COUNTER.with_for_update()

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
    "slow_attempt",
)


def ids_for_keys(conn: Connection, keys: Iterable[tuple[int, str]]) -> list[str]:
    """Ids of the tasks created with these (owner, idempotency key) pairs."""
    query = select(tasks_t.c.id).where(
        tuple_(tasks_t.c.owner_id, tasks_t.c.idempotency_key).in_(sorted(keys))
    )
    return [row[0] for row in conn.execute(query)]


def lock_event_counter(conn: Connection) -> int:
    """The event counter, locked for this transaction on PostgreSQL.

    Taken first by every write batch, so batches (from any process) run one at a time:
    no lost updates, no deadlocks, and the value tells whether anyone else wrote since
    our last batch (every change to a task emits at least one event).
    """
    query = _LOCK_COUNTER if conn.dialect.name == "postgresql" else _READ_COUNTER
    return int(conn.execute(query).scalar_one())


def counter_and_subscriptions(conn: Connection) -> tuple[int, int]:
    """The event counter (locked, as `lock_event_counter`) and the subscription version,
    in one cheap statement on SQLite (the write path asks for them every batch)."""
    if conn.dialect.name != "sqlite":
        return lock_event_counter(conn), subscription_version(conn)
    driver = conn.connection.driver_connection
    assert driver is not None
    counter, version = driver.execute(_SQLITE_COUNTER_AND_SUBSCRIPTIONS).fetchone()
    return int(counter), int(version)


_SQLITE_COUNTER_AND_SUBSCRIPTIONS = (
    f'SELECT (SELECT "value" FROM "{counter_t.name}" WHERE "id" = 1), '
    f'(SELECT "value" FROM "{version_t.name}" WHERE "id" = 1)'
)


def tasks_with_events_between(conn: Connection, after: int, upto: int) -> set[str]:
    """Ids of tasks with an event in (after, upto]: those changed in that span."""
    query = select(events_t.c.task_id).where(events_t.c.seq > after, events_t.c.seq <= upto)
    return {row[0] for row in conn.execute(query.distinct())}


def load_tasks(conn: Connection, task_ids: Iterable[str]) -> dict[str, TaskState]:
    """Whole aggregates for these ids (missing ids are simply absent)."""
    ids = sorted(set(task_ids))
    if not ids:
        return {}
    query = select(tasks_t).where(tasks_t.c.id.in_(ids)).order_by(tasks_t.c.id)
    task_rows = (conn.execute(query)).mappings().all()
    return _assemble(conn, task_rows)


def _assemble(conn: Connection, task_rows: Sequence[Any]) -> dict[str, TaskState]:
    ids = [row["id"] for row in task_rows]
    if not ids:
        return {}
    step_rows = (
        conn.execute(
            select(steps_t)
            .where(steps_t.c.task_id.in_(ids))
            .order_by(steps_t.c.task_id, steps_t.c.step_order)
        )
    ).mappings()
    steps: dict[str, list[StepState]] = {task_id: [] for task_id in ids}
    for row in step_rows:
        image = {name: row[name] for name in _STEP_FIELDS}
        step = StepState(order=row["step_order"], **image)
        step.status = StepStatus(image["status"])
        curve = image["progress_curve"] = row["progress_curve"]
        step.curve = None if curve is None else ProgressCurve.decode(curve)
        step.saved_image = image
        steps[row["task_id"]].append(step)
    substep_rows = (
        conn.execute(
            select(substeps_t)
            .where(substeps_t.c.task_id.in_(ids))
            .order_by(substeps_t.c.task_id, substeps_t.c.step_order, substeps_t.c.position)
        )
    ).mappings()
    for row in substep_rows:
        step = steps[row["task_id"]][row["step_order"] - 1]
        step.substeps.append(
            SubstepState(row["position"], row["name"], SubstepStatus(row["status"]), stored=True)
        )
    result: dict[str, TaskState] = {}
    for row in task_rows:
        image = {name: row[name] for name in _TASK_FIELDS}
        task = TaskState(id=row["id"], owner_id=row["owner_id"], steps=steps[row["id"]], **image)
        task.status = TaskStatus(image["status"])
        task.saved_image = image
        result[row["id"]] = task
    return result


def prepare_save(
    tasks: Iterable[TaskState], changes: ChangeSet, counter: int, *, sqlite: bool
) -> tuple[BulkWrite, list[Event]]:
    """Everything to write for changed aggregates and the batch's history, logs and events,
    as prepared statements (pure Python, no connection), plus the numbered events."""
    tasks = list(tasks)
    new_tasks: list[dict[str, Any]] = []
    new_steps: list[dict[str, Any]] = []
    task_updates: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    step_updates: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    new_substeps: list[dict[str, Any]] = []
    changed_substeps: list[tuple[Any, ...]] = []
    for task in tasks:
        if not task.dirty:
            continue
        if task.is_new:
            task_image = _task_image(task)
            new_tasks.append({"id": task.id, "owner_id": task.owner_id, **task_image})
            task.saved_image = task_image
            for step in task.steps:
                image = _step_image(step)
                new_steps.append({"task_id": task.id, "step_order": step.order, **image})
                step.saved_image = image
        else:
            task_image = _task_image(task)
            _queue_update(task_updates, task.saved_image, task_image, (task.id,))
            task.saved_image = task_image
            for order in sorted(task.dirty_steps):
                step = task.step(order)
                image = _step_image(step)
                _queue_update(step_updates, step.saved_image, image, (task.id, order))
                step.saved_image = image
        for step in task.steps:
            for substep in step.substeps:
                if substep.stored and (step.order, substep.position) in task.dirty_substeps:
                    changed_substeps.append(
                        (substep.status.value, task.id, step.order, substep.position)
                    )
                elif not substep.stored:
                    new_substeps.append(
                        {
                            "task_id": task.id,
                            "step_order": step.order,
                            "position": substep.position,
                            "name": substep.name,
                            "status": substep.status.value,
                        }
                    )
                    substep.stored = True
        task.mark_saved()
    bulk = BulkWrite(sqlite)
    if new_tasks:
        bulk.then(lambda conn: conn.execute(insert(tasks_t), new_tasks))
    for columns, rows in task_updates.items():
        bulk.update(tasks_t, columns, ("id",), rows)
    if new_steps:
        bulk.then(lambda conn: conn.execute(insert(steps_t), new_steps))
    for columns, rows in step_updates.items():
        bulk.update(steps_t, columns, ("task_id", "step_order"), rows)
    if new_substeps:
        bulk.then(lambda conn: conn.execute(insert(substeps_t), new_substeps))
    bulk.update(substeps_t, ("status",), ("task_id", "step_order", "position"), changed_substeps)
    bulk.insert(
        history_t,
        ("task_id", "step", "percent", "status", "updated_at"),
        [(h.task_id, h.step, h.percent, h.status, h.updated_at) for h in changes.history],
    )
    if changes.logs:
        logs = [
            {
                "task_id": x.task_id,
                "step": x.step,
                "level": x.level,
                "message": x.message,
                "at": x.at,
            }
            for x in changes.logs
        ]
        bulk.then(lambda conn: conn.execute(insert(logs_t), logs))
    events = _number_events(bulk, counter, changes)
    return bulk, events


def load_step_stats(
    conn: Connection, kinds: Iterable[str] | None = None
) -> dict[tuple[str, str], StepStats]:
    """Running step statistics for these task kinds ("" for none); None: the whole table,
    which holds one small row per (kind, step key)."""
    query = select(stats_t)
    if kinds is not None:
        wanted = sorted(set(kinds))
        if not wanted:
            return {}
        query = query.where(stats_t.c.kind.in_(wanted))
    return {
        (row["kind"], row["step_key"]): StepStats(**{name: row[name] for name in _STATS_FIELDS})
        for row in conn.execute(query).mappings()
    }


def queue_step_stats(
    bulk: BulkWrite,
    changed: dict[tuple[str, str], StepStats],
    existing: Collection[tuple[str, str]],
    at: datetime,
) -> None:
    """Write updated statistics: UPDATE rows that exist, INSERT the others.

    Batches hold the event-counter lock, so no other writer can add a row in between.
    """
    columns = (*_STATS_FIELDS, "updated_at")
    updates = []
    inserts = []
    for (kind, key), stats in sorted(changed.items()):
        values = (*(getattr(stats, name) for name in _STATS_FIELDS), at)
        if (kind, key) in existing:
            updates.append((*values, kind, key))
        else:
            inserts.append((kind, key, *values))
    bulk.update(stats_t, columns, ("kind", "step_key"), updates)
    bulk.insert(stats_t, ("kind", "step_key", *columns), inserts)


def _number_events(bulk: BulkWrite, counter: int, changes: ChangeSet) -> list[Event]:
    """Number the batch's events after `counter` (locked since the batch began)."""
    if not changes.events:
        return []
    last = counter + len(changes.events)
    bulk.update(counter_t, ("value",), ("id",), [(last, 1)])
    events = [
        Event(counter + 1 + i, p.type.value, p.task_id, p.owner_id, p.at, p.data)
        for i, p in enumerate(changes.events)
    ]
    bulk.insert(
        events_t,
        ("seq", "type", "task_id", "owner_id", "at", "data"),
        [(e.seq, e.type, e.task_id, e.owner_id, e.at, encode_data(e.data)) for e in events],
    )
    return events


def _task_image(task: TaskState) -> dict[str, Any]:
    """The task row's column values as the database holds them."""
    image = {name: getattr(task, name) for name in _TASK_FIELDS}
    image["status"] = str(task.status)
    return image


def _step_image(step: StepState) -> dict[str, Any]:
    """The step row's column values as the database holds them."""
    image = {name: getattr(step, name) for name in _STEP_FIELDS}
    image["status"] = str(step.status)
    image["progress_curve"] = None if step.curve is None else step.curve.encode()
    return image


def _queue_update(
    updates: dict[tuple[str, ...], list[tuple[Any, ...]]],
    saved: dict[str, Any] | None,
    image: dict[str, Any],
    keys: tuple[Any, ...],
) -> None:
    """Queue only the columns that differ from what was loaded or last saved, grouped by
    column set so each group is one executemany."""
    changed = image if saved is None else {k: v for k, v in image.items() if saved[k] != v}
    if changed:
        updates.setdefault(tuple(changed), []).append((*changed.values(), *keys))


def encode_data(data: dict[str, Any]) -> str:
    return orjson.dumps(data, default=_json_default).decode()


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return isoformat_z(value)
    raise TypeError(f"cannot encode {type(value).__name__}")
