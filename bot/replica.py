"""This process as one of several replicas: its name, whether it leads, whether it hears
the others. On SQLite there is one process, always the leader and nothing to hear."""

from __future__ import annotations

from collections.abc import Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.replica_link import ReplicaLink
from bot.ws import EventHub
from engine.database import Database


class Replica:
    def __init__(
        self, name: str, database: Database, hub: EventHub, scheduler: AsyncIOScheduler
    ) -> None:
        self.name = name
        self._scheduler = scheduler
        self._followers: list[Callable[[bool], None]] = []
        self._link = (
            None
            if database.is_sqlite
            else ReplicaLink(database.url, on_events=hub.wake, on_leadership=self._leadership)
        )

    @property
    def leader(self) -> bool:
        return self._link is None or self._link.leader

    @property
    def listen(self) -> str:
        """connected | reconnecting | not used (SQLite)."""
        if self._link is None:
            return "not used"
        return "connected" if self._link.listening else "reconnecting"

    async def start(self) -> None:
        """Start the jobs paused unless this replica leads; the link resumes them on winning."""
        self._scheduler.start(paused=self._link is not None)
        if self._link is not None:
            await self._link.start()

    async def stop(self) -> None:
        if self._link is not None:
            await self._link.stop()
        self._scheduler.shutdown(wait=False)

    def follow_leadership(self, follower: Callable[[bool], None]) -> None:
        """Tell `follower` now and at every change whether this replica leads."""
        self._followers.append(follower)
        follower(self.leader)

    def _leadership(self, leading: bool) -> None:
        if leading:
            self._scheduler.resume()
        else:
            self._scheduler.pause()
        for follower in self._followers:
            follower(leading)
