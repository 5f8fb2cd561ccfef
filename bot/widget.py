"""The web widget: plain JavaScript and CSS served by the app, no build step.

`/` is the full page (chat, task list, Progress View); `/widget.js` embeds the same on any
page with one `<script>` tag. Files live in `bot/widget_static/` and are served with
their type and a short cache lifetime; nothing here needs a token (the page asks for one).
"""

from __future__ import annotations

from importlib import resources

from aiohttp import web

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


async def page(request: web.Request) -> web.Response:
    return _file("index.html")


async def asset(request: web.Request) -> web.Response:
    return _file(request.path.lstrip("/"))


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
