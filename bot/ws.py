"""WebSocket hub: live events for /ws/tasks and /ws/tasks/{id}, with replay from `since`.

The hub tracks the highest sequence number it has dispatched. A client registers
first (so it is owed every live event above that mark), then replays from the database
everything in (since, mark]: no gap, no duplicate. Events committed by this process
arrive from the writer; a gap (another process wrote) is filled from the database, and
a poll catches writers that never tell us, so replay holds across processes too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import orjson
from aiohttp import WSCloseCode, web

from bot.auth import current_account
from bot.cross_origin import origin_allowed
from bot.http import error_response
from bot.json_fields import RequestInvalid
from bot.keys import HUB, SERVICE, SETTINGS
from engine.clock import isoformat_z
from engine.errors import NotFound
from engine.events import Event
from engine.service import TaskService

log = logging.getLogger(__name__)


#: Open sockets, closed on shutdown so `serve` stops at once instead of waiting for clients.
SOCKETS: web.AppKey[weakref.WeakSet[web.WebSocketResponse]] = web.AppKey("sockets")


async def close_sockets(app: web.Application) -> None:
    """on_shutdown: tell every client we are going away (they reconnect with ?since=)."""
    sockets = list(app[SOCKETS])
    await asyncio.gather(
        *(ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down") for ws in sockets),
        return_exceptions=True,
    )


def encode_event(event: Event) -> str:
    message = {
        "type": event.type,
        "seq": event.seq,
        "task_id": event.task_id,
        "at": isoformat_z(event.at),
        **event.data,
    }
    return orjson.dumps(message).decode()


@dataclass(eq=False)
class Subscriber:
    """One WebSocket connection's interest and its outgoing queue."""

    owner_id: int
    task_id: str | None
    capacity: int
    queue: asyncio.Queue[tuple[int, str] | None] = field(default_factory=asyncio.Queue)
    overflowed: bool = False

    def offer(self, seq: int, message: str) -> None:
        if self.overflowed:
            return
        if self.queue.qsize() >= self.capacity:
            self.overflowed = True
            self.queue.put_nowait(None)
            return
        self.queue.put_nowait((seq, message))


class EventHub:
    def __init__(self, service: TaskService, poll_seconds: float) -> None:
        self._service = service
        self._poll_seconds = poll_seconds
        self._subscribers: dict[int, set[Subscriber]] = {}
        self._seq = 0
        self._lock = asyncio.Lock()
        self._poller: asyncio.Task[None] | None = None
        self._catch_up: asyncio.Task[None] | None = None
        self._behind = False

    @property
    def seq(self) -> int:
        return self._seq

    async def start(self) -> None:
        self._seq = await self._service.last_seq()
        self._poller = asyncio.create_task(self._poll(), name="tasktalk-event-poll")

    async def stop(self) -> None:
        for task in (self._poller, self._catch_up):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        for subscribers in self._subscribers.values():
            for subscriber in subscribers:
                subscriber.queue.put_nowait(None)

    def register(self, subscriber: Subscriber) -> int:
        """Add a subscriber; it receives every event above the returned mark."""
        self._subscribers.setdefault(subscriber.owner_id, set()).add(subscriber)
        return self._seq

    def unregister(self, subscriber: Subscriber) -> None:
        subscribers = self._subscribers.get(subscriber.owner_id)
        if subscribers is not None:
            subscribers.discard(subscriber)
            if not subscribers:
                del self._subscribers[subscriber.owner_id]

    def publish(self, events: list[Event]) -> None:
        """Writer callback with freshly committed events, in seq order."""
        # Contiguous with what we sent: dispatch now, even while a catch-up reads the log
        # (it skips what is dispatched by then), so the mark moves before the HTTP answer.
        if events and events[0].seq == self._seq + 1:
            self._dispatch(events)
            return
        self.wake()

    def wake(self, seq: int | None = None) -> None:
        """Another replica committed events up to `seq` (NOTIFY), or we reconnected
        (None): read them now. Our own commits arrive through `publish` instead."""
        if seq is not None and seq <= self._seq:
            return
        self._behind = True
        if self._catch_up is None or self._catch_up.done():
            self._catch_up = asyncio.create_task(self._fill(), name="tasktalk-event-catch-up")

    @property
    def clients(self) -> int:
        return sum(len(subscribers) for subscribers in self._subscribers.values())

    def _dispatch(self, events: list[Event]) -> None:
        for event in events:
            if event.seq <= self._seq:
                continue
            self._seq = event.seq
            subscribers = self._subscribers.get(event.owner_id)
            if not subscribers:
                continue
            message = encode_event(event)
            for subscriber in subscribers:
                if subscriber.task_id is None or subscriber.task_id == event.task_id:
                    subscriber.offer(event.seq, message)

    async def _fill(self) -> None:
        """Dispatch everything committed above our mark, read back from the database."""
        async with self._lock:
            while True:
                self._behind = False
                events = await self._service.events_after(self._seq, limit=1000)
                if events:
                    self._dispatch(events)
                elif not self._behind:
                    return

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self._poll_seconds)
            try:
                if await self._service.last_seq() > self._seq:
                    await self._fill()
            except Exception:
                log.exception("event poll failed")


