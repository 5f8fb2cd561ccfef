"""A notification as an email: subject, HTML and plain parts from the chat templates.

The words come from `templates/chat/notification.j2` (the body, in every format) and
`notification_subject.j2`; this module only puts them where an email needs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.base import OutgoingMessage
from bot.chat_text import Format, html_escape, render

#: The smallest complete HTML document around a rendered EMAIL fragment (markup, no words).
_HTML_DOCUMENT = (
    '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n<title>{title}</title>\n'
    "</head>\n<body>\n{body}\n</body>\n</html>\n"
)


def notification_email(event: Mapping[str, Any], *, key: str | None = None) -> OutgoingMessage:
    """The email for one notification event (the dict notification.j2 takes).

    `key` is the delivery's idempotency key (the outbox row's); by default the event's
    `task_id` and `seq`, which name it uniquely. The channel turns it into the Message-ID.
    """
    subject = " ".join(render("notification_subject", Format.PLAIN, event=event).split())
    body = render("notification", Format.EMAIL, event=event)
    return OutgoingMessage(
        text=_HTML_DOCUMENT.format(title=html_escape(subject), body=body),
        subject=subject,
        plain_text=render("notification", Format.PLAIN, event=event),
        key=key if key is not None else _event_key(event),
    )


def _event_key(event: Mapping[str, Any]) -> str | None:
    if event.get("task_id") is None or event.get("seq") is None:
        return None
    return f"notification:{event['task_id']}:{event['seq']}"
