"""Hostile and sloppy input: clear 4xx errors naming the field, and nothing half-written."""

from __future__ import annotations

import copy
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import CRM_TASK, Api


async def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    body = await response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "field"}
    assert body["error"]["message"]
    error: dict[str, Any] = body["error"]
    return error


async def _no_tasks(api: Api) -> None:
    listed = await api.client.get("/api/tasks", headers=api.auth())
    assert (await listed.json()) == []


async def _task(api: Api, body: dict[str, Any] | None = None) -> str:
    response = await api.client.post("/api/tasks", json=body or CRM_TASK, headers=api.auth())
    assert response.status == 201
    task_id: str = (await response.json())["task_id"]
    return task_id


async def test_oversize_body_is_413(api: Api) -> None:
    body = b'{"title": "' + b"x" * (1024 * 1024 + 10) + b'", "steps": ["a"]}'
    response = await api.client.post(
        "/api/tasks",
        data=io.BytesIO(body),
        headers={**api.auth(), "Content-Type": "application/json"},
    )
    error = await _error(response, 413)
    assert error["code"] == "too_large"
    await _no_tasks(api)


@pytest.mark.parametrize(
    "raw",
    [b'{"title": ', b"not json", b"", b"\xff\xfe", b'{"title": "a", "steps": ["a"]} trailing'],
    ids=["truncated", "words", "empty", "bad-utf8", "trailing-garbage"],
)
async def test_malformed_json_is_400(api: Api, raw: bytes) -> None:
    response = await api.client.post(
        "/api/tasks", data=raw, headers={**api.auth(), "Content-Type": "application/json"}
    )
    error = await _error(response, 400)
    assert error["code"] == "bad_request"
    await _no_tasks(api)


def _with(path: str, value: Any) -> dict[str, Any]:
    body = copy.deepcopy(CRM_TASK)
    target: Any = body
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if key.isdigit() else target[key]
    last = keys[-1]
    if last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_with("title", "x" * 501), "title"),
        (_with("title", ""), "title"),
        (_with("title", "   "), "title"),
        (_with("title", 42), "title"),
        (_with("title", "null\x00byte"), "title"),
        (_with("steps", []), "steps"),
        (_with("steps", [{"name": f"s{i}"} for i in range(201)]), "steps"),
        (_with("steps.1.substeps", [f"sub {i}" for i in range(101)]), "steps[1].substeps"),
        (_with("steps.1.substeps", ["same", "same"]), "steps[1].substeps[1]"),
        (_with("steps.1.substeps", False), "steps[1].substeps"),
        (_with("steps.0.weight", 0), "steps[0].weight"),
        (_with("steps.0.weight", "heavy"), "steps[0].weight"),
        (_with("steps.0.requires_approval", "yes"), "steps[0].requires_approval"),
        (_with("steps.0.colour", "red"), "steps[0].colour"),
        (_with("priority", "high"), "priority"),
        (_with("complexity", "huge"), "complexity"),
        (_with("complexity", 0), "complexity"),
        (_with("complexity", True), "complexity"),
    ],
    ids=[
        "title-501",
        "title-empty",
        "title-blank",
        "title-number",
        "title-nul",
        "no-steps",
        "201-steps",
        "101-substeps",
        "duplicate-substep",
        "substeps-false",
        "zero-weight",
        "text-weight",
        "approval-not-bool",
        "unknown-step-field",
        "unknown-field",
        "bad-complexity-word",
        "zero-complexity",
        "bool-complexity",
    ],
)
async def test_invalid_task_is_422_naming_the_field(
    api: Api, body: dict[str, Any], field: str
) -> None:
    response = await api.client.post("/api/tasks", json=body, headers=api.auth())
    error = await _error(response, 422)
    assert error["field"] == field
    await _no_tasks(api)


async def test_limits_are_inclusive(api: Api) -> None:
    body = {
        "title": "t" * 500,
        "steps": [{"name": f"step {i}"} for i in range(199)]
        + [{"name": "last", "substeps": [f"sub {i}" for i in range(100)]}],
    }
    response = await api.client.post("/api/tasks", json=body, headers=api.auth())
    assert response.status == 201
    document = await response.json()
    assert document["total_steps"] == 200
    assert len(document["steps"][199]["substeps"]) == 100


