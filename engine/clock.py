"""Time as a dependency, so estimates, stalls and `at` checks are testable without sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2024, 1, 15, 10, 0, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)

    def set(self, moment: datetime) -> None:
        self._now = moment


@lru_cache(maxsize=8192)  # documents repeat the same few times on every read
def isoformat_z(moment: datetime | None) -> str | None:
    """ISO 8601 UTC with a `Z`: whole seconds when exact, else milliseconds."""
    if moment is None:
        return None
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    spec = "seconds" if moment.microsecond < 1000 else "milliseconds"
    return moment.isoformat(timespec=spec).replace("+00:00", "Z")


def milliseconds_between(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds() * 1000)
