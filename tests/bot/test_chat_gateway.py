"""Chat identities: strangers see nothing but how to link; a code links once; then talk."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.base import Button
from bot.chat_gateway import ChatGateway, ChatIdentity, parse_links
from bot.chat_text import Format
from bot.conversation import Conversation
from engine.commands import StepPlan, TaskPlan
from tests.conftest import Engine

ALICE_TG = ChatIdentity("telegram", "1001", "1001", "Alice")
MALLORY_TG = ChatIdentity("telegram", "666", "666", "Mallory")
NOT_LINKED = (
    "👋 I don't know who you are yet. Where tasktalk runs, type tasktalk link YOUR-NAME "
    "and send me the code it prints (like K7M3-Q9TX)."
)


@pytest.fixture
def gateway(engine: Engine) -> ChatGateway:
    return ChatGateway(engine.service, Conversation(engine.service), ["slack:T1:U2=bob"])


async def test_a_stranger_is_told_how_to_link_and_sees_nothing(
    engine: Engine, gateway: ChatGateway
) -> None:
    _, alice = await engine.service.link_code("alice")
    await engine.service.create_task(alice.id, TaskPlan("Cellphone Store CRM", (StepPlan("A"),)))
    for text in ("How's my CRM task going?", "what's running?"):
        assert [r.text for r in await gateway.message(MALLORY_TG, text)] == [NOT_LINKED]
    assert [r.text for r in await gateway.message(MALLORY_TG, "ABCD-EFGH")] == [
        "That code doesn't work: codes last 15 minutes and work once. "
        "Run tasktalk link YOUR-NAME again for a new one."
    ]
    pressed = await gateway.press(MALLORY_TG, Button("Pause", "pause", "abc", None))
    assert [r.text for r in pressed] == [NOT_LINKED]


async def test_a_code_links_once_then_the_person_talks_to_their_tasks(
    engine: Engine, gateway: ChatGateway
) -> None:
    code, alice = await engine.service.link_code("alice")
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}", code)
    await engine.service.create_task(alice.id, TaskPlan("Cellphone Store CRM", (StepPlan("A"),)))
    replies = await gateway.message(ALICE_TG, f"link {code.lower()}", Format.TELEGRAM)
    assert [r.text for r in replies] == [
        "🔗 Linked: you are <b>alice</b> on tasktalk. Ask me “How's my CRM task going?”, "
        "or say “help”."
    ]
    replies = await gateway.message(ALICE_TG, "How's my CRM task going?")
    assert replies[0].text == "📊 Your Cellphone Store CRM task hasn't started yet."
    # The code worked once: Mallory cannot reuse it.
    replies = await gateway.message(MALLORY_TG, code)
    assert replies[0].text.startswith("That code doesn't work")
    assert await gateway.speaker(MALLORY_TG) is None
    # Alice's linked chat is where "notify me on telegram" goes.
    replies = await gateway.message(ALICE_TG, "notify me when my crm task finishes")
    [subscription] = await engine.service.subscriptions(alice.id)
    assert (subscription.channel, subscription.address) == ("telegram", "1001")


async def test_identities_linked_in_configuration(engine: Engine, gateway: ChatGateway) -> None:
    bob = ChatIdentity("slack", "T1:U2", "D42")
    speaker = await gateway.speaker(bob)
    assert speaker is not None and speaker.name == "bob"
    assert await engine.service.identity_address(speaker.user_id, "slack") == "D42"


def test_bad_link_entries_are_named() -> None:
    with pytest.raises(ValueError, match="telegram:123456789=alice"):
        parse_links(["telegram=alice"])


def test_tasktalk_link_prints_a_code(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path}/link.db"
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "link", "alice", "--database", database],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    first, *rest = result.stdout.splitlines()
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", first)
    assert rest == [
        "Send this code to the tasktalk bot in Telegram or Slack (or to your Rasa assistant)"
        " within",
        "15 minutes to link that chat identity to alice. It works once.",
    ]
