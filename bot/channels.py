"""The channels this configuration turns on: each needs its secrets in the environment.

Delivery channels (email, Telegram, Slack, Web Push) go to the notifier; those that receive
messages (Telegram webhook, Slack events, Rasa actions) also add their routes to the app. A channel
without its secrets stays off, and the log says so in one line. Web Push needs no secrets
and is always on (with its extra installed); its routes take browsers' subscriptions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from aiohttp import web

from adapters.base import Channel
from bot.chat_gateway import ChatGateway
from bot.settings import Settings
from engine.clock import Clock

if TYPE_CHECKING:
    from adapters.webpush import WebPushChannel

log = logging.getLogger(__name__)


class HasRoutes(Protocol):
    def add_routes(self, app: web.Application) -> None: ...


@dataclass
class Channels:
    delivery: dict[str, Channel] = field(default_factory=dict)
    #: Everything that receives requests on our app (webhooks, events, actions).
    receivers: list[HasRoutes] = field(default_factory=list)


def configured_channels(settings: Settings, clock: Clock, gateway: ChatGateway) -> Channels:
    channels = Channels()
    if settings.email.host:
        from adapters.email import EmailChannel

        channels.delivery["email"] = EmailChannel(settings.email, clock=clock)
        log.info("email: on, via %s:%d", settings.email.host, settings.email.port)
    else:
        log.info("email: off (set email.host or TASKTALK_EMAIL__HOST)")

    telegram = settings.channels.telegram
    if telegram.token:
        from adapters.telegram import TelegramChannel

        channel = TelegramChannel(telegram, gateway)
        channels.delivery["telegram"] = channel
        channels.receivers.append(channel)
        log.info("telegram: on (%s)", telegram.mode)
    else:
        log.info("telegram: off (set TELEGRAM_BOT_TOKEN)")

    slack = settings.channels.slack
    if slack.bot_token and (slack.signing_secret or (slack.socket_mode and slack.app_token)):
        from adapters.slack import SlackChannel

        slack_channel = SlackChannel(slack, gateway)
        channels.delivery["slack"] = slack_channel
        channels.receivers.append(slack_channel)
        log.info("slack: on (%s)", "socket mode" if slack.socket_mode else slack.events_path)
    else:
        log.info("slack: off (set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET)")

    webpush = _webpush_channel(settings, clock, gateway)
    if webpush is not None:
        channels.delivery["webpush"] = webpush
        channels.receivers.append(webpush)
        log.info("webpush: on (VAPID keys kept in the database)")

    rasa = settings.channels.rasa
    if rasa.token:
        from adapters.rasa_actions import RasaActions

        channels.receivers.append(RasaActions(rasa, gateway))
        log.info("rasa actions: on at %s", rasa.webhook_path)
    else:
        log.info("rasa actions: off (set RASA_ACTION_TOKEN)")
    return channels


def _webpush_channel(
    settings: Settings, clock: Clock, gateway: ChatGateway
) -> WebPushChannel | None:
    """Web Push needs no secrets (its VAPID keys live in the database), only its extra."""
    try:
        from adapters.webpush import WebPushChannel, vapid_subject
    except ImportError as error:
        log.info("webpush: off (%s)", error)
        return None
    return WebPushChannel(
        gateway.service.database, clock, subject=vapid_subject(settings.email.sender)
    )
