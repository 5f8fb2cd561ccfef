"""What a delivery says: the event's notification or the task's live card, in the
channel's format, with the buttons that fit. Words come from templates/chat/."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adapters.base import OutgoingMessage
from bot.chat_buttons import action_buttons
from bot.chat_text import Format, render
from bot.email_message import notification_email
from bot.progress_view import build_view
from engine.events import Event
from engine.outbox import Delivery

#: The buttons a notification carries, by event: what the person can do about it.
_EVENT_ACTIONS = {
    "approval_needed": ("approve", "reject"),
    "task_failed": ("retry", "skip", "restart"),
    "step_slow": ("pause", "cancel"),
}


def event_message(event: Event) -> dict[str, Any]:
    """The event as WebSocket clients and the notification template see it."""
    return {"type": event.type, "seq": event.seq, "task_id": event.task_id, **event.data}


def compose(
    delivery: Delivery,
    fmt: Format,
    document: dict[str, Any],
    event: Event | None,
    now: datetime,
) -> OutgoingMessage:
    if delivery.kind == "card":
        text = render("status", fmt, view=build_view(document, now))
        return OutgoingMessage(text, action_buttons(document), key=delivery.key)
    assert event is not None
    message = event_message(event)
    if fmt is Format.EMAIL:
        return notification_email(message, key=delivery.key)
    wanted = _EVENT_ACTIONS.get(event.type, ())
    buttons = tuple(b for b in action_buttons(document) if b.action in wanted)
    return OutgoingMessage(render("notification", fmt, event=message), buttons, key=delivery.key)
