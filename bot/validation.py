"""Request bodies -> engine values, refusing anything the contract does not allow.

Every refusal names the field (`steps[1].substeps[0]`) so the caller can fix it.
Unknown fields are refused too: a typo must not be silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.base import Button
from bot.json_fields import (
    RequestInvalid,
    check_length,
    choice,
    integer,
    json_object,
    number,
    only_fields,
    optional_text,
    parse_time,
    text_field,
)
from bot.settings import LimitSettings
from engine.commands import StepPlan, StepReport, SubstepReport, TaskPlan
from engine.states import StepStatus, SubstepStatus

COMPLEXITY_CLASSES = ("simple", "medium", "complex")
REPORTABLE_STATUSES = (
    StepStatus.RUNNING,
    StepStatus.COMPLETED,
    StepStatus.FAILED,
    StepStatus.SKIPPED,
)
_REPORTABLE_VALUES = tuple(s.value for s in REPORTABLE_STATUSES)
_STEP_REPORT_FIELDS = ("status", "progress", "substeps", "error", "at")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


def complexity_class(tables: int) -> str:
    """1-2 tables simple, 3-5 medium, 6+ complex (the spec's accuracy table)."""
    if tables <= 2:
        return "simple"
    if tables <= 5:
        return "medium"
    return "complex"


def parse_task_plan(body: Any, limits: LimitSettings) -> TaskPlan:
    obj = json_object(body, None)
    only_fields(obj, ("title", "kind", "complexity", "idempotency_key", "steps"), None)
    title = text_field(obj.get("title"), "title", limits.title_chars)
    kind = optional_text(obj.get("kind"), "kind", 200)
    key = optional_text(obj.get("idempotency_key"), "idempotency_key", 200)
    tables, klass = _complexity(obj.get("complexity"))
    raw_steps = obj.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise RequestInvalid("steps", "steps must be a non-empty list of steps.")
    if len(raw_steps) > limits.steps:
        raise RequestInvalid("steps", f"A task may have at most {limits.steps} steps.")
    steps = tuple(_step_plan(raw, f"steps[{i}]", limits) for i, raw in enumerate(raw_steps))
    return TaskPlan(
        title=title,
        steps=steps,
        kind=kind,
        complexity_tables=tables,
        complexity_class=klass,
        idempotency_key=key,
    )


def parse_step_report(body: Any, limits: LimitSettings) -> tuple[StepReport, datetime | None]:
    obj = json_object(body, None)
    only_fields(obj, _STEP_REPORT_FIELDS, None)
    status = None
    if obj.get("status") is not None:
        status = choice(obj["status"], "status", _REPORTABLE_VALUES)
    progress = None
    if obj.get("progress") is not None:
        progress = number(obj["progress"], "progress", 0, 100)
    error = optional_text(obj.get("error"), "error", limits.error_chars, allow_blank=True)
    substeps: list[SubstepReport] = []
    raw_substeps = obj.get("substeps")
    if raw_substeps is not None:
        if not isinstance(raw_substeps, list):
            raise RequestInvalid("substeps", "substeps must be a list of {name, done}.")
        if len(raw_substeps) > limits.substeps:
            raise RequestInvalid("substeps", f"A step may have at most {limits.substeps} substeps.")
        seen: set[str] = set()
        for i, raw in enumerate(raw_substeps):
            item = _substep_report(raw, f"substeps[{i}]", limits)
            if item.name in seen:
                raise RequestInvalid(f"substeps[{i}].name", "Each substep name may appear once.")
            seen.add(item.name)
            substeps.append(item)
    report = StepReport(
        status=StepStatus(status) if status else None,
        progress=progress,
        substeps=tuple(substeps),
        error=error,
    )
    return report, parse_time(obj.get("at"), "at")


def parse_log_lines(
    body: Any, limits: LimitSettings
) -> list[tuple[str, str, int | None, datetime | None]]:
    obj = json_object(body, None)
    only_fields(obj, ("lines",), None)
    lines = obj.get("lines")
    if not isinstance(lines, list) or not lines:
        raise RequestInvalid("lines", "lines must be a non-empty list of {message, level, step}.")
    if len(lines) > limits.log_lines_per_request:
        raise RequestInvalid(
            "lines", f"Send at most {limits.log_lines_per_request} lines per request."
        )
    parsed = []
    for i, raw in enumerate(lines):
        where = f"lines[{i}]"
        line = json_object(raw, where)
        only_fields(line, ("message", "level", "step", "at"), where)
        message = line.get("message")
        if not isinstance(message, str):
            raise RequestInvalid(f"{where}.message", "message must be a string.")
        check_length(message, f"{where}.message", limits.log_message_chars)
        level = "info"
        if line.get("level") is not None:
            level = choice(line["level"], f"{where}.level", LOG_LEVELS)
        step = None
        if line.get("step") is not None:
            step = integer(line["step"], f"{where}.step", 1, limits.steps)
        parsed.append((message, level, step, parse_time(line.get("at"), f"{where}.at")))
    return parsed


def parse_reject(body: Any, limits: LimitSettings) -> str | None:
    if body is None:
        return None
    obj = json_object(body, None)
    only_fields(obj, ("reason",), None)
    return optional_text(obj.get("reason"), "reason", limits.error_chars)


@dataclass(frozen=True)
class ChatRequest:
    """`POST /api/chat`: a message (`text`) or a pressed button, in one conversation."""

    text: str | None
    button: Button | None
    conversation: str
    format: str


#: Longest chat message accepted: far beyond any real one, short of abuse.
CHAT_TEXT_CHARS = 4_000
CHAT_FORMATS = ("plain", "slack", "telegram", "email")


def parse_chat_request(body: Any) -> ChatRequest:
    obj = json_object(body, None)
    only_fields(obj, ("text", "button", "conversation", "format"), None)
    if ("text" in obj) == ("button" in obj):
        raise RequestInvalid("text", "Send either text (a message) or button (a pressed button).")
    text = text_field(obj["text"], "text", CHAT_TEXT_CHARS) if "text" in obj else None
    pressed = _button(obj["button"]) if "button" in obj else None
    conversation = optional_text(obj.get("conversation"), "conversation", 200) or ""
    fmt = choice(obj.get("format", "plain"), "format", CHAT_FORMATS)
    return ChatRequest(text, pressed, conversation, fmt)


def _button(raw: Any) -> Button:
    obj = json_object(raw, "button")
    only_fields(obj, ("action", "task_id", "step", "label"), "button")
    action = text_field(obj.get("action"), "button.action", 40)
    task_id = optional_text(obj.get("task_id"), "button.task_id", 32)
    step = obj.get("step")
    order = None if step is None else integer(step, "button.step", 1, 100_000)
    return Button(str(obj.get("label") or ""), action, task_id, order)


# --- helpers -----------------------------------------------------------------------------


def _step_plan(raw: Any, where: str, limits: LimitSettings) -> StepPlan:
    if isinstance(raw, str):
        raw = {"name": raw}
    obj = json_object(raw, where)
    only_fields(obj, ("name", "key", "weight", "requires_approval", "substeps"), where)
    name = text_field(obj.get("name"), f"{where}.name", limits.name_chars)
    key = optional_text(obj.get("key"), f"{where}.key", 200)
    weight = 1.0
    if obj.get("weight") is not None:
        weight = number(obj["weight"], f"{where}.weight", 0, 1_000_000)
        if weight <= 0:
            raise RequestInvalid(f"{where}.weight", "weight must be greater than 0.")
    approval = obj.get("requires_approval", False)
    if not isinstance(approval, bool):
        raise RequestInvalid(
            f"{where}.requires_approval", "requires_approval must be true or false."
        )
    names: list[str] = []
    raw_substeps = obj.get("substeps")
    if raw_substeps is None:
        raw_substeps = []
    if not isinstance(raw_substeps, list):
        raise RequestInvalid(f"{where}.substeps", "substeps must be a list of names.")
    if len(raw_substeps) > limits.substeps:
        raise RequestInvalid(
            f"{where}.substeps", f"A step may have at most {limits.substeps} substeps."
        )
    for i, item in enumerate(raw_substeps):
        if isinstance(item, dict):
            only_fields(item, ("name",), f"{where}.substeps[{i}]")
            item = item.get("name")
        sub = text_field(item, f"{where}.substeps[{i}]", limits.name_chars)
        if sub in names:
            raise RequestInvalid(f"{where}.substeps[{i}]", "Each substep name may appear once.")
        names.append(sub)
    return StepPlan(
        name=name, key=key, weight=weight, requires_approval=approval, substeps=tuple(names)
    )


def _substep_report(raw: Any, where: str, limits: LimitSettings) -> SubstepReport:
    obj = json_object(raw, where)
    only_fields(obj, ("name", "done", "status"), where)
    name = text_field(obj.get("name"), f"{where}.name", limits.name_chars)
    if "done" in obj and not isinstance(obj["done"], bool):
        raise RequestInvalid(f"{where}.done", "done must be true or false.")
    if obj.get("status") is not None:
        status = SubstepStatus(
            choice(obj["status"], f"{where}.status", [s.value for s in SubstepStatus])
        )
    elif "done" in obj:
        status = SubstepStatus.COMPLETED if obj["done"] else SubstepStatus.PENDING
    else:
        raise RequestInvalid(f"{where}.done", "Give done (true/false) or status.")
    return SubstepReport(name, status)


def _complexity(value: Any) -> tuple[int | None, str | None]:
    if value is None:
        return None, None
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in COMPLEXITY_CLASSES:
            return None, lowered
        raise RequestInvalid(
            "complexity", "complexity is a number of tables or simple, medium or complex."
        )
    tables = integer(value, "complexity", 1, 100_000)
    return tables, complexity_class(tables)
