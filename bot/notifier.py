"""The dispatcher: delivers outbox rows to channels, outside any transaction, at least once.

Each round claims due rows with a lease (a fresh token, so a late writer whose lease ran
out changes nothing), delivers them concurrently across recipients and in order for each
one, and records every outcome in one transaction. Rules, per row:
- the subscription must still exist (else dropped); quiet hours hold messages until they
  end; "only for tasks running longer than N minutes" holds them until then and drops
  them when the task ended sooner;
- a card is edited in place (sent first if new), at most once per `edit_interval`;
- a 429 holds that channel until its Retry-After and reschedules the row, never sleeping
  in the worker; transient errors back off exponentially with jitter up to `max_attempts`;
  permanent errors are dead after one try (visible and replayable over the API).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import socket
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from adapters.base import Channel, ChannelError, MessageRef
from bot.chat_text import Format
from bot.delivery_round import OutcomeRecorder, RoundContext
from bot.notification_text import compose
from bot.pacing import Pacer
from bot.quiet_hours import quiet_until
from bot.settings import NotifySettings
from engine import outbox, queries
from engine.clock import Clock
from engine.database import Database
from engine.outbox import DEAD, DELIVERED, DROPPED, PENDING, Delivery, Outcome
from engine.service import TaskService
from engine.subscriptions import Subscription, subscriptions_by_user

log = logging.getLogger(__name__)


class Notifier:
    def __init__(
        self,
        database: Database,
        service: TaskService,
        channels: Mapping[str, Channel],
        settings: NotifySettings,
        clock: Clock,
        *,
        replica: str | None = None,
    ) -> None:
        self.database = database
        self.service = service
        self.channels = dict(channels)
        self.settings = settings
        self.clock = clock
        self.replica = replica or settings.replica or socket.gethostname()
        self._tokens = itertools.count(1)
        self._wake = asyncio.Event()
        self._held: dict[str, datetime] = {}  # channel -> held until (429 Retry-After)
        self._pacers = {
            name: Pacer(
                channel.capabilities.rate_per_second,
                channel.capabilities.recipient_rate_per_second,
            )
            for name, channel in self.channels.items()
        }
        self._task: asyncio.Task[None] | None = None
        self.delivered = 0
        #: Called with the seconds from a row's creation to its delivery (for /metrics).
        self.on_delivered: Callable[[float], None] | None = None

    def wake(self) -> None:
        """New rows were committed (or may be due): look now rather than at the next poll."""
        self._wake.set()

    async def start(self) -> None:
        async with self.database.write() as conn:
            released = await outbox.release_leases(conn, self.replica)
        if released:
            log.info("took back %d delivery lease(s) from before a restart", released)
        self._task = asyncio.create_task(self._loop(), name="tasktalk-notifier")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                handled = await self.run_once()
            except Exception:
                log.exception("notification round failed")
                handled = 0
            if handled:
                continue
            await self._idle()

    async def _idle(self) -> None:
        """Sleep until woken, the next row falls due, or the poll interval passes."""
        timeout = self.settings.poll_seconds
        try:
            async with self.database.read() as conn:
                due = await outbox.next_due_at(conn, self._held_channels())
        except Exception:
            due = None
        now = self.clock.now()
        wake_at = [due] if due is not None else []
        wake_at += self._held.values()  # a channel's Retry-After ends
        for moment in wake_at:
            timeout = max(0.0, min(timeout, (moment - now).total_seconds()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)
        self._wake.clear()

    async def run_once(self) -> int:
        """One round: claim due rows, deliver them, record the outcomes; returns how many."""
        now = self.clock.now()
        token = f"{self.replica}:{next(self._tokens)}"
        async with self.database.write() as conn:
            claimed = await outbox.claim_due(
                conn,
                now,
                owner=token,
                lease=timedelta(seconds=self.settings.lease_seconds),
                limit=self.settings.batch,
                skip_channels=self._held_channels(),
            )
        if not claimed:
            return 0
        context = await self._context(claimed)
        by_recipient: dict[tuple[str, str], list[Delivery]] = {}
        for delivery in claimed:
            by_recipient.setdefault((delivery.channel, delivery.address), []).append(delivery)
        limit = asyncio.Semaphore(self.settings.concurrency)
        recorder = OutcomeRecorder(self.database, self.clock)

        async def deliver_in_order(rows: list[Delivery]) -> None:
            async with limit:
                for row in rows:
                    recorder.add(await self._deliver(row, token, context))

        try:
            await asyncio.gather(*(deliver_in_order(r) for r in by_recipient.values()))
        finally:
            await recorder.close()
        self.delivered += recorder.delivered
        return len(claimed)

    async def _context(self, claimed: list[Delivery]) -> RoundContext:
        async with self.database.read() as conn:
            events = await queries.events_by_seq(
                conn, (d.event_seq for d in claimed if d.kind == "message")
            )
            subscriptions = await subscriptions_by_user(conn, (d.user_id for d in claimed))
        return RoundContext(events, subscriptions, {})

    async def _deliver(self, row: Delivery, token: str, context: RoundContext) -> Outcome:
        now = self.clock.now()
        channel = self.channels.get(row.channel)
        if channel is None:
            return self._outcome(row, token, DEAD, error=f"the {row.channel} channel is off")
        subscription = _covering(context.subscriptions.get(row.user_id, ()), row)
        if subscription is None:
            return self._outcome(row, token, DROPPED, error="unsubscribed", count=False)
        document = await context.document(self.service, row)
        if document is None:
            return self._outcome(row, token, DROPPED, error="the task is gone", count=False)
        hold = self._hold(row, token, subscription, document, now)
        if hold is not None:
            return hold if isinstance(hold, Outcome) else self._later(row, token, hold)
        held = self._held.get(row.channel)
        if held is not None and held > now:  # keeps its due time: order is kept
            return Outcome(row.id, token, row.event_seq, PENDING, count_attempt=False)
        fmt = Format(channel.capabilities.format)
        message = compose(row, fmt, document, context.events.get(row.event_seq), now)
        await self._pacers[row.channel].take(row.address)
        try:
            ref = await self._send(channel, row, message)
        except ChannelError as error:
            return self._failed(row, token, error)
        except Exception as error:  # a bug in an adapter must not stop the others
            log.exception("channel %s failed on delivery %s", row.channel, row.key)
            return self._failed(row, token, ChannelError(str(error), permanent=False))
        if self.on_delivered is not None and row.kind == "message":
            self.on_delivered((self.clock.now() - row.created_at).total_seconds())
        next_due = None
        if row.kind == "card":
            next_due = self.clock.now() + timedelta(seconds=self.settings.edit_interval_seconds)
        return Outcome(row.id, token, row.event_seq, DELIVERED, message_ref=ref, next_due=next_due)

    async def _send(self, channel: Channel, row: Delivery, message: Any) -> str:
        if row.kind == "card" and row.message_ref:
            ref = MessageRef(row.channel, row.address, row.message_ref)
            try:
                await channel.edit(ref, message)
                return row.message_ref
            except ChannelError as error:
                if not error.permanent or error.retry_after is not None:
                    raise
                # The card is gone (deleted, too old to edit): start a new one.
        sent = await channel.send(row.address, message)
        return sent.message_id

    def _hold(
        self,
        row: Delivery,
        token: str,
        subscription: Subscription,
        document: dict[str, Any],
        now: datetime,
    ) -> Outcome | datetime | None:
        """Why the row must wait (until when) or go, before anything is sent."""
        minimum = row.min_task_minutes
        if minimum:
            started = _time(document.get("started_at"))
            finished = _time(document.get("finished_at"))
            long_from = started + timedelta(minutes=minimum) if started else None
            if long_from is None or long_from > (finished or now):
                if finished is not None or document.get("status") in ("completed", "cancelled"):
                    error = f"the task ran under {minimum} minutes"
                    return self._outcome(row, token, DROPPED, error=error, count=False)
                return long_from or now + timedelta(minutes=minimum)
        if row.kind == "message":
            return quiet_until(subscription.quiet_hours, now)
        return None

    def _failed(self, row: Delivery, token: str, error: ChannelError) -> Outcome:
        now = self.clock.now()
        if error.retry_after is not None:
            until = now + timedelta(seconds=error.retry_after)
            self._held[row.channel] = max(until, self._held.get(row.channel, until))
            log.info("%s asked to wait %.1f s", row.channel, error.retry_after)
            return Outcome(
                row.id, token, row.event_seq, PENDING, error=str(error), count_attempt=False
            )
        if error.permanent or row.attempts + 1 >= self.settings.max_attempts:
            log.warning("delivery %s is dead: %s", row.key, error)
            return self._outcome(row, token, DEAD, error=str(error))
        backoff = min(
            self.settings.retry_max_seconds,
            self.settings.retry_base_seconds * 2**row.attempts,
        )
        delay = backoff * random.uniform(0.5, 1.5)
        return Outcome(
            row.id,
            token,
            row.event_seq,
            PENDING,
            error=str(error),
            next_due=now + timedelta(seconds=delay),
        )

    def _later(self, row: Delivery, token: str, when: datetime) -> Outcome:
        return Outcome(row.id, token, row.event_seq, PENDING, next_due=when, count_attempt=False)

    def _outcome(
        self, row: Delivery, token: str, status: str, *, error: str, count: bool = True
    ) -> Outcome:
        return Outcome(row.id, token, row.event_seq, status, error=error, count_attempt=count)

    def _held_channels(self) -> list[str]:
        now = self.clock.now()
        for channel, until in list(self._held.items()):
            if until <= now:
                del self._held[channel]
        return list(self._held)


def _covering(subscriptions: Iterable[Subscription], row: Delivery) -> Subscription | None:
    """The subscription that still asks for this row, if any."""
    for subscription in subscriptions:
        if subscription.channel != row.channel or (subscription.address or "") != row.address:
            continue
        if subscription.task_id not in (None, row.task_id):
            continue
        if row.kind == "card" or row.event_type in subscription.events:
            return subscription
    return None


def _time(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None
