"""Rasa's action calls, recorded as Rasa 3.x sends them, against the whole app.

The payloads under tests/payloads/rasa/ have the shape of Rasa's
`CustomActionRequestWriter.create` (next_action, sender_id, the full tracker state with
`EventVerbosity.ALL`, the domain, the version); the answers are checked against what
`rasa_sdk.endpoint` returns for the same call.
"""

from __future__ import annotations

import copy
import io
import json
import re
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer
from rasa_sdk import Tracker

from adapters.rasa_actions import (
    ACTION_NAMES,
    COMMANDS,
    PRESS_INTENT,
    RasaActions,
    command_text,
)
from bot.app import build_app
from bot.keys import SERVICE
from bot.settings import RasaSettings, load_settings
from engine.service import TaskService
from tests.app_setup import user_tokens
from tests.conftest import CRM_TASK

PAYLOADS = Path(__file__).resolve().parent.parent / "payloads" / "rasa"
PROJECT = Path(__file__).resolve().parents[2] / "rasa"
TOKEN = "rasa-shared-secret-4d1c9a"
WEBHOOK = RasaSettings().webhook_path
ALICE = "9c1f3e2a7b5d4c06a8e1f2b3c4d5e6f7"  # the sender id in the recordings
BOB = "b0b5e4d3c2b1a09f8e7d6c5b4a392817"
NOT_LINKED = (
    "👋 I don't know who you are yet. Where tasktalk runs, type tasktalk link YOUR-NAME "
    "and send me the code it prints (like K7M3-Q9TX)."
)
#: What `CollectingDispatcher.utter_message(text=..., buttons=...)` puts around a reply.
UTTERED: dict[str, Any] = {
    "elements": [],
    "custom": {},
    "template": None,
    "response": None,
    "image": None,
    "attachment": None,
}


def recorded(name: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text("utf-8"))
    return payload


def as_sender(payload: dict[str, Any], sender: str) -> dict[str, Any]:
    payload = copy.deepcopy(payload)
    payload["sender_id"] = payload["tracker"]["sender_id"] = sender
    return payload


def saying(payload: dict[str, Any], text: str, **entities: str) -> dict[str, Any]:
    """The recording with another message text and entities (as Rasa's NLU found them)."""
    payload = copy.deepcopy(payload)
    found = [{"entity": k, "value": v, "extractor": "DIETClassifier"} for k, v in entities.items()]
    for parse in (payload["tracker"]["latest_message"], _user_event(payload)["parse_data"]):
        parse["text"], parse["entities"] = text, found
    _user_event(payload)["text"] = text
    return payload


def clicking(button: dict[str, str]) -> dict[str, Any]:
    """Alice clicks `button`: Rasa parses its `/intent{json}` payload into intent and
    entities (RegexMessageHandler) and runs the rule's action, action_press."""
    payload = copy.deepcopy(recorded("action_press"))
    match = re.fullmatch(r"/(\w+)(\{.*\})", button["payload"])
    assert match is not None and match.group(1) == PRESS_INTENT
    entities = [
        {"entity": k, "start": match.start(2), "end": match.end(2), "value": v}
        for k, v in json.loads(match.group(2)).items()
    ]
    for parse in (payload["tracker"]["latest_message"], _user_event(payload)["parse_data"]):
        parse["text"], parse["entities"] = button["payload"], entities
    _user_event(payload)["text"] = button["payload"]
    return payload


def _user_event(payload: dict[str, Any]) -> dict[str, Any]:
    event: dict[str, Any] = next(e for e in payload["tracker"]["events"] if e["event"] == "user")
    return event


def texts(body: dict[str, Any]) -> list[str]:
    return [response["text"] for response in body["responses"]]


@dataclass
class Rasa:
    client: TestClient[Any, Any]
    service: TaskService
    alice: str  # alice's REST token

    async def call(
        self, payload: dict[str, Any], token: str | None = TOKEN, **kwargs: Any
    ) -> tuple[int, Any]:
        params = {"token": token} if token is not None else {}
        response = await self.client.post(WEBHOOK, json=payload, params=params, **kwargs)
        return response.status, await response.json()

    async def create_crm(self) -> str:
        response = await self.client.post("/api/tasks", json=CRM_TASK, headers=self._auth())
        assert response.status == 201
        task_id: str = (await response.json())["task_id"]
        return task_id

    async def progress(self, task_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/api/tasks/{task_id}/progress", headers=self._auth())
        assert response.status == 200
        document: dict[str, Any] = await response.json()
        return document

    async def report(self, task_id: str, order: int, **fields: Any) -> None:
        response = await self.client.patch(
            f"/api/tasks/{task_id}/steps/{order}", json=fields, headers=self._auth()
        )
        assert response.status == 200, await response.text()

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.alice}"}


