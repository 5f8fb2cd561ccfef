"""Chat text in every format: the spec's status reply exactly, and escaping that holds."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bot.chat_text import Format, render
from bot.progress_view import build_view
from bot.wording import present_participle
from tests.bot.test_watch import NOW, spec_document

SPEC_STATUS = """\
📊 Your Cellphone Store CRM task is 65% complete.

Currently: Generating application UI
- ✓ Customer list view
- ✓ Product list view
- ⏳ Sales form (in progress)
- ⏳ Repair board

ETA: About 3 minutes remaining."""


def _status(document: dict[str, Any], fmt: Format = Format.PLAIN) -> str:
    return render("status", fmt, view=build_view(document, NOW))


def test_status_reply_matches_the_spec() -> None:
    assert _status(spec_document()) == SPEC_STATUS


def test_status_reply_in_slack_and_telegram_marks_the_title_bold() -> None:
    assert _status(spec_document(), Format.SLACK).splitlines()[0] == (
        "📊 Your *Cellphone Store CRM task* is 65% complete."
    )
    assert _status(spec_document(), Format.TELEGRAM).splitlines()[0] == (
        "📊 Your <b>Cellphone Store CRM task</b> is 65% complete."
    )
    email = _status(spec_document(), Format.EMAIL)
    assert (
        email.splitlines()[0]
        == "📊 Your <strong>Cellphone Store CRM task</strong> is 65% complete.<br>"
    )


HOSTILE = "<!channel> <b>x</b> & <script>"


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        (Format.PLAIN, "<!channel> <b>x</b> & <script>"),
        (Format.SLACK, "&lt;!channel&gt; &lt;b&gt;x&lt;/b&gt; &amp; &lt;script&gt;"),
        (Format.TELEGRAM, "&lt;!channel&gt; &lt;b&gt;x&lt;/b&gt; &amp; &lt;script&gt;"),
        (Format.EMAIL, "&lt;!channel&gt; &lt;b&gt;x&lt;/b&gt; &amp; &lt;script&gt;"),
    ],
)
def test_hostile_titles_and_names_stay_literal_text(fmt: Format, expected: str) -> None:
    document = copy.deepcopy(spec_document())
    document["title"] = HOSTILE
    document["steps"][1]["name"] = HOSTILE
    document["steps"][1]["substeps"][2]["name"] = HOSTILE
    text = _status(document, fmt)
    assert f"{expected} task" in text.splitlines()[0]
    assert text.count(expected) == 3
    if fmt is not Format.PLAIN:
        assert "<!channel>" not in text and "<script>" not in text


@pytest.mark.parametrize(
    ("status", "first_line"),
    [
        ("paused", "📊 Your Cellphone Store CRM task is 65% complete, and paused."),
        ("pending", "📊 Your Cellphone Store CRM task hasn't started yet."),
    ],
)
def test_status_reply_follows_the_state(status: str, first_line: str) -> None:
    document = spec_document()
    document["status"] = status
    text = _status(document)
    assert text.splitlines()[0] == first_line
    assert "ETA" not in text


def test_failed_status_names_the_step_and_error() -> None:
    document = spec_document()
    document["status"] = "failed"
    document["steps"][1] |= {"status": "failed", "error": "npm install exited with 1"}
    assert _status(document) == (
        "❌ Your Cellphone Store CRM task failed at step 2 of 4: Generate application UI.\n"
        "Error: npm install exited with 1"
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Generate application UI", "Generating application UI"),
        ("Create database tables", "Creating database tables"),
        ("Add search and filters", "Adding search and filters"),
        ("Configure workflows", "Configuring workflows"),
        ("Run the test suite", "Running the test suite"),
        ("Setup CI", "Setting up CI"),
        ("Database migration", "Database migration"),
        ("ship it", "shipping it"),
    ],
)
def test_present_participle(name: str, expected: str) -> None:
    assert present_participle(name) == expected


CRM_EVENT = {"title": "Cellphone Store CRM", "step": 2, "step_name": "Generate application UI"}


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"type": "task_started"}, "▶️ Your Cellphone Store CRM task has started."),
        (
            {"type": "step_complete", "step": 1, "step_name": "Create database tables"},
            "Step 1 complete: Create database tables",
        ),
        (
            {"type": "approval_needed", "step": 3, "step_name": "Add search and filters"},
            "⚠️ Approval required for Step 3: Add search and filters (Cellphone Store CRM)",
        ),
        ({"type": "task_complete"}, "✅ Your Cellphone Store CRM is ready!"),
        (
            {"type": "task_failed", "error": "disk full"},
            "❌ Cellphone Store CRM failed at Step 2: Generate application UI (disk full)",
        ),
        (
            {"type": "step_slow"},
            "⚠️ Step 2 of Cellphone Store CRM is taking longer than usual.",
        ),
    ],
    ids=lambda value: value["type"] if isinstance(value, dict) else "",
)
def test_notifications_follow_the_spec_table(event: dict[str, Any], expected: str) -> None:
    assert render("notification", Format.PLAIN, event=CRM_EVENT | event) == expected


def test_notifications_escape_for_telegram() -> None:
    event = CRM_EVENT | {"type": "task_complete", "title": "<!here> & co"}
    assert render("notification", Format.TELEGRAM, event=event) == (
        "✅ Your <b>&lt;!here&gt; &amp; co</b> is ready!"
    )


def test_status_reply_gives_the_estimate_range_when_there_is_one() -> None:
    document = spec_document() | {"eta_range": [120, 300]}
    assert _status(document).splitlines()[-1] == "ETA: About 3 minutes remaining (2–5 min)."


def test_a_range_across_units_names_both() -> None:
    document = spec_document() | {"eta_range": [40, 300]}
    assert _status(document).splitlines()[-1] == "ETA: About 3 minutes remaining (40 s–5 min)."
