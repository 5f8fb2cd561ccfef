"""Storage for conversation memory: an opaque JSON document per conversation key.

The bot decides what a conversation remembers; the engine keeps it where every replica
can read it, and forgets conversations idle for longer than `KEEP`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from engine.models import ConversationRow

conversations_t = cast(Table, ConversationRow.__table__)
KEEP = timedelta(days=30)


async def load_state(conn: AsyncConnection, key: str) -> str | None:
    query = select(conversations_t.c.state).where(conversations_t.c.key == key)
    value = (await conn.execute(query)).scalar()
    return None if value is None else str(value)


async def save_state(conn: AsyncConnection, key: str, state: str, now: datetime) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(conversations_t).values(key=key, state=state, updated_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=[conversations_t.c.key],
        set_={"state": statement.excluded.state, "updated_at": statement.excluded.updated_at},
    )
    await conn.execute(statement)


async def forget_idle(conn: AsyncConnection, now: datetime) -> int:
    result = await conn.execute(
        delete(conversations_t).where(conversations_t.c.updated_at < now - KEEP)
    )
    return int(result.rowcount or 0)
