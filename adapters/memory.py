"""An in-memory channel: a real channel for tests and local runs, keeping every message.

It renders nothing and sends nowhere; it records what each recipient would see, including
edits, so a test reads like a chat transcript. Failures can be injected to exercise retries.
A message sent again with the same `key` is recognised, as email's Message-ID lets a mail
client do, and counted in `repeats` instead of shown twice.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field

from adapters.base import ChannelCapabilities, ChannelError, MessageRef, OutgoingMessage


@dataclass
class Delivered:
    ref: MessageRef
    message: OutgoingMessage
    edits: list[OutgoingMessage] = field(default_factory=list)

    @property
    def current(self) -> OutgoingMessage:
        """What the person sees now: the last edit, or the message as sent."""
        return self.edits[-1] if self.edits else self.message


class InMemoryChannel:
    def __init__(
        self,
        name: str = "memory",
        capabilities: ChannelCapabilities | None = None,
    ) -> None:
        self.name = name
        self.capabilities = capabilities or ChannelCapabilities(
            format="plain", can_edit=True, max_text=4096, buttons=True
        )
        self.running = False
        self._ids = itertools.count(1)
        self._by_ref: dict[MessageRef, Delivered] = {}
        self._by_recipient: dict[str, list[Delivered]] = defaultdict(list)
        self._failures: list[ChannelError] = []
        self._by_key: dict[str, MessageRef] = {}
        #: Sends of a key already sent (a redelivery after a crash), recognised and dropped.
        self.repeats = 0

    async def start(self) -> None:
        self.running = True

    async def stop(self) -> None:
        self.running = False

    def fail_next(self, error: ChannelError) -> None:
        """Make the next send or edit raise `error` (queue several for several calls)."""
        self._failures.append(error)

    async def send(self, recipient: str, message: OutgoingMessage) -> MessageRef:
        self._maybe_fail()
        if len(message.text) > self.capabilities.max_text:
            raise ChannelError("message too long", permanent=True)
        if message.key is not None and message.key in self._by_key:
            # Like a Message-ID or an idempotency key: the repeat is recognised, not shown.
            self.repeats += 1
            return self._by_key[message.key]
        ref = MessageRef(self.name, recipient, str(next(self._ids)))
        if message.key is not None:
            self._by_key[message.key] = ref
        delivered = Delivered(ref, message)
        self._by_ref[ref] = delivered
        self._by_recipient[recipient].append(delivered)
        return ref

    async def edit(self, ref: MessageRef, message: OutgoingMessage) -> None:
        if not self.capabilities.can_edit:
            raise ChannelError("this channel cannot edit messages", permanent=True)
        self._maybe_fail()
        delivered = self._by_ref.get(ref)
        if delivered is None:
            raise ChannelError(f"no message {ref.message_id} to edit", permanent=True)
        delivered.edits.append(message)

    def transcript(self, recipient: str) -> list[str]:
        """The texts the recipient sees now, oldest first (edits applied in place)."""
        return [d.current.text for d in self._by_recipient.get(recipient, [])]

    def messages(self, recipient: str) -> list[Delivered]:
        return list(self._by_recipient.get(recipient, []))

    def _maybe_fail(self) -> None:
        if self._failures:
            raise self._failures.pop(0)
