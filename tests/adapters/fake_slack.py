"""A Slack Web API on 127.0.0.1 that answers like Slack and records every call.

The real `AsyncWebClient` talks to it (`base_url=`), the way slack-bolt's own
`tests/mock_web_api_server` works. It also takes `response_url` posts (slash commands,
ephemeral buttons) at `/response/<id>`, recorded as the method "response_url", and plays
Socket Mode: apps.connections.open hands out `ws://.../link`, where `push` sends envelopes
and the client's acknowledgements are recorded as "socket_ack".
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

BOT_USER = "UBOT"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    token: str | None
    answer: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Failure:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class FakeSlack:
    def __init__(self, token: str, team: str = "T1", app_token: str = "xapp-test") -> None:
        self.token = token
        self.app_token = app_token
        self.team = team
        self.calls: list[Call] = []
        self._failures: dict[str, list[_Failure]] = {}
        self._ts = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._socket: web.WebSocketResponse | None = None
        self.url = ""

    async def start(self) -> str:
        """Serve on a free port; returns the API base URL (with its trailing slash)."""
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_post("/response/{id}", self._response_url)
        app.router.add_get("/link", self._link)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return f"{self.url}/api/"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def fail_next(
        self,
        method: str,
        error: str,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next call of `method` with `{"ok": false, "error": error}`."""
        body = {"ok": False, "error": error}
        self._failures.setdefault(method, []).append(_Failure(status, body, headers or {}))

    def params(self, method: str) -> list[dict[str, Any]]:
        return [call.params for call in self.calls if call.method == method]

    def posted(self) -> list[dict[str, Any]]:
        """chat.postMessage params, each with the `ts` Slack gave the message."""
        return [
            {**call.params, "ts": call.answer.get("ts")}
            for call in self.calls
            if call.method == "chat.postMessage"
        ]

    def methods(self) -> list[str]:
        return [call.method for call in self.calls]

    async def wait_for(self, method: str, count: int = 1) -> list[dict[str, Any]]:
        """The first `count` calls of `method`, waiting (up to 10 s) for them to arrive."""

        def arrived() -> bool:
            return len(self.params(method)) >= count

        async with asyncio.timeout(10), self._changed:
            await self._changed.wait_for(arrived)
        return self.params(method)[:count]

    async def push(self, envelope: dict[str, Any]) -> None:
        """Send a Socket Mode envelope once the client is connected."""
        await self.wait_for("socket.open")
        assert self._socket is not None
        await self._socket.send_json(envelope)

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_json(
            {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0TASKTALK"}}
        )
        self._socket = socket
        await self._record(Call("socket.open", {}, None))
        async for message in socket:
            if message.type is WSMsgType.TEXT:
                await self._record(Call("socket_ack", json.loads(message.data), None))
        return socket

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _params(request)
        authorization = request.headers.get("Authorization", "")
        token = authorization.removeprefix("Bearer ") or params.pop("token", None)
        failures = self._failures.get(method)
        if failures:
            failure = failures.pop(0)
            await self._record(Call(method, params, token, failure.body))
            return web.json_response(failure.body, status=failure.status, headers=failure.headers)
        answer = self._answer(method, params, token)
        await self._record(Call(method, params, token, answer))
        return web.json_response(answer)

    async def _response_url(self, request: web.Request) -> web.Response:
        await self._record(Call("response_url", await request.json(), None))
        return web.json_response({"ok": True})

    def _answer(self, method: str, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        if method == "apps.connections.open":
            if token != self.app_token:
                return {"ok": False, "error": "invalid_auth"}
            return {"ok": True, "url": f"{self.url.replace('http', 'ws', 1)}/link"}
        if token != self.token:
            return {"ok": False, "error": "invalid_auth"}
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://team-one.slack.com/",
                "team": "Team One",
                "user": "tasktalk",
                "team_id": self.team,
                "user_id": BOT_USER,
                "bot_id": "BBOT",
                "is_enterprise_install": False,
            }
        if method == "chat.postMessage":
            channel = str(params.get("channel", ""))
            if channel.startswith("U"):  # a user id: Slack posts in the app's DM with them
                channel = "D" + channel[1:]
            ts = f"1700000000.{next(self._ts):06d}"
            return {"ok": True, "channel": channel, "ts": ts, "message": {"ts": ts}}
        if method == "chat.update":
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}
        return {"ok": True}


async def _params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        data = await request.json()
        return dict(data)
    form = await request.post()
    params: dict[str, Any] = {}
    for key, value in form.items():
        text = str(value)
        params[key] = json.loads(text) if key in ("blocks", "attachments") else text
    return params
