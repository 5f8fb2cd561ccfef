"""What a WebSocket client sees while the spec's CRM task runs, message by message."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientWebSocketResponse

from tests.conftest import CRM_TASK, Api


async def _next(ws: ClientWebSocketResponse) -> dict[str, Any]:
    message: dict[str, Any] = await ws.receive_json(timeout=5)
    return message


async def test_task_socket_streams_the_crm_run(api: Api) -> None:
    created = await (await api.client.post("/api/tasks", json=CRM_TASK, headers=api.auth())).json()
    task_id = created["task_id"]
    ws = await api.client.ws_connect(f"/ws/tasks/{task_id}?token={api.alice}")
    ready = await _next(ws)
    assert ready["type"] == "ready"
    assert ready["task"]["task_id"] == task_id
    assert ready["task"]["status"] == "pending"

    async def report(order: int, body: dict[str, Any]) -> dict[str, Any]:
        response = await api.client.patch(
            f"/api/tasks/{task_id}/steps/{order}", json=body, headers=api.auth()
        )
        assert response.status == 200
        result: dict[str, Any] = await response.json()
        return result

    await report(1, {"status": "running"})
    started, step_started = await _next(ws), await _next(ws)
    assert started["type"] == "task_started"
    assert started["seq"] > ready["seq"]
    assert (step_started["type"], step_started["step"], step_started["percent"]) == (
        "step_started",
        1,
        0,
    )
    await report(1, {"status": "completed"})
    complete = await _next(ws)
    assert complete["type"] == "step_complete"
    assert (complete["step"], complete["step_name"], complete["percent"]) == (
        1,
        "Create database tables",
        25,
    )
    await report(2, {"status": "running"})
    assert (await _next(ws))["type"] == "step_started"
    await report(2, {"progress": 50})
    progress = await _next(ws)
    assert progress["type"] == "progress"
    assert (progress["percent"], progress["step"], progress["step_percent"]) == (38, 2, 50)
    assert progress["status"] == "running"

    await api.client.post(f"/api/tasks/{task_id}/pause", headers=api.auth())
    paused = await _next(ws)
    assert (paused["type"], paused["status"], paused["by"]) == ("task_paused", "paused", "alice")
    await api.client.post(f"/api/tasks/{task_id}/resume", headers=api.auth())
    assert (await _next(ws))["type"] == "task_resumed"

    await report(2, {"status": "completed"})
    assert (await _next(ws))["type"] == "step_complete"
    waiting = await report(3, {"status": "running"})
    assert waiting["control"] == "wait"
    approval = await _next(ws)
    assert approval["type"] == "approval_needed"
    assert approval["approval"]["step"] == 3
    assert approval["approval"]["name"] == "Add search and filters"
    assert approval["status"] == "approval"

    await api.client.post(f"/api/tasks/{task_id}/steps/3/approve", headers=api.auth())
    approved, running = await _next(ws), await _next(ws)
    assert (approved["type"], approved["by"]) == ("step_approved", "alice")
    assert running["type"] == "step_started"
    await report(3, {"status": "completed"})
    await _next(ws)
    await report(4, {"status": "running"})
    await _next(ws)
    await report(4, {"status": "completed"})
    last_step, done = await _next(ws), await _next(ws)
    assert last_step["type"] == "step_complete"
    assert done["type"] == "task_complete"
    assert done["percent"] == 100
    assert done["result"]["status"] == "completed"
    assert done["result"]["steps_completed"] == 4
    await ws.close()


async def test_failure_carries_the_error(api: Api) -> None:
    created = await (await api.client.post("/api/tasks", json=CRM_TASK, headers=api.auth())).json()
    task_id = created["task_id"]
    ws = await api.client.ws_connect(f"/ws/tasks?token={api.alice}")
    await _next(ws)  # ready
    await api.client.patch(
        f"/api/tasks/{task_id}/steps/1",
        json={"status": "failed", "error": "disk full"},
        headers=api.auth(),
    )
    types = [(await _next(ws)) for _ in range(3)]
    assert [m["type"] for m in types] == ["task_started", "step_failed", "task_failed"]
    assert types[1]["error"] == "disk full"
    assert types[2]["error"] == "disk full"
    assert types[2]["status"] == "failed"
    await ws.close()


async def test_ready_mark_lets_a_client_resume_later(api: Api) -> None:
    ws = await api.client.ws_connect(f"/ws/tasks?token={api.alice}")
    mark = (await _next(ws))["seq"]
    await ws.close()
    created = await (await api.client.post("/api/tasks", json=CRM_TASK, headers=api.auth())).json()
    again = await api.client.ws_connect(f"/ws/tasks?token={api.alice}&since={mark}")
    replayed = await _next(again)
    assert (replayed["type"], replayed["task_id"], replayed["seq"]) == (
        "task_created",
        created["task_id"],
        mark + 1,
    )
    assert (await _next(again))["type"] == "ready"
    await again.close()
