"""The notification outbox: rows written with the change that caused them, then delivered.

Planning is pure: committed-to-be events plus subscriptions give rows. A message row is
one event for one address (key `channel:address:seq`); a card row is one task's live
message for one address (key `card:channel:address:task`), updated in place by every later
change so a burst of progress leaves one pending edit showing the latest state, and a
restart finds no backlog of stale progress. The dispatcher (bot/notifier.py) claims due
rows with a lease, delivers outside any transaction and records the outcome here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, case, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from engine.clock import isoformat_z
from engine.events import Event
from engine.models import OutboxRow
from engine.subscriptions import Subscription

outbox_t = cast(Table, OutboxRow.__table__)

#: Channels tasktalk delivers to from the outbox. "web" is the widget's own: it raises
#: browser notifications from the live event stream it already receives.
OUTBOX_CHANNELS = frozenset({"email", "telegram", "slack", "webpush"})
#: Channels whose messages can be edited: each task gets one live card per chat there.
CARD_CHANNELS = frozenset({"telegram", "slack"})
#: Events that change what a card shows (everything but the task's creation).
_NOT_CARD_EVENTS = frozenset({"task_created"})

PENDING, DELIVERED, DEAD, DROPPED = "pending", "delivered", "dead", "dropped"


@dataclass(frozen=True, slots=True)
class Delivery:
    """A claimed outbox row, as the dispatcher needs it."""

    id: int
    key: str
    user_id: int
    channel: str
    address: str
    task_id: str
    kind: str
    event_seq: int
    event_type: str
    min_task_minutes: int
    attempts: int
    due_at: datetime
    message_ref: str | None
    created_at: datetime
    last_error: str | None = None

    def document(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "key": self.key,
            "channel": self.channel,
            "address": self.address,
            "task_id": self.task_id,
            "kind": self.kind,
            "event_seq": self.event_seq,
            "event_type": self.event_type,
            "attempts": self.attempts,
            "error": self.last_error,
            "created_at": isoformat_z(self.created_at),
        }


def plan_rows(
    events: Sequence[Event],
    subscriptions: Mapping[int, Sequence[Subscription]],
    now: datetime,
) -> list[dict[str, Any]]:
    """The outbox rows these events call for, one per key (a card keeps the latest event)."""
    rows: dict[str, dict[str, Any]] = {}
    for event in events:
        for subscription in subscriptions.get(event.owner_id, ()):
            if subscription.channel not in OUTBOX_CHANNELS:
                continue
            if subscription.task_id is not None and subscription.task_id != event.task_id:
                continue
            address = subscription.address or ""
            if event.type in subscription.events:
                key = f"{subscription.channel}:{address}:{event.seq}"
                _merge(rows, key, "message", event, subscription, address, now)
            if subscription.channel in CARD_CHANNELS and event.type not in _NOT_CARD_EVENTS:
                key = f"card:{subscription.channel}:{address}:{event.task_id}"
                _merge(rows, key, "card", event, subscription, address, now)
    return list(rows.values())


def _merge(
    rows: dict[str, dict[str, Any]],
    key: str,
    kind: str,
    event: Event,
    subscription: Subscription,
    address: str,
    now: datetime,
) -> None:
    found = rows.get(key)
    if found is not None:  # a second subscription to the same address, or a later event
        found["min_task_minutes"] = min(found["min_task_minutes"], subscription.min_task_minutes)
        found["event_seq"], found["event_type"] = event.seq, event.type
        return
    rows[key] = {
        "key": key,
        "user_id": event.owner_id,
        "channel": subscription.channel,
        "address": address,
        "task_id": event.task_id,
        "kind": kind,
        "event_seq": event.seq,
        "event_type": event.type,
        "min_task_minutes": subscription.min_task_minutes,
        "status": PENDING,
        "attempts": 0,
        "due_at": now,
        "created_at": now,
        "updated_at": now,
    }


def write_rows(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert the rows; a card that exists already becomes pending again with the new event
    (its sent message, `message_ref`, is kept so the dispatcher edits it)."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(outbox_t)
    excluded = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=[outbox_t.c.key],
        set_={
            "event_seq": excluded.event_seq,
            "event_type": excluded.event_type,
            "min_task_minutes": excluded.min_task_minutes,
            "status": PENDING,
            "attempts": 0,
            # A card just edited keeps its "not before" time: at most one edit per interval.
            "due_at": case(
                (outbox_t.c.due_at > excluded.due_at, outbox_t.c.due_at),
                else_=excluded.due_at,
            ),
            "last_error": None,
            "updated_at": excluded.updated_at,
        },
    )
    conn.execute(statement, rows)


# --- the dispatcher's side ---------------------------------------------------------------


async def claim_due(
    conn: AsyncConnection,
    now: datetime,
    *,
    owner: str,
    lease: timedelta,
    limit: int,
    skip_channels: Iterable[str] = (),
) -> list[Delivery]:
    """Lease up to `limit` due rows to `owner` (oldest due first) and return them.

    `owner` is a fresh token per claim: `record` writes only rows still leased to it, so
    a dispatcher whose lease ran out (and whose rows another one took) changes nothing."""
    c = outbox_t.c
    due = (
        select(c.id)
        .where(
            c.status == PENDING,
            c.due_at <= now,
            or_(c.lease_until.is_(None), c.lease_until < now),
        )
        .order_by(c.due_at, c.id)
        .limit(limit)
    )
    skipped = list(skip_channels)
    if skipped:
        due = due.where(c.channel.not_in(skipped))
    if conn.dialect.name == "postgresql":
        # Replicas claiming at once take different rows instead of queueing on the same.
        due = due.with_for_update(skip_locked=True)
    ids = [row[0] for row in await conn.execute(due)]
    if not ids:
        return []
    await conn.execute(
        update(outbox_t)
        .where(c.id.in_(ids), or_(c.lease_until.is_(None), c.lease_until < now))
        .values(lease_owner=owner, lease_until=now + lease)
    )
    claimed = select(outbox_t).where(c.id.in_(ids), c.lease_owner == owner)
    return [_delivery(row) for row in await conn.execute(claimed.order_by(c.due_at, c.id))]


async def record(conn: AsyncConnection, outcomes: Sequence[Outcome], now: datetime) -> None:
    """Write the dispatcher's outcomes; a card changed since it was claimed stays pending."""
    c = outbox_t.c
    for outcome in outcomes:
        values: dict[str, Any] = {
            "lease_owner": None,
            "lease_until": None,
            "updated_at": now,
        }
        guard = [c.id == outcome.id, c.lease_owner == outcome.owner]
        if outcome.status == DELIVERED:
            values["delivered_at"] = now
            values["attempts"] = c.attempts + 1
            values["last_error"] = None
            if outcome.message_ref is not None:
                values["message_ref"] = outcome.message_ref
            # A card updated meanwhile must be edited again: only its claimed seq is done.
            values["status"] = _if_same_seq(outcome.event_seq, DELIVERED)
            if outcome.next_due is not None:
                values["due_at"] = outcome.next_due
        elif outcome.status == PENDING:
            if outcome.next_due is not None:  # else it keeps its place in line
                values["due_at"] = outcome.next_due
            values["last_error"] = outcome.error
            if outcome.count_attempt:
                values["attempts"] = c.attempts + 1
        else:  # dead or dropped
            values["status"] = _if_same_seq(outcome.event_seq, outcome.status)
            values["last_error"] = outcome.error
            values["attempts"] = c.attempts + (1 if outcome.count_attempt else 0)
        await conn.execute(update(outbox_t).where(and_(*guard)).values(**values))


