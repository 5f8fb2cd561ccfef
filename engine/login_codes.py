"""One-time sign-in links: `tasktalk token create USER --link` prints `…/#login=CODE`.

The web page trades the code, once, for a new API token. Codes expire, work once, and
only their hashes are stored, so a leaked database or log holds nothing that signs in.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from engine.accounts import create_token, ensure_user, hash_token
from engine.models import LoginCode
from engine.one_time_codes import claim_code

codes_t = cast(Table, LoginCode.__table__)
LOGIN_CODE_LIFETIME = timedelta(minutes=15)
#: Codes travel in a URL, never typed: long enough that guessing one is hopeless.
_CODE_BYTES = 24
MAX_CODE_CHARS = 100


async def create_login_code(
    conn: AsyncConnection, name: str, now: datetime, label: str | None = None
) -> str:
    """A new one-time code for user `name` (created if new); the only time it is visible."""
    account = await ensure_user(conn, name, now)
    code = secrets.token_urlsafe(_CODE_BYTES)
    await conn.execute(
        insert(codes_t).values(
            code_hash=hash_token(code),
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
    found = await claim_code(conn, codes_t, hash_token(code), now, codes_t.c.label)
    if found is None:
        return None  # unknown, used, expired, or the same link opened twice at once
    return await create_token(conn, str(found[1]), now, found[2] or "web sign-in link")
