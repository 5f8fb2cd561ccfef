"""Quiet hours: whether a moment falls inside a person's quiet window, and when it ends."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from engine.subscriptions import QuietHours


def quiet_until(quiet: QuietHours | None, now: datetime) -> datetime | None:
    """The end of the quiet window `now` is in (aware, UTC-comparable), or None."""
    if quiet is None:
        return None
    zone = ZoneInfo(quiet.tz)
    local = now.astimezone(zone)
    start, end = _clock(quiet.start), _clock(quiet.end)
    at = local.time()
    overnight = start > end
    inside = (start <= at or at < end) if overnight else (start <= at < end)
    if not inside:
        return None
    day = local.date() if (not overnight or at < end) else local.date() + timedelta(days=1)
    # Build the local wall time and let the zone resolve DST for that day.
    return datetime.combine(day, end, tzinfo=zone)


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))
