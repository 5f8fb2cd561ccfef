"""What each intent does once its task is known: call the engine, render the reply.

Handlers return messages (text in the channel's format plus the buttons the new state
allows); the words live in `templates/chat/`. A command the state forbids answers with the
engine's own sentence, so every surface explains a refusal the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from adapters.base import Button, OutgoingMessage
from bot.chat_buttons import action_buttons
from bot.chat_subscriptions import subscribe, unsubscribe
from bot.chat_text import Format, render
from bot.progress_view import Span, build_view, elapsed_span
from bot.step_choice import choose_step
from engine.errors import DomainError
from engine.service import TaskService
from intents import Candidate, CandidateIndex, Intent, IntentName

#: Log lines shown when the person doesn't say how many, and the most ever shown in chat.
DEFAULT_LOG_LINES = 20
MAX_LOG_LINES = 50
#: Tasks listed in one reply.
MAX_LISTED = 10
#: Events summarised for "what changed?", and how far back a first question looks.
MAX_CHANGES = 15
FIRST_CHANGES_WINDOW = timedelta(hours=1)
#: Events worth telling a person about (progress ticks are summed up by the status reply).
CHANGE_TYPES = (
    "task_started",
    "step_complete",
    "step_failed",
    "approval_needed",
    "step_slow",
    "task_paused",
    "task_resumed",
    "task_complete",
    "task_failed",
    "task_cancelled",
)
TASK_COMMANDS = frozenset(
    {IntentName.PAUSE, IntentName.RESUME, IntentName.CANCEL, IntentName.RESTART}
)
STEP_COMMANDS = frozenset(
    {IntentName.RETRY, IntentName.SKIP, IntentName.APPROVE, IntentName.REJECT}
)


@dataclass(frozen=True)
class Place:
    """Where a conversation happens: the channel, and the address that reaches the person
    there (a Telegram chat id, a Slack channel); "notify me" with no channel means here."""

    channel: str
    address: str | None = None


WEB = Place("web")
SUBSCRIPTIONS = frozenset({IntentName.SUBSCRIBE, IntentName.UNSUBSCRIBE})


@dataclass(frozen=True)
class Speaker:
    """Who is talking: a tasktalk user (a chat identity is linked to one before this)."""

    user_id: int
    name: str


class ChatActions:
    def __init__(
        self, service: TaskService, fmt: Format, place: Place = WEB, text: str = ""
    ) -> None:
        self.service = service
        self.fmt = fmt
        self.place = place
        self.text = text
        #: Set by a restart: the new attempt, which "it" means from now on.
        self.followed: str | None = None

    def message(self, template: str, buttons: tuple[Any, ...] = (), **data: Any) -> OutgoingMessage:
        return OutgoingMessage(render(template, self.fmt, **data), buttons)

    async def on_task(
        self, speaker: Speaker, intent: Intent, task: Candidate
    ) -> tuple[OutgoingMessage, str]:
        """Carry out a task intent on the resolved `task`; returns the reply and the task the
        conversation is now about (a restart moves it to the new attempt)."""
        handler = self._handlers().get(intent.name)
        if handler is None:
            raise ValueError(f"{intent.name} does not act on a task")
        try:
            reply = await handler(speaker, intent, task)
        except DomainError as error:
            return self.message("refused", reason=error.sentence), task.id
        return reply, self.followed or task.id

    def _handlers(
        self,
    ) -> dict[IntentName, Callable[[Speaker, Intent, Candidate], Awaitable[OutgoingMessage]]]:
        handlers: dict[
            IntentName, Callable[[Speaker, Intent, Candidate], Awaitable[OutgoingMessage]]
        ] = {
            IntentName.STATUS: self.status,
            IntentName.ETA: self.eta,
            IntentName.LOGS: self.logs,
        }
        handlers[IntentName.SUBSCRIBE] = lambda *args: subscribe(self, *args)
        handlers[IntentName.UNSUBSCRIBE] = lambda *args: unsubscribe(self, *args)
        handlers.update(dict.fromkeys(TASK_COMMANDS, self.task_command))
        handlers.update(dict.fromkeys(STEP_COMMANDS, self.step_command))
        return handlers

    async def status(self, speaker: Speaker, intent: Intent, task: Candidate) -> OutgoingMessage:
        document = await self.service.progress(speaker.user_id, task.id)
        view = build_view(document, self.service.clock.now())
        return self.message("status", action_buttons(document), view=view)

    async def eta(self, speaker: Speaker, intent: Intent, task: Candidate) -> OutgoingMessage:
        document = await self.service.progress(speaker.user_id, task.id)
        return self.message("eta", view=build_view(document, self.service.clock.now()))

    async def logs(self, speaker: Speaker, intent: Intent, task: Candidate) -> OutgoingMessage:
        asked = intent.arguments.get("lines", DEFAULT_LOG_LINES)
        tail = max(1, min(int(asked), MAX_LOG_LINES))
        lines = await self.service.logs(speaker.user_id, task.id, tail)
        return self.message("logs", title=task.title, lines=lines, asked=asked)

    async def task_command(
        self, speaker: Speaker, intent: Intent, task: Candidate
    ) -> OutgoingMessage:
        action = intent.name.value
        document = await self.service.task_action(speaker.user_id, task.id, action, speaker.name)
        view = build_view(document, self.service.clock.now())
        new_task_id = document["task_id"] if action == "restart" else None
        self.followed = new_task_id
        return self.message(
            "action", action_buttons(document), action=action, view=view, new_task_id=new_task_id
        )

    async def step_command(
        self, speaker: Speaker, intent: Intent, task: Candidate
    ) -> OutgoingMessage:
        action = intent.name.value
        before = await self.service.progress(speaker.user_id, task.id)
        choice = choose_step(intent.name, intent.step, before)
        now = self.service.clock.now()
        if choice.order is None:
            return self.message(
                "step_missing",
                problem=choice.problem,
                action=action,
                phrase=intent.step.phrase if intent.step else "",
                view=build_view(before, now),
            )
        reason = intent.arguments.get("reason")
        document = await self.service.step_action(
            speaker.user_id,
            task.id,
            choice.order,
            action,
            speaker.name,
            str(reason) if reason else None,
        )
        return self.message(
            "action",
            action_buttons(document),
            action=action,
            view=build_view(document, now),
            step=choice.order,
            step_name=choice.name,
            reason=reason,
        )

    async def on_all_tasks(self, speaker: Speaker, intent: Intent) -> OutgoingMessage:
        """Subscribe or unsubscribe for every task (the message named none)."""
        if intent.name is IntentName.SUBSCRIBE:
            return await subscribe(self, speaker, intent, None)
        return await unsubscribe(self, speaker, intent, None)

    async def confirm(
        self, speaker: Speaker, intent: Intent, task: Candidate, buttons: tuple[Button, ...]
    ) -> OutgoingMessage:
        """Ask before a destructive command on an inferred task, showing where it stands."""
        document = await self.service.progress(speaker.user_id, task.id)
        step = intent.step.number if intent.step else None
        if step is None and intent.name in STEP_COMMANDS:
            step = choose_step(intent.name, intent.step, document).order
        view = build_view(document, self.service.clock.now())
        return self.message("confirm", buttons, action=intent.name.value, view=view, step=step)

    async def task_list(
        self, speaker: Speaker, status: str | None, index: CandidateIndex
    ) -> OutgoingMessage:
        documents = await self.service.list_tasks(speaker.user_id, status, MAX_LISTED)
        now = self.service.clock.now()
        matching = sum(1 for c in index.candidates if status is None or c.status == status)
        return self.message(
            "list",
            status=status,
            tasks=[build_view(d, now) for d in documents],
            more=max(0, matching - len(documents)),
        )

    async def changes(self, speaker: Speaker, seen: int | None) -> tuple[OutgoingMessage, int]:
        """What happened to the speaker's tasks since `seen` (or in the last hour), and the
        seq to remember as seen now."""
        now = self.service.clock.now()
        upto = await self.service.owner_last_seq(speaker.user_id)
        events = await self.service.recent_events(
            speaker.user_id,
            after=seen or 0,
            since=now - FIRST_CHANGES_WINDOW if seen is None else None,
            types=CHANGE_TYPES,
            limit=MAX_CHANGES + 1,
        )
        events = [e for e in events if e.seq <= upto]
        shown = list(reversed(events[:MAX_CHANGES]))
        messages = [{"type": e.type, "task_id": e.task_id, **e.data} for e in shown]
        more = len(events) > MAX_CHANGES
        reply = self.message("changes", events=messages, first=seen is None, more=more)
        return reply, max(upto, seen or 0)

    def age(self, candidate: Candidate) -> Span:
        """How long since `candidate` last changed (the templates' `ago` words it)."""
        return elapsed_span((self.service.clock.now() - candidate.updated_at).total_seconds())
