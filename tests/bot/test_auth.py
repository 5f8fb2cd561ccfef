"""Who may see what: 401 without a valid token, 404 for someone else's task everywhere."""

from __future__ import annotations

import aiohttp
import pytest

from tests.conftest import CRM_TASK, Api

ALICE_TASK_ROUTES = [
    ("GET", "/api/tasks/{id}", None),
    ("GET", "/api/tasks/{id}/progress", None),
    ("GET", "/api/tasks/{id}/history", None),
    ("GET", "/api/tasks/{id}/logs", None),
    ("POST", "/api/tasks/{id}/logs", {"lines": [{"message": "hi"}]}),
    ("PATCH", "/api/tasks/{id}/steps/1", {"status": "running"}),
    ("POST", "/api/tasks/{id}/pause", None),
    ("POST", "/api/tasks/{id}/resume", None),
    ("POST", "/api/tasks/{id}/cancel", None),
    ("POST", "/api/tasks/{id}/restart", None),
    ("POST", "/api/tasks/{id}/steps/1/retry", None),
    ("POST", "/api/tasks/{id}/steps/1/skip", None),
    ("POST", "/api/tasks/{id}/steps/3/approve", None),
    ("POST", "/api/tasks/{id}/steps/3/reject", {"reason": "no"}),
]


async def _alice_task(api: Api) -> str:
    response = await api.client.post("/api/tasks", json=CRM_TASK, headers=api.auth())
    task_id: str = (await response.json())["task_id"]
    return task_id


@pytest.mark.parametrize("path", ["/api/tasks", "/api/me", "/api/tasks/abc/progress"])
async def test_missing_token_is_401_with_error_shape(api: Api, path: str) -> None:
    response = await api.client.get(path)
    assert response.status == 401
    body = await response.json()
    assert body["error"]["code"] == "unauthorized"
    assert body["error"]["field"] == "Authorization"


@pytest.mark.parametrize(
    "header",
    ["Bearer tt_not-a-real-token", "Bearer ", "Basic YWxpY2U6c2VjcmV0", "tt_token-without-scheme"],
)
async def test_bad_token_is_401(api: Api, header: str) -> None:
    response = await api.client.get("/api/tasks", headers={"Authorization": header})
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "unauthorized"


async def test_post_without_token_is_401_and_writes_nothing(api: Api) -> None:
    response = await api.client.post("/api/tasks", json=CRM_TASK)
    assert response.status == 401
    listed = await api.client.get("/api/tasks", headers=api.auth())
    assert (await listed.json()) == []


@pytest.mark.parametrize(("method", "path", "body"), ALICE_TASK_ROUTES, ids=lambda v: str(v))
async def test_other_users_task_answers_exactly_like_a_missing_one(
    api: Api, method: str, path: str, body: object
) -> None:
    task_id = await _alice_task(api)
    missing_id = "0123456789ab"
    as_bob = await api.client.request(
        method, path.format(id=task_id), json=body, headers=api.auth(api.bob)
    )
    missing = await api.client.request(
        method, path.format(id=missing_id), json=body, headers=api.auth(api.bob)
    )
    assert as_bob.status == missing.status == 404
    bob_error = (await as_bob.json())["error"]
    missing_error = (await missing.json())["error"]
    assert bob_error["code"] == missing_error["code"] == "not_found"
    assert bob_error["field"] == missing_error["field"] == "task_id"
    assert bob_error["message"].replace(task_id, "ID") == missing_error["message"].replace(
        missing_id, "ID"
    )
    progress = await api.client.get(f"/api/tasks/{task_id}/progress", headers=api.auth())
    document = await progress.json()
    assert document["status"] == "pending"
    assert [s["status"] for s in document["steps"]] == ["pending"] * 4


async def test_task_list_shows_only_own_tasks(api: Api) -> None:
    await _alice_task(api)
    bob = await api.client.get("/api/tasks", headers=api.auth(api.bob))
    assert (await bob.json()) == []
    alice = await api.client.get("/api/tasks", headers=api.auth())
    assert [t["title"] for t in (await alice.json())] == ["Cellphone Store CRM"]


async def test_websocket_without_token_is_401(api: Api) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
        await api.client.ws_connect("/ws/tasks")
    assert caught.value.status == 401


async def test_websocket_with_bad_token_is_401(api: Api) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
        await api.client.ws_connect("/ws/tasks?token=tt_forged")
    assert caught.value.status == 401


async def test_websocket_on_other_users_task_is_404(api: Api) -> None:
    task_id = await _alice_task(api)
    with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
        await api.client.ws_connect(f"/ws/tasks/{task_id}?token={api.bob}")
    assert caught.value.status == 404
    with pytest.raises(aiohttp.WSServerHandshakeError) as missing:
        await api.client.ws_connect(f"/ws/tasks/0123456789ab?token={api.bob}")
    assert missing.value.status == 404


async def test_websocket_from_foreign_origin_is_refused(api: Api) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
        await api.client.ws_connect(
            f"/ws/tasks?token={api.alice}", headers={"Origin": "https://evil.example"}
        )
    assert caught.value.status == 403


async def test_bob_receives_none_of_alices_events(api: Api) -> None:
    bob_ws = await api.client.ws_connect(f"/ws/tasks?token={api.bob}&since=0")
    ready = await bob_ws.receive_json(timeout=5)
    assert ready["type"] == "ready"
    task_id = await _alice_task(api)
    await api.client.patch(
        f"/api/tasks/{task_id}/steps/1", json={"status": "running"}, headers=api.auth()
    )
    own = await api.client.post(
        "/api/tasks", json={"title": "Bob's", "steps": ["one"]}, headers=api.auth(api.bob)
    )
    bob_task = (await own.json())["task_id"]
    message = await bob_ws.receive_json(timeout=5)
    assert (message["type"], message["task_id"]) == ("task_created", bob_task)
    await bob_ws.close()
