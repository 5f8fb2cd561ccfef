"""Web Push against a fake push service on 127.0.0.1 that keeps the encrypted POSTs: the
payload decrypts with the browser's keys, the VAPID header verifies against the served key,
404/410 remove the subscription, and the whole path from a task event to a push works."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import http_ece
import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

from adapters.base import Channel, ChannelError, OutgoingMessage
from adapters.webpush import WebPushChannel
from bot.app import build_app
from bot.settings import load_settings
from engine import push_store
from engine.accounts import create_token, ensure_user
from engine.clock import SystemClock
from engine.database import Database, open_database
from engine.migrate import upgrade
from engine.push_store import PushSubscription
from tests.conftest import CRM_TASK, Api


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Browser:
    """What a browser keeps for one push subscription: its private key and auth secret."""

    endpoint: str
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        return b64(
            self.key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    def subscription(self, user_id: int) -> PushSubscription:
        return PushSubscription(user_id, self.endpoint, self.p256dh, b64(self.auth))

    def decrypt(self, body: bytes) -> dict[str, Any]:
        plain = http_ece.decrypt(
            body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"
        )
        payload: dict[str, Any] = orjson.loads(plain)
        return payload


@dataclass
class Push:
    path: str
    headers: Mapping[str, str]  # case-insensitive, as received
    body: bytes


@dataclass
class PushService:
    """A push service: answers each path with the status set for it (default 201)."""

    url: str = ""
    received: list[Push] = field(default_factory=list)
    status: dict[str, int] = field(default_factory=dict)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append(Push(request.path, request.headers.copy(), await request.read()))
        self.arrived.set()
        status = self.status.get(request.path, 201)
        headers = {"Retry-After": "7"} if status == 429 else None
        return web.Response(status=status, headers=headers)


@pytest.fixture
async def push_service() -> AsyncIterator[PushService]:
    service = PushService()
    app = web.Application()
    app.router.add_post("/push/{id}", service.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    service.url = str(server.make_url("")).rstrip("/")
    yield service
    await server.close()


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = open_database(f"sqlite+aiosqlite:///{tmp_path / 'push.db'}")
    await upgrade(db)
    yield db
    await db.dispose()


@pytest.fixture
async def channel(database: Database) -> AsyncIterator[WebPushChannel]:
    made = WebPushChannel(
        database, SystemClock(), subject="mailto:ops@example.com", allow_http_endpoints=True
    )
    await made.start()
    yield made
    await made.stop()


async def _user(database: Database, name: str = "alice") -> int:
    async with database.write() as conn:
        return (await ensure_user(conn, name, SystemClock().now())).id


async def _subscribe(database: Database, browser: Browser, user_id: int) -> None:
    async with database.write() as conn:
        await push_store.save_push_subscription(
            conn, browser.subscription(user_id), SystemClock().now()
        )


async def _endpoints(database: Database, user_id: int) -> list[str]:
    async with database.read() as conn:
        return [s.endpoint for s in await push_store.push_subscriptions_of(conn, user_id)]


def _claims(token: str) -> dict[str, Any]:
    body = token.split(".")[1]
    claims: dict[str, Any] = orjson.loads(unb64(body))
    return claims


def test_it_is_a_channel(channel: WebPushChannel) -> None:
    typed: Channel = channel
    assert typed.name == "webpush"
    assert channel.capabilities.format == "plain"
    assert not channel.capabilities.can_edit and not channel.capabilities.buttons


async def test_sends_to_every_browser_encrypted_and_signed(
    channel: WebPushChannel, database: Database, push_service: PushService
) -> None:
    user = await _user(database)
    laptop, phone = Browser(f"{push_service.url}/push/a"), Browser(f"{push_service.url}/push/b")
    await _subscribe(database, laptop, user)
    await _subscribe(database, phone, user)
    message = OutgoingMessage(
        text="Your CRM task has started", subject="Cellphone Store CRM", key="webpush:user:1:7"
    )

    ref = await channel.send(f"user:{user}", message)

    assert ref.channel == "webpush" and ref.message_id == "webpush:user:1:7"
    assert [p.path for p in push_service.received] == ["/push/a", "/push/b"]
    for push, browser in zip(push_service.received, (laptop, phone), strict=True):
        assert push.headers["Content-Encoding"] == "aes128gcm"
        assert int(push.headers["TTL"]) > 0
        assert b"CRM" not in push.body  # encrypted
        assert browser.decrypt(push.body) == {
            "title": "Cellphone Store CRM",
            "body": "Your CRM task has started",
            "tag": "webpush:user:1:7",
        }
        authorization = push.headers["Authorization"]
        assert Vapid02.verify(authorization)
        scheme, _, params = authorization.partition(" ")
        parts = dict(part.split("=", 1) for part in params.split(","))
        assert scheme == "vapid" and parts["k"] == channel.public_key
        claims = _claims(parts["t"])
        assert claims["aud"] == push_service.url
        assert claims["sub"] == "mailto:ops@example.com"


async def test_gone_subscriptions_are_removed(
    channel: WebPushChannel, database: Database, push_service: PushService
) -> None:
    user = await _user(database)
    gone, kept = Browser(f"{push_service.url}/push/gone"), Browser(f"{push_service.url}/push/ok")
    missing = Browser(f"{push_service.url}/push/missing")
    for browser in (gone, kept, missing):
        await _subscribe(database, browser, user)
    push_service.status.update({"/push/gone": 410, "/push/missing": 404})

    await channel.send(f"user:{user}", OutgoingMessage(text="Step 1 complete"))

    assert await _endpoints(database, user) == [kept.endpoint]
    push_service.status["/push/ok"] = 410
    with pytest.raises(ChannelError) as error:
        await channel.send(f"user:{user}", OutgoingMessage(text="Step 2 complete"))
    assert error.value.permanent
    assert await _endpoints(database, user) == []


@pytest.mark.parametrize(
    ("status", "permanent", "retry_after"),
    [(500, False, None), (429, False, 7.0), (400, True, None)],
    ids=["server-error", "rate-limited", "refused"],
)
async def test_failures_map_to_channel_errors(
    channel: WebPushChannel,
    database: Database,
    push_service: PushService,
    status: int,
    permanent: bool,
    retry_after: float | None,
) -> None:
    user = await _user(database)
    browser = Browser(f"{push_service.url}/push/x")
    await _subscribe(database, browser, user)
    push_service.status["/push/x"] = status
    with pytest.raises(ChannelError) as error:
        await channel.send(f"user:{user}", OutgoingMessage(text="hello"))
    assert error.value.permanent is permanent
    assert error.value.retry_after == retry_after
    assert await _endpoints(database, user) == [browser.endpoint]


async def test_no_browser_or_a_bad_address_is_a_permanent_error(
    channel: WebPushChannel, database: Database
) -> None:
    user = await _user(database)
    for address in (f"user:{user}", "", "alice@example.com"):
        with pytest.raises(ChannelError) as error:
            await channel.send(address, OutgoingMessage(text="hello"))
        assert error.value.permanent


async def test_vapid_keys_are_made_once_and_kept(database: Database) -> None:
    keys = []
    for _ in range(2):
        made = WebPushChannel(database, SystemClock())
        await made.start()
        keys.append(made.public_key)
        await made.stop()
    assert keys[0] == keys[1]
    raw = unb64(keys[0])
    assert len(raw) == 65 and raw[0] == 4
    async with database.read() as conn:
        rows = (await conn.exec_driver_sql("SELECT count(*) FROM vapid_keys")).scalar()
    assert rows == 1


# --- REST ----------------------------------------------------------------------------------


def _browser_json(endpoint: str = "https://push.example.net/send/abc") -> dict[str, Any]:
    browser = Browser(endpoint)
    return {"endpoint": endpoint, "expirationTime": None, "keys": {
        "p256dh": browser.p256dh, "auth": b64(browser.auth)}}  # fmt: skip


async def test_rest_key_and_subscriptions(api: Api) -> None:
    key = await api.client.get("/api/webpush/key", headers=api.auth())
    assert key.status == 200
    assert len(unb64((await key.json())["public_key"])) == 65
    assert (await api.client.get("/api/webpush/key")).status == 401

    body = _browser_json()
    created = await api.client.post("/api/webpush/subscriptions", json=body, headers=api.auth())
    assert created.status == 201
    assert (await created.json())["endpoint"] == body["endpoint"]

    removed = await api.client.delete(
        "/api/webpush/subscriptions", json={"endpoint": body["endpoint"]}, headers=api.auth(api.bob)
    )
    assert (await removed.json()) == {"removed": 0}  # not bob's
    removed = await api.client.delete(
        "/api/webpush/subscriptions", json={"endpoint": body["endpoint"]}, headers=api.auth()
    )
    assert (await removed.json()) == {"removed": 1}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"endpoint": "http://127.0.0.1:8080/admin"}, "endpoint"),
        ({"endpoint": "file:///etc/passwd"}, "endpoint"),
        ({"keys": {"p256dh": "AAAA", "auth": b64(os.urandom(16))}}, "keys.p256dh"),
        ({"keys": {"auth": b64(os.urandom(16))}}, "keys"),
        ({"extra": 1}, "extra"),
    ],
    ids=["plain-http", "not-a-url", "bad-key", "missing-key", "unknown-field"],
)
async def test_rest_refuses_bad_push_subscriptions(
    api: Api, change: dict[str, Any], field: str
) -> None:
    body = {**_browser_json(), **change}
    response = await api.client.post("/api/webpush/subscriptions", json=body, headers=api.auth())
    assert response.status == 422
    assert (await response.json())["error"]["field"] == field


async def test_webpush_subscription_is_addressed_to_the_user(api: Api) -> None:
    me = await (await api.client.get("/api/me", headers=api.auth())).json()
    put = await api.client.put(
        "/api/subscriptions/webpush", json={"events": ["task_complete"]}, headers=api.auth()
    )
    assert put.status == 200
    assert (await put.json())["address"] == f"user:{me['id']}"
    other = await api.client.put(
        "/api/subscriptions/webpush",
        json={"events": ["task_complete"], "address": "user:999"},
        headers=api.auth(),
    )
    assert other.status == 422
    assert (await other.json())["error"]["field"] == "address"


async def test_a_task_event_arrives_as_a_push(tmp_path: Path, push_service: PushService) -> None:
    """Subscription -> outbox row (address user:ID) -> notifier -> WebPushChannel -> service."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    settings = load_settings(
        None,
        environ={},
        overrides={"database.url": url, "database.sqlite_synchronous": "NORMAL"},
    )
    side = open_database(url)
    await upgrade(side)
    channel = WebPushChannel(side, SystemClock(), allow_http_endpoints=True)
    client: TestClient[Any, Any] = TestClient(
        TestServer(build_app(settings, channels={"webpush": channel}))
    )
    await client.start_server()
    try:
        async with side.write() as conn:
            token = await create_token(conn, "alice", SystemClock().now())
        auth = {"Authorization": f"Bearer {token}"}
        user = (await (await client.get("/api/me", headers=auth)).json())["id"]
        browser = Browser(f"{push_service.url}/push/laptop")
        await _subscribe(side, browser, user)
        put = await client.put(
            "/api/subscriptions/webpush", json={"events": ["task_started"]}, headers=auth
        )
        assert put.status == 200
        task = await (await client.post("/api/tasks", json=CRM_TASK, headers=auth)).json()
        started = await client.patch(
            f"/api/tasks/{task['task_id']}/steps/1", json={"status": "running"}, headers=auth
        )
        assert started.status == 200

        await asyncio.wait_for(push_service.arrived.wait(), 10)
        payload = browser.decrypt(push_service.received[0].body)
        assert "Cellphone Store CRM" in payload["title"] + payload["body"]
    finally:
        await client.close()
        await side.dispose()
