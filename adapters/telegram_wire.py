"""Translation between tasktalk's shapes and Telegram's: commands, buttons, errors.

Pure functions (no network): what a message says to the conversation, a button as 64
bytes of callback data and back, the inline keyboard, a toast's text, and which Telegram
errors are worth retrying. Imported through `adapters.telegram`, which says what to
install when python-telegram-bot is missing.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import timedelta
from importlib import resources
from typing import Any

import yaml
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from adapters.base import Button, ChannelError

MAX_CALLBACK_BYTES = 64
MAX_TOAST = 200  # answerCallbackQuery text
MAX_LABEL = 40
#: Commands in the menu (setMyCommands) and the conversation text each one stands for.
#: Command -> what the conversation is told; the menu's descriptions are words, so they
#: live in templates/telegram_commands.yaml.
_COMMAND_TEXT = {
    "status": "status",
    "tasks": "list my tasks",
    "logs": "show logs",
    "pause": "pause",
    "resume": "resume",
    "cancel": "cancel",
    "approve": "approve",
    "help": "help",
}
_DESCRIPTIONS: dict[str, str] = yaml.safe_load(
    resources.files("templates").joinpath("telegram_commands.yaml").read_text(encoding="utf-8")
)
COMMANDS: dict[str, tuple[str, str]] = {
    name: (text, _DESCRIPTIONS[name]) for name, text in _COMMAND_TEXT.items()
}
_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]+))?(?:\s+(.*))?$", re.DOTALL)


def conversation_text(text: str, bot_username: str | None) -> str | None:
    """A message as the conversation understands it: "/status@bot crm" -> "status crm";
    None for a command addressed to another bot."""
    text = text.replace("\x00", "").strip()
    match = _COMMAND.match(text)
    if match is None:
        return text
    command, addressee, rest = match.group(1).lower(), match.group(2), (match.group(3) or "")
    if addressee and bot_username and addressee.lower() != bot_username.lower():
        return None
    rest = rest.strip()
    if command == "start":  # a deep link may carry a link code: t.me/bot?start=K7M3Q9TX
        return rest or "help"
    words = COMMANDS[command][0] if command in COMMANDS else command
    return f"{words} {rest}".strip()


def encode_button(pressed: Button) -> str:
    """`action|task_id|step`, within Telegram's 64 bytes of callback data."""
    step = "" if pressed.step is None else str(pressed.step)
    parts = (pressed.action, pressed.task_id or "", step)
    data = "|".join(parts)
    if any("|" in part for part in parts) or len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ChannelError(f"button {pressed.label!r} does not fit callback data", permanent=True)
    return data


def decode_button(data: str | None) -> Button:
    """The pressed button; forged or old data still decodes, and the conversation (which
    acts only on the presser's own tasks) answers it."""
    action, task_id, step = ([*(data or "").split("|", 2), "", ""])[:3]
    number = int(step) if step.isdigit() and len(step) <= 6 else None
    return Button("", action[:32], task_id[:64] or None, number)


def keyboard(buttons: Sequence[Button]) -> InlineKeyboardMarkup | None:
    """Action buttons three to a row; longer labels (task titles) one per row."""
    if not buttons:
        return None
    rows: list[list[InlineKeyboardButton]] = []
    for pressed in buttons:
        label = pressed.label if len(pressed.label) <= MAX_LABEL else pressed.label[:39] + "…"
        item = InlineKeyboardButton(label, callback_data=encode_button(pressed))
        short = len(label) <= 12
        if rows and short and len(rows[-1]) < 3 and all(len(b.text) <= 12 for b in rows[-1]):
            rows[-1].append(item)
        else:
            rows.append([item])
    return InlineKeyboardMarkup(rows)


def plain_line(text: str) -> str:
    """The first line of an HTML reply as plain text, short enough for a toast."""
    line = html.unescape(re.sub(r"<[^>]*>", "", text)).strip().split("\n", 1)[0]
    return line if len(line) <= MAX_TOAST else line[: MAX_TOAST - 1] + "…"


def retry_seconds(error: RetryAfter) -> float:
    value: Any = error.retry_after  # a timedelta with PTB_TIMEDELTA, else seconds
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def channel_error(error: TelegramError) -> ChannelError:
    if isinstance(error, RetryAfter):
        seconds = retry_seconds(error)
        return ChannelError(f"Telegram: {error}", permanent=False, retry_after=seconds)
    if isinstance(error, (Forbidden, BadRequest, InvalidToken, ChatMigrated)):
        return ChannelError(f"Telegram: {error}", permanent=True)  # blocked, no such chat
    if isinstance(error, NetworkError):  # includes TimedOut
        return ChannelError(f"Telegram unreachable: {error}", permanent=False)
    return ChannelError(f"Telegram: {error}", permanent=False)