@pytest.mark.parametrize(
    ("report", "field"),
    [
        ({"progress": 101}, "progress"),
        ({"progress": -1}, "progress"),
        ({"progress": "50"}, "progress"),
        ({"progress": True}, "progress"),
        ({"status": "done"}, "status"),
        ({"status": "paused"}, "status"),
        ({"substeps": [{"name": "Customer list"}]}, "substeps[0].done"),
        ({"substeps": [{"name": "Customer list", "done": "yes"}]}, "substeps[0].done"),
        ({"substeps": "Customer list"}, "substeps"),
        (
            {"substeps": [{"name": "Sales form", "status": "completed", "done": 1}]},
            "substeps[0].done",
        ),
        ({"eta": 5}, "eta"),
        ({"at": "yesterday"}, "at"),
        ({"at": "2024-01-15T10:00:00"}, "at"),
        ({"error": 404}, "error"),
    ],
    ids=lambda v: str(v),
)
async def test_invalid_report_is_422_and_changes_nothing(
    api: Api, report: dict[str, Any], field: str
) -> None:
    task_id = await _task(api)
    await api.client.patch(
        f"/api/tasks/{task_id}/steps/2", json={"status": "running"}, headers=api.auth()
    )
    before = await (
        await api.client.get(f"/api/tasks/{task_id}/history", headers=api.auth())
    ).json()
    response = await api.client.patch(
        f"/api/tasks/{task_id}/steps/2", json=report, headers=api.auth()
    )
    error = await _error(response, 422)
    assert error["field"] == field
    after = await (await api.client.get(f"/api/tasks/{task_id}/history", headers=api.auth())).json()
    assert after == before


async def test_report_from_the_future_is_refused(api: Api) -> None:
    task_id = await _task(api)
    future = (datetime.now(UTC) + timedelta(minutes=6)).isoformat()
    response = await api.client.patch(
        f"/api/tasks/{task_id}/steps/1",
        json={"status": "running", "at": future},
        headers=api.auth(),
    )
    error = await _error(response, 422)
    assert error["field"] == "at"
    progress = await (await api.client.get(f"/api/tasks/{task_id}", headers=api.auth())).json()
    assert progress["steps"][0]["status"] == "pending"


async def test_report_with_past_at_keeps_its_timing(api: Api) -> None:
    task_id = await _task(api)
    await api.client.patch(
        f"/api/tasks/{task_id}/steps/1",
        json={"status": "running", "at": "2024-01-15T10:00:00Z"},
        headers=api.auth(),
    )
    response = await api.client.patch(
        f"/api/tasks/{task_id}/steps/1",
        json={"status": "completed", "at": "2024-01-15T10:00:15+00:00"},
        headers=api.auth(),
    )
    step = (await response.json())["task"]["steps"][0]
    assert step["started_at"] == "2024-01-15T10:00:00Z"
    assert step["finished_at"] == "2024-01-15T10:00:15Z"
    assert step["duration_ms"] == 15000
    history = await (
        await api.client.get(f"/api/tasks/{task_id}/history", headers=api.auth())
    ).json()
    assert history[-1] == {
        "task_id": task_id,
        "step": 1,
        "percent": 100,
        "status": "completed",
        "updated_at": "2024-01-15T10:00:15Z",
    }


@pytest.mark.parametrize(
    "path",
    ["/api/tasks/{id}/steps/0", "/api/tasks/{id}/steps/5", "/api/tasks/{id}/steps/x"],
    ids=["step-0", "step-5", "step-x"],
)
async def test_missing_step_is_404(api: Api, path: str) -> None:
    task_id = await _task(api)
    response = await api.client.patch(
        path.format(id=task_id), json={"status": "running"}, headers=api.auth()
    )
    error = await _error(response, 404)
    assert error["field"] == "order"


async def test_illegal_transition_is_409_with_a_sentence(api: Api) -> None:
    task_id = await _task(api)
    url = f"/api/tasks/{task_id}/steps/1"
    await api.client.patch(url, json={"status": "completed"}, headers=api.auth())
    response = await api.client.patch(url, json={"status": "running"}, headers=api.auth())
    error = await _error(response, 409)
    assert error["message"] == (
        'Step 1 "Create database tables" is already completed, so it can\'t become running.'
    )
    retry = await api.client.post(f"{url}/retry", headers=api.auth())
    error = await _error(retry, 409)
    assert error["message"] == (
        'Step 1 "Create database tables" is already completed, so it can\'t be retried.'
    )


