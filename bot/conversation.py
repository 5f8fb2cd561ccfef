"""The channel-neutral dialogue: message + speaker -> intents -> engine -> replies.

Every channel (REST `/api/chat`, `tasktalk ask`, Telegram, Slack, the web widget, Rasa)
calls `say` for text and `press` for a button. Decisions:
- Candidates are only the speaker's own tasks; a phrase naming someone else's task finds
  nothing, exactly as a missing one.
- Several equally good matches: ask which, with buttons; the answer ("the second one", a
  title, a button) carries out the waiting intents. Nothing is done on a guess.
- A destructive command (cancel, restart, skip, reject) on a task that was only inferred
  (fuzzy title, the lone active task) is confirmed first; on an ambiguous or unknown
  reference it is never carried out.
- A button is an explicit choice: it acts on its own task id, after checking that the task
  is the presser's, and the engine refuses what the state no longer allows.
"""

from __future__ import annotations

from typing import Any

from adapters.base import Button, OutgoingMessage
from bot.chat_actions import (
    SUBSCRIPTIONS,
    WEB,
    ChatActions,
    Place,
    Speaker,
)
from bot.chat_buttons import button
from bot.chat_subscriptions import without_addresses
from bot.chat_text import Format
from bot.conversation_context import ConversationContext, ConversationContexts, PendingQuestion
from bot.task_candidates import TaskCandidates
from engine.service import TaskService
from intents import (
    Basis,
    Candidate,
    CandidateIndex,
    Intent,
    IntentName,
    Outcome,
    StepRef,
    parse,
    resolve,
)
from intents.answers import AnswerKind, read_answer
from intents.text import fold

#: Options offered when a reference is ambiguous or names nothing.
MAX_OPTIONS = 5
_PRONOUNS = frozenset({"it", "that", "this", "its", "them", "this one", "that one"})
_SOCIAL_REPLIES = {
    IntentName.HELP: "help",
    IntentName.GREETING: "greeting",
    IntentName.THANKS: "thanks",
    IntentName.UNKNOWN: "unknown",
}
#: Button actions that are not intents.
DISMISS = "dismiss"

__all__ = ["Conversation", "Place", "Speaker"]


class Conversation:
    def __init__(
        self,
        service: TaskService,
        *,
        contexts: ConversationContexts | None = None,
        candidates: TaskCandidates | None = None,
    ) -> None:
        self.service = service
        self.contexts = contexts or ConversationContexts(service)
        self.candidates = candidates or TaskCandidates(service)

    async def say(
        self,
        speaker: Speaker,
        text: str,
        *,
        conversation: str = "",
        fmt: Format = Format.PLAIN,
        place: Place = WEB,
    ) -> list[OutgoingMessage]:
        """The replies to one message; `conversation` names the chat (one context per
        speaker per chat, so "it" in a group means the speaker's own last task) and `place`
        the channel and address it happens at ("notify me here")."""
        key = f"{speaker.user_id}:{conversation}"
        async with self.contexts.lock(key):
            context = await self.contexts.load(key)
            replies = await _Turn(self, speaker, context, fmt, place, text).message(text)
            await self.contexts.save(key, context)
            return replies

    async def last_task(self, speaker: Speaker, conversation: str = "") -> str | None:
        """The task this conversation is about now ("it"), if any."""
        context = await self.contexts.load(f"{speaker.user_id}:{conversation}")
        return context.last_task_id

    async def press(
        self,
        speaker: Speaker,
        pressed: Button,
        *,
        conversation: str = "",
        fmt: Format = Format.PLAIN,
        place: Place = WEB,
    ) -> list[OutgoingMessage]:
        """The replies to a button: an explicit action on the button's own task."""
        key = f"{speaker.user_id}:{conversation}"
        async with self.contexts.lock(key):
            context = await self.contexts.load(key)
            replies = await _Turn(self, speaker, context, fmt, place, "").button(pressed)
            await self.contexts.save(key, context)
            return replies