@pytest.fixture
async def rasa(database_url: str) -> AsyncIterator[Rasa]:
    """The whole app with the Rasa channel on; alice's Rasa sender id is linked."""
    settings = load_settings(
        None,
        environ={},
        overrides={
            "database.url": database_url,
            "database.sqlite_synchronous": "NORMAL",
            "channels.rasa.token": TOKEN,
        },
    )
    app = build_app(settings)
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    [alice] = await user_tokens(database_url, "alice")
    service = app[SERVICE]
    await service.link_identity("alice", "rasa", ALICE, ALICE)
    yield Rasa(client, service, alice)
    await client.close()


def _buttons(task_id: str, *actions: str) -> list[dict[str, str]]:
    return [
        {
            "title": action.title(),
            "payload": f'/press{{"button":"{action}","task_id":"{task_id}"}}',
        }
        for action in actions
    ]


async def test_status_answers_with_the_status_text_its_buttons_and_the_task_slot(
    rasa: Rasa,
) -> None:
    task_id = await rasa.create_crm()
    status, body = await rasa.call(recorded("action_status"))
    assert status == 200
    assert body == {
        "events": [{"event": "slot", "timestamp": None, "name": "task", "value": task_id}],
        "responses": [
            {
                "text": "📊 Your Cellphone Store CRM task hasn't started yet.",
                "buttons": _buttons(task_id, "pause", "cancel"),
                **UTTERED,
            }
        ],
    }


async def test_pause_pauses_the_task_and_a_clicked_button_resumes_it(rasa: Rasa) -> None:
    task_id = await rasa.create_crm()
    status, body = await rasa.call(recorded("action_pause"))
    assert status == 200
    assert texts(body) == [
        "⏸ Paused your Cellphone Store CRM task at 0%. It stops at its next checkpoint."
    ]
    assert body["events"] == [
        {"event": "slot", "timestamp": None, "name": "task", "value": task_id}
    ]
    assert (await rasa.progress(task_id))["status"] == "paused"

    [resume, cancel] = body["responses"][0]["buttons"]
    assert [resume["title"], cancel["title"]] == ["Resume", "Cancel"]
    status, body = await rasa.call(clicking(resume))
    assert status == 200
    assert texts(body)[0].startswith("▶")
    assert (await rasa.progress(task_id))["status"] != "paused"


async def test_without_a_task_entity_the_message_itself_is_passed_on(rasa: Rasa) -> None:
    task_id = await rasa.create_crm()
    await rasa.call(recorded("action_status"))  # the conversation now talks about the CRM
    status, body = await rasa.call(recorded("action_pause_it"))
    assert status == 200
    assert texts(body)[0].startswith("⏸ Paused your Cellphone Store CRM task")
    assert (await rasa.progress(task_id))["status"] == "paused"


async def test_reject_a_step_with_the_reason(rasa: Rasa) -> None:
    task_id = await rasa.create_crm()
    await rasa.report(task_id, 1, status="completed")
    await rasa.report(task_id, 2, status="completed")
    await rasa.report(task_id, 3, status="running")
    assert (await rasa.progress(task_id))["steps"][2]["status"] == "approval"

    status, body = await rasa.call(recorded("action_reject"))
    assert status == 200
    assert texts(body) == [
        "❌ Rejected step 3 of your Cellphone Store CRM task: Add search and filters. "
        "Reason: the filters are wrong"
    ]
    assert body["events"] == [
        {"event": "slot", "timestamp": None, "name": "task", "value": task_id}
    ]
    assert [b["payload"] for b in body["responses"][0]["buttons"][:2]] == [
        f'/press{{"button":"retry","task_id":"{task_id}","step":3}}',
        f'/press{{"button":"skip","task_id":"{task_id}","step":3}}',
    ]
    step = (await rasa.progress(task_id))["steps"][2]
    assert (step["status"], step["error"]) == ("failed", "the filters are wrong")


async def test_list_and_logs(rasa: Rasa) -> None:
    await rasa.create_crm()
    status, body = await rasa.call(recorded("action_list"))  # "what's running?"
    assert (status, body["events"]) == (200, [])
    assert texts(body) == ["You have no running tasks."]
    status, body = await rasa.call(saying(recorded("action_list"), "list my tasks"))
    assert "Cellphone Store CRM" in texts(body)[0]
    status, body = await rasa.call(recorded("action_logs"))
    assert status == 200
    assert texts(body) == ["📜 Your Cellphone Store CRM task has no log lines yet."]


async def test_an_unknown_action_is_answered_as_rasa_sdk_does(rasa: Rasa) -> None:
    status, body = await rasa.call(recorded("action_unknown"))
    assert status == 404
    assert body == {
        "error": "No registered action found for name 'action_hello_world'.",
        "action_name": "action_hello_world",
    }


