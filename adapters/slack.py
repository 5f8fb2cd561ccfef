"""Slack through slack-bolt: mentions, direct messages, `/tasktalk`, buttons and live cards.

Everything Slack sends (Events API, the slash command, button clicks) arrives at one POST
route, `settings.events_path`, or over Socket Mode. Bolt checks each request's signature
(stale timestamps included) before anything here runs; this module turns a request into a
`ChatIdentity` plus text or a `Button` for the gateway and posts the replies.

Text arrives already escaped for mrkdwn (templates render `Format.SLACK`), so a title like
`<!channel>` cannot ping anyone; it goes out as mrkdwn section blocks of exactly that text,
never the plain rendering, and blocks echoed back by Slack are re-escaped before reuse.
Slack redelivers an event it thinks was lost (X-Slack-Retry-Num): a bounded in-memory set of
event ids makes each act once per process (several replicas will need a shared record).
When the owner of a task presses Approve or Reject, the message that carried the buttons is
rewritten (chat.update) to show the decision without them; anyone else's click leaves it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

import aiohttp
from aiohttp import web

from adapters.base import ChannelCapabilities, ChannelError, MessageRef, OutgoingMessage
from adapters.slack_blocks import (
    MAX_SECTIONS,
    SECTION_CHARS,
    content,
    decision,
)
from bot.chat_gateway import ChatGateway
from bot.chat_text import Format
from bot.settings import SlackSettings

try:
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.app.async_app import AsyncApp
    from slack_bolt.context.async_context import AsyncBoltContext
    from slack_bolt.response import BoltResponse
    from slack_sdk.errors import SlackApiError, SlackClientError
    from slack_sdk.web.async_client import AsyncWebClient

    from adapters.slack_wire import (
        channel_error,
        chat_identity,
        conversation_text,
        decode_button,
    )
except ImportError as error:  # pragma: no cover - depends on what is installed
    raise ImportError(
        'The Slack channel needs slack-bolt: pip install "tasktalk[slack]"'
    ) from error

log = logging.getLogger(__name__)

COMMAND = "/tasktalk"
SEEN_EVENTS = 10_000
STOP_SECONDS = 10.0  # how long stop() lets replies in flight finish
_ACTION_ID = re.compile(r"^tasktalk:")
_DECISIONS = frozenset({"approve", "reject"})


class SlackStartError(RuntimeError):
    """Slack refused the bot token (or could not be reached) at start-up."""


class SlackChannel:
    name = "slack"
    capabilities = ChannelCapabilities(
        format="slack",
        can_edit=True,
        max_text=SECTION_CHARS * MAX_SECTIONS,  # longer text is cut, with a "…"
        buttons=True,
        rate_per_second=None,  # Slack limits chat.postMessage per channel (about 1/s), below
        recipient_rate_per_second=1,
    )

    def __init__(self, settings: SlackSettings, gateway: ChatGateway) -> None:
        if not settings.bot_token:
            raise ValueError("channels.slack.bot_token is empty: set SLACK_BOT_TOKEN.")
        if settings.socket_mode and not settings.app_token:
            raise ValueError(
                "channels.slack.socket_mode is on but SLACK_APP_TOKEN is empty: create an "
                "app-level token with connections:write and set SLACK_APP_TOKEN."
            )
        self._settings = settings
        self._gateway = gateway
        self._bolt = AsyncApp(
            name="tasktalk",
            token=settings.bot_token,
            # Without a secret nothing may come in over HTTP: a random one refuses it all.
            signing_secret=settings.signing_secret or secrets.token_hex(32),
        )
        self._client: AsyncWebClient = self._bolt.client
        self._client.base_url = _with_slash(settings.api_url)
        self._seen = _SeenEvents(SEEN_EVENTS)
        self._handling: set[asyncio.Task[Any]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._socket: Any = None
        self._bolt.middleware(self._once_per_event)
        self._bolt.event("app_mention")(self._on_mention)
        self._bolt.event("message")(self._on_message)
        self._bolt.command(COMMAND)(self._on_command)
        self._bolt.action(_ACTION_ID)(self._on_action)

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Check the token with auth.test (a bad one stops start-up), then connect Socket
        Mode when it is on."""
        self._session = aiohttp.ClientSession()
        self._client.session = self._session
        try:
            me = await self._call("auth.test", self._client.auth_test)
        except ChannelError as error:
            await self._close_session()
            if error.permanent:
                raise SlackStartError(
                    f"Slack refused SLACK_BOT_TOKEN (auth.test: {error}): set it to the app's "
                    "Bot User OAuth Token (xoxb-...) from OAuth & Permissions."
                ) from None
            raise SlackStartError(
                f"Could not reach Slack at {self._client.base_url} to check SLACK_BOT_TOKEN "
                f"({error}); check channels.slack.api_url and the network."
            ) from None
        log.info("slack: signed in as %s on %s", me.get("user"), me.get("team"))
        if self._settings.socket_mode:
            await self._connect_socket()

    async def _connect_socket(self) -> None:
        """Socket Mode: the app-level token is checked first, since the SDK's client would
        retry a refused one forever."""
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        try:
            await self._call(
                "apps.connections.open",
                self._client.apps_connections_open,
                app_token=self._settings.app_token,
            )
        except ChannelError as error:
            await self._close_session()
            raise SlackStartError(
                f"Socket Mode did not connect ({error}): check SLACK_APP_TOKEN (an app-level "
                "token with connections:write) and that Socket Mode is on in the app's settings."
            ) from None
        self._socket = AsyncSocketModeHandler(self._bolt, self._settings.app_token)
        await self._socket.connect_async()

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(STOP_SECONDS):
                await self.idle()
        await self._close_session()

    async def idle(self) -> None:
        """Wait for the requests being handled (replies in flight) to finish."""
        while self._handling:
            await asyncio.wait(set(self._handling))

    async def _close_session(self) -> None:
        session, self._session = self._session, None
        self._client.session = None
        if session is not None:
            await session.close()

    def add_routes(self, app: web.Application) -> None:
        if self._settings.socket_mode or not self._settings.signing_secret:
            return  # Socket Mode: Slack sends nothing over HTTP, so nothing is listening
        app.router.add_post(self._settings.events_path, self._events)

    async def _events(self, request: web.Request) -> web.Response:
        response: BoltResponse = await self._bolt.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    # --- delivery -----------------------------------------------------------------------

    async def send(self, recipient: str, message: OutgoingMessage) -> MessageRef:
        """Post to a channel, DM or user id; the ref names the channel Slack posted in."""
        return await self._post(recipient, message)

    async def edit(self, ref: MessageRef, message: OutgoingMessage) -> None:
        channel, _, ts = ref.message_id.rpartition(":")
        await self._call(
            "chat.update",
            self._client.chat_update,
            channel=channel or ref.recipient,
            ts=ts,
            **content(message),
        )

    async def _post(
        self, channel: str, message: OutgoingMessage, thread_ts: str | None = None
    ) -> MessageRef:
        sent = await self._call(
            "chat.postMessage",
            self._client.chat_postMessage,
            channel=channel,
            thread_ts=thread_ts,
            unfurl_links=False,
            unfurl_media=False,
            **content(message),
        )
        return MessageRef(self.name, channel, f"{sent.get('channel') or channel}:{sent['ts']}")

    async def _call(
        self, method: str, call: Callable[..., Awaitable[Any]], **params: Any
    ) -> dict[str, Any]:
        """One Web API call; Slack's answer as a dict, or a ChannelError."""
        try:
            response = await call(**{k: v for k, v in params.items() if v is not None})
        except SlackApiError as error:
            raise channel_error(method, error) from None
        except SlackClientError as error:
            raise ChannelError(f"Slack {method}: {error}", permanent=True) from None
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            raise ChannelError(f"Slack {method}: {error!r}", permanent=False) from error
        data = response.data
        return dict(data) if isinstance(data, Mapping) else {}

    async def _reply(
        self, channel: str, replies: list[OutgoingMessage], thread_ts: str | None = None
    ) -> None:
        for reply in replies:
            try:
                await self._post(channel, reply, thread_ts)
            except ChannelError as error:
                log.warning("slack: could not answer in %s: %s", channel, error)

    # --- incoming -----------------------------------------------------------------------

    async def _once_per_event(
        self, body: dict[str, Any], next: Callable[[], Awaitable[Any]]
    ) -> Any:
        """Bolt middleware (after the signature check): a redelivered event acts once."""
        event_id = body.get("event_id")
        if isinstance(event_id, str) and not (
            self._seen.add(event_id) and await self._gateway.first_time("slack", event_id)
        ):  # this process saw it, or another replica did
            log.info("slack: event %s delivered again; ignored", event_id)
            return BoltResponse(status=200, body="")
        return await next()

    async def _on_mention(self, event: dict[str, Any], context: AsyncBoltContext) -> None:
        await self._converse(event, context)

    async def _on_message(self, event: dict[str, Any], context: AsyncBoltContext) -> None:
        """Direct messages only; edits, joins and bots' own messages are not said to us."""
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        await self._converse(event, context)

    async def _converse(self, event: dict[str, Any], context: AsyncBoltContext) -> None:
        """A message said to the bot: answered where it was said (in its thread, if any)."""
        with self._tracked():
            who = chat_identity(context, event.get("channel"))
            if who is None:
                return
            text = conversation_text(event.get("text") or "", context.bot_user_id)
            replies = await self._gateway.message(who, text, Format.SLACK)
            await self._reply(who.chat, replies, event.get("thread_ts"))

    async def _on_command(
        self,
        ack: Callable[..., Awaitable[None]],
        command: dict[str, Any],
        context: AsyncBoltContext,
        respond: Callable[..., Awaitable[Any]],
    ) -> None:
        await ack()
        with self._tracked():
            who = chat_identity(context, command.get("channel_id"), command.get("user_name") or "")
            if who is None:
                return
            text = conversation_text(command.get("text") or "", context.bot_user_id) or "help"
            for reply in await self._gateway.message(who, text, Format.SLACK):
                try:
                    await self._post(who.chat, reply)
                except ChannelError as error:
                    if not error.permanent or error.retry_after is not None:
                        log.warning("slack: could not answer /tasktalk: %s", error)
                        continue
                    # A channel the bot is not in (or a DM between two people): answer
                    # through the command's response_url, to the person only.
                    await respond(response_type="ephemeral", **content(reply))

    async def _on_action(
        self,
        ack: Callable[..., Awaitable[None]],
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
        respond: Callable[..., Awaitable[Any]],
    ) -> None:
        await ack()
        with self._tracked():
            pressed = decode_button(action)
            container = body.get("container") or {}
            channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
            user = body.get("user") or {}
            who = chat_identity(context, channel, user.get("username") or user.get("name") or "")
            if pressed is None or who is None:
                return
            replies = await self._gateway.press(who, pressed, Format.SLACK)
            message = body.get("message") or {}
            if (
                replies
                and pressed.action in _DECISIONS
                and pressed.task_id is not None
                and await self._gateway.step_decided(who, pressed.task_id, pressed.step)
            ):
                decided, replies = replies[0], replies[1:]
                update = decision(message.get("blocks") or [], decided)
                if container.get("is_ephemeral"):
                    await respond(replace_original=True, **update)
                elif message.get("ts"):
                    try:
                        await self._call(
                            "chat.update",
                            self._client.chat_update,
                            channel=who.chat,
                            ts=message["ts"],
                            **update,
                        )
                    except ChannelError as error:
                        log.warning("slack: could not show the decision: %s", error)
                        replies = [decided, *replies]
            await self._reply(who.chat, replies, message.get("thread_ts"))

    @contextlib.contextmanager
    def _tracked(self) -> Iterator[None]:
        """Bolt answers Slack first and handles the request in a task of its own; `idle`
        and `stop` wait for those."""
        task = asyncio.current_task()
        if task is not None:
            self._handling.add(task)
        try:
            yield
        finally:
            if task is not None:
                self._handling.discard(task)


class _SeenEvents:
    """The last `size` event ids, oldest forgotten first."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def add(self, event_id: str) -> bool:
        """True the first time an id is seen."""
        if event_id in self._ids:
            self._ids.move_to_end(event_id)
            return False
        self._ids[event_id] = None
        if len(self._ids) > self._size:
            self._ids.popitem(last=False)
        return True


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"
