"""Telegram: the real python-telegram-bot client against a fake Bot API on 127.0.0.1, inside
the whole app (polling and webhook), reading like a chat with exact replies."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from adapters.base import Button, ChannelError, OutgoingMessage
from adapters.telegram import TelegramChannel
from adapters.telegram_flood import FloodControl
from adapters.telegram_html import split_html, truncate_html, units
from adapters.telegram_wire import COMMANDS, conversation_text, decode_button, encode_button
from bot.app import build_app
from bot.chat_gateway import ChatGateway
from bot.conversation import Conversation
from bot.keys import NOTIFIER
from bot.settings import TelegramSettings, load_settings
from tests.adapters.fake_telegram import (
    Call,
    FakeBotApi,
    inline_keyboard,
    payload,
    press_update,
    text_update,
)
from tests.app_setup import user_tokens
from tests.conftest import CRM_TASK, Engine

THANKS = "You're welcome!"
TOKEN = "123456:TEST-bot-token"
SECRET = "s3cret_token-for-tests"
ALICE, BOB, MALLORY = 1001, 2002, 666
NOT_LINKED = (
    "👋 I don't know who you are yet. Where tasktalk runs, type "
    "<code>tasktalk link YOUR-NAME</code> and send me the code it prints "
    "(like <code>K7M3-Q9TX</code>)."
)


@dataclass
class Telegram:
    """The app with Telegram on, its fake Bot API, and REST tokens for alice and bob."""

    fake: FakeBotApi
    client: TestClient[Any, Any]
    app: web.Application
    alice: str
    bob: str

    @property
    def channel(self) -> TelegramChannel:
        channel = self.app[NOTIFIER].channels["telegram"]
        assert isinstance(channel, TelegramChannel)
        return channel

    async def rest(self, method: str, path: str, body: Any = None, token: str = "") -> Any:
        headers = {"Authorization": f"Bearer {token or self.alice}"}
        response = await self.client.request(method, path, json=body, headers=headers)
        assert response.status < 300, await response.text()
        return await response.json()

    async def create(self, **changes: Any) -> str:
        task_id: str = (await self.rest("POST", "/api/tasks", {**CRM_TASK, **changes}))["task_id"]
        return task_id

    async def status(self, task_id: str) -> str:
        status: str = (await self.rest("GET", f"/api/tasks/{task_id}/progress"))["status"]
        return status

    def sent(self, chat: int) -> list[Call]:
        return [c for c in self.fake.called("sendMessage") if c.params["chat_id"] == str(chat)]

    async def deliver(self, update: dict[str, Any], chat: int, replies: int = 1) -> list[Call]:
        """Push one update and return the messages it made the bot send to `chat`."""
        before = len(self.sent(chat))
        await self.fake.push(update)
        return (await self._wait_sent(chat, before + replies))[before:]

    async def say(self, text: str, user: int = ALICE, replies: int = 1) -> list[str]:
        sent = await self.deliver(text_update(text, user=user), user, replies)
        return [call.params["text"] for call in sent]

    async def press(self, data: str, user: int = ALICE) -> tuple[list[str], Call]:
        """A button click: the bot's messages and its answerCallbackQuery."""
        answers = len(self.fake.called("answerCallbackQuery"))
        sent = await self.deliver(press_update(data, user=user), user)
        [answer] = (await self.fake.wait_for("answerCallbackQuery", answers + 1))[answers:]
        return [call.params["text"] for call in sent], answer

    async def settle(self, user: int) -> None:
        """Everything pushed for this chat so far has been handled (updates are handled in
        order per chat, so the reply to one more message means the earlier ones are done)."""

        def thanked() -> int:
            return sum(c.params["text"] == THANKS for c in self.sent(user))

        before = thanked()
        await self.fake.push(text_update("thanks", user=user))
        deadline = time.monotonic() + 10
        while thanked() == before:
            assert time.monotonic() < deadline, "no reply to thanks"
            await asyncio.sleep(0.02)

    async def _wait_sent(self, chat: int, count: int) -> list[Call]:
        deadline = time.monotonic() + 10
        while len(self.sent(chat)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{count} messages to {chat}: {self.fake.methods()}")
            await asyncio.sleep(0.02)
        return self.sent(chat)


StartApp = Callable[..., Awaitable[Telegram]]


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    api = FakeBotApi(TOKEN)
    await api.start()
    yield api
    await api.close()


@pytest.fixture
async def start_app(database_url: str, fake: FakeBotApi) -> AsyncIterator[StartApp]:
    clients: list[TestClient[Any, Any]] = []

    async def start(**overrides: Any) -> Telegram:
        settings = load_settings(
            None,
            environ={},
            overrides={
                "database.url": database_url,
                "database.sqlite_synchronous": "NORMAL",
                "channels.telegram.token": TOKEN,
                "channels.telegram.base_url": fake.base_url,
                "channels.links": [f"telegram:{ALICE}=alice", f"telegram:{BOB}=bob"],
                "notify.edit_interval_seconds": 0.2,
                **overrides,
            },
        )
        app = build_app(settings)
        client: TestClient[Any, Any] = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        alice, bob = await user_tokens(database_url, "alice", "bob")
        return Telegram(fake, client, app, alice, bob)

    yield start
    for client in clients:
        await client.close()


@pytest.fixture
async def telegram(start_app: StartApp) -> Telegram:
    return await start_app()


# --- polling, the default -------------------------------------------------------------------


async def test_start_checks_the_token_registers_commands_and_polls(telegram: Telegram) -> None:
    await telegram.fake.wait_for("getUpdates")
    assert telegram.fake.methods()[:4] == ["getMe", "setMyCommands", "deleteWebhook", "getUpdates"]
    [commands] = telegram.fake.called("setMyCommands")
    assert [c["command"] for c in commands.json("commands")] == [
        "status",
        "tasks",
        "logs",
        "pause",
        "resume",
        "cancel",
        "approve",
        "help",
    ]
    assert all(c["description"] for c in commands.json("commands"))
    [poll, *_] = telegram.fake.called("getUpdates")
    assert json.loads(poll.params["allowed_updates"]) == ["message", "callback_query"]
    assert int(poll.params["timeout"]) > 0  # long polling


async def test_free_text_gets_the_status_reply_with_inline_buttons(telegram: Telegram) -> None:
    task_id = await telegram.create()
    [reply] = await telegram.deliver(text_update("How's my CRM task going?"), ALICE)
    assert reply.params["text"] == "📊 Your <b>Cellphone Store CRM task</b> hasn't started yet."
    assert reply.params["parse_mode"] == "HTML"
    assert inline_keyboard(reply) == [
        [("Pause", f"pause|{task_id}|"), ("Cancel", f"cancel|{task_id}|")]
    ]


async def test_commands_map_to_what_the_conversation_understands(telegram: Telegram) -> None:
    task_id = await telegram.create()
    assert await telegram.say("/tasks") == [
        "Your tasks:\n○ <b>Cellphone Store CRM</b>: 0%, not started · task "
        f"<code>{task_id[:6]}</code>"
    ]
    status = ["📊 Your <b>Cellphone Store CRM task</b> hasn't started yet."]
    assert await telegram.say("/status crm") == status
    assert await telegram.say("/status@tasktalk_bot crm") == status
    assert await telegram.say("/logs crm") == [
        "📜 Your <b>Cellphone Store CRM task</b> has no log lines yet."
    ]
    [help_text] = await telegram.say("/help")
    assert help_text.startswith("I can tell you how your tasks are going")
    assert await telegram.say("/start") == [help_text]
    assert (await telegram.say("/pause crm"))[0].startswith("⏸ Paused your")
    assert await telegram.status(task_id) == "paused"


async def test_a_command_from_a_group_recorded_payload(telegram: Telegram) -> None:
    await telegram.create()
    update = payload("group_command")  # "/status@tasktalk_bot crm" in a supergroup
    chat = update["message"]["chat"]["id"]
    [reply] = await telegram.deliver(update, chat)
    assert reply.params["text"] == "📊 Your <b>Cellphone Store CRM task</b> hasn't started yet."


async def test_a_button_acts_and_the_callback_is_answered(telegram: Telegram) -> None:
    task_id = await telegram.create()
    replies, answer = await telegram.press(f"pause|{task_id}|")
    paused = "⏸ Paused your <b>Cellphone Store CRM task</b> at 0%. It stops at its next checkpoint."
    assert replies == [paused]
    assert answer.params["text"] == (
        "⏸ Paused your Cellphone Store CRM task at 0%. It stops at its next checkpoint."
    )
    assert await telegram.status(task_id) == "paused"
    # The same button again: used already, and the engine's sentence says so.
    replies, answer = await telegram.press(f"pause|{task_id}|")
    already = '🚫 The "Cellphone Store CRM" task is already paused, so it can\'t be paused.'
    assert replies == [already]
    assert answer.params["text"] == replies[0]


async def test_buttons_on_someone_elses_or_a_finished_task_change_nothing(
    telegram: Telegram,
) -> None:
    crm = await telegram.create()
    replies, answer = await telegram.press(f"cancel|{crm}|", user=BOB)
    assert replies[0].startswith("I couldn't find a task of yours")
    assert answer.params["callback_query_id"]
    assert await telegram.status(crm) == "pending"

    backup = await telegram.create(title="Nightly backup", steps=[{"name": "Copy"}])
    await telegram.rest("PATCH", f"/api/tasks/{backup}/steps/1", {"status": "completed"})
    replies, answer = await telegram.press(f"pause|{backup}|")
    assert "completed" in replies[0] and "can't be paused" in replies[0]
    assert answer.params["text"] == replies[0].replace("<b>", "").replace("</b>", "")
    assert await telegram.status(backup) == "completed"


async def test_forged_callback_data_is_answered_and_does_nothing(telegram: Telegram) -> None:
    crm = await telegram.create()
    for data in ("", "|||", "pause", "explode|" + crm + "|1", "pause|ffffffffffff|", "x" * 64):
        _, answer = await telegram.press(data)
        assert answer.params["callback_query_id"]
    assert await telegram.status(crm) == "pending"


async def test_the_same_update_twice_acts_once(telegram: Telegram) -> None:
    crm = await telegram.create()
    update = press_update(f"pause|{crm}|")
    await telegram.fake.push(update, update)
    await telegram.fake.push(update)  # and once more in a later getUpdates
    await telegram.settle(ALICE)
    assert len(telegram.fake.called("answerCallbackQuery")) == 1
    assert telegram.sent(ALICE)[0].params["text"].startswith("⏸ Paused")
    assert len(telegram.sent(ALICE)) == 2  # the pause, and the reply to "thanks"


async def test_a_stranger_gets_the_not_linked_reply_and_nothing_else(telegram: Telegram) -> None:
    crm = await telegram.create()
    assert await telegram.say("How's my CRM task going?", MALLORY) == [NOT_LINKED]
    replies, answer = await telegram.press(f"cancel|{crm}|", user=MALLORY)
    assert replies == [NOT_LINKED]
    assert answer.params["text"].startswith("👋 I don't know who you are yet.")
    assert await telegram.status(crm) == "pending"
    assert [c.params["text"] for c in telegram.sent(MALLORY)] == [NOT_LINKED, NOT_LINKED]
    assert all(c.params["chat_id"] == str(MALLORY) for c in telegram.fake.called("sendMessage"))


async def test_edited_messages_are_not_commands(telegram: Telegram) -> None:
    crm = await telegram.create()
    await telegram.fake.push(payload("edited_message"))  # "cancel my crm task", edited
    await telegram.settle(ALICE)
    assert len(telegram.sent(ALICE)) == 1
    assert await telegram.status(crm) == "pending"


async def test_a_live_card_is_sent_once_then_edited(telegram: Telegram) -> None:
    crm = await telegram.create()
    await telegram.rest(
        "PUT",
        "/api/subscriptions/telegram",
        {"events": ["task_complete"], "address": str(ALICE), "min_task_minutes": 0},
    )
    await telegram.rest("PATCH", f"/api/tasks/{crm}/steps/1", {"status": "running"})
    [card] = await telegram.fake.wait_for("sendMessage")
    assert "Your <b>Cellphone Store CRM task</b>" in card.params["text"]
    assert card.params["parse_mode"] == "HTML"
    await telegram.rest("PATCH", f"/api/tasks/{crm}/steps/1", {"progress": 60})
    edits = await telegram.fake.wait_for("editMessageText")
    assert edits[-1].params["chat_id"] == str(ALICE)
    assert edits[-1].params["message_id"] == "500"  # the card the fake numbered first
    assert edits[-1].params["parse_mode"] == "HTML"
    assert edits[-1].params["text"].startswith("📊 Your <b>Cellphone Store CRM task</b> is 15%")
    assert len(telegram.fake.called("sendMessage")) == 1


async def test_stop_is_clean_and_confirms_the_offset(start_app: StartApp) -> None:
    telegram = await start_app()
    await telegram.say("hello")
    last = telegram.fake.called("getUpdates")[-1]
    await telegram.client.close()
    confirm = telegram.fake.called("getUpdates")[-1]
    assert confirm is not last
    assert (confirm.params["timeout"], confirm.params["limit"]) == ("0", "1")
    assert int(confirm.params["offset"]) > 900_000_000


# --- sending: limits and errors ---------------------------------------------------------------


async def test_a_long_reply_is_split_and_every_part_fits(telegram: Telegram) -> None:
    lines = "\n".join(f"{n:04d} compiling module_{n} &lt;ok&gt; ✓" for n in range(400))
    text = f"📜 Log of <b>the build</b>:\n<pre>{lines}</pre>\nDone."
    assert units(text) > 3 * 4096
    pause = Button("Pause", "pause", "0123456789ab")
    ref = await telegram.channel.send(str(ALICE), OutgoingMessage(text, (pause,)))
    parts = telegram.sent(ALICE)
    assert len(parts) == 4
    assert all(units(p.params["text"]) <= 4096 for p in parts)
    assert all(p.params["text"].count("<pre>") == p.params["text"].count("</pre>") for p in parts)
    assert [bool(inline_keyboard(p)) for p in parts] == [False, False, False, True]
    assert ref.message_id == str(500 + len(parts) - 1)  # the part with the buttons
    assert "0399 compiling module_399" in parts[-1].params["text"]

    await telegram.channel.edit(ref, OutgoingMessage(text))
    [edit] = telegram.fake.called("editMessageText")
    assert units(edit.params["text"]) <= 4096 and edit.params["text"].endswith("</pre>…")
    assert "reply_markup" not in edit.params  # Telegram then removes the buttons


async def test_a_429_becomes_a_channel_error_with_retry_after(telegram: Telegram) -> None:
    fake, channel = telegram.fake, telegram.channel
    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    with pytest.raises(ChannelError) as caught:
        await channel.send(str(ALICE), OutgoingMessage("hi"))
    assert (caught.value.permanent, caught.value.retry_after) == (False, 7)

    fake.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    with pytest.raises(ChannelError) as caught:
        await channel.send(str(ALICE), OutgoingMessage("hi"))
    assert caught.value.permanent and caught.value.retry_after is None

    fake.fail_next("sendMessage", 400, "Bad Request: chat not found")
    with pytest.raises(ChannelError) as caught:
        await channel.send("12345", OutgoingMessage("hi"))
    assert caught.value.permanent

    fake.fail_next("editMessageText", 502, "Bad Gateway")
    ref = await channel.send(str(ALICE), OutgoingMessage("hi"))
    with pytest.raises(ChannelError) as caught:
        await channel.edit(ref, OutgoingMessage("hello"))
    assert not caught.value.permanent

    fake.fail_next("editMessageText", 400, "Bad Request: message is not modified: specified new")
    await channel.edit(ref, OutgoingMessage("hello"))  # the same text again is fine


async def test_a_429_on_a_card_holds_telegram_in_the_notifier(telegram: Telegram) -> None:
    crm = await telegram.create()
    await telegram.rest(
        "PUT",
        "/api/subscriptions/telegram",
        {"events": ["task_started"], "address": str(ALICE), "min_task_minutes": 0},
    )
    telegram.fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    await telegram.rest("PATCH", f"/api/tasks/{crm}/steps/1", {"status": "running"})
    sent = await telegram.fake.wait_for("sendMessage", 3)  # the 429, then card and message
    assert sent[0].params["text"] == sent[1].params["text"]


async def test_flood_control_paces_each_chat_and_groups_more() -> None:
    flood = FloodControl()
    for chat in ("1001", "-1002233445566"):  # short bursts are fine
        for _ in range(FloodControl.BURST):
            await asyncio.wait_for(flood.take(chat), 0.2)
    private = asyncio.create_task(flood.take("1001"))  # about one a second
    group = asyncio.create_task(flood.take("-1002233445566"))  # 20 a minute
    done, _ = await asyncio.wait({private, group}, timeout=1.5)
    assert done == {private}
    group.cancel()
    with pytest.raises(asyncio.CancelledError):
        await group


# --- webhook mode -----------------------------------------------------------------------------

WEBHOOK = {
    "channels.telegram.mode": "webhook",
    "channels.telegram.webhook_url": "https://tasktalk.example.com/telegram/webhook",
    "channels.telegram.webhook_secret": SECRET,
}


async def test_webhook_mode_sets_the_webhook_and_checks_the_secret(start_app: StartApp) -> None:
    telegram = await start_app(**WEBHOOK)
    crm = await telegram.create()
    [webhook] = telegram.fake.called("setWebhook")
    assert webhook.params["url"] == "https://tasktalk.example.com/telegram/webhook"
    assert webhook.params["secret_token"] == SECRET
    assert "setMyCommands" in telegram.fake.methods()
    update = press_update(f"pause|{crm}|")
    for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
        response = await telegram.client.post("/telegram/webhook", json=update, headers=headers)
        assert response.status == 403
    right = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    for body in (b"{not json", b"[]", b"{}", b'"update"', b'{"update_id": "x"}'):
        response = await telegram.client.post("/telegram/webhook", data=body, headers=right)
        assert response.status == 400, body
    assert await telegram.status(crm) == "pending"
    assert telegram.fake.called("answerCallbackQuery", "sendMessage") == []

    response = await telegram.client.post("/telegram/webhook", json=update, headers=right)
    assert response.status == 200
    [reply] = await telegram.fake.wait_for("sendMessage")
    assert reply.params["text"].startswith("⏸ Paused your <b>Cellphone Store CRM task</b>")
    assert await telegram.status(crm) == "paused"
    # Telegram delivering it again (a slow answer) changes nothing.
    response = await telegram.client.post("/telegram/webhook", json=update, headers=right)
    assert response.status == 200
    message = text_update("thanks")
    await telegram.client.post("/telegram/webhook", json=message, headers=right)
    await telegram.fake.wait_for("sendMessage", 2)
    assert len(telegram.fake.called("answerCallbackQuery")) == 1
    assert "getUpdates" not in telegram.fake.methods()


async def test_webhook_mode_without_a_secret_refuses_to_start(database_url: str) -> None:
    settings = load_settings(
        None,
        environ={},
        overrides={
            "database.url": database_url,
            "channels.telegram.token": TOKEN,
            **WEBHOOK,
            "channels.telegram.webhook_secret": "",
        },
    )
    with pytest.raises(ValueError, match="TELEGRAM_WEBHOOK_SECRET"):
        build_app(settings)


async def test_a_refused_token_names_telegram_bot_token(engine: Engine, fake: FakeBotApi) -> None:
    gateway = ChatGateway(engine.service, Conversation(engine.service))
    settings = TelegramSettings(token="999:wrong", base_url=fake.base_url)
    channel = TelegramChannel(settings, gateway)
    with pytest.raises(RuntimeError, match="TELEGRAM_BOT_TOKEN"):
        await channel.start()
    await channel.stop()
    assert fake.calls == []  # the fake answered 401 before recording


# --- translation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("How's my CRM task going?", "How's my CRM task going?"),
        ("/status crm", "status crm"),
        ("/status@tasktalk_bot crm", "status crm"),
        ("/STATUS@TaskTalk_Bot", "status"),
        ("/tasks", "list my tasks"),
        ("/logs", "show logs"),
        ("/logs build", "show logs build"),
        ("/pause the build", "pause the build"),
        ("/resume", "resume"),
        ("/cancel crm", "cancel crm"),
        ("/approve", "approve"),
        ("/help", "help"),
        ("/start", "help"),
        ("/start K7M3Q9TX", "K7M3Q9TX"),
        ("/link K7M3-Q9TX", "link K7M3-Q9TX"),
        ("/status@other_bot crm", None),
    ],
)
def test_commands_become_conversation_text(text: str, words: str | None) -> None:
    assert conversation_text(text, "tasktalk_bot") == words
    assert set(COMMANDS) >= {"status", "tasks", "logs", "pause", "resume", "cancel", "approve"}


