"""Bearer-token authentication for /api/* and /ws/*, with a short in-memory cache.

Tokens are looked up by their SHA-256; a verified token is remembered for
`auth.token_cache_seconds` so the hot report path does not query the database each time.
"""

from __future__ import annotations

import time

from aiohttp import web
from aiohttp.typedefs import Middleware

from bot.http import Handler, error_response
from engine.accounts import Account, account_for_token
from engine.database import Database

ACCOUNT = web.RequestKey("account", Account)
#: /api/session trades a one-time login code for a token, so it cannot ask for one.
PUBLIC_PATHS = frozenset({"/api/openapi.json", "/api/session"})
_CACHE_LIMIT = 10_000


class TokenAuthenticator:
    def __init__(self, database: Database, cache_seconds: float) -> None:
        self._database = database
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Account]] = {}

    async def account(self, token: str) -> Account | None:
        # Keyed by the token itself (it is in memory with every request anyway), so a
        # cached token costs no hashing; the database only ever sees its SHA-256.
        now = time.monotonic()
        cached = self._cache.get(token)
        if cached is not None and cached[0] > now:
            return cached[1]
        async with self._database.read() as conn:
            account = await account_for_token(conn, token)
        if account is not None:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[token] = (now + self._cache_seconds, account)
        return account


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    if request.path.startswith("/ws/"):
        return request.query.get("token") or None
    return None


def make_auth_middleware(authenticator: TokenAuthenticator) -> Middleware:
    @web.middleware
    async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if not (path.startswith(("/api/", "/ws/"))) or path in PUBLIC_PATHS:
            return await handler(request)
        token = bearer_token(request)
        if token is None:
            return error_response(
                401,
                "unauthorized",
                "Send 'Authorization: Bearer <token>' (tasktalk token create).",
                "Authorization",
            )
        account = await authenticator.account(token)
        if account is None:
            return error_response(401, "unauthorized", "That token is not valid.", "Authorization")
        request[ACCOUNT] = account
        return await handler(request)

    return auth_middleware


def current_account(request: web.Request) -> Account:
    account: Account = request[ACCOUNT]
    return account
