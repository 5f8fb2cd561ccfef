"""Retention: what is old enough to delete, so the database does not grow without end.

Only tasks that ended lose their detail (history rows, events, log lines); the task and its
steps stay, so lists and statistics keep them. Delivered and dropped notifications go
after a shorter time, and the record of chat deliveries already acted on after two days.
Deleting by age is safe to run twice and on several replicas.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from engine.conversations import forget_idle
from engine.inbound import forget_old
from engine.models import OutboxRow
from engine.outbox import DELIVERED, DROPPED
from engine.states import TERMINAL_TASK_STATES
from engine.store import events_t, history_t, logs_t, tasks_t

outbox_t = cast(Table, OutboxRow.__table__)


async def apply_retention(
    conn: AsyncConnection, now: datetime, *, history_days: int, outbox_days: int
) -> dict[str, int]:
    """Delete past-retention rows; returns how many of each. 0 days keeps them forever."""
    removed = {"history": 0, "events": 0, "logs": 0, "outbox": 0}
    removed["inbound"] = await forget_old(conn, now)
    removed["conversations"] = await forget_idle(conn, now)
    if history_days > 0:
        cutoff = now - timedelta(days=history_days)
        ended = (
            select(tasks_t.c.id)
            .where(
                tasks_t.c.status.in_([str(s) for s in TERMINAL_TASK_STATES]),
                tasks_t.c.finished_at < cutoff,
            )
            .scalar_subquery()
        )
        for name, table, time_column in (
            ("history", history_t, history_t.c.updated_at),
            ("events", events_t, events_t.c.at),
            ("logs", logs_t, logs_t.c.at),
        ):
            result = await conn.execute(
                delete(table).where(table.c.task_id.in_(ended), time_column < cutoff)
            )
            removed[name] = int(result.rowcount or 0)
    if outbox_days > 0:
        cutoff = now - timedelta(days=outbox_days)
        result = await conn.execute(
            delete(outbox_t).where(
                outbox_t.c.status.in_([DELIVERED, DROPPED]), outbox_t.c.updated_at < cutoff
            )
        )
        removed["outbox"] = int(result.rowcount or 0)
    return removed
