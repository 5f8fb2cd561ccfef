"""Subscribing and unsubscribing from chat: "email me when the CRM finishes", "stop
notifying me". The address is the one typed, one given before, the chat's own, or the
person's linked identity on that channel."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from adapters.base import OutgoingMessage
from engine.subscriptions import (
    CHANNELS,
    DEFAULT_MIN_TASK_MINUTES,
    NOTIFIABLE_EVENTS,
    Subscription,
)
from intents import Candidate, Intent

if TYPE_CHECKING:
    from bot.chat_actions import ChatActions, Speaker

#: What "tell me when it finishes" means: either way it ends.
FINISHING = ("task_complete", "task_failed")
#: Events of a subscription that names none.
DEFAULT_EVENTS = ("approval_needed", "task_complete", "task_failed", "step_slow")
EMAIL_IN_TEXT = re.compile(r"[^@\s<>,;:()\[\]]+@[^@\s<>,;:()\[\]]+\.[A-Za-z]{2,}")


def without_addresses(text: str) -> str:
    """The message with email addresses taken out, so "email me at a@b.co" is not read as
    naming a task "a b"; the address itself is picked up by `subscribe`."""
    return EMAIL_IN_TEXT.sub(" ", text).replace(" at  ", " ")


async def subscribe(
    actions: ChatActions, speaker: Speaker, intent: Intent, task: Candidate | None
) -> OutgoingMessage:
    channel = str(intent.arguments.get("channel") or actions.place.channel)
    if channel not in CHANNELS:
        channel = actions.place.channel
    event = str(intent.arguments.get("event") or "")
    events = (
        FINISHING
        if event in FINISHING
        else (event,)
        if event in NOTIFIABLE_EVENTS
        else DEFAULT_EVENTS
    )
    address = await _address(actions, speaker, channel)
    if channel in ("email", "telegram", "slack") and address is None:
        return actions.message("need_address", channel=channel)
    scope = task.id if task else None
    existing = [
        s
        for s in await actions.service.subscriptions(speaker.user_id)
        if s.channel == channel and s.task_id == scope
    ]
    if existing:
        events = tuple(dict.fromkeys((*existing[0].events, *events)))
    wanted = Subscription(
        user_id=speaker.user_id,
        channel=channel,
        events=events,
        address=address,
        task_id=scope,
        min_task_minutes=0 if task else DEFAULT_MIN_TASK_MINUTES.get(channel, 0),
        quiet_hours=existing[0].quiet_hours if existing else None,
    )
    stored = await actions.service.subscribe(wanted)
    return actions.message("subscribed", subscription=stored, title=task.title if task else None)


async def unsubscribe(
    actions: ChatActions, speaker: Speaker, intent: Intent, task: Candidate | None
) -> OutgoingMessage:
    channel = intent.arguments.get("channel")
    removed = await actions.service.unsubscribe(
        speaker.user_id,
        channel=str(channel) if channel in CHANNELS else None,
        task_id=task.id if task else None,
    )
    remaining = await actions.service.subscriptions(speaker.user_id)
    return actions.message(
        "unsubscribed",
        removed=removed,
        channel=channel if channel in CHANNELS else None,
        title=task.title if task else None,
        still=sorted({s.channel for s in remaining if s.task_id is None}) if task else [],
    )


async def _address(actions: ChatActions, speaker: Speaker, channel: str) -> str | None:
    """The address to notify on `channel`: one in the message, the one they gave
    before, this conversation's own when it happens on that channel, or their linked
    identity's chat there."""
    if channel == "webpush":  # every browser the person registered
        return f"user:{speaker.user_id}"
    if channel == "email":
        typed = EMAIL_IN_TEXT.search(actions.text)
        if typed is not None:
            return typed.group(0)
    for known in await actions.service.subscriptions(speaker.user_id):
        if known.channel == channel and known.address:
            return known.address
    if channel == actions.place.channel and actions.place.address:
        return actions.place.address
    return await actions.service.identity_address(speaker.user_id, channel)
