"""Web Push (pywebpush + py-vapid): browser notifications that arrive with the tab closed.

The recipient is a user (`user:ID`, the webpush subscription's address); a message goes,
encrypted, to every push subscription that user's browsers registered. A push service that
answers 404 or 410 has forgotten the subscription, so it is deleted. The VAPID key pair is
made on the first start and kept in the database (engine/push_store.py).
"""

from __future__ import annotations

import base64
import binascii
import logging
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson
from aiohttp import web

from adapters.base import ChannelCapabilities, ChannelError, MessageRef, OutgoingMessage
from bot.auth import current_account
from bot.http import json_response, read_json
from bot.json_fields import RequestInvalid
from engine import push_store
from engine.clock import Clock, isoformat_z
from engine.database import Database
from engine.push_store import PushSubscription, VapidKeys

try:
    from py_vapid import Vapid
    from pywebpush import WebPusher
except ImportError as error:  # pragma: no cover - depends on what is installed
    raise ImportError(
        'The webpush channel needs pywebpush and py-vapid: pip install "tasktalk[webpush]"'
    ) from error

log = logging.getLogger(__name__)

#: Push services take about 4 KB of payload; the text is cut well below that.
MAX_BODY_CHARS = 1000
MAX_ENDPOINT_CHARS = 2000
DEFAULT_SUBJECT = "mailto:tasktalk@localhost"
_GONE = (404, 410)


def make_vapid_keys() -> VapidKeys:
    vapid = Vapid()
    vapid.generate_keys()
    return VapidKeys(vapid.private_pem().decode(), _public_key(vapid))


def vapid_subject(sender: str) -> str:
    """VAPID's contact (`sub`): the email sender's address when one is set."""
    address = parseaddr(sender)[1]
    return f"mailto:{address}" if "@" in address else DEFAULT_SUBJECT


