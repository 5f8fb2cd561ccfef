"""Telegram through python-telegram-bot: long polling (default) or a webhook on our app.

Text and commands go to the conversation through the chat gateway; inline buttons come back
as callback queries, always answered. Updates are deduplicated by `update_id` (a bounded
set: ids can jump), handled in order per chat, and everything posted into a chat is paced
under Telegram's flood limits. No python-telegram-bot object leaves this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import re
from collections import OrderedDict
from collections.abc import Awaitable, Sequence
from typing import TypeVar

from aiohttp import web

from adapters.base import ChannelCapabilities, ChannelError, MessageRef, OutgoingMessage
from adapters.telegram_flood import FloodControl
from adapters.telegram_html import split_html, truncate_html
from bot.chat_gateway import ChatGateway, ChatIdentity
from bot.chat_text import Format
from bot.settings import TelegramSettings

try:
    from telegram import Bot as _Bot
    from telegram import BotCommand, CallbackQuery, LinkPreviewOptions, Message, Update
    from telegram.constants import ParseMode
    from telegram.error import InvalidToken, RetryAfter, TelegramError

    from adapters.telegram_wire import (
        COMMANDS,
        channel_error,
        conversation_text,
        decode_button,
        keyboard,
        plain_line,
        retry_seconds,
    )
except ImportError as error:  # pragma: no cover - depends on what is installed
    raise ImportError(
        'The Telegram channel needs python-telegram-bot: pip install "tasktalk[telegram]"'
    ) from error

log = logging.getLogger(__name__)
T = TypeVar("T")

# python-telegram-bot >= 22.2 warns whenever it builds a RetryAfter (every 429) unless time
# periods are opted in as timedelta, its next major version's default; we read both forms.
os.environ.setdefault("PTB_TIMEDELTA", "true")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_TEXT = 4096  # characters after entity parsing; we count the HTML, in UTF-16 units
POLL_SECONDS = 30  # long-polling timeout of getUpdates
ALLOWED_UPDATES = ("message", "callback_query")
REMEMBERED_UPDATES = 10_000
STOP_GRACE_SECONDS = 5.0
MAX_REPLY_WAIT_SECONDS = 10.0  # a reply that Telegram holds back longer is dropped
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class TelegramChannel:
    """One bot: receives by polling or webhook, sends and edits HTML messages."""

    name = "telegram"
    capabilities = ChannelCapabilities(
        format="telegram",
        can_edit=True,
        max_text=MAX_TEXT,
        buttons=True,
        rate_per_second=30,
        recipient_rate_per_second=1,
    )

    def __init__(self, settings: TelegramSettings, gateway: ChatGateway) -> None:
        _check(settings)
        self._settings = settings
        self._gateway = gateway
        self._bot: _Bot | None = None
        self._poller: asyncio.Task[None] | None = None
        self._offset: int | None = None
        self._seen: OrderedDict[int, None] = OrderedDict()
        self._handlers: set[asyncio.Task[None]] = set()
        self._last_in_chat: dict[str, asyncio.Task[None]] = {}
        self._flood = FloodControl()
        #: Telegram serves getUpdates to one poller: only the leader replica polls.
        self._lead = True

    @property
    def webhook(self) -> bool:
        return self._settings.mode == "webhook"

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        settings = self._settings
        bot = _Bot(settings.token, base_url=settings.base_url, base_file_url=settings.base_file_url)
        try:
            await bot.initialize()  # getMe
        except InvalidToken as error:
            await bot.shutdown()
            raise RuntimeError(
                f"Telegram refused the bot token ({error}): set TELEGRAM_BOT_TOKEN to the "
                "token @BotFather gave you."
            ) from error
        except TelegramError as error:
            await bot.shutdown()
            raise RuntimeError(
                f"Could not reach the Telegram Bot API at {settings.base_url} ({error}): check "
                "channels.telegram.base_url and the network, or unset TELEGRAM_BOT_TOKEN."
            ) from error
        self._bot = bot
        try:
            await bot.set_my_commands(
                [BotCommand(name, about) for name, (_, about) in COMMANDS.items()]
            )
        except TelegramError as error:  # only the command menu is missing
            log.warning("telegram: setMyCommands failed: %s", error)
        try:
            if self.webhook:
                await bot.set_webhook(
                    url=settings.webhook_url,
                    secret_token=settings.webhook_secret,
                    allowed_updates=ALLOWED_UPDATES,
                )
            else:
                await bot.delete_webhook()  # getUpdates is refused while a webhook is set
        except TelegramError as error:
            self._bot = None
            await bot.shutdown()
            what = f"setWebhook({settings.webhook_url})" if self.webhook else "deleteWebhook"
            raise RuntimeError(f"Telegram refused {what}: {error}") from error
        if not self.webhook and self._lead:
            self._poller = asyncio.create_task(self._poll(bot), name="tasktalk-telegram-poll")
        log.info("telegram: @%s is %s", bot.username, self._settings.mode)

    def leading(self, lead: bool) -> None:
        """Called when this replica becomes or stops being the leader: long polling runs
        on the leader only (webhook mode serves on every replica)."""
        self._lead = lead
        if self.webhook or self._bot is None:
            return
        if lead and self._poller is None:
            self._poller = asyncio.create_task(self._poll(self._bot), name="tasktalk-telegram-poll")
        elif not lead and self._poller is not None:
            self._poller.cancel()
            self._poller = None

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        if self._handlers:  # let replies in flight finish, then give up on them
            _, late = await asyncio.wait(set(self._handlers), timeout=STOP_GRACE_SECONDS)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
        bot, self._bot = self._bot, None
        if bot is None:
            return
        if self._offset is not None:
            # Confirm what was handled, so a restart does not receive it again.
            with contextlib.suppress(TelegramError):
                await bot.get_updates(offset=self._offset, timeout=0, limit=1)
        await bot.shutdown()

    def add_routes(self, app: web.Application) -> None:
        if self.webhook:
            app.router.add_post(self._settings.webhook_path, self._on_webhook)

    # --- sending ------------------------------------------------------------------------

    async def send(self, recipient: str, message: OutgoingMessage) -> MessageRef:
        bot = self._running()
        markup = keyboard(message.buttons)
        parts = split_html(message.text, MAX_TEXT)
        sent: Message | None = None
        for number, part in enumerate(parts, start=1):
            await self._flood.take(recipient)
            sent = await _call(
                bot.send_message(
                    chat_id=recipient,
                    text=part,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup if number == len(parts) else None,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                )
            )
        assert sent is not None  # split_html returns at least one part
        return MessageRef(self.name, recipient, str(sent.message_id))

    async def edit(self, ref: MessageRef, message: OutgoingMessage) -> None:
        bot = self._running()
        try:
            message_id = int(ref.message_id)
        except ValueError:
            error = ChannelError(f"not a Telegram message id: {ref.message_id!r}", permanent=True)
            raise error from None
        await self._flood.take(ref.recipient)
        try:
            await _call(
                bot.edit_message_text(
                    chat_id=ref.recipient,
                    message_id=message_id,
                    text=truncate_html(message.text, MAX_TEXT),
                    parse_mode=ParseMode.HTML,
                    reply_markup=keyboard(message.buttons),  # none: the keyboard goes
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                )
            )
        except ChannelError as error:
            if "message is not modified" not in str(error).lower():
                raise  # (the same text again is what we wanted)

    def _running(self) -> _Bot:
        if self._bot is None:
            raise ChannelError("the Telegram channel is not running", permanent=False)
        return self._bot

    # --- receiving ----------------------------------------------------------------------

    async def _poll(self, bot: _Bot) -> None:
        pause = 1.0
        while True:
            try:
                updates = await bot.get_updates(
                    offset=self._offset, timeout=POLL_SECONDS, allowed_updates=ALLOWED_UPDATES
                )
            except RetryAfter as error:
                await asyncio.sleep(retry_seconds(error))
                continue
            except TelegramError as error:
                # Conflict: another process polls this bot, or a webhook was set again.
                log.warning("telegram: getUpdates failed (%s); again in %.0f s", error, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 60.0)
                continue
            except Exception:  # an update the library cannot parse: keep polling
                log.exception("telegram: getUpdates failed; again in %.0f s", pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 60.0)
                continue
            pause = 1.0
            for update in updates:
                self._offset = update.update_id + 1
                self.receive(update)

    async def _on_webhook(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._settings.webhook_secret.encode()):
            return web.Response(status=403)
        bot = self._bot
        if bot is None:
            return web.Response(status=503)  # Telegram retries later
        try:
            update = Update.de_json(await request.json(), bot)
        except (ValueError, TypeError, KeyError, AttributeError):
            return web.Response(status=400)
        if not isinstance(update.update_id, int):
            return web.Response(status=400)
        self.receive(update)
        return web.Response(status=200)  # before handling, or Telegram resends a slow one

    def receive(self, update: Update) -> None:
        """Handle an update once, after the ones before it in the same chat."""
        if update.update_id in self._seen:
            log.debug("telegram: update %d again, ignored", update.update_id)
            return
        self._seen[update.update_id] = None
        while len(self._seen) > REMEMBERED_UPDATES:
            self._seen.popitem(last=False)
        chat = _chat_of(update)
        task = asyncio.create_task(self._handle(update, self._last_in_chat.get(chat)))
        self._last_in_chat[chat] = task
        self._handlers.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self._handlers.discard(finished)
            if self._last_in_chat.get(chat) is finished:
                del self._last_in_chat[chat]

        task.add_done_callback(done)

    async def _handle(self, update: Update, before: asyncio.Task[None] | None) -> None:
        if before is not None:
            await asyncio.wait([before])
        try:
            if not await self._gateway.first_time("telegram", str(update.update_id)):
                log.debug("telegram: update %d handled by another replica", update.update_id)
                return
            if update.callback_query is not None:
                await self._on_press(update.callback_query)
            elif update.message is not None and update.message.text:
                await self._on_message(update.message)
        except Exception:
            log.exception("telegram: update %d failed", update.update_id)

    async def _on_message(self, message: Message) -> None:
        person = message.from_user
        if person is None or person.is_bot:
            return
        text = conversation_text(message.text or "", self._running().username)
        if text is None:
            return  # a command for another bot in a group
        who = ChatIdentity("telegram", str(person.id), str(message.chat.id), person.full_name)
        replies = await self._gateway.message(who, text, Format.TELEGRAM)
        await self._reply(who.chat, replies)

    async def _on_press(self, query: CallbackQuery) -> None:
        person = query.from_user
        chat = str(query.message.chat.id if query.message is not None else person.id)
        who = ChatIdentity("telegram", str(person.id), chat, person.full_name)
        replies: list[OutgoingMessage] = []
        try:
            replies = await self._gateway.press(who, decode_button(query.data), Format.TELEGRAM)
        finally:
            # Always answered, or the button spins; the first line of the reply as a toast.
            toast = plain_line(replies[0].text) if replies else None
            try:
                await self._running().answer_callback_query(query.id, text=toast)
            except TelegramError as error:
                log.info("telegram: answerCallbackQuery failed: %s", error)
        await self._reply(chat, replies)

    async def _reply(self, chat: str, replies: Sequence[OutgoingMessage]) -> None:
        for reply in replies:
            try:
                await self.send(chat, reply)
            except ChannelError as error:
                if error.retry_after is None or error.retry_after > MAX_REPLY_WAIT_SECONDS:
                    log.warning("telegram: reply to chat %s failed: %s", chat, error)
                    continue
                await asyncio.sleep(error.retry_after)  # a person is waiting: try once more
                try:
                    await self.send(chat, reply)
                except ChannelError as again:
                    log.warning("telegram: reply to chat %s failed: %s", chat, again)


async def _call(request: Awaitable[T]) -> T:
    try:
        return await request
    except TelegramError as error:
        raise channel_error(error) from error


def _chat_of(update: Update) -> str:
    chat = update.effective_chat
    if chat is not None:
        return str(chat.id)
    person = update.effective_user
    return str(person.id) if person is not None else ""


def _check(settings: TelegramSettings) -> None:
    if settings.mode not in ("polling", "webhook"):
        raise ValueError(f"channels.telegram.mode is {settings.mode!r}: use polling or webhook.")
    if settings.mode != "webhook":
        return
    if not settings.webhook_secret:
        raise ValueError(
            "channels.telegram.mode is webhook but there is no secret: set "
            "TELEGRAM_WEBHOOK_SECRET (1-256 of A-Z, a-z, 0-9, _ and -), so only Telegram "
            "can post updates."
        )
    if not _SECRET.match(settings.webhook_secret):
        raise ValueError(
            "TELEGRAM_WEBHOOK_SECRET may hold only A-Z, a-z, 0-9, _ and - (1-256 of them)."
        )
    if not settings.webhook_url.startswith("https://"):
        raise ValueError(
            "channels.telegram.webhook_url must be the public https:// URL that reaches "
            f"{settings.webhook_path} on this server."
        )
    if not settings.webhook_path.startswith("/"):
        raise ValueError("channels.telegram.webhook_path must start with /.")


# --- HTML that fits -----------------------------------------------------------------------
