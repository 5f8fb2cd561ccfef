"""Rasa custom actions, served on our own aiohttp app instead of rasa-sdk's Sanic server.

Rasa's action server protocol is one POST per action: `{"next_action", "sender_id",
"tracker", "domain", "version"}` in, `{"events", "responses"}` out. rasa-sdk's
`ActionExecutor` runs the actions; this module only translates the aiohttp request to
`executor.run(action_call)` and answers the way `rasa_sdk.endpoint.create_app` does
(400 rejection, 404 unknown action, 449 missing domain), behind a shared token.

Each action turns the tracker into a sentence the conversation understands ("pause crm",
"reject step 3 of crm because ...") and hands it to the chat gateway as the Rasa sender,
so identity links, "it" and every reply are the same as on Telegram or Slack. Buttons come
back as `/press{...}` payloads that `action_press` hands to `gateway.press`.
"""

from __future__ import annotations

import hmac
import json
import logging
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from adapters.base import Button, OutgoingMessage
from bot.chat_gateway import ChatGateway, ChatIdentity
from bot.chat_text import Format
from bot.settings import RasaSettings

try:
    with warnings.catch_warnings():  # as rasa_sdk.endpoint does for its own imports
        warnings.filterwarnings("ignore", category=DeprecationWarning, message=".*pkg_resources.*")
        from rasa_sdk import Action, Tracker
        from rasa_sdk.events import SlotSet
        from rasa_sdk.executor import ActionExecutor, CollectingDispatcher
        from rasa_sdk.interfaces import (
            ActionExecutionRejection,
            ActionMissingDomainException,
            ActionNotFoundException,
        )
except ImportError as error:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "The Rasa channel needs rasa-sdk: pip install 'tasktalk[rasa]' (or unset "
        "RASA_ACTION_TOKEN to turn the channel off)."
    ) from error

log = logging.getLogger(__name__)

CHANNEL = "rasa"
#: Rasa's endpoints.yml `token:` arrives as this query parameter (EndpointConfig.token_name).
TOKEN_PARAMETER = "token"
#: The intent, and the entities, of a button's payload: `/press{"button": "pause", ...}`.
PRESS_INTENT = "press"
TASK_SLOT = "task"


@dataclass(frozen=True)
class Command:
    """How one action words its request: `verb [step of] task [because reason]`."""

    verb: str
    alone: str  # said when the message names no task and has no usable text
    steps: bool = False


COMMANDS: dict[str, Command] = {
    "status": Command("status of", "status"),
    "list": Command("list my tasks", "list my tasks"),
    "logs": Command("logs of", "logs"),
    "pause": Command("pause", "pause"),
    "resume": Command("resume", "resume"),
    "cancel": Command("cancel", "cancel"),
    "restart": Command("restart", "restart"),
    "retry": Command("retry", "retry", steps=True),
    "skip": Command("skip", "skip", steps=True),
    "approve": Command("approve", "approve", steps=True),
    "reject": Command("reject", "reject", steps=True),
}
#: The action that passes the latest message as typed (link codes, help, anything else).
GENERIC_ACTION = "action_tasktalk"
PRESS_ACTION = "action_press"
ACTION_NAMES: tuple[str, ...] = (
    *(f"action_{name}" for name in COMMANDS),
    GENERIC_ACTION,
    PRESS_ACTION,
)


