"""Users and API tokens. Tokens are random, shown once, and stored only as SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from engine.errors import InvalidInput
from engine.models import ApiToken, User

users_t = cast(Table, User.__table__)
tokens_t = cast(Table, ApiToken.__table__)
TOKEN_PREFIX = "tt_"


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    name: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


async def ensure_user(conn: AsyncConnection, name: str, now: datetime) -> Account:
    name = name.strip()
    if not name or len(name) > 200 or any(ord(c) < 32 for c in name):
        raise InvalidInput("A user name is 1-200 printable characters.", field="user")
    row = (await conn.execute(select(users_t.c.id).where(users_t.c.name == name))).first()
    if row is not None:
        return Account(int(row[0]), name)
    result = await conn.execute(insert(users_t).values(name=name, created_at=now))
    assert result.inserted_primary_key is not None
    return Account(int(result.inserted_primary_key[0]), name)


async def create_token(
    conn: AsyncConnection, name: str, now: datetime, label: str | None = None
) -> str:
    """A new token for `name` (creating the user if needed); the only time it is visible."""
    account = await ensure_user(conn, name, now)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    await conn.execute(
        insert(tokens_t).values(
            user_id=account.id, token_hash=hash_token(token), label=label, created_at=now
        )
    )
    return token


async def account_for_token(conn: AsyncConnection, token: str) -> Account | None:
    query = (
        select(users_t.c.id, users_t.c.name)
        .select_from(tokens_t.join(users_t, users_t.c.id == tokens_t.c.user_id))
        .where(tokens_t.c.token_hash == hash_token(token), tokens_t.c.revoked_at.is_(None))
    )
    row = (await conn.execute(query)).first()
    return Account(int(row[0]), str(row[1])) if row is not None else None
