"""A chat transcript over the real conversation and engine, through the in-memory channel.

`await chat.say("How's my CRM task going?")` returns what the person reads (replies joined
by a blank line); `chat.buttons` are the buttons under the last replies, pressed by label.
"""

from __future__ import annotations

from adapters.base import Button, OutgoingMessage
from adapters.memory import InMemoryChannel
from bot.chat_actions import Speaker
from bot.chat_text import Format
from bot.conversation import Conversation


class Chat:
    def __init__(
        self,
        conversation: Conversation,
        speaker: Speaker,
        channel: InMemoryChannel | None = None,
        fmt: Format = Format.PLAIN,
    ) -> None:
        self.conversation = conversation
        self.speaker = speaker
        self.channel = channel or InMemoryChannel()
        self.fmt = fmt
        self.buttons: list[Button] = []

    async def say(self, text: str) -> str:
        replies = await self.conversation.say(self.speaker, text, conversation="t", fmt=self.fmt)
        return await self._show(replies)

    async def press(self, label: str) -> str:
        matching = [b for b in self.buttons if b.label == label]
        assert len(matching) == 1, f"no single {label!r} button in {self.buttons}"
        return await self.press_button(matching[0])

    async def press_button(self, pressed: Button) -> str:
        replies = await self.conversation.press(
            self.speaker, pressed, conversation="t", fmt=self.fmt
        )
        return await self._show(replies)

    @property
    def labels(self) -> list[str]:
        return [b.label for b in self.buttons]

    async def _show(self, replies: list[OutgoingMessage]) -> str:
        for reply in replies:
            await self.channel.send(self.speaker.name, reply)
        self.buttons = [b for reply in replies for b in reply.buttons]
        return "\n\n".join(reply.text for reply in replies)
