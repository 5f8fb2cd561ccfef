"""A person's side of the HTTP API for CLI commands: REST calls and task WebSockets.

Every failure leaves as a `ClientProblem` (or `ApiRefused` for an answered error), so a
command prints one clear line instead of a traceback.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

import aiohttp
import orjson

from bot.client.reasons import why_unreachable
from bot.client_options import ClientOptions, ClientProblem

REQUEST_SECONDS = 15.0
HEARTBEAT_SECONDS = 20.0


class ApiRefused(ClientProblem):
    """The server answered with an error status; `message` is its own sentence."""

    def __init__(self, server: str, status: int, code: str, message: str) -> None:
        super().__init__("refused", server=server, status=status, message=message)
        self.status = status
        self.code = code
        self.message = message


class ApiSession:
    """An authenticated aiohttp session bound to one server; use with `async with`."""

    def __init__(self, options: ClientOptions) -> None:
        self.server = options.server
        self._token = options.token
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> ApiSession:
        self._http = aiohttp.ClientSession(
            headers={"Authorization": f"Bearer {self._token}"},
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=REQUEST_SECONDS),
        )
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._http is not None:
            await self._http.close()

    @property
    def http(self) -> aiohttp.ClientSession:
        if self._http is None:
            raise RuntimeError("use ApiSession in `async with` first")
        return self._http

    async def get(self, path: str, **params: str | int) -> Any:
        return await self._request("GET", path, params)

    async def post(self, path: str, body: Any = None) -> Any:
        return await self._request("POST", path, None, body)

    async def patch(self, path: str, body: Any) -> Any:
        return await self._request("PATCH", path, None, body)

    async def websocket(self, path: str, since: int | None) -> aiohttp.ClientWebSocketResponse:
        params = {} if since is None else {"since": str(since)}
        try:
            return await self.http.ws_connect(
                self.server + path, params=params, heartbeat=HEARTBEAT_SECONDS
            )
        except aiohttp.WSServerHandshakeError as error:
            raise self._refusal(error.status, b"") from None
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            raise self._unreachable(error) from None

    async def _request(
        self, method: str, path: str, params: dict[str, Any] | None, body: Any = None
    ) -> Any:
        try:
            async with self.http.request(
                method,
                self.server + path,
                params=params,
                json=body,
                timeout=aiohttp.ClientTimeout(total=REQUEST_SECONDS),
            ) as response:
                content = await response.read()
                status = response.status
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            raise self._unreachable(error) from None
        if status >= 400:
            raise self._refusal(status, content)
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError:
            raise ClientProblem("not_tasktalk", server=self.server, status=status) from None

    def _refusal(self, status: int, content: bytes) -> ClientProblem:
        if status == 401:
            return ClientProblem("bad_token", server=self.server)
        try:
            error = orjson.loads(content)["error"]
            code, message = str(error["code"]), str(error["message"])
        except (orjson.JSONDecodeError, KeyError, TypeError):
            if status != 404:
                return ClientProblem("not_tasktalk", server=self.server, status=status)
            code, message = "not_found", ""
        return ApiRefused(self.server, status, code, message)

    def _unreachable(self, error: BaseException) -> ClientProblem:
        return ClientProblem("unreachable", server=self.server, reason=why_unreachable(error))