def test_callback_data_round_trips_within_64_bytes() -> None:
    for pressed in (
        Button("", "approve", "0123456789ab", 3),
        Button("", "pause", "0123456789ab"),
        Button("", "dismiss"),
    ):
        data = encode_button(pressed)
        assert len(data.encode()) <= 64
        assert decode_button(data) == pressed
    with pytest.raises(ChannelError):
        encode_button(Button("Long", "pause", "x" * 70))
    assert decode_button(None) == Button("", "")
    assert decode_button("pause|abc|9999999") == Button("", "pause", "abc", None)


@pytest.mark.parametrize("limit", [50, 200, 4096])
def test_split_html_keeps_tags_balanced_and_within_the_limit(limit: int) -> None:
    text = "<b>Title 😀</b>\n" + "\n".join(
        f"<i>line</i> {n} &amp; <code>x{n}</code> " + "word " * (n % 7) for n in range(600)
    )
    parts = split_html(text, limit)
    assert len(parts) > 1
    for part in parts:
        assert units(part) <= limit
        for tag in ("b", "i", "code"):
            assert part.count(f"<{tag}>") == part.count(f"</{tag}>")
        assert "&amp" not in part.replace("&amp;", "")  # no entity cut in two
    joined = "".join(parts)
    assert joined.count("line</i>") == 600
    assert split_html("short", 10) == ["short"]


def test_truncate_html_marks_the_cut() -> None:
    text = "<pre>" + "a line\n" * 1000 + "</pre>"
    cut = truncate_html(text, 4096)
    assert units(cut) <= 4096 and cut.endswith("</pre>…")
    assert truncate_html("fits", 4096) == "fits"


async def test_only_the_leader_replica_polls(telegram: Telegram) -> None:
    from bot.keys import NOTIFIER

    channel = telegram.app[NOTIFIER].channels["telegram"]
    await telegram.fake.wait_for("getUpdates")
    channel.leading(False)  # another replica won the leader lock
    await asyncio.sleep(0.05)
    before = len(telegram.fake.called("getUpdates"))
    await asyncio.sleep(0.5)
    assert len(telegram.fake.called("getUpdates")) == before  # no polling while following
    channel.leading(True)
    await telegram.fake.wait_for("getUpdates", before + 1)
