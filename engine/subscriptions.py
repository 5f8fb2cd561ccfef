"""Subscriptions: which events reach a person on which channel, for which tasks, and when.

A subscription is per user, channel and scope (every task, or one task). The notifier reads
them; people set them over the API and from chat ("email me when the CRM finishes").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import orjson
from sqlalchemy import Connection, Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from engine.clock import isoformat_z
from engine.models import SubscriptionRow, SubscriptionVersion

CHANNELS = ("email", "telegram", "slack", "web", "webpush")
#: The events a person can ask to be told about (api.md, Subscriptions).
NOTIFIABLE_EVENTS = (
    "task_started",
    "step_complete",
    "approval_needed",
    "task_complete",
    "task_failed",
    "step_slow",
)
#: "Email only for tasks running longer than N minutes": the spec's advice for email, while
#: a chat message about a short task is still welcome.
DEFAULT_MIN_TASK_MINUTES = {"email": 10}
ALL_TASKS = ""

subscriptions_t = cast(Table, SubscriptionRow.__table__)
version_t = cast(Table, SubscriptionVersion.__table__)
_BUMP = update(version_t).where(version_t.c.id == 1).values(value=version_t.c.value + 1)


@dataclass(frozen=True, slots=True)
class QuietHours:
    start: str  # "22:00", local to `tz`
    end: str  # "07:00"; before start means overnight
    tz: str  # IANA zone, "Europe/Lisbon"


@dataclass(frozen=True, slots=True)
class Subscription:
    user_id: int
    channel: str
    events: tuple[str, ...]
    address: str | None = None
    task_id: str | None = None  # None: every task of the user
    min_task_minutes: int = 0
    quiet_hours: QuietHours | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def document(self) -> dict[str, Any]:
        """The API's JSON shape."""
        quiet = self.quiet_hours
        return {
            "channel": self.channel,
            "address": self.address,
            "events": list(self.events),
            "task_id": self.task_id,
            "min_task_minutes": self.min_task_minutes,
            "quiet_hours": None
            if quiet is None
            else {"start": quiet.start, "end": quiet.end, "tz": quiet.tz},
            "created_at": isoformat_z(self.created_at) if self.created_at else None,
            "updated_at": isoformat_z(self.updated_at) if self.updated_at else None,
        }


async def put_subscription(
    conn: AsyncConnection, wanted: Subscription, now: datetime
) -> Subscription:
    """Create or replace the subscription for (user, channel, scope); returns it as stored."""
    scope = wanted.task_id or ALL_TASKS
    quiet = wanted.quiet_hours
    values = {
        "address": wanted.address,
        "events": orjson.dumps(list(wanted.events)).decode(),
        "min_task_minutes": wanted.min_task_minutes,
        "quiet_start": quiet.start if quiet else None,
        "quiet_end": quiet.end if quiet else None,
        "quiet_tz": quiet.tz if quiet else None,
        "updated_at": now,
    }
    changed = await conn.execute(
        update(subscriptions_t)
        .where(*_scope(wanted.user_id, wanted.channel, scope))
        .values(**values)
    )
    if changed.rowcount == 0:
        await conn.execute(
            subscriptions_t.insert().values(
                user_id=wanted.user_id,
                channel=wanted.channel,
                task_id=scope,
                created_at=now,
                **values,
            )
        )
    await conn.execute(_BUMP)
    found = await subscriptions_of(conn, wanted.user_id, channel=wanted.channel, task_id=scope)
    return found[0]


async def delete_subscriptions(
    conn: AsyncConnection, user_id: int, *, channel: str | None = None, task_id: str | None = None
) -> list[Subscription]:
    """Remove the user's subscriptions on `channel` (all channels if None) for `task_id`
    (every scope if None); returns what was removed."""
    removed = await subscriptions_of(conn, user_id, channel=channel, task_id=task_id)
    query = delete(subscriptions_t).where(subscriptions_t.c.user_id == user_id)
    if channel is not None:
        query = query.where(subscriptions_t.c.channel == channel)
    if task_id is not None:
        query = query.where(subscriptions_t.c.task_id == task_id)
    await conn.execute(query)
    if removed:
        await conn.execute(_BUMP)
    return removed


async def subscriptions_of(
    conn: AsyncConnection,
    user_id: int,
    *,
    channel: str | None = None,
    task_id: str | None = None,
) -> list[Subscription]:
    """The user's subscriptions, by channel then scope (every task first)."""
    query = select(subscriptions_t).where(subscriptions_t.c.user_id == user_id)
    if channel is not None:
        query = query.where(subscriptions_t.c.channel == channel)
    if task_id is not None:
        query = query.where(subscriptions_t.c.task_id == task_id)
    query = query.order_by(subscriptions_t.c.channel, subscriptions_t.c.task_id)
    return [_subscription(row) for row in await conn.execute(query)]


async def subscriptions_by_user(
    conn: AsyncConnection, user_ids: Iterable[int]
) -> dict[int, list[Subscription]]:
    """Several users' subscriptions in one query (a dispatcher round's recipients)."""
    wanted = sorted(set(user_ids))
    found: dict[int, list[Subscription]] = {user: [] for user in wanted}
    if wanted:
        query = (
            select(subscriptions_t)
            .where(subscriptions_t.c.user_id.in_(wanted))
            .order_by(subscriptions_t.c.channel, subscriptions_t.c.task_id)  # as subscriptions_of
        )
        for row in await conn.execute(query):
            found[row.user_id].append(_subscription(row))
    return found


def subscription_version(conn: Connection) -> int:
    """The version row: it moves with every change to any subscription."""
    return int(conn.execute(select(version_t.c.value).where(version_t.c.id == 1)).scalar_one())


def load_all_subscriptions(conn: Connection) -> dict[int, list[Subscription]]:
    """Every subscription by user (a small table: people x channels), for the writer."""
    found: dict[int, list[Subscription]] = {}
    for row in conn.execute(select(subscriptions_t)):
        found.setdefault(row.user_id, []).append(_subscription(row))
    return found


def _scope(user_id: int, channel: str, task_id: str) -> tuple[Any, ...]:
    c = subscriptions_t.c
    return (c.user_id == user_id, c.channel == channel, c.task_id == task_id)


def _subscription(row: Any) -> Subscription:
    quiet = (
        QuietHours(row.quiet_start, row.quiet_end, row.quiet_tz)
        if row.quiet_start and row.quiet_end and row.quiet_tz
        else None
    )
    return Subscription(
        user_id=row.user_id,
        channel=row.channel,
        events=tuple(orjson.loads(row.events)),
        address=row.address,
        task_id=row.task_id or None,
        min_task_minutes=row.min_task_minutes,
        quiet_hours=quiet,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
