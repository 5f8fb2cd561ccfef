"""The action buttons a task's state allows, so every reply and card offers only what works.

Task commands follow `progress_view.allowed_actions` (the transition table); a step waiting
for approval adds Approve / Reject, a failed step Retry / Skip, and a task that ended
without a later attempt offers Restart.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml

from adapters.base import Button
from bot.progress_view import allowed_actions

#: Button captions, as api.md shows them ("Pause"); words live in templates/, like the rest.
LABELS: dict[str, str] = yaml.safe_load(
    resources.files("templates").joinpath("chat/buttons.yaml").read_text(encoding="utf-8")
)


def button(action: str, task_id: str | None = None, step: int | None = None) -> Button:
    return Button(LABELS[action], action, task_id, step)


def action_buttons(document: dict[str, Any]) -> tuple[Button, ...]:
    task_id = str(document.get("task_id") or "")
    status = str(document.get("status") or "")
    steps: list[dict[str, Any]] = list(document.get("steps") or [])
    buttons: list[Button] = []
    waiting = next((s for s in steps if s.get("status") == "approval"), None)
    if waiting is not None and status != "cancelled":
        buttons += [
            button("approve", task_id, int(waiting["order"])),
            button("reject", task_id, int(waiting["order"])),
        ]
    failed = next((s for s in steps if s.get("status") == "failed"), None)
    if failed is not None and status == "failed":
        buttons += [
            button("retry", task_id, int(failed["order"])),
            button("skip", task_id, int(failed["order"])),
        ]
    buttons += [button(action, task_id) for action in allowed_actions(status)]
    if status in ("failed", "cancelled") and not document.get("next_task_id"):
        buttons.append(button("restart", task_id))
    return tuple(buttons)