@pytest.mark.parametrize(
    "title",
    [
        "🚀 Deploy 📦 v2 ✅",
        "مرحبا بالعالم — RTL ‏title‎",
        "Robert'); DROP TABLE tasks;--",
        "' OR 1=1 --",
        '<script>alert("x")</script> & <!channel>',
        "e\u0301 combining, ZWJ 👩‍💻, NBSP\u00a0end",
        "  leading and trailing spaces  ",
    ],
    ids=["emoji", "rtl", "sql-drop", "sql-or", "html", "combining", "spaces"],
)
async def test_strange_titles_round_trip_byte_identical(api: Api, title: str) -> None:
    body = {"title": title, "steps": [{"name": title, "substeps": [title]}]}
    created = await api.client.post("/api/tasks", json=body, headers=api.auth())
    assert created.status == 201
    task_id = (await created.json())["task_id"]
    fetched = await api.client.get(f"/api/tasks/{task_id}/progress", headers=api.auth())
    document = await fetched.json()
    assert document["title"].encode() == title.encode()
    assert document["steps"][0]["name"].encode() == title.encode()
    assert document["steps"][0]["substeps"][0]["name"].encode() == title.encode()
    listed = await (await api.client.get("/api/tasks", headers=api.auth())).json()
    assert [t["title"] for t in listed] == [title]


async def test_idempotency_key_returns_the_same_task(api: Api) -> None:
    body = {**CRM_TASK, "idempotency_key": "build-42"}
    first = await api.client.post("/api/tasks", json=body, headers=api.auth())
    second = await api.client.post("/api/tasks", json=body, headers=api.auth())
    assert first.status == second.status == 201
    assert (await first.json())["task_id"] == (await second.json())["task_id"]
    assert second.headers["Idempotent-Replayed"] == "true"
    listed = await (await api.client.get("/api/tasks", headers=api.auth())).json()
    assert len(listed) == 1
    # the key is per user: bob's identical key makes bob's own task
    bobs = await api.client.post("/api/tasks", json=body, headers=api.auth(api.bob))
    assert (await bobs.json())["task_id"] != (await first.json())["task_id"]


@pytest.mark.parametrize(
    ("query", "field"),
    [("?tail=0", "tail"), ("?tail=abc", "tail"), ("?tail=10001", "tail")],
)
async def test_bad_log_tail_is_422(api: Api, query: str, field: str) -> None:
    task_id = await _task(api)
    response = await api.client.get(f"/api/tasks/{task_id}/logs{query}", headers=api.auth())
    error = await _error(response, 422)
    assert error["field"] == field


async def test_bad_status_filter_is_422(api: Api) -> None:
    response = await api.client.get("/api/tasks?status=sleeping", headers=api.auth())
    error = await _error(response, 422)
    assert error["field"] == "status"


async def test_logs_round_trip_and_tail(api: Api) -> None:
    task_id = await _task(api)
    lines = [{"message": f"line {i}", "level": "info", "step": 1} for i in range(30)]
    posted = await api.client.post(
        f"/api/tasks/{task_id}/logs", json={"lines": lines}, headers=api.auth()
    )
    assert (await posted.json()) == {"accepted": 30, "control": None}
    tail = await (
        await api.client.get(f"/api/tasks/{task_id}/logs?tail=3", headers=api.auth())
    ).json()
    assert [line["message"] for line in tail] == ["line 27", "line 28", "line 29"]
    assert tail[0]["step"] == 1
    bad = await api.client.post(
        f"/api/tasks/{task_id}/logs",
        json={"lines": [{"message": "ok"}, {"message": "x", "step": 9}]},
        headers=api.auth(),
    )
    error = await _error(bad, 422)
    assert error["field"] == "lines[1].step"
    again = await (
        await api.client.get(f"/api/tasks/{task_id}/logs?tail=100", headers=api.auth())
    ).json()
    assert len(again) == 30
