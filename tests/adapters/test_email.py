"""The email channel against a real SMTP server (aiosmtpd) on 127.0.0.1: what arrives, the
Message-ID, escaping, header injection, how refusals and outages map to ChannelError,
connection reuse, AUTH and STARTTLS."""

from __future__ import annotations

import asyncio
import email.policy
import importlib
import logging
import shutil
import socket
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from adapters.base import Channel, ChannelError, MessageRef, OutgoingMessage
from adapters.email import EmailChannel
from bot.chat_text import Format, render
from bot.email_message import notification_email
from bot.settings import EmailSettings
from engine.clock import ManualClock

ALICE = "alice@example.com"
CRM_DONE = {"type": "task_complete", "title": "Cellphone Store CRM", "task_id": "t1", "seq": 41}
PASSWORD = "s3cret-Pa55word"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    tls: bool
    login: bytes | None

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None and body.get_content_subtype() == subtype
        content: str = body.get_content()
        return content


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps accepted mail; set a reply to refuse RCPT or DATA."""

    received: list[Received] = field(default_factory=list)
    rcpt_reply: str | None = None
    data_reply: str | None = None

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_reply:
            return self.data_reply
        assert isinstance(envelope.content, bytes) and isinstance(envelope.mail_from, str)
        message = BytesParser(policy=email.policy.default).parsebytes(envelope.content)
        assert isinstance(message, EmailMessage)
        login = session.auth_data.login if isinstance(session.auth_data, LoginPassword) else None
        tls = session.ssl is not None
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), message, tls, login)
        )
        return "250 Message accepted for delivery"


@dataclass
class FakeSmtp:
    handler: Recorder
    port: int = 0
    connections: list[SMTP] = field(default_factory=list)

    def drop_connections(self) -> None:
        for protocol in self.connections:
            if protocol.transport is not None:
                protocol.transport.close()


@asynccontextmanager
async def smtp_server(**options: Any) -> AsyncIterator[FakeSmtp]:
    """aiosmtpd's SMTP protocol served on this test's own loop, on a free port."""
    loop = asyncio.get_running_loop()
    fake = FakeSmtp(Recorder())

    def connect() -> SMTP:
        protocol = SMTP(fake.handler, hostname="localhost", loop=loop, **options)
        fake.connections.append(protocol)
        return protocol

    server = await loop.create_server(connect, "127.0.0.1", 0)
    fake.port = server.sockets[0].getsockname()[1]
    try:
        yield fake
    finally:
        server.close()
        fake.drop_connections()
        await server.wait_closed()
        await asyncio.sleep(0)  # let each connection's handler task see it closed


def email_settings(port: int, **changes: Any) -> EmailSettings:
    settings = EmailSettings(
        host="127.0.0.1",
        port=port,
        starttls=False,
        sender="tasktalk <bot@example.com>",
        timeout_seconds=5,
        local_hostname="localhost",
    )
    return replace(settings, **changes)


@pytest.fixture
async def server() -> AsyncIterator[FakeSmtp]:
    async with smtp_server() as fake:
        yield fake


@pytest.fixture
async def channel(server: FakeSmtp) -> AsyncIterator[EmailChannel]:
    channel = EmailChannel(email_settings(server.port), clock=ManualClock())
    await channel.start()
    yield channel
    await channel.stop()


async def test_a_notification_arrives_as_text_and_html(
    channel: EmailChannel, server: FakeSmtp
) -> None:
    as_channel: Channel = channel
    assert (as_channel.name, as_channel.capabilities.format) == ("email", "email")
    assert not channel.capabilities.can_edit and not channel.capabilities.buttons
    ref = await channel.send(ALICE, notification_email(CRM_DONE))
    [mail] = server.handler.received
    assert (mail.mail_from, mail.rcpt_tos) == ("bot@example.com", [ALICE])
    message = mail.message
    assert message["Subject"] == "✅ Cellphone Store CRM is ready"
    assert (message["From"], message["To"]) == ("tasktalk <bot@example.com>", ALICE)
    assert message["Date"].datetime == datetime(2024, 1, 15, 10, 0, tzinfo=UTC)
    assert message.get_content_type() == "multipart/alternative"
    assert mail.part("plain").strip() == "✅ Your Cellphone Store CRM is ready!"
    html = mail.part("html")
    assert html.startswith("<!DOCTYPE html>")
    assert "✅ Your <strong>Cellphone Store CRM</strong> is ready!" in html
    assert ref == MessageRef("email", ALICE, message["Message-ID"])
    assert message["Message-ID"].endswith("@example.com>")


async def test_message_id_is_stable_per_key_and_recipient(
    channel: EmailChannel, server: FakeSmtp
) -> None:
    first = await channel.send(ALICE, notification_email(CRM_DONE))
    redelivered = await channel.send(ALICE, notification_email(CRM_DONE))
    other_event = await channel.send(ALICE, notification_email(CRM_DONE | {"seq": 42}))
    other_person = await channel.send("bob@example.com", notification_email(CRM_DONE))
    keyless = await channel.send(ALICE, OutgoingMessage("hi", subject="hi"))
    ids = [mail.message["Message-ID"] for mail in server.handler.received]
    assert ids == [ref.message_id for ref in (first, redelivered, other_event, other_person)] + [
        keyless.message_id
    ]
    assert ids[0] == ids[1]
    assert len(set(ids)) == 4


async def test_hostile_titles_arrive_literal_in_both_parts(
    channel: EmailChannel, server: FakeSmtp
) -> None:
    await channel.send(ALICE, notification_email(CRM_DONE | {"title": "<!channel> <b>x</b> &"}))
    [mail] = server.handler.received
    assert mail.message["Subject"] == "✅ <!channel> <b>x</b> & is ready"
    assert "Your <!channel> <b>x</b> & is ready!" in mail.part("plain")
    html = mail.part("html")
    assert "<strong>&lt;!channel&gt; &lt;b&gt;x&lt;/b&gt; &amp;</strong>" in html
    assert "<b>" not in html and "<!channel>" not in html


async def test_line_breaks_in_a_title_cannot_add_headers(
    channel: EmailChannel, server: FakeSmtp
) -> None:
    title = "CRM\r\nBcc: eve@example.com\r\nX-Injected: yes"
    await channel.send(ALICE, notification_email(CRM_DONE | {"title": title}))
    await channel.send(ALICE, OutgoingMessage("x", subject="Hi\nBcc: eve@example.com"))
    first, second = server.handler.received
    assert first.message["Subject"] == "✅ CRM Bcc: eve@example.com X-Injected: yes is ready"
    assert second.message["Subject"] == "Hi Bcc: eve@example.com"
    for mail in (first, second):
        assert mail.rcpt_tos == [ALICE]
        assert mail.message["Bcc"] is None and mail.message["X-Injected"] is None


@pytest.mark.parametrize(
    "recipient",
    ["not an address", "alice", "alice@example.com, eve@example.com", "a@b.c\r\nBcc: e@x.y", ""],
)
async def test_a_bad_address_is_a_permanent_error(
    channel: EmailChannel, server: FakeSmtp, recipient: str
) -> None:
    with pytest.raises(ChannelError) as caught:
        await channel.send(recipient, notification_email(CRM_DONE))
    assert caught.value.permanent
    assert server.handler.received == []


@pytest.mark.parametrize(
    ("stage", "reply", "permanent"),
    [
        ("rcpt", "450 4.2.1 Mailbox busy, try later", False),
        ("rcpt", "550 5.1.1 No such user", True),
        ("data", "451 4.3.0 Try again later", False),
        ("data", "554 5.6.0 Message rejected", True),
    ],
    ids=["rcpt 450", "rcpt 550", "data 451", "data 554"],
)
async def test_refusals_map_to_transient_or_permanent(
    channel: EmailChannel, server: FakeSmtp, stage: str, reply: str, permanent: bool
) -> None:
    setattr(server.handler, f"{stage}_reply", reply)
    with pytest.raises(ChannelError) as caught:
        await channel.send(ALICE, notification_email(CRM_DONE))
    assert caught.value.permanent is permanent
    assert reply.split()[0] in str(caught.value)
    setattr(server.handler, f"{stage}_reply", None)
    await channel.send(ALICE, notification_email(CRM_DONE))
    assert len(server.handler.received) == 1
    assert len(server.connections) == 1  # a refusal leaves the session usable


async def test_one_connection_serves_many_sends_and_a_dropped_one_is_reopened(
    channel: EmailChannel, server: FakeSmtp
) -> None:
    for seq in (1, 2):
        await channel.send(ALICE, notification_email(CRM_DONE | {"seq": seq}))
    assert len(server.connections) == 1
    server.drop_connections()  # the server closes an idle connection
    await channel.send(ALICE, notification_email(CRM_DONE | {"seq": 3}))
    assert len(server.handler.received) == 3
    assert len(server.connections) == 2


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_a_server_that_is_down_is_a_transient_error() -> None:
    channel = EmailChannel(email_settings(_closed_port()))
    with pytest.raises(ChannelError) as caught:
        await channel.send(ALICE, notification_email(CRM_DONE))
    assert not caught.value.permanent
    await channel.stop()


async def test_a_server_that_never_answers_times_out_as_transient() -> None:
    hung_up = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # never greets; waits for the client to give up
        writer.close()
        await writer.wait_closed()
        hung_up.set()

    mute = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = mute.sockets[0].getsockname()[1]
    channel = EmailChannel(email_settings(port, timeout_seconds=0.2))
    try:
        with pytest.raises(ChannelError) as caught:
            await channel.send(ALICE, notification_email(CRM_DONE))
        assert not caught.value.permanent
        await asyncio.wait_for(hung_up.wait(), 5)  # the client closed its side
    finally:
        await channel.stop()
        mute.close()
        await mute.wait_closed()


def _authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    good = auth_data == LoginPassword(b"bot", PASSWORD.encode())
    return AuthResult(success=good, handled=False, auth_data=auth_data)


async def test_login_with_the_configured_user_and_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with smtp_server(authenticator=_authenticator, auth_require_tls=False) as server:
        channel = EmailChannel(email_settings(server.port, username="bot", password=PASSWORD))
        await channel.send(ALICE, notification_email(CRM_DONE))
        await channel.stop()
        wrong = EmailChannel(email_settings(server.port, username="bot", password="guess"))
        with pytest.raises(ChannelError) as caught:
            await wrong.send(ALICE, notification_email(CRM_DONE))
        await wrong.stop()
    [mail] = server.handler.received
    assert mail.login == b"bot"
    assert caught.value.permanent and "535" in str(caught.value)
    assert all(PASSWORD not in record.getMessage() for record in caplog.records)
    assert PASSWORD not in repr(email_settings(1, password=PASSWORD))


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    yield cert, key


async def test_starttls_then_login(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    client_tls = ssl.create_default_context(cafile=str(cert))
    async with smtp_server(
        tls_context=server_tls, require_starttls=True, authenticator=_authenticator
    ) as server:
        settings = email_settings(server.port, starttls=True, username="bot", password=PASSWORD)
        channel = EmailChannel(settings, tls_context=client_tls)
        await channel.send(ALICE, notification_email(CRM_DONE))
        await channel.stop()
    [mail] = server.handler.received
    assert mail.tls and mail.login == b"bot"


async def test_starttls_required_but_not_offered_is_permanent(server: FakeSmtp) -> None:
    channel = EmailChannel(email_settings(server.port, starttls=True))
    with pytest.raises(ChannelError) as caught:
        await channel.send(ALICE, notification_email(CRM_DONE))
    assert caught.value.permanent and "STARTTLS" in str(caught.value)
    assert server.handler.received == []


async def test_emails_cannot_be_edited_or_overlong(channel: EmailChannel) -> None:
    ref = MessageRef("email", ALICE, "<x@example.com>")
    with pytest.raises(ChannelError) as caught:
        await channel.edit(ref, OutgoingMessage("changed"))
    assert caught.value.permanent
    too_long = OutgoingMessage("x" * (channel.capabilities.max_text + 1))
    with pytest.raises(ChannelError) as caught:
        await channel.send(ALICE, too_long)
    assert caught.value.permanent


async def test_a_message_without_plain_text_is_sent_as_html() -> None:
    async with smtp_server() as server:
        channel = EmailChannel(email_settings(server.port))
        body = render("notification", Format.EMAIL, event=CRM_DONE)
        await channel.send(ALICE, OutgoingMessage(body, subject="Done"))
        await channel.stop()
    [mail] = server.handler.received
    assert mail.message.get_content_type() == "text/html"
    assert "<strong>Cellphone Store CRM</strong>" in mail.message.get_content()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"host": ""}, "email.host is empty"),
        ({"sender": ""}, "email.sender '' is not an address"),
        ({"sender": "tasktalk"}, "TASKTALK_EMAIL__SENDER"),
        ({"sender": "a@example.com\r\nBcc: e@example.com"}, "is not an address"),
    ],
)
def test_missing_settings_fail_fast(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EmailChannel(email_settings(25, **changes))


def test_a_missing_extra_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "aiosmtplib", None)
    monkeypatch.delitem(sys.modules, "adapters.email")
    with pytest.raises(ImportError, match=r'pip install "tasktalk\[email\]"'):
        importlib.import_module("adapters.email")
