"""Periodic jobs (APScheduler 3), started and stopped with the app.

Every job is safe to run twice or on several replicas at once: the engine flags a slow
step once per attempt inside the serialised write batch, so a second run finds nothing;
waking the dispatcher only makes it look; retention deletes by age.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.notifier import Notifier
from bot.settings import JobSettings
from engine.service import TaskService

log = logging.getLogger(__name__)


async def detect_slow_steps(service: TaskService) -> None:
    """Announce `step_slow` for running steps past their p90, even when no report arrives."""
    flagged = await service.detect_slow_steps()
    if flagged:
        log.info("flagged %d slow step(s)", flagged)


async def sweep_outbox(notifier: Notifier) -> None:
    """Wake the dispatcher for rows nothing rang for: written by another process, or due."""
    notifier.wake()


async def apply_retention(service: TaskService, settings: JobSettings) -> None:
    """Delete history past its retention; deleting what is already gone changes nothing."""
    removed = await service.apply_retention(
        history_days=settings.history_retention_days,
        outbox_days=settings.outbox_retention_days,
    )
    if any(removed.values()):
        log.info("retention removed %s", removed)


def build_scheduler(
    settings: JobSettings, service: TaskService, notifier: Notifier | None = None
) -> AsyncIOScheduler:
    """The scheduler with tasktalk's jobs; start it from a running loop."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    jobs: list[tuple[str, float, Callable[..., Awaitable[None]], list[object]]] = [
        ("apply-retention", settings.retention_check_seconds, apply_retention, [service, settings]),
        ("detect-slow-steps", settings.slow_check_seconds, detect_slow_steps, [service]),
    ]
    if notifier is not None:
        jobs.insert(0, ("sweep-outbox", settings.outbox_sweep_seconds, sweep_outbox, [notifier]))
    for job_id, seconds, job, args in jobs:
        if seconds > 0:  # 0 turns a job off
            scheduler.add_job(
                job,
                "interval",
                seconds=seconds,
                args=args,
                id=job_id,
                max_instances=1,
                coalesce=True,
                replace_existing=True,
            )
    return scheduler
