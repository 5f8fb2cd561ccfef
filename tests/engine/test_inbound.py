"""A chat delivery is acted on once, whichever replica receives each copy."""

from __future__ import annotations

from datetime import timedelta

from engine.clock import ManualClock
from engine.database import open_database
from engine.inbound import first_time, forget_old
from tests.conftest import Engine


async def test_the_first_replica_to_record_a_delivery_wins(engine: Engine) -> None:
    other = open_database(engine.database.url)  # a second replica's own connections
    now = ManualClock().now()
    try:
        async with engine.database.write() as conn:
            assert await first_time(conn, "slack", "Ev123", now)
        async with other.write() as conn:
            assert not await first_time(conn, "slack", "Ev123", now)  # Slack's retry
            assert await first_time(conn, "telegram", "Ev123", now)  # another platform
        async with engine.database.write() as conn:
            assert await forget_old(conn, now + timedelta(days=1)) == 0
            assert await forget_old(conn, now + timedelta(days=3)) == 2
            assert await first_time(conn, "slack", "Ev123", now + timedelta(days=3))
    finally:
        await other.dispose()
