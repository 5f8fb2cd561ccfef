"""Replay without loss: a client that keeps reconnecting with `since=` sees every event once,
in commit order, while 20 writers commit concurrently — 10 producers through the server's
REST API and 10 independent engine writers with their own connections, as other processes
or replicas would be. On PostgreSQL that is exactly where sequence-before-commit bites.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from engine.clock import SystemClock
from engine.commands import StepReport
from engine.database import open_database
from engine.service import TaskService
from engine.states import StepStatus
from engine.writer import CommandWriter
from tests.conftest import Api

WRITERS_OVER_HTTP = 10
WRITERS_IN_ENGINE = 10
REPORTS_EACH = 25
RECONNECTS = 6


async def _new_task(api: Api, title: str) -> str:
    body = {"title": title, "steps": [{"name": "work"}, {"name": "wrap up"}]}
    response = await api.client.post("/api/tasks", json=body, headers=api.auth())
    task_id: str = (await response.json())["task_id"]
    return task_id


async def _http_writer(api: Api, task_id: str) -> None:
    url = f"/api/tasks/{task_id}/steps/1"
    for i in range(REPORTS_EACH):
        body: dict[str, Any] = {"progress": i * 4}
        if i == 0:
            body["status"] = "running"
        response = await api.client.patch(url, json=body, headers=api.auth())
        assert response.status == 200, await response.text()


async def _engine_writer(database_url: str, owner_id: int, task_id: str) -> None:
    database = open_database(database_url, sqlite_synchronous="NORMAL", pool_size=1)
    writer = CommandWriter(database, SystemClock())
    service = TaskService(database, SystemClock(), writer)
    try:
        for i in range(REPORTS_EACH):
            status = StepStatus.RUNNING if i == 0 else None
            await service.report_step(owner_id, task_id, 1, StepReport(status, progress=i * 4))
            await asyncio.sleep(0)
    finally:
        await writer.close()
        await database.dispose()


async def _alice_id(api: Api) -> int:
    me = await (await api.client.get("/api/me", headers=api.auth())).json()
    owner: int = me["id"]
    return owner


async def _all_seqs(api: Api, owner_id: int) -> list[int]:
    database = open_database(api.database_url)
    service = TaskService(database, SystemClock(), CommandWriter(database, SystemClock()))
    try:
        events = await service.events_between(owner_id, 0, 10**12)
    finally:
        await database.dispose()
    return [e.seq for e in events]


async def test_reconnecting_client_misses_nothing_and_sees_nothing_twice(api: Api) -> None:
    owner_id = await _alice_id(api)
    http_tasks = [await _new_task(api, f"http {i}") for i in range(WRITERS_OVER_HTTP)]
    engine_tasks = [await _new_task(api, f"engine {i}") for i in range(WRITERS_IN_ENGINE)]

    received: list[int] = []
    last = 0
    ws = await api.client.ws_connect(f"/ws/tasks?token={api.alice}&since={last}")
    writers = asyncio.gather(
        *(_http_writer(api, t) for t in http_tasks),
        *(_engine_writer(api.database_url, owner_id, t) for t in engine_tasks),
    )
    for round_ in range(RECONNECTS):
        for _ in range(20 + round_ * 7):
            message = await ws.receive(timeout=10)
            if message.type is not aiohttp.WSMsgType.TEXT:
                break
            data = message.json()
            if data["type"] == "ready":
                continue
            received.append(data["seq"])
            last = data["seq"]
        await ws.close()
        ws = await api.client.ws_connect(f"/ws/tasks?token={api.alice}&since={last}")
    await writers

    expected = await _all_seqs(api, owner_id)
    while not received or received[-1] < expected[-1]:
        message = await ws.receive(timeout=10)
        assert message.type is aiohttp.WSMsgType.TEXT, message
        data = message.json()
        if data["type"] != "ready":
            received.append(data["seq"])
    await ws.close()

    assert len(received) == len(set(received)), "an event arrived twice"
    assert received == sorted(received), "events arrived out of commit order"
    assert received == expected, f"missed {sorted(set(expected) - set(received))[:10]}"
    progress_events = (WRITERS_OVER_HTTP + WRITERS_IN_ENGINE) * REPORTS_EACH
    assert len(expected) >= progress_events


async def test_event_numbers_are_gap_free_under_concurrent_writers(api: Api) -> None:
    """Readers polling `seq > last` never skip a number that commits later."""
    owner_id = await _alice_id(api)
    tasks = [await _new_task(api, f"engine {i}") for i in range(20)]
    database = open_database(api.database_url)
    service = TaskService(database, SystemClock(), CommandWriter(database, SystemClock()))
    seen: list[int] = []
    done = asyncio.Event()

    async def poll() -> None:
        last = 0
        while True:
            finished = done.is_set()
            batch = await service.events_after(last, limit=10_000)
            if batch:
                assert batch[0].seq == last + 1, f"gap after {last}: next visible {batch[0].seq}"
                assert [e.seq for e in batch] == list(range(last + 1, last + 1 + len(batch)))
                seen.extend(e.seq for e in batch)
                last = batch[-1].seq
            elif finished:
                return
            await asyncio.sleep(0)

    poller = asyncio.create_task(poll())
    await asyncio.gather(*(_engine_writer(api.database_url, owner_id, t) for t in tasks))
    done.set()
    await poller
    await database.dispose()
    assert seen == list(range(1, len(seen) + 1))
    assert len(seen) >= 20 * REPORTS_EACH
