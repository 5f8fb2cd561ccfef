"""Block Kit for tasktalk's messages: mrkdwn sections within Slack's limits and buttons.

Text arrives already escaped for mrkdwn (templates/chat in Format.SLACK); nothing here
re-introduces raw values, and text echoed back by Slack in a click is escaped again.
"""

from __future__ import annotations

import json
from typing import Any

from adapters.base import Button, OutgoingMessage

SECTION_CHARS = 3000  # Block Kit's limit for one section's text
MAX_SECTIONS = 12
FALLBACK_CHARS = 3000  # the notification text beside the blocks
LABEL_CHARS = 75  # a button's caption
BUTTONS_PER_BLOCK = 25
_STYLES = {"approve": "primary", "resume": "primary", "reject": "danger", "cancel": "danger"}


def content(message: OutgoingMessage) -> dict[str, Any]:
    """chat.postMessage / chat.update fields: mrkdwn sections of the escaped text, then the
    buttons; `text` (notifications, screen readers) is the same escaped text, shortened."""
    blocks: list[dict[str, Any]] = [section(chunk) for chunk in sections(message.text)]
    buttons = message.buttons
    for start in range(0, len(buttons), BUTTONS_PER_BLOCK):
        elements = [
            button_element(button, start + offset)
            for offset, button in enumerate(buttons[start : start + BUTTONS_PER_BLOCK])
        ]
        blocks.append({"type": "actions", "block_id": f"tasktalk:{start}", "elements": elements})
    return {"text": clip(message.text, FALLBACK_CHARS), "blocks": blocks}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text or " "}}


def button_element(button: Button, index: int) -> dict[str, Any]:
    value = {"action": button.action, "task_id": button.task_id, "step": button.step}
    element: dict[str, Any] = {
        "type": "button",
        "action_id": f"tasktalk:{button.action}:{index}",
        # plain_text: Slack shows it as is, so a task title here cannot ping anyone.
        "text": {"type": "plain_text", "text": cut(button.label or button.action, LABEL_CHARS)},
        "value": json.dumps(value, separators=(",", ":")),
    }
    if button.action in _STYLES:
        element["style"] = _STYLES[button.action]
    return element


def decision(blocks: list[Any], decided: OutgoingMessage) -> dict[str, Any]:
    """The message that carried approval buttons, with them replaced by what was decided."""
    kept = [defused(block) for block in blocks if block.get("type") != "actions"]
    decision = content(OutgoingMessage(decided.text))
    return {"text": decision["text"], "blocks": kept + decision["blocks"]}


def defused(value: Any) -> Any:
    """A block as Slack echoed it back, with any `<` or `>` in mrkdwn re-escaped: we never
    send a raw one, so none may come back into a message we post."""
    if isinstance(value, list):
        return [defused(item) for item in value]
    if not isinstance(value, dict):
        return value
    copied = {key: defused(item) for key, item in value.items()}
    if copied.get("type") == "mrkdwn" and isinstance(copied.get("text"), str):
        copied["text"] = copied["text"].replace("<", "&lt;").replace(">", "&gt;")
    return copied


def sections(text: str) -> list[str]:
    """`text` in pieces that fit a section, split at line ends; a code block split in two
    is closed and reopened, so each piece renders on its own."""
    rest = clip(text, SECTION_CHARS * MAX_SECTIONS)
    pieces: list[str] = []
    room = SECTION_CHARS - 4  # for a closing fence
    while len(rest) > SECTION_CHARS:
        cut = rest.rfind("\n", 0, room)
        if cut <= 0:
            cut = safe_cut(rest, room)
        head, rest = rest[:cut], rest[cut:].lstrip("\n")
        if head.count("```") % 2:
            head, rest = head + "\n```", "```\n" + rest
        pieces.append(head)
    pieces.append(rest)
    return pieces


def clip(text: str, limit: int) -> str:
    """Mrkdwn no longer than `limit`, cut before an entity or a line, ending with "…"."""
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", limit // 2, limit - 5)
    clipped = text[: cut if cut > 0 else safe_cut(text, limit - 5)].rstrip() + "…"
    if clipped.count("```") % 2:
        clipped += "\n```"
    return clipped


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def safe_cut(text: str, at: int) -> int:
    """A cut at or before `at` that does not split an entity like `&lt;` in two."""
    amp = text.rfind("&", max(0, at - 5), at)
    if amp >= 0 and ";" not in text[amp:at]:
        return amp
    return at
