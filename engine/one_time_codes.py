"""Claiming a one-time code: the shared rule of link codes and sign-in links.

A code row (code_hash, user_id, expires_at, used_at) is claimed once: the update that marks
it used only succeeds for the first of two requests racing with the same code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, update
from sqlalchemy import select as select_rows
from sqlalchemy.ext.asyncio import AsyncConnection

from engine.accounts import users_t


async def claim_code(
    conn: AsyncConnection, table: Table, digest: str, now: datetime, *extra: Any
) -> tuple[Any, ...] | None:
    """(user id, user name, *extra columns) of the unexpired, unused code with this hash,
    now marked used; None when there is none or another request claimed it first."""
    found = (
        await conn.execute(
            select_rows(table.c.user_id, users_t.c.name, *extra)
            .select_from(table.join(users_t, users_t.c.id == table.c.user_id))
            .where(table.c.code_hash == digest, table.c.used_at.is_(None), table.c.expires_at > now)
        )
    ).first()
    if found is None:
        return None
    used = await conn.execute(
        update(table)
        .where(table.c.code_hash == digest, table.c.used_at.is_(None))
        .values(used_at=now)
    )
    return tuple(found) if used.rowcount else None
