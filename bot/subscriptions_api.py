"""`/api/subscriptions`: who is notified where (api.md, Subscriptions)."""

from __future__ import annotations

from aiohttp import web

from bot.auth import current_account
from bot.http import json_response, read_json
from bot.keys import SERVICE
from bot.subscription_input import ADDRESSED, parse_subscription
from engine.errors import NotFound
from engine.subscriptions import CHANNELS


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/subscriptions", list_subscriptions)
    app.router.add_put("/api/subscriptions/{channel}", put_subscription)
    app.router.add_delete("/api/subscriptions/{channel}", delete_subscription)


async def list_subscriptions(request: web.Request) -> web.Response:
    account = current_account(request)
    found = await request.app[SERVICE].subscriptions(account.id)
    return json_response([subscription.document() for subscription in found])


async def put_subscription(request: web.Request) -> web.Response:
    account = current_account(request)
    service = request.app[SERVICE]
    channel = _channel(request)
    body = await read_json(request)
    known = None
    if channel in ADDRESSED:
        known = next(
            (s.address for s in await service.subscriptions(account.id) if s.channel == channel),
            None,
        ) or await service.identity_address(account.id, channel)
    wanted = parse_subscription(channel, body, account.id, known)
    return json_response((await service.subscribe(wanted)).document())


async def delete_subscription(request: web.Request) -> web.Response:
    account = current_account(request)
    channel = _channel(request)
    task_id = request.query.get("task_id")
    removed = await request.app[SERVICE].unsubscribe(account.id, channel=channel, task_id=task_id)
    return json_response({"removed": [subscription.document() for subscription in removed]})


def _channel(request: web.Request) -> str:
    channel = request.match_info["channel"]
    if channel not in CHANNELS:
        raise NotFound(
            f"There is no channel {channel!r}; channels: {', '.join(CHANNELS)}.", field="channel"
        )
    return channel