class WebPushChannel:
    name = "webpush"
    capabilities = ChannelCapabilities(format="plain", can_edit=False, max_text=4000, buttons=False)

    def __init__(
        self,
        database: Database,
        clock: Clock,
        *,
        subject: str = DEFAULT_SUBJECT,
        ttl_seconds: int = 24 * 3600,
        timeout_seconds: float = 10.0,
        allow_http_endpoints: bool = False,
    ) -> None:
        """`allow_http_endpoints` lets tests point browsers at a push service on 127.0.0.1;
        otherwise an endpoint must be https, so the server never posts to internal URLs."""
        self._database = database
        self._clock = clock
        self._subject = subject
        self._ttl = ttl_seconds
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._allow_http = allow_http_endpoints
        self._session: aiohttp.ClientSession | None = None
        self._vapid: Any = None
        self.public_key = ""

    async def start(self) -> None:
        async with self._database.write() as conn:
            keys = await push_store.vapid_keys(conn, make_vapid_keys, self._clock.now())
        self._vapid = Vapid.from_pem(keys.private_pem.encode())
        self.public_key = keys.public_key
        self._session = aiohttp.ClientSession(timeout=self._timeout)

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, recipient: str, message: OutgoingMessage) -> MessageRef:
        user_id = _user_of(recipient)
        async with self._database.read() as conn:
            targets = await push_store.push_subscriptions_of(conn, user_id)
        if not targets:
            raise ChannelError(
                f"{recipient} has no browser subscribed to Web Push (open the page and allow "
                "notifications)",
                permanent=True,
            )
        payload = _payload(message)
        sent, failures = 0, []
        for target in targets:
            try:
                await self._push(target, payload)
                sent += 1
            except ChannelError as error:
                failures.append(error)
        if sent == 0:
            retry = [e.retry_after for e in failures if e.retry_after is not None]
            permanent = all(e.permanent for e in failures)
            raise ChannelError(
                "; ".join(str(e) for e in failures),
                permanent=permanent,
                retry_after=max(retry) if retry else None,
            )
        return MessageRef(self.name, recipient, message.key or "")

    async def edit(self, ref: MessageRef, message: OutgoingMessage) -> None:
        raise ChannelError("a push notification cannot be edited", permanent=True)

    async def _push(self, target: PushSubscription, payload: bytes) -> None:
        if self._session is None or self._vapid is None:
            raise ChannelError("the webpush channel is not started", permanent=False)
        url = urlsplit(target.endpoint)
        claims = {"sub": self._subject, "aud": f"{url.scheme}://{url.netloc}"}
        headers = self._vapid.sign(claims)
        pusher = WebPusher(target.info(), aiohttp_session=self._session)
        try:
            response = await pusher.send_async(
                payload, headers, ttl=self._ttl, timeout=self._timeout
            )
        except (aiohttp.ClientError, TimeoutError) as error:
            raise ChannelError(f"push service unreachable: {error}", permanent=False) from None
        status = int(response.status)
        if status < 300:
            return
        where = url.netloc
        if status in _GONE:
            async with self._database.write() as conn:
                await push_store.delete_push_subscription(conn, target.endpoint)
            log.info("push subscription at %s is gone (%d): removed", where, status)
            raise ChannelError(f"push subscription gone ({status})", permanent=True)
        if status == 429:
            after = _seconds(response.headers.get("Retry-After"))
            raise ChannelError("push service rate limit", permanent=False, retry_after=after)
        raise ChannelError(f"push service {where} answered {status}", permanent=400 <= status < 500)

    # --- REST: the browser's side ------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/api/webpush/key", self.get_key)
        app.router.add_post("/api/webpush/subscriptions", self.post_subscription)
        app.router.add_delete("/api/webpush/subscriptions", self.delete_subscription)

    async def get_key(self, request: web.Request) -> web.Response:
        current_account(request)
        return json_response({"public_key": self.public_key})

    async def post_subscription(self, request: web.Request) -> web.Response:
        account = current_account(request)
        body = await read_json(request)
        endpoint, p256dh, auth = self._parse(body)
        wanted = PushSubscription(account.id, endpoint, p256dh, auth)
        async with self._database.write() as conn:
            stored = await push_store.save_push_subscription(conn, wanted, self._clock.now())
        return json_response(_document(stored), status=201)

    async def delete_subscription(self, request: web.Request) -> web.Response:
        account = current_account(request)
        body = await read_json(request)
        if not isinstance(body, dict) or not isinstance(body.get("endpoint"), str):
            raise RequestInvalid("endpoint", "Send the PushSubscription's endpoint to remove.")
        async with self._database.write() as conn:
            removed = await push_store.delete_push_subscription(conn, body["endpoint"], account.id)
        return json_response({"removed": removed})

    def _parse(self, body: Any) -> tuple[str, str, str]:
        """A PushSubscription's JSON: {endpoint, expirationTime?, keys: {p256dh, auth}}."""
        if not isinstance(body, dict):
            raise RequestInvalid(None, "The body must be a PushSubscription as JSON.")
        for key in body:
            if key not in ("endpoint", "expirationTime", "keys"):
                raise RequestInvalid(key, f"Unknown field {key!r}; allowed: endpoint, keys.")
        endpoint = body.get("endpoint")
        if not isinstance(endpoint, str) or len(endpoint) > MAX_ENDPOINT_CHARS:
            raise RequestInvalid("endpoint", "endpoint must be the push service's URL.")
        url = urlsplit(endpoint)
        schemes = ("https", "http") if self._allow_http else ("https",)
        if url.scheme not in schemes or not url.hostname:
            raise RequestInvalid("endpoint", "endpoint must be an https URL.")
        keys = body.get("keys")
        if not isinstance(keys, dict) or set(keys) != {"p256dh", "auth"}:
            raise RequestInvalid("keys", "keys must hold exactly p256dh and auth.")
        p256dh, auth = keys["p256dh"], keys["auth"]
        raw_key, raw_auth = _b64(p256dh), _b64(auth)
        if raw_key is None or len(raw_key) != 65 or raw_key[0] != 4:
            raise RequestInvalid("keys.p256dh", "keys.p256dh must be a P-256 public key.")
        if raw_auth is None or len(raw_auth) != 16:
            raise RequestInvalid("keys.auth", "keys.auth must be 16 bytes, base64url.")
        return endpoint, p256dh, auth


def _public_key(vapid: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _user_of(recipient: str) -> int:
    prefix, _, number = recipient.partition(":")
    if prefix != "user" or not number.isdigit():
        raise ChannelError(
            f"webpush address {recipient!r} is not user:ID (PUT /api/subscriptions/webpush "
            "again to fix it)",
            permanent=True,
        )
    return int(number)


def _payload(message: OutgoingMessage) -> bytes:
    text = (message.plain_text or message.text).strip()
    title, _, rest = text.partition("\n")
    if message.subject:
        title, rest = message.subject, text
    body = rest.strip() or title
    if len(body) > MAX_BODY_CHARS:
        body = body[: MAX_BODY_CHARS - 1] + "…"
    return orjson.dumps({"title": title[:200], "body": body, "tag": message.key or None})


def _document(subscription: PushSubscription) -> dict[str, Any]:
    return {"endpoint": subscription.endpoint, "created_at": isoformat_z(subscription.created_at)}


def _b64(text: object) -> bytes | None:
    if not isinstance(text, str) or not text or len(text) > 200:
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
