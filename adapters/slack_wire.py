"""Translation between tasktalk's shapes and Slack's: who wrote, what, which button, errors.

Pure functions (no network): a request's sender as a `ChatIdentity`, Slack's message text as
the conversation reads it, a button's value back into a `Button`, and a Web API error as a
`ChannelError` that says whether to retry. Imported through `adapters.slack`, which says
what to install when slack-bolt is missing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError

from adapters.base import Button, ChannelError
from bot.chat_gateway import ChatIdentity

#: Slack errors worth trying again; any other `ok: false` is a request Slack will refuse
#: again (channel_not_found, not_in_channel, invalid_auth, msg_too_long, ...).
_TRANSIENT = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
_LINK = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


def chat_identity(
    context: AsyncBoltContext, channel: object, name: str = ""
) -> ChatIdentity | None:
    """Who wrote, as the workspace they wrote in knows them, and where to answer."""
    team, user = context.team_id, context.user_id
    if not (team and user and isinstance(channel, str) and channel):
        return None
    return ChatIdentity("slack", f"{team}:{user}", channel, name)


def conversation_text(text: str, bot_user_id: str | None) -> str:
    """What the person typed: the bot's own mention dropped, links and mentions shown as
    their labels, and Slack's `&amp; &lt; &gt;` decoded."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1).lstrip("@#!"), text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(text.split())


def decode_button(action: dict[str, Any]) -> Button | None:
    """The Button a click stands for, from the value `slack_blocks.button_element` wrote."""
    try:
        value = json.loads(action.get("value") or "")
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    name, task_id, step = value.get("action"), value.get("task_id"), value.get("step")
    if not isinstance(name, str) or not isinstance(task_id, str | None):
        return None
    if not isinstance(step, int | None) or isinstance(step, bool):
        return None
    label = (action.get("text") or {}).get("text") or name
    return Button(str(label), name, task_id, step)


def channel_error(method: str, error: SlackApiError) -> ChannelError:
    response = error.response
    data = response.data if isinstance(response.data, Mapping) else {}
    code = str(data.get("error") or f"HTTP {response.status_code}")
    if response.status_code == 429 or code == "ratelimited":
        wait = _retry_after(response.headers)
        return ChannelError(f"Slack {method}: ratelimited", permanent=False, retry_after=wait)
    permanent = response.status_code < 500 and code not in _TRANSIENT
    return ChannelError(f"Slack {method}: {code}", permanent=permanent)


def _retry_after(headers: Mapping[str, Any] | None) -> float:
    """Slack's Retry-After in seconds (one second if it sent none)."""
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            text = value[0] if isinstance(value, list) and value else value
            try:
                return max(0.0, float(text))
            except (TypeError, ValueError):
                break
    return 1.0
