"""Email over SMTP (aiosmtplib): one multipart message per notification, nothing to edit.

A message's HTML (`text`) and plain rendering go out as multipart/alternative. Its Message-ID
is derived from the delivery's idempotency key and the recipient, so a redelivery after a
crash carries the same Message-ID and servers and mail clients can drop the duplicate.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from adapters.base import ChannelCapabilities, ChannelError, MessageRef, OutgoingMessage
from bot.settings import EmailSettings
from engine.clock import Clock, SystemClock

try:
    import aiosmtplib
except ImportError as error:  # pragma: no cover - depends on what is installed
    raise ImportError(
        'The email channel needs aiosmtplib: pip install "tasktalk[email]"'
    ) from error

log = logging.getLogger(__name__)


class EmailChannel:
    """Sends through one SMTP connection, opened on the first send and reopened when dropped."""

    name = "email"
    capabilities = ChannelCapabilities(
        format="email", can_edit=False, max_text=500_000, buttons=False
    )

    def __init__(
        self,
        settings: EmailSettings,
        *,
        clock: Clock | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        """`tls_context` replaces the system's trust store for STARTTLS (a private CA)."""
        if not settings.host:
            raise ValueError("email.host is empty: set it in config.yaml or TASKTALK_EMAIL__HOST.")
        sender = parseaddr(settings.sender)[1]
        if "@" not in sender or "\n" in settings.sender or "\r" in settings.sender:
            raise ValueError(
                f"email.sender {settings.sender!r} is not an address: set it in config.yaml "
                'or TASKTALK_EMAIL__SENDER, e.g. "tasktalk <tasktalk@example.com>".'
            )
        self._settings = settings
        self._sender = sender
        self._domain = sender.rpartition("@")[2]
        self._clock = clock or SystemClock()
        self._tls_context = tls_context
        self._smtp: aiosmtplib.SMTP | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Nothing to open yet: the connection opens on the first send, so a mail server
        that is down at start-up delays email instead of stopping the application."""

    async def stop(self) -> None:
        async with self._lock:
            smtp, self._smtp = self._smtp, None
            if smtp is not None and smtp.is_connected:
                try:
                    await smtp.quit()
                except (aiosmtplib.SMTPException, OSError):
                    smtp.close()

    async def send(self, recipient: str, message: OutgoingMessage) -> MessageRef:
        if len(message.text) > self.capabilities.max_text:
            raise ChannelError("message too long", permanent=True)
        mail = self._compose(_mailbox(recipient), message)
        async with self._lock:
            try:
                await self._transmit(mail, recipient)
            except asyncio.CancelledError:
                self._drop()  # the server may be mid-transaction
                raise
            except (aiosmtplib.SMTPException, OSError) as error:
                if not _connection_survives(error):
                    self._drop()
                raise _channel_error(error) from error
        log.debug("email %s sent to %s", mail["Message-ID"], recipient)
        return MessageRef(self.name, recipient, mail["Message-ID"])

    async def edit(self, ref: MessageRef, message: OutgoingMessage) -> None:
        raise ChannelError("an email cannot be edited once sent", permanent=True)

    def _compose(self, to: Address, message: OutgoingMessage) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self._settings.sender
        mail["To"] = to
        mail["Subject"] = " ".join(message.subject.split())  # one line: no header injection
        mail["Date"] = format_datetime(self._clock.now())
        mail["Message-ID"] = self._message_id(message.key, to.addr_spec)
        if message.plain_text is None:
            mail.set_content(message.text, subtype="html")
        else:
            mail.set_content(message.plain_text)
            mail.add_alternative(message.text, subtype="html")
        return mail

    def _message_id(self, key: str | None, recipient: str) -> str:
        """The same key to the same person gives the same id; without a key, a fresh one."""
        if key is None:
            return make_msgid(domain=self._domain)
        digest = hashlib.sha256(f"{key}\n{recipient}".encode()).hexdigest()[:32]
        return f"<tasktalk.{digest}@{self._domain}>"

    async def _transmit(self, mail: EmailMessage, recipient: str) -> None:
        reused = self._smtp is not None and self._smtp.is_connected
        smtp = await self._connection()
        try:
            await smtp.send_message(mail, sender=self._sender, recipients=[recipient])
        except aiosmtplib.SMTPServerDisconnected:
            if not reused:
                raise
            # An idle connection the server closed: one fresh try. Should the first attempt
            # have been accepted after all, the repeat carries the same Message-ID.
            log.debug("SMTP connection to %s was closed; reconnecting", self._settings.host)
            self._drop()
            smtp = await self._connection()
            await smtp.send_message(mail, sender=self._sender, recipients=[recipient])

    async def _connection(self) -> aiosmtplib.SMTP:
        if self._smtp is not None and self._smtp.is_connected:
            return self._smtp
        settings = self._settings
        smtp = aiosmtplib.SMTP(
            hostname=settings.host,
            port=settings.port,
            username=settings.username or None,
            password=settings.password if settings.username else None,
            local_hostname=settings.local_hostname or None,
            timeout=settings.timeout_seconds,
            start_tls=settings.starttls,
            tls_context=self._tls_context,
        )
        await smtp.connect()
        self._smtp = smtp
        return smtp

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()


def _mailbox(recipient: str) -> Address:
    """One bare address (`alice@example.com`), or a permanent error: no lists, no headers."""
    try:
        address = Address(addr_spec=recipient)
    except (ValueError, IndexError):
        address = None
    if address is None or not address.domain or address.addr_spec != recipient:
        raise ChannelError(f"not an email address: {recipient!r}", permanent=True)
    return address


def _connection_survives(error: Exception) -> bool:
    """A refused sender, recipient or message leaves the session usable (aiosmtplib resets
    it); anything else (timeouts, drops, 421 closing) means starting over."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return all(refusal.code != 421 for refusal in error.recipients)
    return isinstance(error, aiosmtplib.SMTPResponseException) and error.code != 421


def _channel_error(error: Exception) -> ChannelError:
    """SMTP 4xx, timeouts and lost connections are worth retrying; 5xx and a server that
    lacks what the settings ask for (STARTTLS, AUTH) are not."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        codes = [refusal.code for refusal in error.recipients]
        detail = "; ".join(f"{r.code} {r.message}" for r in error.recipients)
        return ChannelError(f"recipient refused: {detail}", permanent=min(codes) >= 500)
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return ChannelError(f"SMTP {error.code} {error.message}", permanent=error.code >= 500)
    if isinstance(error, OSError):  # timeouts, refused or lost connections, TLS failures
        return ChannelError(f"SMTP connection failed: {error}", permanent=False)
    return ChannelError(f"SMTP: {error}", permanent=True)
