"""A running step's progress curve: the fit, its storage, and the commands that feed it."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from engine import queries
from engine.accounts import ensure_user
from engine.commands import StepPlan, StepReport, TaskPlan
from engine.progress_curve import ProgressCurve, length_guess, observe, slope
from engine.service import TaskService
from engine.states import StepStatus
from engine.writer import CommandWriter
from tests.conftest import Engine

S = StepStatus
START = datetime(2024, 1, 15, 10, 0, tzinfo=UTC)


def curve_of(*points: tuple[float, float]) -> ProgressCurve | None:
    """The curve after reports of (fraction done, working seconds)."""
    curve = None
    for fraction, seconds in points:
        curve = observe(curve, fraction, seconds)
    return curve


# --- the fit ----------------------------------------------------------------------------


def test_one_point_or_none_is_the_straight_line_of_a_snapshot() -> None:
    # Prior slope 1 with spread 0.25: log D = log t - log p, variance (0.25 ln p)^2,
    # exactly what elapsed / progress assumed before any curve was kept.
    for curve in (None, curve_of((0.5, 30.0))):
        guess, variance = length_guess(curve, 30.0, 0.5)
        assert math.exp(guess) == pytest.approx(60.0)
        assert variance == pytest.approx((0.25 * math.log(0.5)) ** 2)


def test_a_slowing_step_is_read_as_a_bent_line_in_logs() -> None:
    # progress = (t / 100) ** (1 / 2): 20% at 4 s, 50% at 25 s, 80% at 64 s; slope b = 2.
    curve = curve_of((0.2, 4.0), (0.5, 25.0), (0.8, 64.0))
    assert curve is not None and curve.points == 3
    xs = [math.log(p) for p in (0.2, 0.5, 0.8)]
    mean = sum(xs) / 3
    m2 = sum((x - mean) ** 2 for x in xs)
    assert curve.m2_x == pytest.approx(m2)
    assert curve.c_xy == pytest.approx(2 * m2)  # y = ln 100 + 2 x on every point
    # Posterior of b: prior precision 1 / 0.25^2 = 16 at 1, each point trusted to 0.1.
    b = (16 + 2 * m2 / 0.01) / (16 + m2 / 0.01)
    assert slope(curve) == (pytest.approx(b), pytest.approx(1 / (16 + m2 / 0.01)))
    assert b == pytest.approx(1.86, abs=0.005)  # three points pull 1 most of the way to 2
    # From 80% at 64 s the whole step is ~97 s (truly 100 s), where a snapshot says 80 s.
    guess, variance = length_guess(curve, 64.0, 0.8)
    assert math.exp(guess) == pytest.approx(64 * 0.8 ** (-b))
    assert 96 < math.exp(guess) < 98
    assert variance == pytest.approx(math.log(0.8) ** 2 / (16 + m2 / 0.01))


def test_points_that_say_nothing_about_the_shape_are_left_out() -> None:
    curve = curve_of((0.3, 10.0))
    assert observe(curve, 0.0, 20.0) is curve  # nothing done yet
    assert observe(curve, 1.0, 20.0) is curve  # finished: the length is known
    assert observe(curve, 0.4, 0.0) is curve  # no work yet
    assert observe(None, 0.5, 0.0) is None


def test_progress_that_falls_back_keeps_a_sane_slope() -> None:
    curve = curve_of((0.9, 10.0), (0.1, 60.0))  # "90%", then "10%" much later
    assert slope(curve)[0] == 0.2


def test_the_stored_text_round_trips_exactly() -> None:
    curve = curve_of((0.1, 3.0), (0.37, 11.5), (0.6, 20.25))
    assert curve is not None
    assert ProgressCurve.decode(curve.encode()) == curve


# --- the commands keep it, the database keeps it ------------------------------------------

PLAN = TaskPlan(title="Nightly build", kind="build", steps=(StepPlan("Compile"),))


async def _started(engine: Engine) -> tuple[int, str]:
    async with engine.database.write() as conn:
        alice = (await ensure_user(conn, "alice", engine.clock.now())).id
    created, _ = await engine.service.create_task(alice, PLAN)
    task_id = created["task_id"]
    await engine.service.report_step(alice, task_id, 1, StepReport(S.RUNNING))
    return alice, task_id


async def _curve(engine: Engine, owner: int, task_id: str) -> ProgressCurve | None:
    """The curve as the database holds it."""
    async with engine.database.read() as conn:
        task = await queries.task(conn, owner, task_id)
    assert task is not None
    return task.steps[0].curve


async def test_each_change_of_progress_adds_a_point_on_working_time(engine: Engine) -> None:
    alice, task_id = await _started(engine)
    service, clock = engine.service, engine.clock
    clock.advance(10)
    await service.report_step(alice, task_id, 1, StepReport(progress=20))
    await service.task_action(alice, task_id, "pause", "alice")
    clock.advance(3600)  # paused: not working time
    await service.task_action(alice, task_id, "resume", "alice")
    clock.advance(20)
    await service.report_step(alice, task_id, 1, StepReport(progress=50))
    clock.advance(5)
    await service.report_step(alice, task_id, 1, StepReport(progress=50))  # no change
    assert await _curve(engine, alice, task_id) == curve_of((0.2, 10.0), (0.5, 30.0))


async def test_a_retried_step_starts_a_new_curve(engine: Engine) -> None:
    alice, task_id = await _started(engine)
    service, clock = engine.service, engine.clock
    clock.advance(10)
    await service.report_step(alice, task_id, 1, StepReport(progress=30))
    await service.report_step(alice, task_id, 1, StepReport(S.FAILED, error="disk full"))
    await service.step_action(alice, task_id, 1, "retry", "alice")
    assert await _curve(engine, alice, task_id) is None
    await service.report_step(alice, task_id, 1, StepReport(S.RUNNING))
    clock.advance(4)
    await service.report_step(alice, task_id, 1, StepReport(progress=10))
    assert await _curve(engine, alice, task_id) == curve_of((0.1, 4.0))


async def test_the_curve_survives_a_restart_and_grows_on(engine: Engine) -> None:
    alice, task_id = await _started(engine)
    service, clock = engine.service, engine.clock
    began = clock.now()
    points = ((4.0, 0.2), (12.25, 0.35), (25.0, 0.5), (49.0, 0.7))
    for seconds, fraction in points[:3]:
        clock.set(began + timedelta(seconds=seconds))
        await service.report_step(alice, task_id, 1, StepReport(progress=100 * fraction))
    before = await service.progress(alice, task_id)
    await engine.writer.close()
    writer = CommandWriter(engine.database, clock)  # a new process: nothing cached
    try:
        restarted = TaskService(engine.database, clock, writer)
        assert (await restarted.progress(alice, task_id))["eta_seconds"] == before["eta_seconds"]
        clock.set(began + timedelta(seconds=49))
        await restarted.report_step(alice, task_id, 1, StepReport(progress=70))
    finally:
        await writer.close()
    expected = curve_of(*((fraction, seconds) for seconds, fraction in points))
    assert await _curve(engine, alice, task_id) == expected
