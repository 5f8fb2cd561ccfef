"""Chat identities: who a Telegram user, a Slack member or a Rasa sender is in tasktalk.

A person runs `tasktalk link USER`, gets a short one-time code and sends it to the bot;
the bot redeems it for the identity it came from. Codes expire, work once, and only
their hashes are stored.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from engine.accounts import Account, ensure_user, users_t
from engine.models import Identity, LinkCode
from engine.one_time_codes import claim_code

identities_t = cast(Table, Identity.__table__)
codes_t = cast(Table, LinkCode.__table__)
CODE_LIFETIME = timedelta(minutes=15)
#: No 0/O, 1/I/L: a code read off a screen and typed on a phone should not be mistyped.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def normalise_code(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


def _hash(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


async def create_link_code(conn: AsyncConnection, name: str, now: datetime) -> tuple[str, Account]:
    """A new one-time code for user `name` (created if new), shown as XXXX-XXXX."""
    account = await ensure_user(conn, name, now)
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))
    await conn.execute(
        insert(codes_t).values(
            code_hash=_hash(raw), user_id=account.id, expires_at=now + CODE_LIFETIME
        )
    )
    return f"{raw[:4]}-{raw[4:]}", account


async def redeem_link_code(
    conn: AsyncConnection,
    code: str,
    channel: str,
    external_id: str,
    address: str | None,
    now: datetime,
) -> Account | None:
    """Link the identity to the code's user; None when the code is unknown, used or old."""
    found = await claim_code(conn, codes_t, _hash(code), now)
    if found is None:
        return None  # unknown, used, expired, or redeemed by someone else a moment ago
    account = Account(int(found[0]), str(found[1]))
    await link_identity(conn, account.id, channel, external_id, address, now)
    return account


async def link_identity(
    conn: AsyncConnection,
    user_id: int,
    channel: str,
    external_id: str,
    address: str | None,
    now: datetime,
) -> None:
    """(Re)link the identity to the user; one identity belongs to one user at a time."""
    await conn.execute(
        delete(identities_t).where(
            identities_t.c.channel == channel, identities_t.c.external_id == external_id
        )
    )
    await conn.execute(
        insert(identities_t).values(
            user_id=user_id,
            channel=channel,
            external_id=external_id,
            address=address,
            created_at=now,
        )
    )


async def account_for_identity(
    conn: AsyncConnection, channel: str, external_id: str
) -> tuple[Account, str | None] | None:
    """The linked user and the identity's own address, or None when not linked."""
    row = (
        await conn.execute(
            select(users_t.c.id, users_t.c.name, identities_t.c.address)
            .select_from(identities_t.join(users_t, users_t.c.id == identities_t.c.user_id))
            .where(identities_t.c.channel == channel, identities_t.c.external_id == external_id)
        )
    ).first()
    if row is None:
        return None
    return Account(int(row[0]), str(row[1])), row[2]


async def identity_address(conn: AsyncConnection, user_id: int, channel: str) -> str | None:
    """Where the user is reached on `channel` by default (their linked identity's chat)."""
    row = (
        await conn.execute(
            select(identities_t.c.address)
            .where(identities_t.c.user_id == user_id, identities_t.c.channel == channel)
            .order_by(identities_t.c.id.desc())
            .limit(1)
        )
    ).first()
    return None if row is None else row[0]