class RasaActions:
    """The Rasa action endpoint at `settings.webhook_path` on our app."""

    def __init__(self, settings: RasaSettings, gateway: ChatGateway) -> None:
        if not settings.token:
            raise ValueError(
                "The Rasa actions need a shared token: set RASA_ACTION_TOKEN and the same "
                "value as `token:` under action_endpoint in Rasa's endpoints.yml."
            )
        self.settings = settings
        self.gateway = gateway
        self.executor = ActionExecutor()
        for name, command in COMMANDS.items():
            self.executor.register_action(_CommandAction(self, name, command))
        self.executor.register_action(_GenericAction(self))
        self.executor.register_action(_PressAction(self))
        self._versions_seen: set[str] = set()

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post(self.settings.webhook_path, self.webhook)

    async def webhook(self, request: web.Request) -> web.Response:
        """One action call, answered like rasa_sdk's own `/webhook`."""
        refused = self._refusal(request)
        if refused is not None:
            return refused
        # Rasa sends the whole tracker with every call, so this route has its own limit
        # (channels.rasa.max_body_bytes) instead of the API's server.max_body_bytes.
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.content.iter_chunked(1 << 16):
            size += len(chunk)
            if size > self.settings.max_body_bytes:
                return web.json_response(
                    {"error": "The tracker is larger than channels.rasa.max_body_bytes."},
                    status=413,
                )
            chunks.append(chunk)
        body = b"".join(chunks)
        try:
            action_call = json.loads(body)  # aiohttp inflates Content-Encoding: deflate
        except (ValueError, UnicodeDecodeError):
            action_call = None
        if not isinstance(action_call, dict) or not _well_formed(action_call, self.executor):
            return web.json_response({"error": "Invalid body request"}, status=400)
        self._note_version(action_call.get("version"))
        try:
            result = await self.executor.run(action_call)
        except ActionExecutionRejection as error:
            return _error(error.message, error.action_name, 400)
        except ActionNotFoundException as error:
            log.error("rasa: %s", error)
            return _error(error.message, error.action_name, 404)
        except ActionMissingDomainException as error:
            return _error(error.message, error.action_name, 449)
        return web.json_response(result.model_dump() if result else None)

    async def reply(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, replies: list[OutgoingMessage]
    ) -> list[dict[str, Any]]:
        """Utter the gateway's replies; the task the conversation is now about becomes the
        `task` slot."""
        for message in replies:
            dispatcher.utter_message(text=message.text, buttons=rasa_buttons(message.buttons))
        task_id = await self.gateway.last_task(self.identity(tracker))
        return [SlotSet(TASK_SLOT, task_id)] if task_id is not None else []

    @staticmethod
    def identity(tracker: Tracker) -> ChatIdentity:
        return ChatIdentity(CHANNEL, tracker.sender_id, tracker.sender_id)

    def _refusal(self, request: web.Request) -> web.Response | None:
        """401 without a token, 403 with a wrong one; accepts Rasa's `token:` (a query
        parameter) and an `Authorization: Bearer` header set under `headers:`."""
        presented = list(request.query.getall(TOKEN_PARAMETER, []))
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            presented.append(credentials.strip())
        if not presented:
            return web.json_response(
                {"error": "Missing token: set `token:` under action_endpoint in endpoints.yml."},
                status=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        expected = self.settings.token.encode()
        if not all(hmac.compare_digest(value.encode(), expected) for value in presented):
            log.warning("rasa: refused an action call with a wrong token")
            return web.json_response({"error": "Wrong token."}, status=403)
        return None

    def _note_version(self, version: object) -> None:
        """Like rasa_sdk's version check, but logged once instead of warned every call."""
        text = str(version) if version is not None else "unknown"
        if text not in self._versions_seen:
            self._versions_seen.add(text)
            log.info("rasa: action calls from Rasa %s", text)


class _TasktalkAction(Action):  # type: ignore[misc]  # rasa_sdk has no type hints
    def __init__(self, endpoint: RasaActions, name: str) -> None:
        self.endpoint = endpoint
        self._name = name

    def name(self) -> str:
        return self._name


class _CommandAction(_TasktalkAction):
    """`action_<command>`: the command in words, with the task, step and reason entities."""

    def __init__(self, endpoint: RasaActions, command: str, wording: Command) -> None:
        super().__init__(endpoint, f"action_{command}")
        self.command = command
        self.wording = wording

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = command_text(self.command, self.wording, tracker)
        replies = await self.endpoint.gateway.message(
            self.endpoint.identity(tracker), text, Format.PLAIN
        )
        return await self.endpoint.reply(dispatcher, tracker, replies)


class _GenericAction(_TasktalkAction):
    """`action_tasktalk`: the latest message as typed (a link code, help, anything else)."""

    def __init__(self, endpoint: RasaActions) -> None:
        super().__init__(endpoint, GENERIC_ACTION)

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = latest_text(tracker) or "help"
        replies = await self.endpoint.gateway.message(
            self.endpoint.identity(tracker), text, Format.PLAIN
        )
        return await self.endpoint.reply(dispatcher, tracker, replies)


class _PressAction(_TasktalkAction):
    """`action_press`: a button's payload; the gateway checks the task is the presser's."""

    def __init__(self, endpoint: RasaActions) -> None:
        super().__init__(endpoint, PRESS_ACTION)

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        pressed = pressed_button(tracker)
        if pressed is None:
            raise ActionExecutionRejection(PRESS_ACTION, "The message carries no button.")
        replies = await self.endpoint.gateway.press(
            self.endpoint.identity(tracker), pressed, Format.PLAIN
        )
        return await self.endpoint.reply(dispatcher, tracker, replies)


def command_text(command: str, wording: Command, tracker: Tracker) -> str:
    """The sentence for the conversation: built from the `task` entity when the message
    has one, else the message itself (the conversation resolves "it" and the like)."""
    said = latest_text(tracker)
    task = _entity(tracker, "task")
    if command == "list" or task is None:
        return said or wording.alone
    words = [wording.verb]
    step = _entity(tracker, "step") if wording.steps else None
    if step is not None:
        words += [step_phrase(step), "of"]
    words.append(task)
    reason = _entity(tracker, "reason") if command == "reject" else None
    if reason is not None:
        words += ["because", reason]
    return " ".join(words)


def step_phrase(step: str) -> str:
    """ "3" -> "step 3"; "filters" -> "filters step"; phrases with "step" stay as they are."""
    if step.isdigit():
        return f"step {step}"
    return step if "step" in step.lower() else f"{step} step"


def latest_text(tracker: Tracker) -> str:
    """The latest user message, or "" for an intent payload like `/pause` (no words)."""
    text = str(tracker.latest_message.get("text") or "").replace("\x00", "").strip()
    return "" if text.startswith("/") else text


def pressed_button(tracker: Tracker) -> Button | None:
    """The button a `/press{...}` payload names, from its entities."""
    action = _entity(tracker, "button")
    if action is None:
        return None
    step = _entity(tracker, "step")
    return Button(
        action.title(),
        action,
        _entity(tracker, "task_id"),
        int(step) if step is not None and step.isdigit() else None,
    )


def rasa_buttons(buttons: Iterable[Button]) -> list[dict[str, str]]:
    """Rasa buttons whose payload, clicked, comes back to `action_press`."""
    return [{"title": b.label, "payload": press_payload(b)} for b in buttons]


def press_payload(button: Button) -> str:
    entities: dict[str, str | int] = {"button": button.action}
    if button.task_id is not None:
        entities["task_id"] = button.task_id
    if button.step is not None:
        entities["step"] = button.step
    return f"/{PRESS_INTENT}{json.dumps(entities, separators=(',', ':'))}"


def _entity(tracker: Tracker, name: str) -> str | None:
    """The first value of entity `name` in the latest message (roles and groups alike)."""
    for entity in tracker.latest_message.get("entities") or []:
        if isinstance(entity, dict) and entity.get("entity") == name:
            value = entity.get("value")
            if value is not None and str(value).strip():
                return str(value).replace("\x00", "").strip()
    return None


def _well_formed(action_call: dict[str, Any], executor: ActionExecutor) -> bool:
    """A call to a registered action carries a tracker with a sender id; unknown actions
    are left to the executor, which answers 404 as rasa_sdk does."""
    if action_call.get("next_action") not in executor.actions:
        return True
    tracker = action_call.get("tracker")
    return (
        isinstance(tracker, dict)
        and isinstance(tracker.get("sender_id"), str)
        and bool(tracker["sender_id"])
        and isinstance(tracker.get("latest_message") or {}, dict)
        and isinstance(tracker.get("slots") or {}, dict)
        and isinstance(tracker.get("events") or [], list)
    )


def _error(message: str, action_name: str, status: int) -> web.Response:
    return web.json_response({"error": message, "action_name": action_name}, status=status)
