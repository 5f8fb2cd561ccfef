"""`POST /api/chat` and `tasktalk ask`: the conversation over HTTP, exactly as api.md says."""

from __future__ import annotations

import io
from typing import Any

import pytest

from bot.ask import ask
from bot.client_options import ClientOptions, normalise_server
from tests.conftest import CRM_TASK, Api


async def _create(api: Api, **changes: Any) -> str:
    response = await api.client.post("/api/tasks", json={**CRM_TASK, **changes}, headers=api.auth())
    assert response.status == 201
    task_id: str = (await response.json())["task_id"]
    return task_id


async def _chat(api: Api, body: Any, token: str | None = None) -> tuple[int, Any]:
    response = await api.client.post("/api/chat", json=body, headers=api.auth(token))
    return response.status, await response.json()


async def test_status_reply_and_its_buttons_as_api_md_shows(api: Api) -> None:
    task_id = await _create(api)
    status, body = await _chat(api, {"text": "How's my CRM task going?"})
    assert status == 200
    assert body == {
        "replies": [
            {
                "text": "📊 Your Cellphone Store CRM task hasn't started yet.",
                "buttons": [
                    {"label": "Pause", "action": "pause", "task_id": task_id, "step": None},
                    {"label": "Cancel", "action": "cancel", "task_id": task_id, "step": None},
                ],
            }
        ]
    }


async def test_a_pressed_button_acts_and_the_api_shows_it(api: Api) -> None:
    task_id = await _create(api)
    _, body = await _chat(api, {"text": "status of the crm"})
    pause = body["replies"][0]["buttons"][0]
    status, body = await _chat(api, {"button": pause})
    assert status == 200
    assert body["replies"][0]["text"] == (
        "⏸ Paused your Cellphone Store CRM task at 0%. It stops at its next checkpoint."
    )
    progress = await api.client.get(f"/api/tasks/{task_id}/progress", headers=api.auth())
    assert (await progress.json())["status"] == "paused"


async def test_context_is_kept_between_requests_and_per_user(api: Api) -> None:
    task_id = await _create(api)
    await _chat(api, {"text": "how's the crm?"})
    _, body = await _chat(api, {"text": "pause it"})
    assert body["replies"][0]["text"].startswith("⏸ Paused your Cellphone Store CRM task")
    # Bob has no tasks: "it" means nothing for him, and alice's task is not his to see.
    _, body = await _chat(api, {"text": "resume it"}, api.bob)
    assert (
        body["replies"][0]["text"] == "Which task do you mean?\nYou have no active tasks right now."
    )
    _, body = await _chat(api, {"button": {"action": "resume", "task_id": task_id}}, api.bob)
    assert body["replies"][0]["text"].startswith("I couldn't find a task of yours")
    progress = await api.client.get(f"/api/tasks/{task_id}/progress", headers=api.auth())
    assert (await progress.json())["status"] == "paused"


async def test_other_formats_on_request(api: Api) -> None:
    await _create(api, title="<!channel> launch")
    _, body = await _chat(api, {"text": "status of the launch", "format": "slack"})
    assert body["replies"][0]["text"] == (
        "📊 Your *&lt;!channel&gt; launch task* hasn't started yet."
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "text"),
        ({"text": ""}, "text"),
        ({"text": "   "}, "text"),
        ({"text": 5}, "text"),
        ({"text": "x" * 4001}, "text"),
        ({"text": "hi", "button": {"action": "pause"}}, "text"),
        ({"text": "hi", "colour": "red"}, "colour"),
        ({"text": "hi", "format": "html"}, "format"),
        ({"button": {"task_id": "abc"}}, "button.action"),
        ({"button": {"action": "pause", "step": 0}}, "button.step"),
        ({"button": "pause"}, "button"),
        (["hi"], None),
    ],
)
async def test_bad_requests_name_the_field(api: Api, body: Any, field: str | None) -> None:
    status, answer = await _chat(api, body)
    assert status == 422
    assert answer["error"]["code"] == "invalid"
    assert answer["error"].get("field") == field
    assert answer["error"]["message"]


async def test_without_a_token_chat_is_refused(api: Api) -> None:
    response = await api.client.post("/api/chat", json={"text": "hi"})
    assert response.status == 401


async def test_tasktalk_ask_prints_replies_and_buttons(api: Api) -> None:
    await _create(api)
    options = ClientOptions(normalise_server(str(api.client.make_url("/"))), api.alice)
    out = io.StringIO()
    assert await ask(options, "How's my CRM task going?", None, out) == 0
    assert out.getvalue() == (
        "📊 Your Cellphone Store CRM task hasn't started yet.\n  [Pause] [Cancel]\n"
    )
    out = io.StringIO()
    await ask(options, "pause it and show its logs", None, out)
    assert out.getvalue() == (
        "⏸ Paused your Cellphone Store CRM task at 0%. It stops at its next checkpoint.\n"
        "  [Resume] [Cancel]\n"
        "\n"
        "📜 Your Cellphone Store CRM task has no log lines yet.\n"
    )
