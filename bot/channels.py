"""The delivery channels this configuration turns on (each with its secrets present)."""

from __future__ import annotations

import logging

from adapters.base import Channel
from bot.settings import Settings
from engine.clock import Clock

log = logging.getLogger(__name__)


def configured_channels(settings: Settings, clock: Clock) -> dict[str, Channel]:
    channels: dict[str, Channel] = {}
    if settings.email.host:
        from adapters.email import EmailChannel

        channels["email"] = EmailChannel(settings.email, clock=clock)
    else:
        log.info("email is off: set email.host (TASKTALK_EMAIL__HOST) to send notifications")
    return channels