async def test_the_domain_is_asked_for_when_missing_then_remembered(rasa: Rasa) -> None:
    without = recorded("action_list")
    del without["domain"]
    status, body = await rasa.call(without)
    assert status == 449
    assert body["action_name"] == "action_list"
    assert (await rasa.call(recorded("action_list")))[0] == 200
    without["domain_digest"] = None
    assert (await rasa.call(without))[0] == 449  # no digest: it must send the domain again


@pytest.mark.parametrize(
    ("token", "headers", "expected"),
    [
        pytest.param(None, {}, 401, id="no token"),
        pytest.param("", {}, 403, id="empty token"),
        pytest.param("not-the-token", {}, 403, id="wrong token"),
        pytest.param(TOKEN[:-1], {}, 403, id="prefix of the token"),
        pytest.param(None, {"Authorization": "Bearer nope"}, 403, id="wrong bearer"),
        pytest.param(TOKEN, {"Authorization": "Bearer nope"}, 403, id="one of two wrong"),
    ],
)
async def test_calls_without_the_token_are_refused_and_change_nothing(
    rasa: Rasa, token: str | None, headers: dict[str, str], expected: int
) -> None:
    task_id = await rasa.create_crm()
    status, body = await rasa.call(recorded("action_pause"), token=token, headers=headers)
    assert status == expected
    assert "action_name" not in body  # not an action rejection: Rasa must not carry on
    assert (await rasa.progress(task_id))["status"] == "pending"


