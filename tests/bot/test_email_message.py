"""A notification event as an email: subject per event type, both renderings, the key."""

from __future__ import annotations

from typing import Any

import pytest

from bot.chat_text import Format, render
from bot.email_message import notification_email

CRM = {"title": "Cellphone Store CRM", "step": 3, "step_name": "Add search and filters"}


@pytest.mark.parametrize(
    ("kind", "subject"),
    [
        ("task_started", "▶️ Cellphone Store CRM has started"),
        ("step_complete", "✓ Cellphone Store CRM: step 3 complete"),
        ("approval_needed", "⚠️ Approval required: Cellphone Store CRM, step 3"),
        ("task_complete", "✅ Cellphone Store CRM is ready"),
        ("task_failed", "❌ Cellphone Store CRM failed at step 3"),
        ("step_slow", "⚠️ Cellphone Store CRM: step 3 is taking longer than usual"),
        ("task_paused", "⏸ Cellphone Store CRM is paused"),
        ("task_resumed", "▶️ Cellphone Store CRM is running again"),
        ("task_cancelled", "✕ Cellphone Store CRM was cancelled"),
        ("step_started", "Cellphone Store CRM: step started"),
    ],
)
def test_each_event_type_has_a_subject(kind: str, subject: str) -> None:
    event: dict[str, Any] = CRM | {"type": kind, "error": None, "by": None}
    message = notification_email(event)
    assert message.subject == subject
    assert message.plain_text == render("notification", Format.PLAIN, event=event)
    assert render("notification", Format.EMAIL, event=event) in message.text


def test_the_html_part_is_a_whole_document_titled_by_the_subject() -> None:
    message = notification_email(CRM | {"type": "task_complete", "title": "<R&D> CRM"})
    assert message.text.startswith("<!DOCTYPE html>")
    assert "<title>✅ &lt;R&amp;D&gt; CRM is ready</title>" in message.text
    assert "<strong>&lt;R&amp;D&gt; CRM</strong>" in message.text
    assert message.plain_text == "✅ Your <R&D> CRM is ready!"
    assert message.buttons == ()


def test_a_title_with_line_breaks_gives_a_one_line_subject() -> None:
    message = notification_email(CRM | {"type": "task_complete", "title": "A\r\nBcc: e@x.io\nB"})
    assert message.subject == "✅ A Bcc: e@x.io B is ready"


def test_the_key_names_the_event_unless_given() -> None:
    event = CRM | {"type": "task_complete", "task_id": "t1", "seq": 41}
    assert notification_email(event).key == notification_email(dict(event)).key
    assert notification_email(event).key != notification_email(event | {"seq": 42}).key
    assert notification_email(event, key="outbox:7").key == "outbox:7"
    assert notification_email(CRM | {"type": "task_complete"}).key is None
