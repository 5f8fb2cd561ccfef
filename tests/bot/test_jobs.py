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


async def test_every_job_is_registered_with_its_interval(api: Api) -> None:
    scheduler = api.client.server.app[SCHEDULER]
    intervals = {job.id: job.trigger.interval for job in scheduler.get_jobs()}
    assert intervals == {
        "detect-slow-steps": timedelta(seconds=30),
        "sweep-outbox": timedelta(seconds=15),
        "apply-retention": timedelta(hours=1),
    }


def test_a_zero_interval_turns_the_job_off(engine: Engine) -> None:
    off = JobSettings(slow_check_seconds=0, outbox_sweep_seconds=0, retention_check_seconds=0)
    assert build_scheduler(off, engine.service).get_jobs() == []
    only_retention = JobSettings(slow_check_seconds=0, outbox_sweep_seconds=0)
    assert [j.id for j in build_scheduler(only_retention, engine.service).get_jobs()] == [
        "apply-retention"
    ]


async def test_retention_deletes_old_detail_of_ended_tasks_only(engine: Engine) -> None:
    from engine.accounts import ensure_user
    from engine.commands import StepPlan, StepReport, TaskPlan
    from engine.states import StepStatus

    async with engine.database.write() as conn:
        user = (await ensure_user(conn, "alice", engine.clock.now())).id
    plan = TaskPlan("Old", (StepPlan("Only"),))
    ended, _ = await engine.service.create_task(user, plan)
    running, _ = await engine.service.create_task(user, plan)
    await engine.service.report_step(
        user, ended["task_id"], 1, StepReport(status=StepStatus.COMPLETED)
    )
    await engine.service.report_step(
        user, running["task_id"], 1, StepReport(status=StepStatus.RUNNING)
    )
    await engine.service.append_logs(user, running["task_id"], [("hello", "info", 1, None)])
    engine.clock.advance(91 * 86400)
    removed = await engine.service.apply_retention(history_days=90, outbox_days=7)
    # started and completed rows; created, started, step_complete and task_complete events
    assert (removed["history"], removed["events"]) == (2, 4)
    assert await engine.service.history(user, ended["task_id"]) == []
    assert len(await engine.service.history(user, running["task_id"])) == 2  # kept
    assert len(await engine.service.logs(user, running["task_id"], 10)) == 1
    again = await engine.service.apply_retention(history_days=90, outbox_days=7)
    assert not any(again.values())  # safe to run twice


async def test_the_job_asks_the_engine_to_flag_slow_steps(engine: Engine) -> None:
    calls = []

    class Recording:
        async def detect_slow_steps(self) -> int:
            calls.append(True)
            return 2

    await detect_slow_steps(Recording())  # type: ignore[arg-type]
    await detect_slow_steps(engine.service)  # nothing running: a no-op
    assert calls == [True]
