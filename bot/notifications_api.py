"""`/api/notifications`: deliveries that went dead (permanent errors, too many retries),
for the person to see why and replay once the cause is fixed."""

from __future__ import annotations

from aiohttp import web

from bot.auth import current_account
from bot.http import json_response
from bot.keys import NOTIFIER, SERVICE
from engine import outbox
from engine.errors import NotFound


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/notifications/dead", list_dead)
    app.router.add_post("/api/notifications/{delivery_id}/replay", replay)


async def list_dead(request: web.Request) -> web.Response:
    account = current_account(request)
    async with request.app[SERVICE].database.read() as conn:
        dead = await outbox.dead_deliveries(conn, account.id, limit=200)
    return json_response([delivery.document() for delivery in dead])


async def replay(request: web.Request) -> web.Response:
    account = current_account(request)
    raw = request.match_info["delivery_id"]
    if not raw.isdigit() or len(raw) > 18:
        raise NotFound(f"There is no dead notification {raw}.", field="delivery_id")
    service = request.app[SERVICE]
    async with service.database.write() as conn:
        replayed = await outbox.replay(conn, account.id, [int(raw)], service.clock.now())
    if not replayed:
        raise NotFound(f"There is no dead notification {raw}.", field="delivery_id")
    request.app[NOTIFIER].wake()
    return json_response({"replayed": int(raw)})
