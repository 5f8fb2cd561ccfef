"""The in-memory channel keeps what each person would see, edits in place, and can fail."""

from __future__ import annotations

import pytest

from adapters.base import Button, Channel, ChannelCapabilities, ChannelError, OutgoingMessage
from adapters.memory import InMemoryChannel


async def test_sends_and_edits_read_like_a_transcript() -> None:
    channel: Channel = InMemoryChannel()
    assert isinstance(channel, InMemoryChannel)
    await channel.start()
    pause = Button("Pause", "pause", task_id="abc123")
    card = await channel.send("alice", OutgoingMessage("📊 CRM 40%", (pause,)))
    await channel.send("alice", OutgoingMessage("⚠️ Approval required for Step 3"))
    await channel.edit(card, OutgoingMessage("📊 CRM 65%", (pause,)))
    assert channel.transcript("alice") == ["📊 CRM 65%", "⚠️ Approval required for Step 3"]
    assert channel.transcript("bob") == []
    first = channel.messages("alice")[0]
    assert [m.text for m in (first.message, *first.edits)] == ["📊 CRM 40%", "📊 CRM 65%"]
    assert first.current.buttons == (pause,)


async def test_injected_failures_surface_once_each() -> None:
    channel = InMemoryChannel()
    channel.fail_next(ChannelError("slow down", permanent=False, retry_after=3))
    with pytest.raises(ChannelError) as caught:
        await channel.send("alice", OutgoingMessage("hi"))
    assert (caught.value.permanent, caught.value.retry_after) == (False, 3)
    await channel.send("alice", OutgoingMessage("hi"))
    assert channel.transcript("alice") == ["hi"]


async def test_a_channel_that_cannot_edit_refuses_edits() -> None:
    channel = InMemoryChannel(
        "email",
        ChannelCapabilities(format="email", can_edit=False, max_text=100_000, buttons=False),
    )
    ref = await channel.send("a@example.com", OutgoingMessage("✅ Your CRM is ready!"))
    with pytest.raises(ChannelError) as caught:
        await channel.edit(ref, OutgoingMessage("changed"))
    assert caught.value.permanent


async def test_overlong_messages_are_a_permanent_error() -> None:
    channel = InMemoryChannel(
        "telegram", ChannelCapabilities(format="telegram", can_edit=True, max_text=10, buttons=True)
    )
    with pytest.raises(ChannelError) as caught:
        await channel.send("42", OutgoingMessage("x" * 11))
    assert caught.value.permanent
    assert channel.transcript("42") == []
