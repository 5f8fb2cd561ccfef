"""The composition root: builds the database, engine, hub and aiohttp app in one place."""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
import socket
import weakref
from collections.abc import AsyncIterator, Iterator, Mapping
from importlib import resources

import yaml
from aiohttp import web

from adapters.base import Channel
from bot import api, chat_api, notifications_api, subscriptions_api, widget, ws
from bot.auth import TokenAuthenticator, make_auth_middleware
from bot.channels import configured_channels
from bot.chat_gateway import ChatGateway
from bot.conversation import Conversation
from bot.cross_origin import make_cors_middleware
from bot.http import error_middleware, json_response
from bot.jobs import build_scheduler
from bot.keys import (
    CONVERSATION,
    GATEWAY,
    HUB,
    LIMITS,
    NOTIFIER,
    REPLICA,
    SCHEDULER,
    SERVICE,
    SETTINGS,
)
from bot.metrics import Metrics, metrics_handler
from bot.notifier import Notifier
from bot.replica import Replica
from bot.settings import Settings
from engine.clock import Clock, SystemClock
from engine.database import open_database
from engine.migrate import upgrade
from engine.service import TaskService
from engine.writer import CommandWriter

log = logging.getLogger(__name__)


def build_app(
    settings: Settings,
    clock: Clock | None = None,
    *,
    channels: Mapping[str, Channel] | None = None,
) -> web.Application:
    """The whole service; start/stop of everything lives in cleanup contexts.

    `channels` adds or replaces delivery channels by name (tests use in-memory ones)."""
    clock = clock or SystemClock()
    database = open_database(
        settings.database.url,
        sqlite_synchronous=settings.database.sqlite_synchronous,
        pool_size=settings.database.pool_size,
    )
    writer = CommandWriter(database, clock)
    service = TaskService(database, clock, writer)
    hub = ws.EventHub(service, settings.websocket.poll_seconds)
    authenticator = TokenAuthenticator(database, settings.auth.token_cache_seconds)
    conversation = Conversation(service)
    gateway = ChatGateway(service, conversation, settings.channels.links)
    configured = configured_channels(settings, clock, gateway)
    outgoing = {**configured.delivery, **(channels or {})}
    replica = settings.notify.replica or f"{socket.gethostname()}:{settings.server.port}"
    notifier = Notifier(database, service, outgoing, settings.notify, clock, replica=replica)
    writer.on_outbox = notifier.wake
    scheduler = build_scheduler(settings.jobs, service, notifier)
    this_replica = Replica(replica, database, hub, scheduler)
    for channel in outgoing.values():
        leading = getattr(channel, "leading", None)  # work that only the leader may do
        if callable(leading):
            this_replica.follow_leadership(leading)
    metrics = Metrics()
    notifier.on_delivered = metrics.delivery_latency.observe

    app = web.Application(
        client_max_size=settings.server.max_body_bytes,
        # CORS outermost: a browser's preflight carries no token (bot/cross_origin.py).
        middlewares=[
            make_cors_middleware(settings.server.allowed_origins),
            error_middleware,
            make_auth_middleware(authenticator),
        ],
    )
    app[SETTINGS] = settings
    app[LIMITS] = settings.limits
    app[SERVICE] = service
    app[HUB] = hub
    app[SCHEDULER] = scheduler
    app[NOTIFIER] = notifier
    app[CONVERSATION] = conversation
    app[GATEWAY] = gateway
    app[REPLICA] = this_replica

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        await upgrade(database)
        await hub.start()
        writer.add_listener(hub.publish)
        writer.add_listener(metrics.committed)
        writer.start()
        for channel in outgoing.values():
            await channel.start()
        await notifier.start()
        await this_replica.start()
        log.info("tasktalk ready on %s", database.writer.url.render_as_string())
        with collecting_for_requests():
            yield
        await this_replica.stop()
        await notifier.stop()
        for channel in outgoing.values():
            await channel.stop()
        await writer.close()
        await hub.stop()
        await database.dispose()

    app.cleanup_ctx.append(lifecycle)
    app[ws.SOCKETS] = weakref.WeakSet()
    app.on_shutdown.append(ws.close_sockets)
    api.add_routes(app)
    app.router.add_post("/api/chat", chat_api.chat)
    subscriptions_api.add_routes(app)
    notifications_api.add_routes(app)
    for receiver in configured.receivers:
        receiver.add_routes(app)
    widget.add_routes(app)
    app.router.add_get("/ws/tasks", ws.tasks_socket)
    app.router.add_get("/ws/tasks/{task_id}", ws.task_socket)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_handler(metrics, database, lambda: hub.clients))
    app.router.add_get("/api/openapi.json", openapi)
    return app


#: Allocations between young-generation collections while serving (CPython's default is 700).
#: A report allocates a few hundred short-lived containers, so the default collected several
#: times per request batch, promoting in-flight requests into the old generations.
GC_YOUNG_THRESHOLD = 20_000


@contextlib.contextmanager
def collecting_for_requests() -> Iterator[None]:
    """Garbage collection tuned for serving, as measured on the report path (bench/README.md).

    What exists once started (modules, metadata, templates) lives as long as the process:
    frozen, full collections no longer walk it. Fewer young collections leave less garbage
    to promote. Memory use barely moves; both settings are restored when the app stops.
    """
    thresholds = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        if gc.get_threshold()[0] == GC_YOUNG_THRESHOLD:  # unless another app restored it
            gc.set_threshold(*thresholds)
        gc.unfreeze()


async def healthz(request: web.Request) -> web.Response:
    try:
        seq = await request.app[SERVICE].last_seq()
    except Exception:
        log.exception("health check: database unreachable")
        return json_response({"status": "unavailable", "database": "unreachable"}, status=503)
    replica = request.app[REPLICA]
    return json_response(
        {
            "status": "ok",
            "database": "ok",
            "last_seq": seq,
            "replica": replica.name,
            "leader": replica.leader,
            "listen": replica.listen,
        }
    )


async def openapi(request: web.Request) -> web.Response:
    return json_response(openapi_document())


@functools.cache
def openapi_document() -> dict[str, object]:
    text = resources.files("bot").joinpath("openapi.yaml").read_text(encoding="utf-8")
    document: dict[str, object] = yaml.safe_load(text)
    return document