class _Turn:
    """One message or click: its speaker, context and format, and the replies it makes."""

    def __init__(
        self,
        conversation: Conversation,
        speaker: Speaker,
        context: ConversationContext,
        fmt: Format,
        place: Place,
        text: str,
    ) -> None:
        self.service = conversation.service
        self.candidates = conversation.candidates
        self.speaker = speaker
        self.context = context
        self.actions = ChatActions(conversation.service, fmt, place, text)
        self.replies: list[OutgoingMessage] = []

    async def message(self, text: str) -> list[OutgoingMessage]:
        intents = parse(without_addresses(text))
        pending = self.context.pending
        self.context.pending = None
        now = self.service.clock.now()
        answerable = pending is not None and not pending.expired(now) and _may_answer(intents)
        if answerable and pending is not None and await self._answer(pending, text):
            return self.replies
        index = await self.candidates.index(self.speaker.user_id)
        if all(i.name is IntentName.UNKNOWN for i in intents):
            named = resolve(text, index)
            if named.task is not None and named.basis in (Basis.ID, Basis.TITLE):
                await self._act(Intent(IntentName.STATUS, 0.6), named.task)
                return self.replies  # a task's name alone asks how it is going
        await self._run(intents, index)
        return self.replies

    async def button(self, pressed: Button) -> list[OutgoingMessage]:
        pending = self.context.pending
        self.context.pending = None
        if pressed.action == DISMISS:
            self._say("dismissed")
            return self.replies
        try:
            name = IntentName(pressed.action)
        except ValueError:
            self._say("unknown")
            return self.replies
        index = await self.candidates.index(self.speaker.user_id)
        task = _by_id(index, pressed.task_id)
        if task is None:
            self._say("not_found", reference=pressed.task_id or "", options=())
            return self.replies
        if (
            pending is not None
            and pending.intents[0].name is name
            and any(option.id == task.id for option in pending.options)
        ):  # the answer to the question: the whole waiting message goes ahead
            await self._act(pending.intents[0], task)
            await self._run_bound(pending.intents[1:], pending.reference, task, index)
            return self.replies
        step = StepRef(f"step {pressed.step}", number=pressed.step) if pressed.step else None
        await self._act(Intent(name, 1.0, step=step), task)
        return self.replies

    # --- flow ---------------------------------------------------------------------------

    async def _run(self, intents: list[Intent], index: CandidateIndex) -> None:
        for position, intent in enumerate(intents):
            if intent.name in _SOCIAL_REPLIES:
                self._say(_SOCIAL_REPLIES[intent.name], name=self.speaker.name)
            elif intent.name is IntentName.LIST:
                status = intent.arguments.get("status")
                self.replies.append(
                    await self.actions.task_list(
                        self.speaker, str(status) if status else None, index
                    )
                )
            elif intent.name is IntentName.CHANGES:
                reply, seen = await self.actions.changes(self.speaker, self.context.changes_seen)
                self.context.changes_seen = seen
                self.replies.append(reply)
            elif intent.name in SUBSCRIPTIONS and intent.reference is None:
                self.replies.append(await self.actions.on_all_tasks(self.speaker, intent))
            elif not await self._on_task(intent, intents[position + 1 :], index):
                return

    async def _on_task(self, intent: Intent, rest: list[Intent], index: CandidateIndex) -> bool:
        """Resolve the intent's task and act; False when the turn now waits on a question."""
        resolution = resolve(
            intent.reference, index, self.context.last_task_id, fits=intent.fitting_statuses
        )
        if resolution.outcome is Outcome.FOUND and resolution.task is not None:
            task = resolution.task
            if intent.destructive and not resolution.clear:
                await self._ask(intent, rest, (task,), confirm=True)
                return False
            await self._act(intent, task)
            return True
        if resolution.outcome is Outcome.AMBIGUOUS:
            await self._ask(intent, rest, resolution.options[:MAX_OPTIONS], confirm=False)
            return False
        named = intent.reference and fold(intent.reference) not in _PRONOUNS
        options = resolution.options[:MAX_OPTIONS]
        self._say("not_found", reference=intent.reference if named else None, options=options)
        return False

    async def _act(self, intent: Intent, task: Candidate) -> None:
        reply, self.context.last_task_id = await self.actions.on_task(self.speaker, intent, task)
        self.replies.append(reply)

    # --- questions ----------------------------------------------------------------------

    async def _ask(
        self,
        intent: Intent,
        rest: list[Intent],
        options: tuple[Candidate, ...],
        *,
        confirm: bool,
    ) -> None:
        self.context.pending = PendingQuestion(
            intents=(intent, *rest),
            options=options,
            confirm=confirm,
            reference=intent.reference,
            asked_at=self.service.clock.now(),
        )
        step = intent.step.number if intent.step else None
        if confirm:
            task = options[0]
            self.context.last_task_id = task.id
            answers = (button(intent.name.value, task.id, step), button(DISMISS))
            self.replies.append(await self.actions.confirm(self.speaker, intent, task, answers))
            return
        buttons = tuple(
            Button(option.title, intent.name.value, option.id, step) for option in options
        )
        self.replies.append(
            self.actions.message(
                "which",
                buttons,
                action=intent.name.value,
                options=options,
                agos=[self.actions.age(option) for option in options],
            )
        )

    async def _answer(self, pending: PendingQuestion, text: str) -> bool:
        """Treat `text` as the answer to `pending`; False when it isn't one."""
        answer = read_answer(text, 0 if pending.confirm else len(pending.options))
        chosen: Candidate | None = None
        if answer is not None and answer.kind is AnswerKind.NO:
            self._say("dismissed")
            return True
        if answer is not None and answer.kind is AnswerKind.CHOICE and answer.choice:
            chosen = pending.options[answer.choice - 1]
        elif answer is not None and answer.kind is AnswerKind.YES and pending.confirm:
            chosen = pending.options[0]
        elif not pending.confirm:
            found = resolve(text, CandidateIndex.build(pending.options))
            if found.outcome is Outcome.FOUND:
                chosen = found.task
        if chosen is None:
            return False
        index = await self.candidates.index(self.speaker.user_id)
        task = _by_id(index, chosen.id) or chosen
        await self._act(pending.intents[0], task)
        await self._run_bound(pending.intents[1:], pending.reference, task, index)
        return True

    async def _run_bound(
        self,
        intents: tuple[Intent, ...],
        reference: str | None,
        task: Candidate,
        index: CandidateIndex,
    ) -> None:
        """The rest of a message whose task was just chosen: intents that used the same
        phrase (or none) act on `task`; the others are resolved as usual."""
        for position, intent in enumerate(intents):
            same = intent.reference in (None, reference) or (
                intent.reference is not None and fold(intent.reference) in _PRONOUNS
            )
            if (intent.needs_task or intent.name in SUBSCRIPTIONS) and same:
                await self._act(intent, task)
            else:
                await self._run(list(intents[position:]), index)
                return

    def _say(self, template: str, **data: Any) -> None:
        self.replies.append(self.actions.message(template, **data))


def _may_answer(intents: list[Intent]) -> bool:
    """A message that asks for nothing new of its own may answer the pending question."""
    return all(i.name in (IntentName.UNKNOWN, IntentName.THANKS) for i in intents) or all(
        i.needs_task and i.reference is None for i in intents
    )


def _by_id(index: CandidateIndex, task_id: str | None) -> Candidate | None:
    if task_id is None or task_id not in index.by_id:
        return None
    return index.candidates[index.by_id[task_id]]