async def test_the_token_may_come_as_a_bearer_header(rasa: Rasa) -> None:
    task_id = await rasa.create_crm()
    status, _ = await rasa.call(
        recorded("action_pause"), token=None, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert status == 200
    assert (await rasa.progress(task_id))["status"] == "paused"


async def test_a_deflated_call_is_read(rasa: Rasa) -> None:
    """Rasa compresses action calls with COMPRESS_ACTION_SERVER_REQUEST=true."""
    await rasa.create_crm()
    response = await rasa.client.post(
        WEBHOOK,
        params={"token": TOKEN},
        data=zlib.compress(json.dumps(recorded("action_status")).encode()),
        headers={"Content-Type": "application/json", "Content-Encoding": "deflate"},
    )
    assert response.status == 200
    assert texts(await response.json()) == ["📊 Your Cellphone Store CRM task hasn't started yet."]


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'{"next_action": "action_status", "tracker": {}}'],
    ids=["not json", "not an object", "no sender"],
)
async def test_a_malformed_call_is_a_bad_request(rasa: Rasa, body: bytes) -> None:
    response = await rasa.client.post(
        WEBHOOK, params={"token": TOKEN}, data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    assert await response.json() == {"error": "Invalid body request"}


async def test_another_sender_naming_alices_task_changes_nothing(rasa: Rasa) -> None:
    task_id = await rasa.create_crm()
    await rasa.service.link_identity("bob", "rasa", BOB, BOB)
    as_bob = as_sender(recorded("action_pause"), BOB)
    for payload in (
        as_bob,
        saying(as_bob, f"pause {task_id}", task=task_id),
        as_sender(clicking(_buttons(task_id, "pause")[0]), BOB),
    ):
        status, body = await rasa.call(payload)
        assert status == 200
        assert body["events"] == []
        assert not any("Paused" in text for text in texts(body))
    assert (await rasa.progress(task_id))["status"] == "pending"


async def test_a_stranger_is_told_how_to_link_and_links_with_a_code(rasa: Rasa) -> None:
    task_id = await rasa.create_crm()
    stranger = "f00dfeed0badc0de1234567890abcdef"  # the sender of the link recording
    status, body = await rasa.call(as_sender(recorded("action_pause"), stranger))
    assert status == 200
    assert body == {"events": [], "responses": [{"text": NOT_LINKED, "buttons": [], **UTTERED}]}
    assert (await rasa.progress(task_id))["status"] == "pending"

    code, _ = await rasa.service.link_code("alice")
    link = saying(recorded("action_tasktalk_link"), f"link {code}")
    status, body = await rasa.call(link)
    assert status == 200
    assert texts(body) == [
        "🔗 Linked: you are alice on tasktalk. Ask me “How's my CRM task going?”, or say “help”."
    ]
    status, body = await rasa.call(as_sender(recorded("action_status"), stranger))
    assert texts(body) == ["📊 Your Cellphone Store CRM task hasn't started yet."]


@pytest.mark.parametrize(
    ("command", "text", "entities", "expected"),
    [
        pytest.param("pause", "hold the crm", {"task": "crm"}, "pause crm", id="task"),
        pytest.param(
            "retry",
            "again 2 of x",
            {"task": "deploy", "step": "2"},
            "retry step 2 of deploy",
            id="step number",
        ),
        pytest.param(
            "approve",
            "ok",
            {"task": "crm", "step": "filters"},
            "approve filters step of crm",
            id="step name",
        ),
        pytest.param(
            "reject",
            "no",
            {"task": "crm", "reason": "too slow"},
            "reject crm because too slow",
            id="reason",
        ),
        pytest.param("pause", "pause it", {"step": "2"}, "pause it", id="no task: as typed"),
        pytest.param("pause", "/pause", {}, "pause", id="intent payload"),
        pytest.param("list", "what failed?", {"task": "x"}, "what failed?", id="list as typed"),
        pytest.param("status", "status of\x00 crm", {}, "status of crm", id="NUL dropped"),
    ],
)
def test_the_words_each_action_sends(
    command: str, text: str, entities: dict[str, str], expected: str
) -> None:
    tracker = Tracker.from_dict(
        {
            "sender_id": ALICE,
            "latest_message": {
                "text": text,
                "intent": {"name": command, "confidence": 0.9},
                "entities": [{"entity": k, "value": v} for k, v in entities.items()],
            },
        }
    )
    assert command_text(command, COMMANDS[command], tracker) == expected


def test_without_a_token_the_actions_refuse_to_start() -> None:
    with pytest.raises(ValueError, match="RASA_ACTION_TOKEN"):
        RasaActions(RasaSettings(token=""), gateway=None)  # type: ignore[arg-type]


# --- the Rasa project folder -----------------------------------------------------------


def _project(name: str) -> Any:
    return yaml.safe_load((PROJECT / name).read_text("utf-8"))


def test_the_rasa_project_matches_the_actions() -> None:
    domain = _project("domain.yml")
    rules = _project("data/rules.yml")["rules"]
    nlu = _project("data/nlu.yml")["nlu"]
    assert _project("config.yml")["pipeline"]

    assert set(domain["actions"]) == set(ACTION_NAMES)
    assert {f"action_{name}" for name in COMMANDS} <= set(domain["actions"])
    ruled: dict[str, str] = {}
    for rule in rules:
        intent, action = (step.get("intent") for step in rule["steps"]), None
        [intent_name] = [i for i in intent if i]
        [action] = [step["action"] for step in rule["steps"] if "action" in step]
        ruled[intent_name] = action
        assert action in domain["actions"]
    assert set(domain["intents"]) <= set(ruled), "every intent has a rule"
    assert ruled["nlu_fallback"] == "action_tasktalk"
    for name in COMMANDS:
        assert ruled[name] == f"action_{name}"

    examples = {block["intent"]: block["examples"] for block in nlu if "intent" in block}
    assert set(examples) == set(domain["intents"]) - {PRESS_INTENT}
    entities = set(domain["entities"])
    for intent, text in examples.items():
        lines = [line[2:] for line in text.splitlines() if line.startswith("- ")]
        assert len(lines) >= 10, f"{intent} has {len(lines)} examples"
        for line in lines:
            assert set(re.findall(r"\]\((\w+)\)", line)) <= entities, line
    assert any("](task)" in text for text in examples.values())
    assert {"task", "step", "reason"} <= entities
    assert domain["slots"]["task"]["mappings"] == [{"type": "from_entity", "entity": "task"}]


def test_endpoints_point_at_our_webhook_with_the_token() -> None:
    endpoint = _project("endpoints.yml")["action_endpoint"]
    assert endpoint["url"] == f"http://localhost:8080{WEBHOOK}"
    assert endpoint["token"] == "${RASA_ACTION_TOKEN}"


def test_recordings_name_only_actions_of_the_domain() -> None:
    domain = _project("domain.yml")
    for path in PAYLOADS.glob("*.json"):
        payload = json.loads(path.read_text("utf-8"))
        assert set(payload) == {"next_action", "sender_id", "tracker", "domain", "version"}
        assert payload["sender_id"] == payload["tracker"]["sender_id"]
        assert payload["domain"]["actions"] == domain["actions"]
        if path.stem != "action_unknown":
            assert payload["next_action"] in domain["actions"]


async def test_a_long_conversation_is_not_refused_for_its_size(rasa: Rasa) -> None:
    """Rasa sends the whole tracker; 3 MB is past the API's 1 MiB, within Rasa's own limit."""
    task_id = await rasa.create_crm()
    payload = recorded("action_status")
    user = _user_event(payload)
    payload["tracker"]["events"] += [dict(user, text="x" * 1000) for _ in range(3000)]
    response = await rasa.client.post(
        WEBHOOK,
        data=io.BytesIO(json.dumps(payload).encode()),
        params={"token": TOKEN},
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 200
    body = await response.json()
    assert body["responses"][0]["text"] == "📊 Your Cellphone Store CRM task hasn't started yet."
    assert body["events"][0]["value"] == task_id
