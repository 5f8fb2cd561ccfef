"""One-time sign-in links: `tasktalk token create USER --link` prints `…/#login=CODE`.

The web page trades the code, once, for a new API token. Codes expire, work once, and
only their hashes are stored, so a leaked database or log holds nothing that signs in.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from engine.accounts import create_token, ensure_user, users_t
from engine.models import LoginCode

codes_t = cast(Table, LoginCode.__table__)
LOGIN_CODE_LIFETIME = timedelta(minutes=15)
#: Codes travel in a URL, never typed: long enough that guessing one is hopeless.
_CODE_BYTES = 24
MAX_CODE_CHARS = 100


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()


async def create_login_code(
    conn: AsyncConnection, name: str, now: datetime, label: str | None = None
) -> str:
    """A new one-time code for user `name` (created if new); the only time it is visible."""
    account = await ensure_user(conn, name, now)
    code = secrets.token_urlsafe(_CODE_BYTES)
    await conn.execute(
        insert(codes_t).values(
            code_hash=_hash(code),
            user_id=account.id,
            label=label,
            expires_at=now + LOGIN_CODE_LIFETIME,
        )
    )
    return code


async def consume_login_code(conn: AsyncConnection, code: str, now: datetime) -> str | None:
    """A new API token for the code's user, once; None when unknown, used or expired."""
    if not code or len(code) > MAX_CODE_CHARS:
        return None
    digest = _hash(code)
    found = (
        await conn.execute(
            select(users_t.c.name, codes_t.c.label)
            .select_from(codes_t.join(users_t, users_t.c.id == codes_t.c.user_id))
            .where(
                codes_t.c.code_hash == digest,
                codes_t.c.used_at.is_(None),
                codes_t.c.expires_at > now,
            )
        )
    ).first()
    if found is None:
        return None
    used = await conn.execute(
        update(codes_t)
        .where(codes_t.c.code_hash == digest, codes_t.c.used_at.is_(None))
        .values(used_at=now)
    )
    if not used.rowcount:
        return None  # the same link opened twice at once: only one wins
    return await create_token(conn, str(found[0]), now, found[1] or "web sign-in link")
