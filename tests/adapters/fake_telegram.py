"""A small Bot API server on 127.0.0.1 for the real python-telegram-bot client.

It records every call (method and form parameters, as the client sent them), answers the
methods tasktalk uses, serves `getUpdates` from a queue (long polling included) and fails
a method on request, the way Telegram does (429 with retry_after, 400, 403).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

PAYLOADS = Path(__file__).resolve().parent.parent / "payloads" / "telegram"
BOT_USER = {
    "id": 7000000001,
    "is_bot": True,
    "first_name": "tasktalk",
    "username": "tasktalk_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


@dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, str]

    def json(self, name: str) -> Any:
        """A parameter the client JSON-encoded (reply_markup, commands)."""
        return json.loads(self.params[name])


class FakeBotApi:
    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: list[Call] = []
        self._updates: list[dict[str, Any]] = []
        self._arrived = asyncio.Condition()
        self._failures: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self._message_ids = itertools.count(500)
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}/bot"
        return self.base_url

    async def close(self) -> None:
        async with self._arrived:
            self._closing = True
            self._arrived.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- what tests do ------------------------------------------------------------------

    async def push(self, *updates: dict[str, Any]) -> None:
        """Queue updates for the next getUpdates."""
        async with self._arrived:
            self._updates += updates
            self._arrived.notify_all()

    def fail_next(
        self, method: str, code: int, description: str, retry_after: int | None = None
    ) -> None:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        self._failures.setdefault(method, []).append((code, body))

    def called(self, *methods: str) -> list[Call]:
        return [call for call in self.calls if call.method in methods]

    def methods(self) -> list[str]:
        return [call.method for call in self.calls]

    async def wait_for(self, method: str, count: int = 1, within: float = 10.0) -> list[Call]:
        """The calls of `method` once there are at least `count` of them."""
        deadline = time.monotonic() + within
        while len(found := self.called(method)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{count} x {method} expected; calls: {self.methods()}")
            await asyncio.sleep(0.02)
        return found

    # --- the server ---------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return _json({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        params = {key: str(value) for key, value in (await request.post()).items()}
        self.calls.append(Call(method, params))
        failures = self._failures.get(method)
        if failures:
            code, body = failures.pop(0)
            return _json(body, code)
        if method == "getUpdates":
            return _json({"ok": True, "result": await self._next_updates(params)})
        return _json({"ok": True, "result": self._result(method, params)})

    async def _next_updates(self, params: dict[str, str]) -> list[dict[str, Any]]:
        wait = float(params.get("timeout", "0") or 0)
        async with self._arrived:
            if not self._updates and not self._closing and wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._arrived.wait(), wait)
            if params.get("limit") == "1" and wait == 0:
                return []  # the client confirming its offset on the way out
            updates, self._updates = self._updates, []
            return updates

    def _result(self, method: str, params: dict[str, str]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method in ("sendMessage", "editMessageText"):
            chat_id = int(params["chat_id"])
            message_id = (
                int(params["message_id"]) if "message_id" in params else next(self._message_ids)
            )
            return {
                "message_id": message_id,
                "from": BOT_USER,
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
                "date": int(time.time()),
                "text": params.get("text", ""),
            }
        return True


def _json(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


# --- recorded payloads ----------------------------------------------------------------------


def payload(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


_update_ids = itertools.count(900_000_001)


def text_update(
    text: str,
    *,
    user: int = 1001,
    chat: int | None = None,
    update_id: int | None = None,
    first_name: str = "Alice",
) -> dict[str, Any]:
    """A message update as Telegram sends it (tests/payloads/telegram/message.json)."""
    update = payload("message")
    update["update_id"] = update_id or next(_update_ids)
    message = update["message"]
    message["from"].update(id=user, first_name=first_name)
    chat_id = user if chat is None else chat
    message["chat"] = (
        {"id": chat_id, "first_name": first_name, "type": "private"}
        if chat_id > 0
        else {"id": chat_id, "title": "Ops", "type": "group"}
    )
    message["text"] = text
    message.pop("entities", None)
    if text.startswith("/"):
        command = text.split()[0]
        message["entities"] = [{"offset": 0, "length": len(command), "type": "bot_command"}]
    return update


def press_update(
    data: str, *, user: int = 1001, message_id: int = 500, update_id: int | None = None
) -> dict[str, Any]:
    """A callback query (tests/payloads/telegram/callback_query.json) on a bot message."""
    update = payload("callback_query")
    update["update_id"] = update_id or next(_update_ids)
    query = update["callback_query"]
    query["id"] = f"cq{update['update_id']}"
    query["from"]["id"] = user
    query["message"]["chat"]["id"] = user
    query["message"]["message_id"] = message_id
    query["data"] = data
    return update


def inline_keyboard(call: Call) -> list[list[tuple[str, str]]]:
    """A sent message's buttons as (label, callback data) rows."""
    if "reply_markup" not in call.params:
        return []
    rows: Iterable[list[dict[str, str]]] = call.json("reply_markup")["inline_keyboard"]
    return [[(b["text"], b["callback_data"]) for b in row] for row in rows]
