"""What one dispatcher round shares: outcomes written as they come, and the events,
subscriptions and task documents its deliveries need (each read once per round)."""

from __future__ import annotations

import asyncio
from typing import Any

from engine import outbox
from engine.clock import Clock
from engine.database import Database
from engine.errors import NotFound
from engine.events import Event
from engine.outbox import DELIVERED, Delivery, Outcome
from engine.service import TaskService
from engine.subscriptions import Subscription


class OutcomeRecorder:
    """Writes outcomes as deliveries finish, a few milliseconds' worth per transaction, so
    a crash mid-round repeats only what was in flight, not the whole round."""

    FLUSH_SECONDS = 0.01

    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock
        self._waiting: list[Outcome] = []
        self._ready = asyncio.Event()
        self._closing = False
        self._task = asyncio.create_task(self._run())
        self.delivered = 0

    def add(self, outcome: Outcome) -> None:
        self._waiting.append(outcome)
        self.delivered += outcome.status == DELIVERED
        self._ready.set()

    async def close(self) -> None:
        """Write what is left, then stop."""
        self._closing = True
        self._ready.set()
        await self._task

    async def _run(self) -> None:
        while True:
            await self._ready.wait()
            if not self._closing:
                await asyncio.sleep(self.FLUSH_SECONDS)
            self._ready.clear()
            outcomes, self._waiting = self._waiting, []
            if outcomes:
                async with self._database.write() as conn:
                    await outbox.record(conn, outcomes, self._clock.now())
            if self._closing and not self._waiting:
                return


class RoundContext:
    """What a round's deliveries share: their events, subscriptions and task documents."""

    def __init__(
        self,
        events: dict[int, Event],
        subscriptions: dict[int, list[Subscription]],
        documents: dict[str, dict[str, Any] | None],
    ) -> None:
        self.events = events
        self.subscriptions = subscriptions
        self.documents = documents

    async def document(self, service: TaskService, row: Delivery) -> dict[str, Any] | None:
        if row.task_id not in self.documents:
            try:
                self.documents[row.task_id] = await service.progress(row.user_id, row.task_id)
            except NotFound:
                self.documents[row.task_id] = None
        return self.documents[row.task_id]
