"""Notification benchmark: deliveries per second through the real outbox and dispatcher.

    python bench/notify.py                       # 5,000 deliveries unlimited, 15 s at 30/s
    python bench/notify.py --deliveries 20000 --limited-seconds 30

Two runs in one process, on a temporary SQLite database (or --database URL):
1. **unlimited**: a fake channel that accepts everything at once; deliveries per second
   from a full outbox (100 recipients) until it is empty.
2. **limited**: a fake channel that allows 30 sends in any sliding second and answers 429
   (Retry-After 1) beyond that; the dispatcher knows the limit from the channel's
   capabilities. Prints the rate the channel saw (sends between its first and last one)
   as a share of the limit, and the 429s it answered.

Target: limited >= 95% of the limit with 0 x 429. Exit status 1 when missed.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import sys
import tempfile
import time
from pathlib import Path

if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

from adapters.base import ChannelCapabilities, ChannelError, MessageRef, OutgoingMessage
from bot.notifier import Notifier
from bot.settings import NotifySettings
from engine.accounts import ensure_user
from engine.clock import SystemClock
from engine.commands import StepPlan, StepReport, TaskPlan
from engine.database import open_database
from engine.migrate import upgrade
from engine.service import TaskService
from engine.states import StepStatus
from engine.subscriptions import Subscription
from engine.writer import CommandWriter

LIMIT_PER_SECOND = 30
TARGET_SHARE = 0.95
RECIPIENTS = 100
EVENTS = ("task_started", "step_complete", "task_complete")  # 5 per task of 3 steps


class FakeChannel:
    """Accepts every send; with `limit`, answers 429 past `limit` sends in any second."""

    def __init__(self, limit: int | None) -> None:
        self.name = "email"
        self.capabilities = ChannelCapabilities(
            "plain", False, 100_000, False, rate_per_second=limit
        )
        self.limit = limit
        self.sent = 0
        self.refused = 0
        self.first = self.last = 0.0
        self.times: collections.deque[float] = collections.deque()

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, recipient: str, message: OutgoingMessage) -> MessageRef:
        now = time.monotonic()
        if self.limit is not None:
            while self.times and self.times[0] <= now - 1.0:
                self.times.popleft()
            if len(self.times) >= self.limit:
                self.refused += 1
                raise ChannelError("429 Too Many Requests", permanent=False, retry_after=1)
            self.times.append(now)
        self.sent += 1
        self.first = self.first or now
        self.last = now
        return MessageRef(self.name, recipient, str(self.sent))

    async def edit(self, ref: MessageRef, message: OutgoingMessage) -> None:
        raise ChannelError("cannot edit", permanent=True)


async def fill_outbox(service: TaskService, database_url: str, deliveries: int) -> None:
    """Tasks of RECIPIENTS people, each subscribed by email: 5 notifications per task."""
    database = service.database
    users = []
    async with database.write() as conn:
        for n in range(RECIPIENTS):
            users.append((await ensure_user(conn, f"user{n}", service.clock.now())).id)
    for n, user in enumerate(users):
        await service.subscribe(Subscription(user, "email", EVENTS, address=f"u{n}@example.com"))
    plan = TaskPlan("Build", tuple(StepPlan(f"Step {n}") for n in range(3)))

    async def one_task(user: int) -> None:
        document, _ = await service.create_task(user, plan)
        for order in (1, 2, 3):
            report = StepReport(status=StepStatus.COMPLETED)
            await service.report_step(user, document["task_id"], order, report)

    tasks = max(1, deliveries // 5)
    for start in range(0, tasks, 200):
        chunk = range(start, min(tasks, start + 200))
        await asyncio.gather(*(one_task(users[n % RECIPIENTS]) for n in chunk))


async def run(deliveries: int, limited_seconds: float, database_url: str | None) -> int:
    with tempfile.TemporaryDirectory() as folder:
        url = database_url or f"sqlite+aiosqlite:///{folder}/bench.db"
        unlimited = await measure(url, deliveries, None, None)
        print(
            f"unlimited: {unlimited.sent} deliveries in {unlimited.seconds:.2f} s = "
            f"{unlimited.sent / unlimited.seconds:,.0f}/s"
        )
    with tempfile.TemporaryDirectory() as folder:
        url = database_url or f"sqlite+aiosqlite:///{folder}/bench.db"
        needed = int(LIMIT_PER_SECOND * limited_seconds * 1.5)
        limited = await measure(url, needed, LIMIT_PER_SECOND, limited_seconds)
        rate = limited.sent / limited.seconds
        share = rate / LIMIT_PER_SECOND
        print(
            f"limited to {LIMIT_PER_SECOND}/s: {limited.sent} deliveries in "
            f"{limited.seconds:.1f} s = {rate:.2f}/s ({share:.1%} of the limit), "
            f"{limited.refused} x 429"
        )
    ok = share >= TARGET_SHARE and limited.refused == 0
    print(f"target >= {TARGET_SHARE:.0%} of the limit with 0 x 429: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


class Measured:
    def __init__(self, sent: int, refused: int, seconds: float) -> None:
        self.sent, self.refused, self.seconds = sent, refused, seconds


async def measure(url: str, deliveries: int, limit: int | None, seconds: float | None) -> Measured:
    database = open_database(url, sqlite_synchronous="NORMAL")
    await upgrade(database)
    clock = SystemClock()
    writer = CommandWriter(database, clock)
    service = TaskService(database, clock, writer)
    try:
        await fill_outbox(service, url, deliveries)
        channel = FakeChannel(limit)
        settings = NotifySettings(batch=500, concurrency=64, poll_seconds=0.05)
        notifier = Notifier(database, service, {"email": channel}, settings, clock, replica="b")
        started = time.perf_counter()
        deadline = started + (seconds or 3600)
        while time.perf_counter() < deadline:
            if not await notifier.run_once() and limit is None:
                break
        elapsed = time.perf_counter() - started
        if limit is not None and channel.sent > 1:  # the channel's own view: first to last send
            return Measured(channel.sent - 1, channel.refused, channel.last - channel.first)
        return Measured(channel.sent, channel.refused, elapsed)
    finally:
        await writer.close()
        await database.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=5_000)
    parser.add_argument("--limited-seconds", type=float, default=15.0)
    parser.add_argument("--database", help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    return asyncio.run(run(args.deliveries, args.limited_seconds, args.database))


if __name__ == "__main__":
    sys.exit(main())
