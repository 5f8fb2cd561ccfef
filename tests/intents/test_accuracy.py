"""Accuracy of parse + resolve over the labelled phrasings; fails under 95%."""

from __future__ import annotations

import pytest

from intents import Intent, Outcome, Resolution, parse, resolve
from tests.intents.phrasings import (
    HOLDOUT,
    HOLDOUT_2,
    HOLDOUT_3,
    HOLDOUT_4,
    HOLDOUT_5,
    HOLDOUT_6,
    LAST,
    PHRASINGS,
    TASKS,
    Row,
)

THRESHOLD = 0.95
KEY_BY_ID = {candidate.id: key for key, candidate in TASKS.items()}
CANDIDATES = list(TASKS.values())


def resolved_key(intents: list[Intent]) -> str | None:
    """What the conversation would act on for the first intent: a task key, "?" or "-"."""
    first = intents[0]
    if first.reference is None and not first.needs_task:
        return None
    resolution: Resolution = resolve(first.reference, CANDIDATES, TASKS[LAST].id)
    if resolution.outcome is Outcome.AMBIGUOUS:
        return "?"
    if resolution.outcome is Outcome.NOT_FOUND or resolution.task is None:
        return "-"
    return KEY_BY_ID[resolution.task.id]


def arguments_ok(intents: list[Intent], expected: dict[str, object]) -> bool:
    first = intents[0]
    for key, value in expected.items():
        if key == "step":
            step = next((i.step for i in intents if i.step is not None), None)
            got: object = None if step is None else (step.number or step.name)
            if isinstance(value, str) and isinstance(got, str) and value in got.split():
                got = value  # "form" names the "sales form" step too
        else:
            got = next((i.arguments[key] for i in intents if key in i.arguments), None)
        if got != value:
            return False
    return first is not None


def evaluate(rows: list[Row]) -> tuple[float, float, list[str]]:
    intent_hits = resolution_hits = 0
    failures: list[str] = []
    for text, names, task, args in rows:
        intents = parse(text)
        got_names = "+".join(i.name.value for i in intents)
        names_ok = got_names == names and arguments_ok(intents, args)
        got_task = resolved_key(intents)
        task_ok = got_task == task
        intent_hits += names_ok
        resolution_hits += task_ok
        if not (names_ok and task_ok):
            failures.append(
                f"{text!r}: want {names} {args} -> {task}; got {got_names} "
                f"{[(i.reference, i.step, dict(i.arguments)) for i in intents]} -> {got_task}"
            )
    total = len(rows)
    return intent_hits / total, resolution_hits / total, failures


def test_enough_phrasings() -> None:
    assert len(PHRASINGS) >= 300
    everything = [text for rows in SETS.values() for text, *_ in rows]
    assert len(set(everything)) == len(everything)


SETS: dict[str, list[Row]] = {
    "phrasings": PHRASINGS,
    "holdout": HOLDOUT,
    "holdout_2": HOLDOUT_2,
    "holdout_3": HOLDOUT_3,
    "holdout_4": HOLDOUT_4,
    "holdout_5": HOLDOUT_5,
    "holdout_6": HOLDOUT_6,
}


@pytest.mark.parametrize("name", list(SETS))
def test_accuracy(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    rows = SETS[name]
    intent_accuracy, resolution_accuracy, failures = evaluate(rows)
    with capsys.disabled():
        print(
            f"\n{name}: intents {intent_accuracy:.1%} of {len(rows)} (names in order and "
            f"arguments); resolution {resolution_accuracy:.1%}"
        )
        for failure in failures:
            print("  miss", failure)
    assert intent_accuracy >= THRESHOLD
    assert resolution_accuracy >= THRESHOLD
