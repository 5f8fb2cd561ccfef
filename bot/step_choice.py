"""Which step a step command means, from the person's words and the task's progress document.

"approve it" means the step waiting for approval, "retry" the failed one; "step 2", "the
second step", "the filters step", "the last step" name one. When the words name no step
and the task has none in the state the command needs, the result says why instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from intents import IntentName, StepRef

#: The step state each command acts on when the person names no step.
_IMPLIED: dict[IntentName, tuple[str, ...]] = {
    IntentName.APPROVE: ("approval",),
    IntentName.REJECT: ("approval",),
    IntentName.RETRY: ("failed",),
    IntentName.SKIP: ("failed", "approval", "running", "paused"),
}


@dataclass(frozen=True, slots=True)
class StepChoice:
    """`order` when a step was chosen; otherwise `problem` names why (for the template):
    "no_such_step" (numbered or named step the task lacks) or "none_waiting" (no step in
    the state the command needs)."""

    order: int | None = None
    name: str | None = None
    problem: str | None = None


def choose_step(intent: IntentName, ref: StepRef | None, document: dict[str, Any]) -> StepChoice:
    steps: Sequence[dict[str, Any]] = document.get("steps") or []
    if ref is not None:
        step = _named_step(ref, steps, document)
        if step is not None:
            return StepChoice(int(step["order"]), str(step["name"]))
        if ref.number is not None or ref.name is not None:
            return StepChoice(problem="no_such_step")
    wanted = _IMPLIED.get(intent, ())
    for status in wanted:
        for step in steps:
            if step.get("status") == status:
                return StepChoice(int(step["order"]), str(step["name"]))
    return StepChoice(problem="none_waiting")


def _named_step(
    ref: StepRef, steps: Sequence[dict[str, Any]], document: dict[str, Any]
) -> dict[str, Any] | None:
    if ref.number is not None:
        return next((s for s in steps if s.get("order") == ref.number), None)
    if ref.name is not None:
        words = ref.name.lower().split()
        return next(
            (s for s in steps if all(w in str(s.get("name", "")).lower() for w in words)), None
        )
    if ref.special == "current":
        return next((s for s in steps if s.get("order") == document.get("current_step")), None)
    if ref.special == "failed":
        return next((s for s in steps if s.get("status") == "failed"), None)
    if ref.special == "last":
        return steps[-1] if steps else None
    if ref.special == "next":
        return next((s for s in steps if s.get("status") == "pending"), None)
    return None
