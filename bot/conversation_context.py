"""What a conversation remembers between messages: the task last talked about, the question
the bot is waiting on, and where "what changed since I last asked?" starts.

Stored in the database (engine/conversations.py) as a small JSON document, read at the start
of each message and written at its end, so with several replicas the next message may land
on any of them. Losing it costs a person one repeated task name, never an action: a pending
question is only ever answered explicitly, and expires.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson

from engine.service import TaskService
from intents import Candidate, Intent, IntentName, StepRef

#: A question not answered within this long is dropped (the answer would be a surprise).
QUESTION_LIFETIME = timedelta(minutes=15)
#: Conversations whose in-process lock is kept (they serialise one person's messages).
MAX_LOCKS = 10_000


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
    asked_at: datetime

    def expired(self, now: datetime) -> bool:
        return now - self.asked_at > QUESTION_LIFETIME


@dataclass
class ConversationContext:
    last_task_id: str | None = None
    pending: PendingQuestion | None = None
    #: The newest event seq the person had seen when they last asked what changed.
    changes_seen: int | None = None
    #: The JSON it was loaded from, so an unchanged context is not written back.
    stored: str | None = field(default=None, compare=False)


class ConversationContexts:
    """Loads and saves contexts by key; one lock per key keeps a person's messages in order
    within a replica."""

    def __init__(self, service: TaskService) -> None:
        self._service = service
        self._locks: OrderedDict[str, asyncio.Lock] = OrderedDict()

    def lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
            while len(self._locks) > MAX_LOCKS:
                oldest, held = next(iter(self._locks.items()))
                if held.locked():
                    break
                del self._locks[oldest]
        self._locks.move_to_end(key)
        return lock

    async def load(self, key: str) -> ConversationContext:
        stored = await self._service.conversation_state(key)
        context = ConversationContext() if stored is None else _context(orjson.loads(stored))
        context.stored = stored
        return context

    async def save(self, key: str, context: ConversationContext) -> None:
        """Write the context back, unless the message changed nothing in it (most status
        questions about the same task): no write transaction for a read-only message."""
        state = orjson.dumps(_document(context)).decode()
        if state != context.stored:
            await self._service.save_conversation_state(key, state)
            context.stored = state


def _document(context: ConversationContext) -> dict[str, Any]:
    pending = context.pending
    return {
        "last_task_id": context.last_task_id,
        "changes_seen": context.changes_seen,
        "pending": None
        if pending is None
        else {
            "intents": [_intent_document(i) for i in pending.intents],
            "options": [
                {
                    "id": c.id,
                    "title": c.title,
                    "status": c.status,
                    "updated_at": c.updated_at.isoformat(),
                    "kind": c.kind,
                }
                for c in pending.options
            ],
            "confirm": pending.confirm,
            "reference": pending.reference,
            "asked_at": pending.asked_at.isoformat(),
        },
    }


def _context(document: dict[str, Any]) -> ConversationContext:
    raw = document.get("pending")
    pending = None
    if raw:
        pending = PendingQuestion(
            intents=tuple(_intent(i) for i in raw["intents"]),
            options=tuple(
                Candidate(
                    o["id"],
                    o["title"],
                    o["status"],
                    datetime.fromisoformat(o["updated_at"]),
                    o["kind"],
                )
                for o in raw["options"]
            ),
            confirm=bool(raw["confirm"]),
            reference=raw["reference"],
            asked_at=datetime.fromisoformat(raw["asked_at"]),
        )
    return ConversationContext(document.get("last_task_id"), pending, document.get("changes_seen"))


def _intent_document(intent: Intent) -> dict[str, Any]:
    step = intent.step
    return {
        "name": intent.name.value,
        "confidence": intent.confidence,
        "reference": intent.reference,
        "step": None
        if step is None
        else {
            "phrase": step.phrase,
            "number": step.number,
            "name": step.name,
            "special": step.special,
        },
        "arguments": dict(intent.arguments),
    }


def _intent(document: dict[str, Any]) -> Intent:
    step = document.get("step")
    return Intent(
        IntentName(document["name"]),
        float(document["confidence"]),
        document.get("reference"),
        None if step is None else StepRef(**step),
        document.get("arguments") or {},
    )
