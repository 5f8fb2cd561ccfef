"""CORS for the embedded widget: pages on `server.allowed_origins` may call /api/*.

The widget's `<script src="https://HOST/widget.js">` runs on another site and talks to
HOST from there. The browser asks first (a preflight OPTIONS, without the token), so this
middleware must sit outside the token check; it answers preflights itself and marks the
answers to allowed origins. Tokens travel in the Authorization header, never in cookies,
so no credentials mode is needed.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Middleware

from bot.http import Handler, error_response

ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE"
ALLOW_HEADERS = "Authorization, Content-Type"
MAX_AGE_SECONDS = 600


def origin_allowed(origin: str, allowed: tuple[str, ...]) -> bool:
    return origin in allowed or "*" in allowed


def make_cors_middleware(allowed: tuple[str, ...]) -> Middleware:
    @web.middleware
    async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if origin is None or not request.path.startswith("/api/"):
            return await handler(request)
        permitted = origin_allowed(origin, allowed)
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            if not permitted:
                return error_response(
                    403, "forbidden", "This origin is not in server.allowed_origins.", "Origin"
                )
            return web.Response(
                status=204,
                headers={
                    "Access-Control-Allow-Origin": origin,
                    "Access-Control-Allow-Methods": ALLOW_METHODS,
                    "Access-Control-Allow-Headers": ALLOW_HEADERS,
                    "Access-Control-Max-Age": str(MAX_AGE_SECONDS),
                    "Vary": "Origin",
                },
            )
        response = await handler(request)
        if permitted:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
        return response

    return cors_middleware
