"""The web widget: plain JavaScript and CSS served by the app, no build step.

`/` is the full page (chat, task list, Progress View); `/widget.js` embeds the same on any
page with one `<script>` tag. Files live in `bot/widget_static/` and are served with
their type and a short cache lifetime; nothing here needs a token (the page asks for one).
`POST /api/session` trades a one-time link from `tasktalk token create USER --link` for a
token, and pages on `server.allowed_origins` may embed the widget (bot/cross_origin.py).
"""

from __future__ import annotations

from importlib import resources

from aiohttp import web

from bot.http import json_response, read_json
from bot.json_fields import RequestInvalid
from bot.keys import SERVICE
from engine.login_codes import consume_login_code

STATIC = "widget_static"
#: Served files and their content types; anything else under /widget/ is a 404.
FILES = {
    "index.html": "text/html; charset=utf-8",
    "widget.js": "text/javascript; charset=utf-8",
    "widget.css": "text/css; charset=utf-8",
    "sw.js": "text/javascript; charset=utf-8",
}


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", page)
    app.router.add_get("/widget.js", asset)
    app.router.add_get("/widget.css", asset)
    app.router.add_get("/sw.js", asset)
    app.router.add_post("/api/session", create_session)


async def page(request: web.Request) -> web.Response:
    return _file("index.html")


async def asset(request: web.Request) -> web.Response:
    return _file(request.path.lstrip("/"))


async def create_session(request: web.Request) -> web.Response:
    """A new token for a one-time login code; 401 when it is unknown, used or expired."""
    body = await read_json(request)
    if not isinstance(body, dict) or set(body) != {"code"} or not isinstance(body["code"], str):
        raise RequestInvalid("code", 'Send {"code": "..."} from the sign-in link.')
    service = request.app[SERVICE]
    async with service.database.write() as conn:
        token = await consume_login_code(conn, body["code"].strip(), service.clock.now())
    if token is None:
        raise web.HTTPUnauthorized(
            reason="That sign-in link is used or expired: run tasktalk token create USER --link."
        )
    return json_response({"token": token}, status=201)


def _file(name: str) -> web.Response:
    path = resources.files("bot").joinpath(STATIC, name)
    if name not in FILES or not path.is_file():
        raise web.HTTPNotFound()
    return web.Response(
        body=path.read_bytes(),
        headers={
            "Content-Type": FILES[name],
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
        },
    )
