"""Subscriptions over the API (api.md) and from chat: what is stored is what was asked."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import CRM_TASK, Api

EVERYTHING = [
    "task_started",
    "step_complete",
    "approval_needed",
    "task_complete",
    "task_failed",
    "step_slow",
]


async def _put(api: Api, channel: str, body: Any, token: str | None = None) -> tuple[int, Any]:
    response = await api.client.put(
        f"/api/subscriptions/{channel}", json=body, headers=api.auth(token)
    )
    return response.status, await response.json()


async def _list(api: Api, token: str | None = None) -> Any:
    response = await api.client.get("/api/subscriptions", headers=api.auth(token))
    assert response.status == 200
    return await response.json()


async def test_put_get_replace_and_delete(api: Api) -> None:
    status, body = await _put(
        api,
        "email",
        {
            "address": "alice@example.com",
            "events": EVERYTHING,
            "min_task_minutes": 10,
            "quiet_hours": {"start": "22:00", "end": "07:00", "tz": "Europe/Lisbon"},
        },
    )
    assert status == 200
    stored = {k: v for k, v in body.items() if k not in ("created_at", "updated_at")}
    assert stored == {
        "channel": "email",
        "address": "alice@example.com",
        "events": EVERYTHING,
        "task_id": None,
        "min_task_minutes": 10,
        "quiet_hours": {"start": "22:00", "end": "07:00", "tz": "Europe/Lisbon"},
    }
    assert body["created_at"].endswith("Z")
    assert await _list(api) == [body]
    assert await _list(api, api.bob) == []

    # Only events is required; the address already given is kept; email defaults to 10 min.
    status, body = await _put(api, "email", {"events": ["task_complete"]})
    assert status == 200
    assert (body["address"], body["events"], body["min_task_minutes"], body["quiet_hours"]) == (
        "alice@example.com",
        ["task_complete"],
        10,
        None,
    )
    status, web = await _put(api, "web", {"events": ["approval_needed"]})
    assert (status, web["address"], web["min_task_minutes"]) == (200, None, 0)
    assert [s["channel"] for s in await _list(api)] == ["email", "web"]

    response = await api.client.delete("/api/subscriptions/email", headers=api.auth())
    assert response.status == 200
    assert [s["channel"] for s in (await response.json())["removed"]] == ["email"]
    assert [s["channel"] for s in await _list(api)] == ["web"]


async def test_a_subscription_for_one_task_and_only_ones_own(api: Api) -> None:
    created = await api.client.post("/api/tasks", json=CRM_TASK, headers=api.auth())
    task_id = (await created.json())["task_id"]
    status, body = await _put(api, "web", {"events": ["task_complete"], "task_id": task_id})
    assert (status, body["task_id"]) == (200, task_id)
    status, body = await _put(
        api, "web", {"events": ["task_complete"], "task_id": task_id}, api.bob
    )
    assert (status, body["error"]["code"], body["error"]["field"]) == (404, "not_found", "task_id")
    assert await _list(api, api.bob) == []


@pytest.mark.parametrize(
    ("channel", "body", "field"),
    [
        ("email", {"events": ["task_complete"]}, "address"),
        ("email", {"events": ["task_complete"], "address": "not-an-email"}, "address"),
        ("telegram", {"events": ["task_complete"]}, "address"),
        ("web", {}, "events"),
        ("web", {"events": []}, "events"),
        ("web", {"events": ["task_complete", "lunch"]}, "events[1]"),
        ("web", {"events": ["task_complete"], "min_task_minutes": -1}, "min_task_minutes"),
        ("web", {"events": ["task_complete"], "min_task_minutes": True}, "min_task_minutes"),
        (
            "web",
            {"events": ["task_complete"], "quiet_hours": {"start": "25:00", "end": "07:00"}},
            "quiet_hours.start",
        ),
        (
            "web",
            {
                "events": ["task_complete"],
                "quiet_hours": {"start": "22:00", "end": "07:00", "tz": "Mars/Base"},
            },
            "quiet_hours.tz",
        ),
        ("web", {"events": ["task_complete"], "colour": "red"}, "colour"),
    ],
)
async def test_bad_subscriptions_name_the_field(
    api: Api, channel: str, body: Any, field: str
) -> None:
    status, answer = await _put(api, channel, body)
    assert status == 422
    assert answer["error"]["field"] == field
    assert await _list(api) == []


async def test_an_unknown_channel_is_not_found(api: Api) -> None:
    status, answer = await _put(api, "pigeon", {"events": ["task_complete"]})
    assert (status, answer["error"]["field"]) == (404, "channel")
    response = await api.client.delete("/api/subscriptions/pigeon", headers=api.auth())
    assert response.status == 404


async def test_subscribing_and_stopping_from_chat(api: Api) -> None:
    created = await api.client.post("/api/tasks", json=CRM_TASK, headers=api.auth())
    task_id = (await created.json())["task_id"]

    async def say(text: str) -> str:
        response = await api.client.post("/api/chat", json={"text": text}, headers=api.auth())
        reply: str = (await response.json())["replies"][0]["text"]
        return reply

    assert await say("notify me by email when my CRM task finishes") == (
        "I don't have your email address yet. "
        "Say “notify me by email at you@example.com when it finishes”."
    )
    assert await _list(api) == []
    assert await say("notify me by email at alice@example.com when my CRM task finishes") == (
        "🔔 Done: I'll tell you by email (alice@example.com) when your Cellphone Store CRM "
        "task completes or fails."
    )
    [stored] = await _list(api)
    assert (stored["channel"], stored["address"], stored["task_id"], stored["events"]) == (
        "email",
        "alice@example.com",
        task_id,
        ["task_complete", "task_failed"],
    )
    assert await say("notify me when a task needs approval") == (
        "🔔 Done: I'll tell you here in the browser when a task of yours needs your approval."
    )
    assert await say("stop emailing me") == "🔕 Done: no more email notifications."
    assert [s["channel"] for s in await _list(api)] == ["web"]
    assert await say("stop notifying me") == "🔕 Done: no more notifications."
    assert await _list(api) == []
