"""Periodic jobs (APScheduler 3), started and stopped with the app.

Every job is safe to run twice or on several replicas at once: the engine flags a slow
step once per attempt inside the serialised write batch, so a second run finds nothing.
"""

from __future__ import annotations

import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.settings import JobSettings
from engine.service import TaskService

log = logging.getLogger(__name__)


async def detect_slow_steps(service: TaskService) -> None:
    """Announce `step_slow` for running steps past their p90, even when no report arrives."""
    flagged = await service.detect_slow_steps()
    if flagged:
        log.info("flagged %d slow step(s)", flagged)


def build_scheduler(settings: JobSettings, service: TaskService) -> AsyncIOScheduler:
    """The scheduler with tasktalk's jobs; start it from a running loop."""
    scheduler = AsyncIOScheduler(timezone="UTC")
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
