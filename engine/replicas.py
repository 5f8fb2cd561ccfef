"""What replicas on one PostgreSQL tell each other: a NOTIFY at each commit with events.

NOTIFY only wakes; the event log stays the truth, so a listener that missed a wake-up (or
its connection) catches up by reading events above the last one it saw.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

EVENTS_CHANNEL = "tasktalk_events"
#: pg_advisory_lock key held by the replica that runs periodic jobs ("tasktalk" in ASCII).
LEADER_LOCK = 0x7461736B74616C6B

_NOTIFY = text("SELECT pg_notify(:channel, :payload)")


def announce_events(conn: Connection, last_seq: int) -> None:
    """Queue a NOTIFY carrying the batch's last seq; PostgreSQL sends it on commit."""
    conn.execute(_NOTIFY, {"channel": EVENTS_CHANNEL, "payload": str(last_seq)})
