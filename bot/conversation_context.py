"""What a conversation remembers between messages: the task last talked about, the question
the bot is waiting on, and where "what changed since I last asked?" starts.

Kept in memory per process, bounded and expiring: losing it costs a person one repeated
task name, never an action, because a pending question is only ever answered explicitly.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from intents import Candidate, Intent

#: Conversations remembered per process; the least recently active are forgotten first.
MAX_CONVERSATIONS = 10_000
#: A question not answered within this long is dropped (the answer would be a surprise).
QUESTION_SECONDS = 15 * 60


@dataclass(frozen=True)
class PendingQuestion:
    """Which task (`options`), or whether to go ahead (one option): the intents waiting on it.

    `reference` is the phrase that was unclear; later intents of the same message that used
    it (or no phrase) act on the chosen task too.
    """

    intents: tuple[Intent, ...]
    options: tuple[Candidate, ...]
    confirm: bool
    reference: str | None
    asked_at: float = field(default_factory=time.monotonic)

    @property
    def expired(self) -> bool:
        return time.monotonic() - self.asked_at > QUESTION_SECONDS


@dataclass
class ConversationContext:
    last_task_id: str | None = None
    pending: PendingQuestion | None = None
    #: The newest event seq the person had seen when they last asked what changed.
    changes_seen: int | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class ConversationContexts:
    def __init__(self, limit: int = MAX_CONVERSATIONS) -> None:
        self._limit = limit
        self._contexts: OrderedDict[str, ConversationContext] = OrderedDict()

    def peek(self, key: str) -> ConversationContext | None:
        """The context if this conversation has one, without making or touching it."""
        return self._contexts.get(key)

    def get(self, key: str) -> ConversationContext:
        context = self._contexts.get(key)
        if context is None:
            context = self._contexts[key] = ConversationContext()
            while len(self._contexts) > self._limit:
                self._contexts.popitem(last=False)
        self._contexts.move_to_end(key)
        return context
