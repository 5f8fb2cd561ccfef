"""Slack end to end: the real app and slack-bolt, Slack's Web API faked on 127.0.0.1.

Inbound requests are recorded payloads (tests/payloads/slack/), signed the way Slack signs
them; outbound calls land in `FakeSlack`, which the tests read like a chat transcript.
"""

from __future__ import annotations

import contextlib
import copy
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import yaml
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from slack_sdk.signature import SignatureVerifier

from adapters.base import ChannelError, OutgoingMessage
from adapters.slack import SlackChannel, SlackStartError
from adapters.slack_blocks import content
from bot.app import build_app
from bot.chat_gateway import ChatGateway
from bot.keys import GATEWAY, NOTIFIER
from bot.settings import SlackSettings, load_settings
from tests.adapters.fake_slack import FakeSlack
from tests.app_setup import user_tokens
from tests.conftest import CRM_TASK

PAYLOADS = Path(__file__).resolve().parent.parent / "payloads" / "slack"
MANIFEST = Path(__file__).resolve().parents[2] / "adapters" / "slack_manifest.yaml"
TOKEN = "xoxb-test-token"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
ALICE, BOB, MALLORY = "U1", "U2", "U3"


def payload(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


@dataclass
class Slack:
    """The app with Slack on, the fake Slack, and REST tokens for alice and bob."""

    client: TestClient[Any, Any]
    fake: FakeSlack
    channel: SlackChannel
    alice: str
    bob: str

    def auth(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.alice}"}

    async def post(
        self,
        body: str,
        content_type: str,
        *,
        secret: str = SECRET,
        timestamp: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> ClientResponse:
        """POST to /slack/events signed as Slack signs: v0 HMAC of "v0:{ts}:{body}"."""
        ts = str(int(time.time()) if timestamp is None else timestamp)
        signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body) or ""
        signed = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
            **(headers or {}),
        }
        return await self.client.post("/slack/events", data=body.encode(), headers=signed)

    async def event(self, event: dict[str, Any], **options: Any) -> ClientResponse:
        return await self.post(json.dumps(event), "application/json", **options)

    async def say(
        self, text: str, *, user: str = ALICE, event_id: str | None = None
    ) -> ClientResponse:
        """@mention the bot in #general (C1)."""
        mention = payload("app_mention")
        mention["event"].update(user=user, text=f"<@UBOT> {text}")
        mention["event_id"] = event_id or f"Ev{time.monotonic_ns()}"
        return await self.event(mention)

    async def command(self, text: str, *, user: str = ALICE) -> ClientResponse:
        fields = payload("slash_command")
        fields.update(text=text, user_id=user, response_url=f"{self.fake.url}/response/1")
        return await self.post(urlencode(fields), "application/x-www-form-urlencoded")

    async def press(
        self, message: dict[str, Any], label: str, *, user: str = ALICE
    ) -> ClientResponse:
        """Click the button captioned `label` under a message we posted (its recorded
        chat.postMessage params), as Slack reports the click."""
        blocks = message["blocks"]
        button = next(
            element
            for block in blocks
            if block["type"] == "actions"
            for element in block["elements"]
            if element["text"]["text"] == label
        )
        click = payload("block_actions")
        ts = message["ts"]
        click["user"] = {
            "id": user,
            "username": user.lower(),
            "name": user.lower(),
            "team_id": "T1",
        }
        click["container"]["message_ts"] = ts
        click["message"].update(ts=ts, text=message["text"], blocks=copy.deepcopy(blocks))
        click["response_url"] = f"{self.fake.url}/response/2"
        click["actions"][0].update(
            action_id=button["action_id"], value=button["value"], text=button["text"]
        )
        body = urlencode({"payload": json.dumps(click)})
        return await self.post(body, "application/x-www-form-urlencoded")

    async def replies(self, count: int = 1) -> list[dict[str, Any]]:
        """The first `count` messages posted (chat.postMessage params plus their `ts`),
        once they are all there."""
        await self.fake.wait_for("chat.postMessage", count)
        return self.fake.posted()[:count]

    async def settled(self) -> None:
        """Every request handled to the end (Bolt acks first and works after)."""
        await self.channel.idle()

    async def create(self, task: dict[str, Any] = CRM_TASK) -> str:
        response = await self.client.post("/api/tasks", json=task, headers=self.auth())
        assert response.status == 201, await response.text()
        task_id: str = (await response.json())["task_id"]
        return task_id

    async def report(self, task_id: str, order: int, **body: Any) -> None:
        response = await self.client.patch(
            f"/api/tasks/{task_id}/steps/{order}", json=body, headers=self.auth()
        )
        assert response.status == 200, await response.text()

    async def task(self, task_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/api/tasks/{task_id}", headers=self.auth())
        document: dict[str, Any] = await response.json()
        return document


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = FakeSlack(TOKEN)
    await server.start()
    yield server
    await server.close()


@contextlib.asynccontextmanager
async def running(database_url: str, fake: FakeSlack, **slack: Any) -> AsyncIterator[Slack]:
    """The whole app with Slack on (`slack`: more channels.slack settings)."""
    overrides = {
        "database.url": database_url,
        "database.sqlite_synchronous": "NORMAL",
        "channels.slack.bot_token": TOKEN,
        "channels.slack.signing_secret": SECRET,
        "channels.slack.api_url": f"{fake.url}/api/",
        "channels.links": ["slack:T1:U1=alice", "slack:T1:U2=bob"],
        "notify.edit_interval_seconds": 0,
    }
    overrides.update({f"channels.slack.{key}": value for key, value in slack.items()})
    app = build_app(load_settings(None, environ={}, overrides=overrides))
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    try:
        alice, bob = await user_tokens(database_url, "alice", "bob")
        channel = app[NOTIFIER].channels["slack"]
        assert isinstance(channel, SlackChannel)
        yield Slack(client, fake, channel, alice, bob)
    finally:
        await client.close()


@pytest.fixture
async def slack(database_url: str, fake: FakeSlack) -> AsyncIterator[Slack]:
    async with running(database_url, fake) as world:
        yield world


NOT_LINKED = (
    "👋 I don't know who you are yet. Where tasktalk runs, type `tasktalk link YOUR-NAME` "
    "and send me the code it prints (like `K7M3-Q9TX`)."
)
RUNNING_STATUS = (
    "📊 Your *Cellphone Store CRM task* is 0% complete.\n\nCurrently: Creating database tables"
)


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def labels(message: dict[str, Any]) -> list[str]:
    return [
        element["text"]["text"]
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]


async def test_a_mention_gets_the_status_in_mrkdwn_with_buttons(slack: Slack) -> None:
    crm = await slack.create()
    await slack.report(crm, 1, status="running")
    response = await slack.say("How's my CRM task going?")
    assert response.status == 200
    [reply] = await slack.replies()
    assert (reply["channel"], reply["text"]) == ("C1", RUNNING_STATUS)
    assert reply["blocks"] == [
        section(RUNNING_STATUS),
        {
            "type": "actions",
            "block_id": "tasktalk:0",
            "elements": [
                {
                    "type": "button",
                    "action_id": "tasktalk:pause:0",
                    "text": {"type": "plain_text", "text": "Pause"},
                    "value": f'{{"action":"pause","task_id":"{crm}","step":null}}',
                },
                {
                    "type": "button",
                    "action_id": "tasktalk:cancel:1",
                    "text": {"type": "plain_text", "text": "Cancel"},
                    "value": f'{{"action":"cancel","task_id":"{crm}","step":null}}',
                    "style": "danger",
                },
            ],
        },
    ]


async def test_a_direct_message_is_answered_in_the_dm(slack: Slack) -> None:
    crm = await slack.create()
    await slack.report(crm, 1, status="running")
    response = await slack.event(payload("message_im"))  # "what's running?"
    assert response.status == 200
    [reply] = await slack.replies()
    assert (reply["channel"], reply["text"]) == (
        "D1",
        "Your running tasks:\n"
        f"⏳ *Cellphone Store CRM*: 0%, running, step 1 of 4 · task `{crm[:6]}`",
    )
    assert "thread_ts" not in reply


async def test_a_mention_in_a_thread_is_answered_in_that_thread(slack: Slack) -> None:
    mention = payload("app_mention")
    mention["event"].update(text="<@UBOT> help", thread_ts="1700000050.000100")
    await slack.event(mention)
    [reply] = await slack.replies()
    assert (reply["channel"], reply["thread_ts"]) == ("C1", "1700000050.000100")


async def test_the_slash_command_answers_in_the_channel(slack: Slack) -> None:
    crm = await slack.create()
    await slack.report(crm, 1, status="running")
    response = await slack.command("status crm")
    assert (response.status, await response.text()) == (200, "")
    [reply] = await slack.replies()
    assert (reply["channel"], reply["text"]) == ("C1", RUNNING_STATUS)
    assert labels(reply) == ["Pause", "Cancel"]


async def test_the_slash_command_answers_privately_where_the_bot_is_not(slack: Slack) -> None:
    await slack.create()
    slack.fake.fail_next("chat.postMessage", "not_in_channel")
    await slack.command("status crm")
    [answer] = await slack.fake.wait_for("response_url")
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == "📊 Your *Cellphone Store CRM task* hasn't started yet."


async def test_a_pause_button_pauses_the_task(slack: Slack) -> None:
    crm = await slack.create()
    await slack.report(crm, 1, status="running")
    await slack.say("How's my CRM task going?")
    [status] = await slack.replies()
    response = await slack.press(status, "Pause")
    assert (response.status, await response.text()) == (200, "")  # the ack
    _, paused = await slack.replies(2)
    assert paused["text"].startswith("⏸ Paused your *Cellphone Store CRM task* at 0%.")
    assert labels(paused) == ["Resume", "Cancel"]
    assert (await slack.task(crm))["status"] == "paused"
    await slack.settled()
    assert "chat.update" not in slack.fake.methods()  # only approvals rewrite the message


async def approval_card(slack: Slack) -> tuple[str, dict[str, Any]]:
    """The CRM task waiting for approval of step 3, and alice's status message about it."""
    crm = await slack.create()
    for order in (1, 2):
        await slack.report(crm, order, status="running")
        await slack.report(crm, order, status="completed")
    await slack.report(crm, 3, status="running")
    await slack.say("How's my CRM task going?")
    [status] = await slack.replies()
    assert labels(status) == ["Approve", "Reject", "Pause", "Cancel"]
    return crm, status


async def test_an_approval_press_shows_the_decision_in_place_of_the_buttons(slack: Slack) -> None:
    crm, status = await approval_card(slack)
    response = await slack.press(status, "Approve")
    assert response.status == 200
    [update] = await slack.fake.wait_for("chat.update")
    decision = "✅ Approved step 3 of your *Cellphone Store CRM task*: Add search and filters."
    assert (update["channel"], update["ts"], update["text"]) == ("C1", status["ts"], decision)
    assert update["blocks"] == [status["blocks"][0], section(decision)]
    step = (await slack.task(crm))["steps"][2]
    assert step["status"] == "running"
    await slack.settled()
    assert len(slack.fake.posted()) == 1  # the decision is in the message, not a new one


async def test_someone_elses_button_or_task_changes_nothing(slack: Slack) -> None:
    crm, status = await approval_card(slack)
    await slack.press(status, "Approve", user=BOB)
    await slack.press(status, "Pause", user=BOB)
    await slack.say("pause the crm task", user=BOB)
    await slack.press(status, "Reject", user=MALLORY)
    replies = await slack.replies(5)
    nothing = "You have no active tasks right now."
    assert sorted(reply["text"] for reply in replies[1:]) == sorted(
        [
            f"I couldn't find a task of yours called “{crm}”.\n{nothing}",
            f"I couldn't find a task of yours called “{crm}”.\n{nothing}",
            f"I couldn't find a task of yours called “the crm task”.\n{nothing}",
            NOT_LINKED,
        ]
    )
    await slack.settled()
    assert "chat.update" not in slack.fake.methods()
    document = await slack.task(crm)
    assert (document["status"], document["steps"][2]["status"]) == ("approval", "approval")


async def test_an_unlinked_person_is_told_how_to_link_and_nothing_else(slack: Slack) -> None:
    await slack.create()
    await slack.say("How's my CRM task going?", user=MALLORY)
    [reply] = await slack.replies()
    assert (reply["channel"], reply["text"]) == ("C1", NOT_LINKED)
    assert reply["blocks"] == [section(NOT_LINKED)]
    await slack.settled()
    assert [m for m in slack.fake.methods() if m != "auth.test"] == ["chat.postMessage"]


@pytest.mark.parametrize(
    ("secret", "age"),
    [pytest.param("not-the-secret", 0, id="forged"), pytest.param(SECRET, 301, id="stale")],
)
async def test_unsigned_or_stale_requests_are_refused_and_do_nothing(
    slack: Slack, secret: str, age: int
) -> None:
    crm = await slack.create()
    await slack.report(crm, 1, status="running")
    mention = payload("app_mention")
    response = await slack.event(mention, secret=secret, timestamp=int(time.time()) - age)
    assert response.status == 401
    fields = payload("slash_command")
    fields["text"] = "pause crm"
    response = await slack.post(
        urlencode(fields),
        "application/x-www-form-urlencoded",
        secret=secret,
        timestamp=int(time.time()) - age,
    )
    assert response.status == 401
    assert slack.fake.methods() == ["auth.test"]  # start-up's, nothing since
    assert (await slack.task(crm))["status"] == "running"
    # The refused copy did not use up the event id: the genuine delivery acts.
    await slack.event(mention)
    [reply] = await slack.replies()
    assert reply["text"] == RUNNING_STATUS


async def test_an_event_delivered_four_times_acts_once(slack: Slack) -> None:
    crm = await slack.create()
    await slack.report(crm, 1, status="running")
    mention = payload("app_mention")
    mention["event"]["text"] = "<@UBOT> pause my crm task"
    retries: list[dict[str, str]] = [{}] + [
        {"X-Slack-Retry-Num": str(n), "X-Slack-Retry-Reason": "http_timeout"} for n in (1, 2, 3)
    ]
    for headers in retries:
        response = await slack.event(mention, headers=headers)
        assert response.status == 200
    [reply] = await slack.replies()
    assert reply["text"].startswith("⏸ Paused your *Cellphone Store CRM task*")
    await slack.settled()
    assert len(slack.fake.posted()) == 1
    history = await slack.client.get(f"/api/tasks/{crm}/history", headers=slack.auth())
    assert [row["status"] for row in await history.json()].count("paused") == 1


async def test_a_title_that_could_ping_arrives_escaped_everywhere(slack: Slack) -> None:
    response = await slack.client.put(
        "/api/subscriptions/slack",
        json={"address": "C1", "events": ["task_started", "task_complete"]},
        headers=slack.auth(),
    )
    assert response.status == 200, await response.text()
    task = {"title": "<!channel> <b>x</b>", "steps": [{"name": "<!here> step"}]}
    task_id = await slack.create(task)
    await slack.report(task_id, 1, status="running")
    await slack.replies(2)  # the live card and "has started"
    await slack.say("How's my <!channel> task going?")
    sent = await slack.replies(3)
    for message in sent:
        assert "&lt;!channel&gt; &lt;b&gt;x&lt;/b&gt;" in message["text"]
    await slack.report(task_id, 1, progress=50)
    [edit] = await slack.fake.wait_for("chat.update")  # the live card
    assert "&lt;!channel&gt; &lt;b&gt;x&lt;/b&gt;" in edit["text"]
    await slack.settled()
    for call in slack.fake.calls:
        texts = [call.params.get("text", "")] + [
            block["text"]["text"] for block in call.params.get("blocks", []) if "text" in block
        ]
        for text in texts:
            assert "<!" not in text and "<b>" not in text, text


async def test_a_live_card_is_posted_once_then_edited(slack: Slack) -> None:
    response = await slack.client.put(
        "/api/subscriptions/slack",
        json={"address": "C1", "events": ["task_complete"]},
        headers=slack.auth(),
    )
    assert response.status == 200, await response.text()
    crm = await slack.create()
    await slack.report(crm, 1, status="running")
    [card] = await slack.replies()
    assert card["text"].startswith("📊 Your *Cellphone Store CRM task*")
    await slack.report(crm, 1, progress=50)
    [edit] = await slack.fake.wait_for("chat.update")
    assert (edit["channel"], edit["ts"]) == ("C1", card["ts"])
    assert edit["text"].startswith("📊 Your *Cellphone Store CRM task* is 13% complete.")
    assert len(slack.fake.posted()) == 1


async def test_slack_errors_become_channel_errors(slack: Slack) -> None:
    message = OutgoingMessage("hello")
    slack.fake.fail_next(
        "chat.postMessage", "ratelimited", status=429, headers={"Retry-After": "7"}
    )
    with pytest.raises(ChannelError) as raised:
        await slack.channel.send("C1", message)
    assert (raised.value.permanent, raised.value.retry_after) == (False, 7.0)
    for code in ("channel_not_found", "not_in_channel", "invalid_auth", "msg_too_long"):
        slack.fake.fail_next("chat.postMessage", code)
        with pytest.raises(ChannelError, match=code) as raised:
            await slack.channel.send("C1", message)
        assert (raised.value.permanent, raised.value.retry_after) == (True, None)
    slack.fake.fail_next("chat.update", "internal_error", status=500)
    ref = await slack.channel.send("C1", message)
    assert ref.message_id == "C1:" + slack.fake.posted()[-1]["ts"]
    with pytest.raises(ChannelError) as raised:
        await slack.channel.edit(ref, message)
    assert raised.value.permanent is False


async def test_an_unreachable_slack_is_a_transient_error(slack: Slack, fake: FakeSlack) -> None:
    gateway = slack.client.app[GATEWAY]
    closed = FakeSlack(TOKEN)
    url = await closed.start()
    await closed.close()
    channel = SlackChannel(
        SlackSettings(bot_token=TOKEN, signing_secret=SECRET, api_url=url), gateway
    )
    with pytest.raises(ChannelError) as raised:
        await channel.send("C1", OutgoingMessage("hello"))
    assert raised.value.permanent is False
    with pytest.raises(SlackStartError, match="Could not reach Slack"):
        await channel.start()


async def test_start_fails_clearly_when_slack_refuses_the_token(
    slack: Slack, fake: FakeSlack
) -> None:
    gateway: ChatGateway = slack.client.app[GATEWAY]
    settings = SlackSettings(
        bot_token="xoxb-revoked", signing_secret=SECRET, api_url=fake.url + "/api"
    )
    channel = SlackChannel(settings, gateway)
    with pytest.raises(
        SlackStartError, match=r"Slack refused SLACK_BOT_TOKEN \(auth.test: .*invalid_auth"
    ):
        await channel.start()
    await channel.stop()


async def test_url_verification_is_answered(slack: Slack) -> None:
    challenge = payload("url_verification")
    response = await slack.event(challenge)
    assert response.status == 200
    assert (await response.json())["challenge"] == challenge["challenge"]


def test_long_text_is_split_into_sections_that_render_alone() -> None:
    log_lines = "\n".join(f"line {n} &lt;ok&gt;" for n in range(400))
    text = "📜 Logs:\n```\n" + log_lines + "\n```"
    blocks = content(OutgoingMessage(text))["blocks"]
    pieces = [block["text"]["text"] for block in blocks]
    assert len(pieces) > 1
    for piece in pieces:
        assert len(piece) <= 3000
        assert piece.count("```") % 2 == 0
    assert "\n".join(pieces).count("&lt;ok&gt;") == 400


def test_the_manifest_sets_up_events_command_and_buttons_in_one_paste() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    url = "https://YOUR-HOST" + SlackSettings().events_path
    settings = manifest["settings"]
    assert settings["event_subscriptions"]["request_url"] == url
    assert set(settings["event_subscriptions"]["bot_events"]) == {"app_mention", "message.im"}
    assert settings["interactivity"] == {"is_enabled": True, "request_url": url}
    [command] = manifest["features"]["slash_commands"]
    assert (command["command"], command["url"]) == ("/tasktalk", url)
    assert set(manifest["oauth_config"]["scopes"]["bot"]) >= {
        "app_mentions:read",
        "chat:write",
        "commands",
        "im:history",
    }


async def test_socket_mode_takes_events_without_a_public_url(
    database_url: str, fake: FakeSlack
) -> None:
    async with running(
        database_url, fake, socket_mode=True, app_token=fake.app_token, signing_secret=""
    ) as slack:
        crm = await slack.create()
        await slack.report(crm, 1, status="running")
        mention = payload("app_mention")
        envelope = {
            "type": "events_api",
            "envelope_id": "57d6a792-4d35-4d0b-b6aa-3361493e1caf",
            "payload": mention,
            "accepts_response_payload": False,
            "retry_attempt": 0,
            "retry_reason": "",
        }
        await fake.push(envelope)
        [ack] = await fake.wait_for("socket_ack")
        assert ack == {"envelope_id": envelope["envelope_id"]}
        [reply] = await slack.replies()
        assert (reply["channel"], reply["text"]) == ("C1", RUNNING_STATUS)
        # A redelivery over the socket acts once too.
        await fake.push({**envelope, "envelope_id": "e2", "retry_attempt": 1})
        await fake.wait_for("socket_ack", 2)
        await slack.settled()
        assert len(slack.fake.posted()) == 1
        # Nothing listens over HTTP: there is no secret to check requests with.
        response = await slack.event(mention)
        assert response.status == 404


async def test_socket_mode_fails_clearly_on_a_bad_app_token(slack: Slack, fake: FakeSlack) -> None:
    settings = SlackSettings(
        bot_token=TOKEN, app_token="xapp-wrong", socket_mode=True, api_url=f"{fake.url}/api/"
    )
    channel = SlackChannel(settings, slack.client.app[GATEWAY])
    with pytest.raises(
        SlackStartError, match=r"Socket Mode did not connect .*invalid_auth.*SLACK_APP_TOKEN"
    ):
        await channel.start()
    with pytest.raises(ValueError, match="SLACK_APP_TOKEN"):
        SlackChannel(SlackSettings(bot_token=TOKEN, socket_mode=True), slack.client.app[GATEWAY])
