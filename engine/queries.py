"""Read-side queries. Each takes a connection so a caller can keep one snapshot."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from engine.clock import isoformat_z
from engine.events import Event
from engine.progress import as_number
from engine.records import TaskState
from engine.states import TaskStatus
from engine.statistics import StepStats
from engine.store import (
    counter_t,
    events_t,
    history_t,
    load_step_stats,
    load_tasks,
    logs_t,
    tasks_t,
)


async def task(conn: AsyncConnection, owner_id: int, task_id: str) -> TaskState | None:
    found = (await conn.run_sync(load_tasks, [task_id])).get(task_id)
    if found is None or found.owner_id != owner_id:
        return None
    return found


async def owns(conn: AsyncConnection, owner_id: int, task_id: str) -> bool:
    query = select(exists().where(tasks_t.c.id == task_id, tasks_t.c.owner_id == owner_id))
    return bool((await conn.execute(query)).scalar())


async def tasks(
    conn: AsyncConnection, owner_id: int, status: str | None, limit: int
) -> list[TaskState]:
    """The owner's tasks, newest first."""
    query = select(tasks_t.c.id).where(tasks_t.c.owner_id == owner_id)
    if status is not None:
        query = query.where(tasks_t.c.status == status)
    query = query.order_by(tasks_t.c.created_at.desc(), tasks_t.c.id.desc()).limit(limit)
    ids = [row[0] for row in await conn.execute(query)]
    loaded = await conn.run_sync(load_tasks, ids)
    return [loaded[task_id] for task_id in ids]


async def step_stats(
    conn: AsyncConnection, kinds: Iterable[str]
) -> dict[tuple[str, str], StepStats]:
    """Running step statistics of these task kinds: one small indexed query."""
    return await conn.run_sync(load_step_stats, list(kinds))


async def running_task_ids(conn: AsyncConnection) -> list[str]:
    """Everyone's running tasks: those whose steps may be running slow."""
    query = select(tasks_t.c.id).where(tasks_t.c.status == str(TaskStatus.RUNNING))
    return [row[0] for row in await conn.execute(query)]


async def history(conn: AsyncConnection, task_id: str) -> list[dict[str, Any]]:
    query = (
        select(history_t.c.step, history_t.c.percent, history_t.c.status, history_t.c.updated_at)
        .where(history_t.c.task_id == task_id)
        .order_by(history_t.c.id)
    )
    return [
        {
            "task_id": task_id,
            "step": row.step,
            "percent": as_number(row.percent),
            "status": row.status,
            "updated_at": isoformat_z(row.updated_at),
        }
        for row in await conn.execute(query)
    ]


async def logs(conn: AsyncConnection, task_id: str, tail: int) -> list[dict[str, Any]]:
    """The last `tail` lines, oldest first."""
    query = (
        select(logs_t.c.id, logs_t.c.step, logs_t.c.level, logs_t.c.message, logs_t.c.at)
        .where(logs_t.c.task_id == task_id)
        .order_by(logs_t.c.id.desc())
        .limit(tail)
    )
    rows = list(await conn.execute(query))
    rows.reverse()
    return [
        {
            "step": row.step,
            "level": row.level,
            "message": row.message,
            "at": isoformat_z(row.at),
        }
        for row in rows
    ]


async def events_between(
    conn: AsyncConnection, owner_id: int, after: int, upto: int, task_id: str | None
) -> list[Event]:
    """The owner's events with after < seq <= upto, in seq order."""
    query = select(events_t).where(
        events_t.c.owner_id == owner_id, events_t.c.seq > after, events_t.c.seq <= upto
    )
    if task_id is not None:
        query = query.where(events_t.c.task_id == task_id)
    query = query.order_by(events_t.c.seq)
    return [_event(row) for row in await conn.execute(query)]


async def recent_events(
    conn: AsyncConnection,
    owner_id: int,
    *,
    after: int,
    since: datetime | None,
    types: Collection[str],
    limit: int,
) -> list[Event]:
    """The owner's newest events of `types` above seq `after` (and at or after `since`, if given),
    newest first, at most `limit`: a summary of what happened lately."""
    query = (
        select(events_t)
        .where(
            events_t.c.owner_id == owner_id,
            events_t.c.seq > after,
            events_t.c.type.in_(list(types)),
        )
        .order_by(events_t.c.seq.desc())
        .limit(limit)
    )
    if since is not None:
        query = query.where(events_t.c.at >= since)
    return [_event(row) for row in await conn.execute(query)]


async def events_by_seq(conn: AsyncConnection, seqs: Iterable[int]) -> dict[int, Event]:
    wanted = sorted(set(seqs))
    if not wanted:
        return {}
    query = select(events_t).where(events_t.c.seq.in_(wanted))
    return {row.seq: _event(row) for row in await conn.execute(query)}


async def events_after(conn: AsyncConnection, after: int, limit: int) -> list[Event]:
    """Everyone's events above `after`, oldest first: what the hub has not yet dispatched."""
    query = select(events_t).where(events_t.c.seq > after).order_by(events_t.c.seq).limit(limit)
    return [_event(row) for row in await conn.execute(query)]


async def last_seq(conn: AsyncConnection) -> int:
    value = (await conn.execute(select(func.max(counter_t.c.value)))).scalar()
    return int(value or 0)


async def owner_last_seq(conn: AsyncConnection, owner_id: int) -> int:
    """The newest event of the owner's tasks: changes exactly when one of them changes."""
    query = select(func.max(events_t.c.seq)).where(events_t.c.owner_id == owner_id)
    return int((await conn.execute(query)).scalar() or 0)


def _event(row: Any) -> Event:
    return Event(row.seq, row.type, row.task_id, row.owner_id, row.at, orjson.loads(row.data))


async def task_summaries(
    conn: AsyncConnection, owner_id: int, limit: int
) -> list[tuple[str, str, str, datetime, str]]:
    """(id, title, status, updated_at, kind) of the owner's most recently updated tasks:
    what a chat needs to tell which task a person means, without loading any steps."""
    query = (
        select(
            tasks_t.c.id, tasks_t.c.title, tasks_t.c.status, tasks_t.c.updated_at, tasks_t.c.kind
        )
        .where(tasks_t.c.owner_id == owner_id)
        .order_by(tasks_t.c.updated_at.desc())
        .limit(limit)
    )
    return [(r[0], r[1], r[2], r[3], r[4] or "") for r in await conn.execute(query)]
