"""Where every chat adapter hands its people's messages and clicks: identity, then talk.

An adapter knows only who wrote (`ChatIdentity`), where, and the text or the pressed
button; the gateway finds the linked tasktalk user (or links them with a code from
`tasktalk link USER`), and passes the message to the conversation with the chat as its
place, so "notify me here" and "it" work per chat. Someone not linked is told how to link
and sees nothing else.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from adapters.base import Button, OutgoingMessage
from bot.chat_actions import Place, Speaker
from bot.chat_text import Format, render
from bot.conversation import Conversation
from engine.errors import NotFound
from engine.identities import CODE_LENGTH, normalise_code
from engine.service import TaskService

log = logging.getLogger(__name__)

_CODE = re.compile(r"^\s*(?:/?link\s+)?([A-Za-z0-9]{4}-?[A-Za-z0-9]{4})\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class ChatIdentity:
    """Who wrote and where: `external_id` names the person on the channel (Telegram user
    id, Slack "team:user", Rasa sender id); `chat` is the conversation to answer in."""

    channel: str
    external_id: str
    chat: str
    name: str = ""


class ChatGateway:
    def __init__(
        self, service: TaskService, conversation: Conversation, links: Iterable[str] = ()
    ) -> None:
        self.service = service
        self.conversation = conversation
        self._configured = parse_links(links)

    async def message(
        self, who: ChatIdentity, text: str, fmt: Format = Format.PLAIN
    ) -> list[OutgoingMessage]:
        speaker = await self.speaker(who)
        if speaker is None:
            return [await self._link(who, text, fmt)]
        return await self.conversation.say(
            speaker, text, conversation=self._key(who), fmt=fmt, place=self._place(who)
        )

    async def press(
        self, who: ChatIdentity, pressed: Button, fmt: Format = Format.PLAIN
    ) -> list[OutgoingMessage]:
        """A button click; buttons act only on the clicking person's own tasks."""
        speaker = await self.speaker(who)
        if speaker is None:
            return [OutgoingMessage(render("not_linked", fmt, channel=who.channel))]
        return await self.conversation.press(
            speaker, pressed, conversation=self._key(who), fmt=fmt, place=self._place(who)
        )

    async def last_task(self, who: ChatIdentity) -> str | None:
        """The task the person's conversation in this chat is about now, if any."""
        speaker = await self.speaker(who)
        if speaker is None:
            return None
        return await self.conversation.last_task(speaker, self._key(who))

    async def first_time(self, source: str, key: str) -> bool:
        """Whether this platform delivery (Slack event_id, Telegram update_id) is new to
        every replica; a retry or a copy that reached another replica returns False."""
        return await self.service.first_time(source, key)

    async def step_decided(self, who: ChatIdentity, task_id: str, step: int | None) -> bool:
        """Whether that step of the person's own task no longer waits for approval: lets a
        channel show a decision on the message that asked for it. False for anyone else's."""
        speaker = await self.speaker(who)
        if speaker is None:
            return False
        try:
            document = await self.service.progress(speaker.user_id, task_id)
        except NotFound:
            return False
        found = next((s for s in document.get("steps") or [] if s.get("order") == step), None)
        return found is not None and found.get("status") != "approval"

    async def speaker(self, who: ChatIdentity) -> Speaker | None:
        """The linked tasktalk user, or None."""
        found = await self.service.account_for_identity(who.channel, who.external_id)
        if found is None:
            name = self._configured.get((who.channel, who.external_id))
            if name is None:
                return None
            account = await self.service.link_identity(name, who.channel, who.external_id, who.chat)
            return Speaker(account.id, account.name)
        account, _ = found
        return Speaker(account.id, account.name)

    async def _link(self, who: ChatIdentity, text: str, fmt: Format) -> OutgoingMessage:
        match = _CODE.match(text)
        if match is None or len(normalise_code(match.group(1))) != CODE_LENGTH:
            return OutgoingMessage(render("not_linked", fmt, channel=who.channel))
        account = await self.service.redeem_link_code(
            match.group(1), who.channel, who.external_id, who.chat
        )
        if account is None:
            return OutgoingMessage(render("link_refused", fmt))
        log.info("linked %s identity %s to user %s", who.channel, who.external_id, account.name)
        return OutgoingMessage(render("linked", fmt, name=account.name))

    @staticmethod
    def _key(who: ChatIdentity) -> str:
        return f"{who.channel}:{who.chat}"

    @staticmethod
    def _place(who: ChatIdentity) -> Place:
        return Place(who.channel, who.chat)


def parse_links(entries: Iterable[str]) -> dict[tuple[str, str], str]:
    """`channel:external_id=user` entries as {(channel, external_id): user}."""
    links: dict[tuple[str, str], str] = {}
    for entry in entries:
        identity, _, user = entry.partition("=")
        channel, _, external = identity.partition(":")
        if not (channel and external and user):
            raise ValueError(
                f"channels.links entry {entry!r} must look like telegram:123456789=alice"
            )
        links[(channel.strip(), external.strip())] = user.strip()
    return links
