"""Periodic jobs (APScheduler 3), started and stopped with the app.

Every job is safe to run twice or on several replicas at once: the engine flags a slow
step once per attempt inside the serialised write batch, so a second run finds nothing;
waking the dispatcher only makes it look; retention deletes by age.
"""

from __future__ import annotations

import logging

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
    if notifier is not None and settings.outbox_sweep_seconds > 0:
        scheduler.add_job(
            sweep_outbox,
            "interval",
            seconds=settings.outbox_sweep_seconds,
            args=[notifier],
            id="sweep-outbox",
            max_instances=1,
            coalesce=True,
            replace_existing=True,
        )
    if settings.retention_check_seconds > 0:
        scheduler.add_job(
            apply_retention,
            "interval",
            seconds=settings.retention_check_seconds,
            args=[service, settings],
            id="apply-retention",
            max_instances=1,
            coalesce=True,
            replace_existing=True,
        )
    if settings.slow_check_seconds > 0:
        scheduler.add_job(
            detect_slow_steps,
            "interval",
            seconds=settings.slow_check_seconds,
            args=[service],
            id="detect-slow-steps",
            max_instances=1,
            coalesce=True,
            replace_existing=True,
        )
    return scheduler
