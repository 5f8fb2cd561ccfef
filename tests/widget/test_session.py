"""Sign-in for the web page: one-time login codes traded at POST /api/session, and
WebSocket/CORS origin checks against server.allowed_origins."""

from __future__ import annotations

import aiohttp
import pytest

from engine.clock import ManualClock, SystemClock
from engine.database import open_database
from engine.login_codes import LOGIN_CODE_LIFETIME, consume_login_code, create_login_code
from engine.migrate import upgrade
from tests.widget.conftest import WidgetServer

ALLOWED = "https://shop.example"


async def _code(server: WidgetServer, user: str = "carol") -> str:
    database = open_database(server.database_url)
    try:
        async with database.write() as conn:
            return await create_login_code(conn, user, SystemClock().now())
    finally:
        await database.dispose()


async def test_a_login_code_gives_a_token_once(server: WidgetServer) -> None:
    code = await _code(server)
    first = await server.client.post("/api/session", json={"code": code})
    assert first.status == 201
    token = (await first.json())["token"]
    me = await server.client.get("/api/me", headers=server.auth(token))
    assert (await me.json())["name"] == "carol"

    again = await server.client.post("/api/session", json={"code": code})
    assert again.status == 401
    assert (await again.json())["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    "body",
    [{}, {"code": 5}, {"code": "x", "user": "alice"}, ["code"]],
    ids=["empty", "not-text", "extra-field", "not-an-object"],
)
async def test_session_refuses_malformed_bodies(server: WidgetServer, body: object) -> None:
    response = await server.client.post("/api/session", json=body)
    assert response.status == 422
    assert (await response.json())["error"]["field"] == "code"


async def test_unknown_code_is_refused(server: WidgetServer) -> None:
    response = await server.client.post("/api/session", json={"code": "A" * 32})
    assert response.status == 401


async def test_codes_expire_and_only_their_hash_is_stored(tmp_path: object) -> None:
    database = open_database(f"sqlite+aiosqlite:///{tmp_path}/codes.db")
    clock = ManualClock()
    try:
        await upgrade(database)
        async with database.write() as conn:
            code = await create_login_code(conn, "dave", clock.now())
            stored = await conn.exec_driver_sql("SELECT code_hash FROM login_codes")
            hashes = [row[0] for row in stored]
        assert code not in hashes and len(hashes[0]) == 64
        clock.advance(LOGIN_CODE_LIFETIME.total_seconds() + 1)
        async with database.write() as conn:
            assert await consume_login_code(conn, code, clock.now()) is None
    finally:
        await database.dispose()


async def test_websocket_refuses_a_foreign_origin(server: WidgetServer) -> None:
    url = server.url.replace("http", "ws", 1) + "/ws/tasks"
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(
                url, headers={**server.auth(), "Origin": "https://evil.example"}
            )
        assert refused.value.status == 403
        own = {**server.auth(), "Origin": server.url}
        async with session.ws_connect(url, headers=own) as ws:
            assert (await ws.receive_json())["type"] == "ready"


@pytest.mark.parametrize("server", [{"server.allowed_origins": [ALLOWED]}], indirect=True)
async def test_allowed_origins_open_websockets_and_cors(server: WidgetServer) -> None:
    url = server.url.replace("http", "ws", 1) + "/ws/tasks"
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(url, headers={**server.auth(), "Origin": ALLOWED}) as ws,
    ):
        assert (await ws.receive_json())["type"] == "ready"

    preflight = await server.client.options(
        "/api/chat",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    answer = await server.client.get("/api/me", headers={**server.auth(), "Origin": ALLOWED})
    assert answer.headers["Access-Control-Allow-Origin"] == ALLOWED

    foreign = await server.client.options(
        "/api/chat",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert foreign.status == 403
    refused = await server.client.get(
        "/api/me", headers={**server.auth(), "Origin": "https://evil.example"}
    )
    assert "Access-Control-Allow-Origin" not in refused.headers
