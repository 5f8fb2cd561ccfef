"""JSON responses and the one error shape of api.md: {"error": {code, message, field}}."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from bot.json_fields import RequestInvalid
from engine.errors import Conflict, DomainError, IllegalTransition, InvalidInput, NotFound

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_DOMAIN_STATUS: dict[type[DomainError], int] = {
    NotFound: 404,
    IllegalTransition: 409,
    Conflict: 409,
    InvalidInput: 422,
}
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    503: "unavailable",
}


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=orjson.dumps(data), status=status, content_type="application/json", headers=headers
    )


def error_response(status: int, code: str, message: str, field: str | None = None) -> web.Response:
    return json_response({"error": {"code": code, "message": message, "field": field}}, status)


async def read_json(request: web.Request) -> Any:
    """The request body as JSON; 400 for malformed, 413 (via aiohttp) for oversize."""
    body = await request.read()
    if not body:
        raise RequestInvalid(None, "The request body must be a JSON object.", status=400)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise RequestInvalid(None, f"The body is not valid JSON: {error}.", status=400) from None


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except RequestInvalid as error:
        return error_response(error.status, _HTTP_CODES[error.status], error.message, error.field)
    except DomainError as error:
        status = _DOMAIN_STATUS.get(type(error), 409)
        return error_response(status, error.code, error.sentence, error.field)
    except web.HTTPRequestEntityTooLarge as error:
        limit = error.text or ""
        return error_response(413, "too_large", f"The request body is too large. {limit}".strip())
    except web.HTTPException as error:
        if error.status < 400:
            raise
        code = _HTTP_CODES.get(error.status, "http_error")
        return error_response(error.status, code, error.reason)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal", "Something went wrong on our side; it is logged.")
