"""`PUT /api/subscriptions/{channel}` bodies -> `Subscription`, refusing what can't work.

Every refusal names its field. An address may be left out when the person already gave one
for that channel (another subscription of theirs); web needs none, and web push is always
addressed to the person's own browsers (`user:ID`, see adapters/webpush.py).
"""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.json_fields import RequestInvalid, json_object, only_fields
from engine.subscriptions import (
    CHANNELS,
    DEFAULT_MIN_TASK_MINUTES,
    NOTIFIABLE_EVENTS,
    QuietHours,
    Subscription,
)

_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_TASK_ID = re.compile(r"^[0-9a-f]{1,32}$")
_FIELDS = ("address", "events", "min_task_minutes", "quiet_hours", "task_id")
#: Channels that reach a person at an address they must give or link first.
ADDRESSED = ("email", "telegram", "slack")
MAX_MINUTES = 7 * 24 * 60


def parse_subscription(
    channel: str, body: Any, user_id: int, known_address: str | None
) -> Subscription:
    if channel not in CHANNELS:
        raise RequestInvalid("channel", f"channel must be one of {', '.join(CHANNELS)}.")
    only_fields(json_object(body, None), _FIELDS, None)
    return Subscription(
        user_id=user_id,
        channel=channel,
        events=parse_events(body.get("events")),
        address=_address(channel, body.get("address"), known_address, user_id),
        task_id=_task_id(body.get("task_id")),
        min_task_minutes=_minutes(body.get("min_task_minutes"), channel),
        quiet_hours=_quiet_hours(body.get("quiet_hours")),
    )


def parse_events(raw: Any) -> tuple[str, ...]:
    options = ", ".join(NOTIFIABLE_EVENTS)
    if not isinstance(raw, list) or not raw:
        raise RequestInvalid("events", f"events must be a non-empty list of: {options}.")
    for position, event in enumerate(raw):
        if event not in NOTIFIABLE_EVENTS:
            raise RequestInvalid(f"events[{position}]", f"Each event must be one of {options}.")
    return tuple(dict.fromkeys(raw))


def valid_email(text: str) -> bool:
    return len(text) <= 320 and _EMAIL.match(text) is not None


def webpush_address(user_id: int) -> str:
    """Web Push reaches every browser the user subscribed, so the user is the address."""
    return f"user:{user_id}"


def _address(channel: str, raw: Any, known: str | None, user_id: int) -> str | None:
    if channel == "webpush":
        own = webpush_address(user_id)
        if raw is not None and raw != own:
            raise RequestInvalid(
                "address", f"webpush reaches your own browsers: leave address out (or {own!r})."
            )
        return own
    if raw is None:
        if channel in ADDRESSED and known is None:
            raise RequestInvalid(
                "address",
                f"No {channel} address is known for your account yet: send address, or "
                f"link your {channel} identity first (tasktalk link).",
            )
        return known if channel in ADDRESSED else None
    if not isinstance(raw, str) or not raw.strip() or len(raw) > 500:
        raise RequestInvalid("address", "address must be a non-empty string of at most 500.")
    if channel == "email" and not valid_email(raw.strip()):
        raise RequestInvalid("address", f"{raw!r} is not an email address.")
    return raw.strip()


def _task_id(raw: Any) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not _TASK_ID.match(raw):
        raise RequestInvalid("task_id", "task_id must be a task id (hex), or left out.")
    return raw


def _minutes(raw: Any, channel: str) -> int:
    if raw is None:
        return DEFAULT_MIN_TASK_MINUTES.get(channel, 0)
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= MAX_MINUTES:
        raise RequestInvalid(
            "min_task_minutes", f"min_task_minutes must be a whole number from 0 to {MAX_MINUTES}."
        )
    return raw


def _quiet_hours(raw: Any) -> QuietHours | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise RequestInvalid("quiet_hours", "quiet_hours must be an object with start, end, tz.")
    for key in raw:
        if key not in ("start", "end", "tz"):
            raise RequestInvalid(
                f"quiet_hours.{key}", f"Unknown field {key!r}; allowed: start, end, tz."
            )
    for key in ("start", "end"):
        value = raw.get(key)
        if not isinstance(value, str) or not _CLOCK.match(value):
            raise RequestInvalid(
                f"quiet_hours.{key}", f"quiet_hours.{key} must be a time like 22:00."
            )
    if raw["start"] == raw["end"]:
        raise RequestInvalid("quiet_hours.end", "quiet_hours.end must differ from start.")
    tz = raw.get("tz", "UTC")
    try:
        if not isinstance(tz, str) or not tz:
            raise ValueError(tz)
        ZoneInfo(tz)
    except (ValueError, ZoneInfoNotFoundError):
        raise RequestInvalid(
            "quiet_hours.tz", f"{tz!r} is not a time zone, e.g. Europe/Lisbon."
        ) from None
    return QuietHours(raw["start"], raw["end"], tz)
