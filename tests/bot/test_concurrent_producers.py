"""50 concurrent producers x 200 reports on SQLite: nothing lost, never "database is locked".

A second process writes to the same file at the same time (`tasktalk token create` in a
loop), the way an operator's CLI would, so the writer really competes for the lock.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import build_app
from bot.settings import load_settings
from engine.accounts import create_token
from engine.clock import SystemClock
from engine.database import open_database

PRODUCERS = 50
REPORTS = 200

pytestmark = pytest.mark.slow


def _cli_writers(database_url: str, workdir: Path, count: int) -> subprocess.Popen[str]:
    script = (
        "import subprocess, sys\n"
        f"for i in range({count}):\n"
        "    subprocess.run([sys.executable, '-m', 'bot.cli', 'token', 'create', f'ops{i}',"
        f" '--database', {database_url!r}], check=True, capture_output=True)\n"
    )
    return subprocess.Popen(
        [sys.executable, "-c", script], cwd=workdir, stderr=subprocess.PIPE, text=True
    )


async def test_fifty_producers_lose_nothing_and_never_see_locked(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'tasktalk.db'}"
    settings = load_settings(None, environ={}, overrides={"database.url": url})
    client: TestClient[object, object] = TestClient(TestServer(build_app(settings)))
    await client.start_server()
    database = open_database(url)
    async with database.write() as conn:
        token = await create_token(conn, "alice", SystemClock().now())
    await database.dispose()
    headers = {"Authorization": f"Bearer {token}"}
    task_ids = []
    for i in range(PRODUCERS):
        body = {"title": f"producer {i}", "steps": [{"name": "work"}]}
        response = await client.post("/api/tasks", json=body, headers=headers)
        task_ids.append((await response.json())["task_id"])

    statuses: list[int] = []

    async def produce(task_id: str) -> None:
        url = f"/api/tasks/{task_id}/steps/1"
        for i in range(REPORTS):
            body: dict[str, object] = {"progress": round(i * 0.5, 1)}
            if i == 0:
                body["status"] = "running"
            response = await client.patch(url, json=body, headers=headers)
            statuses.append(response.status)
            await response.read()

    caplog.set_level(logging.WARNING)
    cli = _cli_writers(url, tmp_path, 5)
    await asyncio.gather(*(produce(t) for t in task_ids))
    _, cli_errors = await asyncio.to_thread(cli.communicate)
    assert cli.returncode == 0, cli_errors

    assert statuses.count(200) == PRODUCERS * REPORTS, sorted(set(statuses))
    for task_id in task_ids:
        history = await (await client.get(f"/api/tasks/{task_id}/history", headers=headers)).json()
        percents = [row["percent"] for row in history]
        # one row at creation, then one per report, in the order sent
        assert percents == [0] + [round(i * 0.5, 1) for i in range(REPORTS)]
    await client.close()
    locked = [r for r in caplog.records if "locked" in r.getMessage().lower()]
    assert not locked
    assert "database is locked" not in cli_errors
