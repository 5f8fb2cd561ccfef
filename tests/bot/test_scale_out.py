"""Several `tasktalk serve` replicas on one PostgreSQL, killed and restarted at will.

Events committed through one replica reach WebSocket clients of the others at once
(LISTEN/NOTIFY wakes them; the log is the truth), exactly one replica leads the periodic
jobs and another takes over when it dies, and under SIGKILLs every acknowledged report
is kept, every client sees every event once and in order, and every notification
arrives once (de-duplicated by Message-ID).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import statistics
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from engine.database import open_database
from engine.outbox import outbox_t
from engine.store import events_t, history_t
from tests.adapters.test_email import smtp_server
from tests.bot.server_process import ServerProcess
from tests.bot.test_notify_crash import ADDRESS, EVENTS, message_id
from tests.conftest import PG_ENV, scratch_postgres

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"{PG_ENV} not set"),
]


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    async with scratch_postgres() as url:
        yield url


def replicas(url: str, tmp_path: Path, count: int, **env: str) -> list[ServerProcess]:
    servers = []
    for n in range(count):
        folder = tmp_path / f"replica{n}"
        folder.mkdir()
        server = ServerProcess(url, folder)
        server.env = {"TASKTALK_WEBSOCKET__POLL_SECONDS": "5", **env}
        servers.append(server)
    return servers


async def health(server: ServerProcess) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.get(f"{server.url}/healthz") as response:
        body: dict[str, Any] = await response.json()
        return body


async def test_an_event_through_one_replica_reaches_clients_of_another_at_once(
    pg_url: str, tmp_path: Path
) -> None:
    a, b = replicas(pg_url, tmp_path, 2)  # the poll fallback is 5 s: only NOTIFY is fast
    token = await a.token("alice")
    headers = {"Authorization": f"Bearer {token}"}
    try:
        await asyncio.gather(a.start(), b.start())
        assert (await health(b))["listen"] == "connected"
        async with aiohttp.ClientSession(headers=headers) as http:
            plan = {"title": "CRM", "steps": [{"name": "Build"}]}
            async with http.post(f"{a.url}/api/tasks", json=plan) as response:
                task_id = (await response.json())["task_id"]
            ws = await http.ws_connect(f"{b.url}/ws/tasks/{task_id}")
            assert json.loads((await ws.receive()).data)["type"] == "ready"
            delays = []
            for percent in range(1, 21):
                started = time.perf_counter()
                body = {"status": "running", "progress": percent}
                async with http.patch(f"{a.url}/api/tasks/{task_id}/steps/1", json=body):
                    pass
                while True:
                    message = json.loads((await ws.receive(timeout=5)).data)
                    if message.get("step_percent") == percent or message["type"] == "progress":
                        break
                delays.append(time.perf_counter() - started)
            await ws.close()
        print(f"\ncross-replica delivery: p50 {statistics.median(delays) * 1000:.1f} ms")
        assert statistics.median(delays) < 0.1
    finally:
        a.stop()
        b.stop()


async def test_one_leader_and_another_takes_over_when_it_dies(pg_url: str, tmp_path: Path) -> None:
    servers = replicas(pg_url, tmp_path, 3)
    await servers[0].token("alice")  # migrates
    try:
        await asyncio.gather(*(s.start() for s in servers))
        leaders = await _leaders(servers, wait_for=1)
        assert len(leaders) == 1
        leaders[0].kill()
        alive = [s for s in servers if s is not leaders[0]]
        started = time.perf_counter()
        successors = await _leaders(alive, wait_for=1, within=5)
        print(f"\nnew leader after {time.perf_counter() - started:.2f} s")
        assert len(successors) == 1
    finally:
        for server in servers:
            server.stop()


async def _leaders(
    servers: list[ServerProcess], *, wait_for: int, within: float = 5
) -> list[ServerProcess]:
    deadline = time.perf_counter() + within
    while True:
        states = [await health(s) for s in servers]
        leaders = [s for s, state in zip(servers, states, strict=True) if state["leader"]]
        if len(leaders) >= wait_for or time.perf_counter() > deadline:
            return leaders
        await asyncio.sleep(0.1)


class Watcher:
    """A WebSocket client on one replica that reconnects with ?since= after any drop."""

    def __init__(self, server: ServerProcess, token: str) -> None:
        self.server = server
        self.token = token
        self.seqs: list[int] = []
        self.stopping = False

    async def run(self) -> None:
        async with aiohttp.ClientSession() as http:
            while not self.stopping:
                since = f"&since={self.seqs[-1]}" if self.seqs else "&since=0"
                with contextlib.suppress(aiohttp.ClientError, ConnectionError, TimeoutError):
                    url = f"{self.server.url}/ws/tasks?token={self.token}{since}"
                    async with http.ws_connect(url) as ws:
                        async for message in ws:
                            data = json.loads(message.data)
                            if "seq" in data and data.get("type") != "ready":
                                self.seqs.append(data["seq"])
                await asyncio.sleep(0.05)


async def test_under_sigkills_nothing_is_lost_repeated_or_reordered(
    pg_url: str, tmp_path: Path
) -> None:
    random.seed(11)
    async with smtp_server() as smtp:
        servers = replicas(
            pg_url,
            tmp_path,
            3,
            TASKTALK_EMAIL__HOST="127.0.0.1",
            TASKTALK_EMAIL__PORT=str(smtp.port),
            TASKTALK_EMAIL__STARTTLS="false",
            TASKTALK_EMAIL__SENDER="tasktalk <bot@example.com>",
            TASKTALK_EMAIL__LOCAL_HOSTNAME="localhost",
            TASKTALK_NOTIFY__POLL_SECONDS="0.2",
            TASKTALK_NOTIFY__LEASE_SECONDS="3",
        )
        token = await servers[0].token("alice")
        headers = {"Authorization": f"Bearer {token}"}
        acknowledged: list[tuple[str, int, int]] = []
        watchers = [Watcher(s, token) for s in servers]
        try:
            await asyncio.gather(*(s.start() for s in servers))
            watching = [asyncio.create_task(w.run()) for w in watchers]
            async with aiohttp.ClientSession(headers=headers) as http:

                async def call(method: str, path: str, body: Any) -> Any:
                    for _ in range(400):
                        server = random.choice(servers)
                        try:
                            async with http.request(method, server.url + path, json=body) as r:
                                if r.status < 500:
                                    assert r.status in (200, 201), await r.text()
                                    return await r.json()
                        except (aiohttp.ClientError, ConnectionError):
                            pass
                        await asyncio.sleep(0.05)
                    raise AssertionError(f"{method} {path} never acknowledged")

                await call(
                    "PUT",
                    "/api/subscriptions/email",
                    {"address": ADDRESS, "events": EVENTS, "min_task_minutes": 0},
                )

                async def produce(number: int) -> None:
                    plan = {
                        "title": f"Task {number}",
                        "idempotency_key": f"k{number}",
                        "steps": [{"name": "One"}, {"name": "Two"}],
                    }
                    task = await call("POST", "/api/tasks", plan)
                    for order in (1, 2):
                        for percent in (10, 60, 100):
                            body = {
                                "status": "running" if percent < 100 else "completed",
                                "progress": percent,
                            }
                            path = f"/api/tasks/{task['task_id']}/steps/{order}"
                            await call("PATCH", path, body)
                            acknowledged.append((task["task_id"], order, percent))
                            await asyncio.sleep(random.uniform(0, 0.05))

                async def chaos() -> None:
                    for _ in range(5):
                        await asyncio.sleep(random.uniform(0.3, 0.8))
                        victim = random.choice(servers)
                        victim.kill()
                        await victim.start()

                await asyncio.gather(chaos(), *(produce(n) for n in range(20)))
            await _settle(pg_url)
            await asyncio.sleep(1.0)  # let the watchers drain
            for watcher in watchers:
                watcher.stopping = True
            for task in watching:
                task.cancel()
            leaders = await _leaders(servers, wait_for=1)
        finally:
            for server in servers:
                server.stop()

    database = open_database(pg_url)
    try:
        async with database.read() as conn:
            seqs = [
                r[0] for r in await conn.execute(select(events_t.c.seq).order_by(events_t.c.seq))
            ]
            history = {
                (r[0], r[1], r[2])
                for r in await conn.execute(
                    select(history_t.c.task_id, history_t.c.step, history_t.c.percent)
                )
            }
            notifiable = [
                r[0]
                for r in await conn.execute(
                    select(events_t.c.seq).where(events_t.c.type.in_(EVENTS))
                )
            ]
    finally:
        await database.dispose()
    assert len(leaders) == 1
    assert all((t, o, float(p)) in history for t, o, p in acknowledged)
    for watcher in watchers:
        assert watcher.seqs == seqs  # every event, once, in order, on every replica
    received = [mail.message["Message-ID"] for mail in smtp.handler.received]
    assert set(received) == {message_id(seq) for seq in notifiable}
    repeats = len(received) - len(set(received))
    print(f"\n{len(seqs)} events, {len(set(received))} emails, {repeats} repeats")


async def _settle(url: str) -> None:
    database = open_database(url)
    try:
        for _ in range(300):
            async with database.read() as conn:
                statuses = [r[0] for r in await conn.execute(select(outbox_t.c.status))]
            if statuses and "pending" not in statuses:
                return
            await asyncio.sleep(0.1)
    finally:
        await database.dispose()
