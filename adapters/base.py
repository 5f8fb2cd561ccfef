"""What every chat channel is to the rest of tasktalk: a small protocol and its values.

Messages arrive here already rendered in the channel's own format (the conversation and the
notifier render `templates/chat/*` for `capabilities.format`), so an adapter only translates
to its SDK: send, edit where the channel can, and report what it can do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Button:
    """An action button under a message; the click comes back with these values."""

    label: str
    action: str  # pause, resume, cancel, restart, retry, skip, approve, reject, or a choice
    task_id: str | None = None
    step: int | None = None


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    text: str  # in the channel's format (plain, Slack mrkdwn, Telegram HTML, email HTML)
    buttons: tuple[Button, ...] = ()
    subject: str = ""  # one line, for channels with a subject (email); others ignore it
    plain_text: str | None = None  # the plain rendering, sent beside `text` where a channel can
    key: str | None = None  # the delivery's idempotency key; email derives its Message-ID from it


@dataclass(frozen=True, slots=True)
class MessageRef:
    """Where a sent message lives, so it can be edited in place later."""

    channel: str
    recipient: str
    message_id: str


@dataclass(frozen=True, slots=True)
class ChannelCapabilities:
    format: str  # a bot.chat_text.Format value
    can_edit: bool
    max_text: int
    buttons: bool
    #: Sends the channel accepts per second, overall and per recipient (None: no limit);
    #: the dispatcher paces itself below them instead of waiting for 429s.
    rate_per_second: float | None = None
    recipient_rate_per_second: float | None = None


class ChannelError(Exception):
    """A send or edit that failed; `retry_after` (seconds) when the channel said when."""

    def __init__(self, message: str, *, permanent: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class Channel(Protocol):
    name: str
    capabilities: ChannelCapabilities

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, recipient: str, message: OutgoingMessage) -> MessageRef:
        """Deliver a new message (a push to the person); raises ChannelError."""
        ...

    async def edit(self, ref: MessageRef, message: OutgoingMessage) -> None:
        """Replace a sent message's text and buttons; only when `capabilities.can_edit`."""
        ...
