"""Intent benchmark: parse and resolve time per message, the speaker owning 10,000 tasks.

    python bench/intents.py                  # 10,000 tasks, 20,000 messages
    python bench/intents.py --tasks 50000 --messages 5000

Targets: parse < 100 µs median, resolve < 2 ms median (with the speaker's `CandidateIndex`
built once; building it is timed separately, and so is resolving from a plain list, which
builds the index on every call). Standard library only. Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and "intents" would be this file.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

from intents import Candidate, CandidateIndex, parse, resolve

PARSE_TARGET_US = 100.0
RESOLVE_TARGET_US = 2000.0

ADJECTIVES = [
    "nightly",
    "weekly",
    "daily",
    "monthly",
    "quarterly",
    "cellphone",
    "customer",
    "sales",
    "data",
    "api",
    "web",
]
NOUNS = [
    "build",
    "deploy",
    "migration",
    "report",
    "export",
    "import",
    "sync",
    "backup",
    "crm",
    "store",
    "campaign",
    "invoice",
    "payroll",
    "audit",
    "website",
    "server",
    "catalog",
    "index",
    "cleanup",
    "billing",
    "newsletter",
    "dashboard",
]
STATUSES = ("running", "paused", "approval", "pending", "failed", "completed", "cancelled")
MESSAGES = (
    "How's my {title} task going?",
    "status of the {title}",
    "pause the {title} and show me its logs",
    "cancel my {title} and start over",
    "last 20 lines of the {title} log",
    "when will the {title} be done?",
    "retry step 2 of the {title}",
    "reject step 3 because the filters are wrong",
    "notify me by email when the {title} finishes",
    "what's running?",
    "how's it going?",
    "task {id} status",
    "hey could you pleas pasue the {typo}",
    "thanks!",
)


def make_tasks(count: int, seed: int) -> list[Candidate]:
    rng = random.Random(seed)
    now = datetime(2026, 11, 24, tzinfo=UTC)
    tasks = []
    for number in range(count):
        words = [rng.choice(ADJECTIVES), rng.choice(NOUNS)]
        if rng.random() < 0.5:
            words.append(f"{rng.choice(NOUNS)}{number % 97}")
        tasks.append(
            Candidate(
                id=f"{rng.getrandbits(128):032x}",
                title=" ".join(words).title(),
                status=rng.choices(STATUSES, weights=(5, 1, 1, 2, 1, 40, 5))[0],
                updated_at=now - timedelta(minutes=rng.randrange(0, 60 * 24 * 365)),
                kind=words[1],
            )
        )
    return tasks


def typo(word: str, rng: random.Random) -> str:
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def make_messages(tasks: Sequence[Candidate], count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    messages = []
    for _ in range(count):
        task = rng.choice(tasks)
        title = " ".join(task.title.lower().split()[: rng.choice((1, 2, 3))])
        messages.append(
            rng.choice(MESSAGES).format(
                title=title, id=task.id[:6], typo=" ".join(typo(w, rng) for w in title.split())
            )
        )
    return messages


def timed(call: Callable[[], object], repeat: int = 1) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        call()
    return (time.perf_counter() - start) / repeat * 1e6


def summary(name: str, samples: list[float], target: float | None) -> bool:
    ordered = sorted(samples)
    median = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    verdict = ""
    met = True
    if target is not None:
        met = median < target
        verdict = f"  target < {target:.0f} µs median: {'met' if met else 'MISSED'}"
    print(f"{name:<34} median {median:9.1f} µs   p99 {p99:9.1f} µs   n={len(samples)}{verdict}")
    return met


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    tasks = make_tasks(args.tasks, args.seed)
    messages = make_messages(tasks, args.messages, args.seed + 1)
    build_times = [timed(lambda: CandidateIndex.build(tasks)) for _ in range(5)]
    index = CandidateIndex.build(tasks)
    last_task_id = tasks[0].id

    for text in messages[:500]:  # warm-up (typo cache, regex caches)
        parse(text)
    parse_times: list[float] = []
    resolve_times: list[float] = []
    outcomes: dict[str, int] = {}
    for text in messages:
        start = time.perf_counter()
        intents = parse(text)
        parse_times.append((time.perf_counter() - start) * 1e6)
        reference = intents[0].reference
        start = time.perf_counter()
        resolution = resolve(reference, index, last_task_id)
        resolve_times.append((time.perf_counter() - start) * 1e6)
        outcomes[resolution.outcome.value] = outcomes.get(resolution.outcome.value, 0) + 1
    unindexed = [
        timed(lambda t=text: resolve(parse(t)[0].reference, tasks)) for text in messages[:50]
    ]

    print(f"{args.tasks} tasks owned by the speaker, {len(messages)} messages")
    ok = summary("parse(text)", parse_times, PARSE_TARGET_US)
    ok &= summary("resolve(ref, index)", resolve_times, RESOLVE_TARGET_US)
    summary("CandidateIndex.build (once/list)", build_times, None)
    summary("resolve(ref, list) (builds index)", unindexed, None)
    print("outcomes:", ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    print("targets met" if ok else "targets MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
