"""Typed keys for the objects `bot/app.py` shares through the aiohttp application."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.settings import LimitSettings, Settings
from engine.service import TaskService

if TYPE_CHECKING:
    from bot.chat_gateway import ChatGateway
    from bot.conversation import Conversation
    from bot.notifier import Notifier
    from bot.replica import Replica
    from bot.ws import EventHub

SETTINGS = web.AppKey("settings", Settings)
LIMITS = web.AppKey("limits", LimitSettings)
SERVICE = web.AppKey("service", TaskService)
HUB: web.AppKey[EventHub] = web.AppKey("hub")
SCHEDULER = web.AppKey("scheduler", AsyncIOScheduler)
CONVERSATION: web.AppKey[Conversation] = web.AppKey("conversation")
NOTIFIER: web.AppKey[Notifier] = web.AppKey("notifier")
GATEWAY: web.AppKey[ChatGateway] = web.AppKey("gateway")
REPLICA: web.AppKey[Replica] = web.AppKey("replica")
