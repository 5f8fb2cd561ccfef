"""Crash safety of notifications: `tasktalk serve` is killed with SIGKILL at many points
while 20 tasks report, and emails go to a real SMTP server (aiosmtpd) in this test.

After the last restart every notification the committed events call for has arrived,
and none twice once mail is de-duplicated by Message-ID (the key a redelivery repeats).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from engine.database import open_database
from engine.outbox import outbox_t
from engine.store import events_t
from tests.adapters.test_email import smtp_server
from tests.bot.server_process import ServerProcess

pytestmark = pytest.mark.slow

EVENTS = ["task_started", "step_complete", "approval_needed", "task_complete", "task_failed"]
ADDRESS = "alice@example.com"
TASKS, STEPS, KILLS = 20, 3, 6


def message_id(seq: int) -> str:
    digest = hashlib.sha256(f"email:{ADDRESS}:{seq}\n{ADDRESS}".encode()).hexdigest()[:32]
    return f"<tasktalk.{digest}@example.com>"


async def _retrying(http: aiohttp.ClientSession, method: str, path: str, body: Any) -> Any:
    """Send until the server (restarted meanwhile) acknowledges."""
    for _ in range(600):
        try:
            async with http.request(method, path, json=body) as response:
                if response.status < 500:
                    assert response.status in (200, 201), await response.text()
                    return await response.json()
        except (aiohttp.ClientError, ConnectionError):
            pass
        await asyncio.sleep(0.05)
    raise AssertionError(f"{method} {path} never acknowledged")


async def test_sigkill_at_many_points_loses_and_repeats_no_notification(
    database_url: str, tmp_path: Path
) -> None:
    random.seed(7)
    async with smtp_server() as smtp:
        server = ServerProcess(database_url, tmp_path)
        server.env = {
            "TASKTALK_EMAIL__HOST": "127.0.0.1",
            "TASKTALK_EMAIL__PORT": str(smtp.port),
            "TASKTALK_EMAIL__STARTTLS": "false",
            "TASKTALK_EMAIL__SENDER": "tasktalk <bot@example.com>",
            "TASKTALK_EMAIL__LOCAL_HOSTNAME": "localhost",
            "TASKTALK_NOTIFY__REPLICA": "crash-test",
            "TASKTALK_NOTIFY__POLL_SECONDS": "0.1",
        }
        token = await server.token("alice")
        await server.start()
        headers = {"Authorization": f"Bearer {token}"}
        try:
            async with aiohttp.ClientSession(server.url, headers=headers) as http:
                await _retrying(
                    http,
                    "PUT",
                    "/api/subscriptions/email",
                    {"address": ADDRESS, "events": EVENTS, "min_task_minutes": 0},
                )
                plan = {"title": "Build", "steps": [{"name": f"Step {n}"} for n in range(STEPS)]}

                async def produce(number: int) -> None:
                    task = await _retrying(
                        http, "POST", "/api/tasks", {**plan, "idempotency_key": f"t{number}"}
                    )
                    for order in range(1, STEPS + 1):
                        path = f"/api/tasks/{task['task_id']}/steps/{order}"
                        for body in (
                            {"status": "running"},
                            {"progress": 50},
                            {"status": "completed"},
                        ):
                            await _retrying(http, "PATCH", path, body)
                            await asyncio.sleep(random.uniform(0, 0.05))

                async def kill_now_and_then() -> None:
                    for _ in range(KILLS):
                        await asyncio.sleep(random.uniform(0.2, 0.7))
                        server.kill()
                        await server.start()

                await asyncio.gather(kill_now_and_then(), *(produce(n) for n in range(TASKS)))
            pending = await _wait_until_delivered(database_url)
        finally:
            server.stop()

    expected = await _expected_message_ids(database_url)
    received = [mail.message["Message-ID"] for mail in smtp.handler.received]
    assert pending == 0
    assert len(expected) == TASKS * (STEPS + 2)  # started, each step, complete
    assert set(received) == expected  # nothing lost, nothing unexpected
    repeats = len(received) - len(set(received))
    print(f"\n{len(expected)} notifications, {repeats} redelivered after a kill (same Message-ID)")


async def _wait_until_delivered(database_url: str) -> int:
    database = open_database(database_url)
    try:
        for _ in range(600):
            async with database.read() as conn:
                statuses = [row[0] for row in await conn.execute(select(outbox_t.c.status))]
            pending = statuses.count("pending")
            if statuses and not pending:
                assert set(statuses) == {"delivered"}
                return 0
            await asyncio.sleep(0.1)
        return pending
    finally:
        await database.dispose()


async def _expected_message_ids(database_url: str) -> set[str]:
    database = open_database(database_url)
    try:
        async with database.read() as conn:
            query = select(events_t.c.seq).where(events_t.c.type.in_(EVENTS))
            return {message_id(row[0]) for row in await conn.execute(query)}
    finally:
        await database.dispose()