def _if_same_seq(seq: int, status: str) -> Any:
    return case((outbox_t.c.event_seq == seq, status), else_=PENDING)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one claimed row. `status`: delivered, pending (try again at
    `next_due`, or keeping its due time and so its place in line when None), dead or
    dropped (not wanted any more: unsubscribed, task too short)."""

    id: int
    owner: str
    event_seq: int
    status: str
    message_ref: str | None = None
    error: str | None = None
    next_due: datetime | None = None
    count_attempt: bool = True


async def next_due_at(conn: AsyncConnection, skip_channels: Iterable[str] = ()) -> datetime | None:
    """When the earliest pending row falls due (leases aside), for the dispatcher's sleep."""
    query = select(func.min(outbox_t.c.due_at)).where(outbox_t.c.status == PENDING)
    skipped = list(skip_channels)
    if skipped:
        query = query.where(outbox_t.c.channel.not_in(skipped))
    value = (await conn.execute(query)).scalar()
    return cast(datetime | None, value)


async def release_leases(conn: AsyncConnection, replica: str) -> int:
    """Free rows leased by an earlier life of this replica (it was killed mid-delivery);
    claim tokens are `replica:n`."""
    result = await conn.execute(
        update(outbox_t)
        .where(outbox_t.c.lease_owner.startswith(f"{replica}:", autoescape=True))
        .values(lease_owner=None, lease_until=None)
    )
    return int(result.rowcount or 0)


async def dead_deliveries(conn: AsyncConnection, user_id: int, limit: int) -> list[Delivery]:
    query = (
        select(outbox_t)
        .where(outbox_t.c.user_id == user_id, outbox_t.c.status == DEAD)
        .order_by(outbox_t.c.id.desc())
        .limit(limit)
    )
    return [_delivery(row) for row in await conn.execute(query)]


async def replay(conn: AsyncConnection, user_id: int, ids: Iterable[int], now: datetime) -> int:
    """Make dead rows of the user pending again (after the cause was fixed)."""
    result = await conn.execute(
        update(outbox_t)
        .where(
            outbox_t.c.user_id == user_id,
            outbox_t.c.status == DEAD,
            outbox_t.c.id.in_(list(ids)),
        )
        .values(status=PENDING, attempts=0, due_at=now, last_error=None, updated_at=now)
    )
    return int(result.rowcount or 0)


async def counts(conn: AsyncConnection) -> dict[str, int]:
    query = select(outbox_t.c.status, func.count()).group_by(outbox_t.c.status)
    return {status: int(n) for status, n in await conn.execute(query)}


def _delivery(row: Any) -> Delivery:
    return Delivery(
        id=row.id,
        key=row.key,
        user_id=row.user_id,
        channel=row.channel,
        address=row.address,
        task_id=row.task_id,
        kind=row.kind,
        event_seq=row.event_seq,
        event_type=row.event_type,
        min_task_minutes=row.min_task_minutes,
        attempts=row.attempts,
        due_at=row.due_at,
        message_ref=row.message_ref,
        created_at=row.created_at,
        last_error=row.last_error,
    )
