"""This replica's own PostgreSQL session: LISTEN for other replicas' commits, and hold the
advisory lock that makes one replica the leader for periodic jobs.

One session does both, so losing it loses both at once, and PostgreSQL releases the lock
the moment a leader dies. After any (re)connect the hub is told to catch up from the last
event it saw, so a dropped LISTEN misses nothing; followers retry the lock every second,
so a new leader takes over within about a second of the old one's death.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from engine.replicas import EVENTS_CHANNEL, LEADER_LOCK

log = logging.getLogger(__name__)

CHECK_SECONDS = 1.0


def asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class ReplicaLink:
    def __init__(
        self,
        url: str,
        *,
        on_events: Callable[[int | None], None],
        on_leadership: Callable[[bool], None],
        check_seconds: float = CHECK_SECONDS,
    ) -> None:
        self._dsn = asyncpg_dsn(url)
        self._on_events = on_events
        self._on_leadership = on_leadership
        self._check_seconds = check_seconds
        self._task: asyncio.Task[None] | None = None
        self.listening = False
        self.leader = False

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="tasktalk-replica-link")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._lose()

    async def _run(self) -> None:
        while True:
            connection: Any = None
            try:
                connection = await asyncpg.connect(self._dsn, timeout=10)
                await connection.add_listener(EVENTS_CHANNEL, self._notified)
                self.listening = True
                self._on_events(None)  # catch up on what was committed while we were away
                while True:
                    if not self.leader:
                        if await connection.fetchval(
                            "SELECT pg_try_advisory_lock($1)", LEADER_LOCK
                        ):
                            self.leader = True
                            log.info("this replica is now the leader")
                            self._on_leadership(True)
                    else:
                        await connection.fetchval("SELECT 1")  # notices a dead session
                    await asyncio.sleep(self._check_seconds)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("replica link lost (%s); reconnecting", error)
            finally:
                self._lose()
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await connection.close(timeout=2)
            await asyncio.sleep(self._check_seconds)

    def _notified(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        self._on_events(int(payload) if payload.isdigit() else None)

    def _lose(self) -> None:
        self.listening = False
        if self.leader:
            self.leader = False
            log.info("this replica is no longer the leader")
            self._on_leadership(False)
