"""Reading one JSON field at a time, refusing with a message that names the field.

The request parsers (`bot.validation`, `bot.subscription_input`) are built from these, so
every refusal reads alike: "steps[1].name must be a non-empty string." with its field.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any


class RequestInvalid(Exception):
    """Input that breaks the contract; `status` is 400 for syntax, 422 for content."""

    def __init__(self, field: str | None, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.status = status


def json_object(value: Any, where: str | None) -> dict[str, Any]:
    """`value` as an object; `where` names it in the refusal (None: the whole body)."""
    if not isinstance(value, dict):
        raise RequestInvalid(where, f"{where or 'The body'} must be a JSON object.")
    return value


def only_fields(obj: dict[str, Any], allowed: Iterable[str], where: str | None) -> None:
    """Refuse unknown fields: a typo must not be silently ignored."""
    if not isinstance(allowed, tuple):
        allowed = tuple(allowed)
    for key in obj:
        if key not in allowed:
            field = f"{where}.{key}" if where else key
            raise RequestInvalid(
                field, f"Unknown field {key!r}; allowed here: {', '.join(allowed)}."
            )


def text_field(value: Any, field: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RequestInvalid(field, f"{field} must be a non-empty string.")
    check_length(value, field, limit)
    return value


def optional_text(value: Any, field: str, limit: int, *, allow_blank: bool = False) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or (not allow_blank and not value.strip()):
        raise RequestInvalid(field, f"{field} must be a non-empty string.")
    check_length(value, field, limit)
    return value


def check_length(value: str, field: str, limit: int) -> None:
    """At most `limit` characters and no NUL (which PostgreSQL text cannot hold)."""
    if len(value) > limit:
        raise RequestInvalid(field, f"{field} may be at most {limit} characters, not {len(value)}.")
    if "\x00" in value:
        raise RequestInvalid(field, f"{field} must not contain NUL characters.")


def choice(value: Any, field: str, options: Iterable[str]) -> str:
    if not isinstance(options, tuple | list):
        options = list(options)
    if not isinstance(value, str) or value not in options:
        raise RequestInvalid(field, f"{field} must be one of {', '.join(options)}.")
    return value


def number(value: Any, field: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RequestInvalid(field, f"{field} must be a number from {low:g} to {high:g}.")
    if not low <= value <= high:
        raise RequestInvalid(field, f"{field} must be from {low:g} to {high:g}, not {value}.")
    return float(value)


def integer(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RequestInvalid(field, f"{field} must be a whole number from {low} to {high}.")
    if not low <= value <= high:
        raise RequestInvalid(field, f"{field} must be from {low} to {high}, not {value}.")
    return value


def parse_time(value: Any, field: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise RequestInvalid(field, f"{field} must be an ISO 8601 time string.")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise RequestInvalid(
            field, f"{field} must be ISO 8601, e.g. 2024-01-15T10:00:00Z."
        ) from None
    if moment.tzinfo is None:
        raise RequestInvalid(field, f"{field} needs a time zone, e.g. a trailing Z for UTC.")
    return moment