async def tasks_socket(request: web.Request) -> web.StreamResponse:
    return await _serve(request, None)


async def task_socket(request: web.Request) -> web.StreamResponse:
    account = current_account(request)
    ident = request.match_info["task_id"]
    if not await request.app[SERVICE].owns(account.id, ident):
        raise NotFound(f"There is no task {ident}.", field="task_id")
    return await _serve(request, ident)


async def _serve(request: web.Request, task_id: str | None) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    if not _origin_allowed(request, settings.server.allowed_origins):
        return error_response(
            403, "forbidden", "This origin may not open a WebSocket here.", "Origin"
        )
    since = _since(request)
    account = current_account(request)
    hub = request.app[HUB]
    service = request.app[SERVICE]
    ws = web.WebSocketResponse(
        heartbeat=settings.websocket.heartbeat_seconds,
        max_msg_size=settings.websocket.max_message_bytes,
        compress=False,
    )
    await ws.prepare(request)
    request.app[SOCKETS].add(ws)
    subscriber = Subscriber(account.id, task_id, settings.websocket.send_queue_events)
    mark = hub.register(subscriber)
    sender = asyncio.create_task(_send(ws, subscriber, service, since, mark, task_id))
    try:
        async for _message in ws:
            pass  # clients only listen; pings are answered by aiohttp
    finally:
        hub.unregister(subscriber)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
    return ws


async def _send(
    ws: web.WebSocketResponse,
    subscriber: Subscriber,
    service: TaskService,
    since: int | None,
    mark: int,
    task_id: str | None,
) -> None:
    last = mark
    try:
        if since is not None and since < mark:
            for event in await service.events_between(subscriber.owner_id, since, mark, task_id):
                await ws.send_str(encode_event(event))
        ready: dict[str, object] = {"type": "ready", "seq": mark}
        if task_id is not None:
            ready["task"] = await service.progress(subscriber.owner_id, task_id)
        await ws.send_str(orjson.dumps(ready).decode())
        while True:
            item = await subscriber.queue.get()
            if item is None:
                break
            last, message = item
            await ws.send_str(message)
        if subscriber.overflowed:
            await ws.close(
                code=WSCloseCode.TRY_AGAIN_LATER,
                message=f"too slow; reconnect with since={last}".encode(),
            )
        else:
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")
    except (ConnectionResetError, asyncio.CancelledError):
        raise
    except Exception:
        log.exception("WebSocket sender failed")
        await ws.close(code=WSCloseCode.INTERNAL_ERROR)


def _since(request: web.Request) -> int | None:
    raw = request.query.get("since")
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit():
        raise RequestInvalid("since", "since must be a whole number (the last seq you saw).")
    return int(raw)


def _origin_allowed(request: web.Request, allowed: tuple[str, ...]) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser; the token is the proof
    return origin_allowed(origin, allowed) or urlsplit(origin).netloc == request.host
