"""The spec's Cellphone Store CRM example, end to end over REST, with exact values."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import build_app
from bot.settings import load_settings
from engine.accounts import create_token
from engine.clock import ManualClock
from engine.database import open_database
from tests.conftest import CRM_TASK

# Equal weights would give (100 + 65) / 4 = 41%. The spec's 65% overall with step 2 at 65%
# needs step 1 to weigh 13 against steps 3 and 4 weighing 7 together:
# (13*100 + 10*65) / (13 + 10 + 3 + 4) = 65.
WEIGHTS = [13, 10, 3, 4]


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[tuple[TestClient[Any, Any], ManualClock]]:
    clock = ManualClock(datetime(2024, 1, 15, 10, 0, 0, tzinfo=UTC))
    settings = load_settings(None, environ={}, overrides={"database.url": database_url})
    test_client: TestClient[Any, Any] = TestClient(TestServer(build_app(settings, clock)))
    await test_client.start_server()
    database = open_database(database_url)
    async with database.write() as conn:
        token = await create_token(conn, "alice", clock.now())
    await database.dispose()
    test_client.session.headers["Authorization"] = f"Bearer {token}"
    yield test_client, clock
    await test_client.close()


async def test_progress_document_has_the_spec_shape_and_values(
    client: tuple[TestClient[Any, Any], ManualClock],
) -> None:
    http, clock = client
    body = copy.deepcopy(CRM_TASK)
    for step, weight in zip(body["steps"], WEIGHTS, strict=True):
        step["weight"] = weight
    task_id = (await (await http.post("/api/tasks", json=body)).json())["task_id"]

    await http.patch(f"/api/tasks/{task_id}/steps/1", json={"status": "running"})
    clock.advance(15)
    await http.patch(f"/api/tasks/{task_id}/steps/1", json={"status": "completed"})
    await http.patch(f"/api/tasks/{task_id}/steps/2", json={"status": "running"})
    clock.advance(135)  # 10:02:30, as in the spec's history table
    done = [{"name": "Customer list", "done": True}, {"name": "Product list", "done": True}]
    await http.patch(f"/api/tasks/{task_id}/steps/2", json={"progress": 65, "substeps": done})

    document = await (await http.get(f"/api/tasks/{task_id}/progress")).json()
    spec_fields = {
        key: document[key]
        for key in (
            "task_id",
            "title",
            "status",
            "progress",
            "current_step",
            "total_steps",
            "started_at",
            "eta_seconds",
        )
    }
    # 150 s of work for 65% done: 150 * 35 / 65 = 80.8 s left.
    assert spec_fields == {
        "task_id": task_id,
        "title": "Cellphone Store CRM",
        "status": "running",
        "progress": 65,
        "current_step": 2,
        "total_steps": 4,
        "started_at": "2024-01-15T10:00:00Z",
        "eta_seconds": 81,
    }
    steps = [
        {
            key: step[key]
            for key in ("order", "name", "status", "progress", "duration_ms", "substeps")
            if key in step
        }
        for step in document["steps"]
    ]
    assert steps == [
        {
            "order": 1,
            "name": "Create database tables",
            "status": "completed",
            "progress": 100,
            "duration_ms": 15000,
        },
        {
            "order": 2,
            "name": "Generate application UI",
            "status": "running",
            "progress": 65,
            "substeps": [
                {"name": "Customer list", "done": True, "status": "completed"},
                {"name": "Product list", "done": True, "status": "completed"},
                {"name": "Sales form", "done": False, "status": "pending"},
                {"name": "Repair board", "done": False, "status": "pending"},
            ],
        },
        {"order": 3, "name": "Add search and filters", "status": "pending", "progress": 0},
        {"order": 4, "name": "Configure workflows", "status": "pending", "progress": 0},
    ]

    history = await (await http.get(f"/api/tasks/{task_id}/history")).json()
    last_per_step: dict[int, dict[str, Any]] = {}
    for row in history:
        last_per_step[row["step"]] = row
    assert [last_per_step[order] for order in (1, 2, 3, 4)] == [
        {
            "task_id": task_id,
            "step": 1,
            "percent": 100,
            "status": "completed",
            "updated_at": "2024-01-15T10:00:15Z",
        },
        {
            "task_id": task_id,
            "step": 2,
            "percent": 65,
            "status": "running",
            "updated_at": "2024-01-15T10:02:30Z",
        },
        {
            "task_id": task_id,
            "step": 3,
            "percent": 0,
            "status": "pending",
            "updated_at": "2024-01-15T10:00:00Z",
        },
        {
            "task_id": task_id,
            "step": 4,
            "percent": 0,
            "status": "pending",
            "updated_at": "2024-01-15T10:00:00Z",
        },
    ]
