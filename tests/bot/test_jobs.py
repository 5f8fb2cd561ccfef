"""Periodic jobs start and stop with the app, and the slow-step job is wired to the engine."""

from __future__ import annotations

from datetime import timedelta

from bot.jobs import build_scheduler, detect_slow_steps
from bot.keys import SCHEDULER
from bot.settings import JobSettings
from tests.conftest import Api, Engine


async def test_the_scheduler_runs_while_the_app_does(api: Api) -> None:
    scheduler = api.client.server.app[SCHEDULER]
    assert scheduler.running
    job = scheduler.get_job("detect-slow-steps")
    assert job is not None
    assert job.trigger.interval == timedelta(seconds=30)
    assert job.func is detect_slow_steps


def test_a_zero_interval_turns_the_job_off(engine: Engine) -> None:
    scheduler = build_scheduler(JobSettings(slow_check_seconds=0), engine.service)
    assert scheduler.get_jobs() == []


async def test_the_job_asks_the_engine_to_flag_slow_steps(engine: Engine) -> None:
    calls = []

    class Recording:
        async def detect_slow_steps(self) -> int:
            calls.append(True)
            return 2

    await detect_slow_steps(Recording())  # type: ignore[arg-type]
    await detect_slow_steps(engine.service)  # nothing running: a no-op
    assert calls == [True]
