"""Web Push storage: the server's VAPID key pair and each browser's push subscription.

The key pair is made once, on the first start, and kept in the database so every replica
and every restart signs with the same key (browsers' subscriptions are bound to it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from engine.models import PushSubscriptionRow, VapidKey

vapid_t = cast(Table, VapidKey.__table__)
push_t = cast(Table, PushSubscriptionRow.__table__)
_KEY_ID = 1


@dataclass(frozen=True, slots=True)
class VapidKeys:
    private_pem: str
    public_key: str  # base64url, the browser's `applicationServerKey`


@dataclass(frozen=True, slots=True)
class PushSubscription:
    user_id: int
    endpoint: str
    p256dh: str
    auth: str
    created_at: datetime | None = None

    def info(self) -> dict[str, object]:
        """The browser's PushSubscription JSON, as push libraries take it."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


async def vapid_keys(
    conn: AsyncConnection, make: Callable[[], VapidKeys], now: datetime
) -> VapidKeys:
    """The stored key pair, made with `make` and stored if there is none yet."""
    found = await _stored_keys(conn)
    if found is not None:
        return found
    made = make()
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    await conn.execute(
        dialect.insert(vapid_t)
        .values(
            id=_KEY_ID, private_pem=made.private_pem, public_key=made.public_key, created_at=now
        )
        .on_conflict_do_nothing(index_elements=[vapid_t.c.id])
    )
    stored = await _stored_keys(conn)  # another replica's, when it made one first
    assert stored is not None
    return stored


async def _stored_keys(conn: AsyncConnection) -> VapidKeys | None:
    row = (
        await conn.execute(
            select(vapid_t.c.private_pem, vapid_t.c.public_key).where(vapid_t.c.id == _KEY_ID)
        )
    ).first()
    return None if row is None else VapidKeys(str(row[0]), str(row[1]))


async def save_push_subscription(
    conn: AsyncConnection, subscription: PushSubscription, now: datetime
) -> PushSubscription:
    """Store (or move to this user) the browser's subscription; an endpoint has one owner."""
    await conn.execute(delete(push_t).where(push_t.c.endpoint == subscription.endpoint))
    await conn.execute(
        insert(push_t).values(
            user_id=subscription.user_id,
            endpoint=subscription.endpoint,
            p256dh=subscription.p256dh,
            auth=subscription.auth,
            created_at=now,
        )
    )
    return PushSubscription(
        subscription.user_id, subscription.endpoint, subscription.p256dh, subscription.auth, now
    )


async def push_subscriptions_of(conn: AsyncConnection, user_id: int) -> list[PushSubscription]:
    rows = await conn.execute(
        select(push_t.c.endpoint, push_t.c.p256dh, push_t.c.auth, push_t.c.created_at)
        .where(push_t.c.user_id == user_id)
        .order_by(push_t.c.id)
    )
    return [PushSubscription(user_id, r[0], r[1], r[2], r[3]) for r in rows]


async def delete_push_subscription(
    conn: AsyncConnection, endpoint: str, user_id: int | None = None
) -> int:
    """Remove a subscription by endpoint (only the user's own, when `user_id` is given)."""
    query = delete(push_t).where(push_t.c.endpoint == endpoint)
    if user_id is not None:
        query = query.where(push_t.c.user_id == user_id)
    return (await conn.execute(query)).rowcount
