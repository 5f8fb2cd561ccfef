"""`POST /api/chat`: the conversation over HTTP, for `tasktalk ask`, scripts and the widget.

Replies are rendered in plain text unless the caller asks for another format; buttons come
back as data and are pressed by posting them as `button`.
"""

from __future__ import annotations

from aiohttp import web

from adapters.base import OutgoingMessage
from bot.auth import current_account
from bot.chat_actions import Speaker
from bot.chat_text import Format
from bot.http import json_response, read_json
from bot.keys import CONVERSATION
from bot.validation import parse_chat_request


async def chat(request: web.Request) -> web.Response:
    account = current_account(request)
    asked = parse_chat_request(await read_json(request))
    speaker = Speaker(account.id, account.name)
    conversation, fmt = request.app[CONVERSATION], Format(asked.format)
    key = f"api:{asked.conversation}"
    if asked.button is not None:
        replies = await conversation.press(speaker, asked.button, conversation=key, fmt=fmt)
    else:
        replies = await conversation.say(speaker, asked.text or "", conversation=key, fmt=fmt)
    return json_response({"replies": [reply_json(reply) for reply in replies]})


def reply_json(reply: OutgoingMessage) -> dict[str, object]:
    return {
        "text": reply.text,
        "buttons": [
            {"label": b.label, "action": b.action, "task_id": b.task_id, "step": b.step}
            for b in reply.buttons
        ],
    }
