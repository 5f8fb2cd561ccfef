"""Acting once on what chat platforms deliver more than once (retries, several replicas)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from engine.models import InboundEvent

inbound_t = cast(Table, InboundEvent.__table__)
#: Platforms retry within minutes (Slack) or a day at most (Telegram keeps updates 24 h).
KEEP = timedelta(days=2)


async def first_time(conn: AsyncConnection, source: str, key: str, now: datetime) -> bool:
    """Record (source, key); True for the first caller only, on any replica."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(inbound_t)
        .values(source=source, key=key[:200], seen_at=now)
        .on_conflict_do_nothing(index_elements=[inbound_t.c.source, inbound_t.c.key])
    )
    result = await conn.execute(statement)
    return bool(result.rowcount)


async def forget_old(conn: AsyncConnection, now: datetime) -> int:
    result = await conn.execute(delete(inbound_t).where(inbound_t.c.seen_at < now - KEEP))
    return int(result.rowcount or 0)
