"""`/metrics` in Prometheus' text format (prometheus-client), one registry per app.

What an operator watches: events written here, WebSocket clients, the outbox by status,
how long a notification waited before delivery, and how far off the ETA was — measured
on every task that completes, as the error of the estimate made when it was half done.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from engine import outbox
from engine.database import Database
from engine.events import Event

_TRACKED_TASKS = 10_000


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.events_written = Counter(
            "tasktalk_events_written", "Events committed by this replica.", registry=self.registry
        )
        self.websocket_clients = Gauge(
            "tasktalk_websocket_clients", "Open WebSocket connections.", registry=self.registry
        )
        self.outbox_rows = Gauge(
            "tasktalk_outbox_rows",
            "Notification deliveries by status.",
            ["status"],
            registry=self.registry,
        )
        self.delivery_latency = Histogram(
            "tasktalk_delivery_latency_seconds",
            "From the change that caused a notification to its delivery.",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
            registry=self.registry,
        )
        self.eta_error = Histogram(
            "tasktalk_eta_error_ratio",
            "|ETA at half way - actual remaining| / actual remaining, per completed task.",
            buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5),
            registry=self.registry,
        )
        self._half_way: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def committed(self, events: list[Event]) -> None:
        """Writer listener: count events and follow estimates to score them at the end."""
        self.events_written.inc(len(events))
        for event in events:
            if event.type == "task_complete":
                seen = self._half_way.pop(event.task_id, None)
                if seen is not None:
                    at, estimate = seen
                    actual = event.at.timestamp() - at
                    if actual > 0:
                        self.eta_error.observe(abs(estimate - actual) / actual)
                continue
            percent = event.data.get("percent")
            estimate = event.data.get("eta_seconds")
            if (
                event.task_id not in self._half_way
                and isinstance(percent, int | float)
                and percent >= 50
                and isinstance(estimate, int | float)
            ):
                self._half_way[event.task_id] = (event.at.timestamp(), float(estimate))
                while len(self._half_way) > _TRACKED_TASKS:
                    self._half_way.popitem(last=False)

    async def render(self, database: Database, clients: int) -> bytes:
        async with database.read() as conn:
            counts = await outbox.counts(conn)
        for status in (outbox.PENDING, outbox.DELIVERED, outbox.DEAD, outbox.DROPPED):
            self.outbox_rows.labels(status).set(counts.get(status, 0))
        self.websocket_clients.set(clients)
        return generate_latest(self.registry)


def metrics_handler(
    metrics: Metrics, database: Database, clients: Callable[[], int]
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        body = await metrics.render(database, clients())
        response = web.Response(body=body)
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    return handle
