"""Estimates from running step statistics: exact on tiny histories, on an injected clock."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from statistics import NormalDist

import pytest

from engine import eta
from engine.accounts import ensure_user
from engine.commands import StepPlan, StepReport, TaskPlan
from engine.eta import Estimate, estimate, remaining_seconds
from engine.progress_curve import length_guess
from engine.progress_curve import observe as observe_curve
from engine.records import StepState, TaskState
from engine.states import StepStatus, TaskStatus
from engine.statistics import Z90, StepStats, observe, predict
from engine.store import load_step_stats
from tests.conftest import Engine

S = StepStatus
START = datetime(2024, 1, 15, 10, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def history(*seconds: float, x: float | None = None) -> StepStats:
    stats = None
    for value in seconds:
        stats = observe(stats, x, value)
    assert stats is not None
    return stats


def task(*steps: StepState, tables: int | None = None) -> TaskState:
    running = any(s.status is not S.PENDING for s in steps)
    return TaskState(
        id="t1",
        owner_id=1,
        title="Build",
        kind="app",
        complexity_tables=tables,
        complexity_class=None,
        status=TaskStatus.RUNNING if running else TaskStatus.PENDING,
        created_at=START,
        updated_at=START,
        steps=list(steps),
        started_at=START if running else None,
    )


def step(order: int, key: str, status: StepStatus = S.PENDING, **fields: object) -> StepState:
    found = StepState(order=order, name=key, key=key, status=status)
    for name, value in fields.items():
        setattr(found, name, value)
    return found


# --- running statistics -------------------------------------------------------------------


def test_welford_moments_match_the_two_pass_formulas() -> None:
    durations = [30.0, 45.0, 60.0, 120.0, 50.0]
    stats = history(*durations)
    logs = [math.log(d) for d in durations]
    mean = sum(logs) / len(logs)
    assert stats.count == 5
    assert stats.mean_y == pytest.approx(mean)
    assert stats.m2_y == pytest.approx(sum((v - mean) ** 2 for v in logs))


def test_two_steps_of_60_and_240_seconds_predict_a_median_of_120() -> None:
    # mean log = (ln 60 + ln 240) / 2 = ln 120; M2 = 2 (ln 2)^2; one degree of freedom
    # pooled with the prior spread 0.5 worth two observations, widened by 1 + 1/2.
    prior = predict(history(60, 240), None)
    assert prior.median == pytest.approx(120.0)
    variance = (2 * math.log(2) ** 2 + 2 * 0.25) / (1 + 2) * 1.5
    assert prior.sigma == pytest.approx(math.sqrt(variance))
    # A step not yet started: the usual runs' spread plus the troubled runs' share of
    # log-variance (10% of runs, spread 1 wider: 0.1), so the range is 120 x e^(+-Z90 s).
    found = estimate(task(step(1, "build")), START, {("app", "build"): history(60, 240)})
    spread = Z90 * math.sqrt(variance + 0.1 * 1.0**2)
    assert found == Estimate(120, round(120 * math.exp(-spread)), round(120 * math.exp(spread)))
    assert found == Estimate(120, 37, 386)


def test_complexity_scales_the_prior_by_the_regression_slope() -> None:
    # One step of 100 s at 2 tables; the slope's prior of 1 (time proportional to tables)
    # is all there is, so a 4-table task expects 200 s and a 1-table task 50 s.
    stats = {("app", "build"): history(100, x=math.log(2))}
    assert estimate(task(step(1, "build"), tables=4), START, stats).seconds == 200  # type: ignore[union-attr]
    assert estimate(task(step(1, "build"), tables=1), START, stats).seconds == 50  # type: ignore[union-attr]


def _survivor(mu: float, sigma: float, elapsed: float, level: float) -> float:
    """The level-quantile of lognormal(mu, sigma) given it exceeds `elapsed`, by hand."""
    unit = NormalDist()
    survive = 1.0 - unit.cdf((math.log(elapsed) - mu) / sigma)
    return math.exp(mu - sigma * unit.inv_cdf(survive * (1.0 - level)))


def test_the_current_step_weighs_its_own_rate_against_its_prior_in_logs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Step 1 is half done after 30 s: its rate guesses 60 s in all, with log-noise
    # 0.25 * ln 2; its prior (one step of 100 s) has log-variance 0.5 (spread 0.5 worth
    # two observations, widened by 1 + 1/1). Precision-weighted in logs the length is
    # 100^(n / (n + 0.5)) * 60^(0.5 / (n + 0.5)) = 61.8 s, so 31.8 s are left (given it
    # has run 30 s, which changes nothing here: 4.3 spreads below the median). Step 2 has
    # no history, so it goes at the task's own pace: 30 s per half step = 60 s.
    monkeypatch.setattr(eta, "TROUBLE_RATE", 0.0)
    current = step(1, "build", S.RUNNING, progress=50.0, started_at=START)
    found = estimate(task(current, step(2, "deploy")), at(30), {("app", "build"): history(100)})
    noise = (0.25 * math.log(2)) ** 2
    mu = (math.log(100) * noise + math.log(60) * 0.5) / (noise + 0.5)
    sigma = math.sqrt(0.5 * noise / (noise + 0.5))
    assert math.exp(mu) == pytest.approx(61.8, abs=0.05)
    median = _survivor(mu, sigma, 30, 0.5) - 30
    high = _survivor(mu, sigma, 30, 0.9) - 30
    # The remainder is matched to a lognormal at its median and p90, so p10 = m^2 / p90.
    assert found == Estimate(round(60 + median), round(60 + median**2 / high), round(60 + high))
    assert found.seconds == 92
    # Troubled runs (the wide part of the prior) barely matter while the rate agrees.
    monkeypatch.undo()
    assert (
        estimate(task(current, step(2, "deploy")), at(30), {("app", "build"): history(100)})
        == found
    )


def test_a_step_past_its_usual_length_is_the_lognormal_survivor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No progress reported, 200 s into a step whose history says 60 s (log-variance 0.5,
    # one observation): the median of D given D > 200, less the 200 s already spent.
    monkeypatch.setattr(eta, "TROUBLE_RATE", 0.0)
    current = step(1, "build", S.RUNNING, started_at=START)
    found = estimate(task(current), at(200), {("app", "build"): history(60)})
    sigma = math.sqrt(0.5)
    median = _survivor(math.log(60), sigma, 200, 0.5) - 200
    high = _survivor(math.log(60), sigma, 200, 0.9) - 200
    assert found == Estimate(round(median), round(median**2 / high), round(high))


def test_a_step_whose_progress_slows_down_expects_more_time_than_its_snapshot(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # History: 90 s and 110 s. Half done after 25 s, a snapshot reads 50 s in all; the
    # reports (20% at 4 s, 35% at 12.25 s, 50% at 25 s: progress = (t / 100) ** 0.5) read
    # 25 * 2 ** b. Each guess is weighed against the prior in logs by its precision; the
    # step is far from its usual length, so having run 25 s moves the median by < 1 s.
    monkeypatch.setattr(eta, "TROUBLE_RATE", 0.0)
    stats = history(90, 110)
    prior = predict(stats, None)
    now = at(25)
    running = step(1, "build", S.RUNNING, progress=50.0, started_at=START)
    found = {}
    for name, curve in (
        ("snapshot", None),
        ("bent", observe_curve(observe_curve(None, 0.2, 4), 0.35, 12.25)),
    ):
        running.curve = observe_curve(curve, 0.5, 25.0)
        found[name] = estimate(task(running), now, {("app", "build"): stats})
        guess, noise = length_guess(running.curve, 25.0, 0.5)
        variance = prior.sigma**2
        length = math.exp((prior.mu * noise + guess * variance) / (noise + variance))
        assert found[name].seconds == pytest.approx(length - 25, abs=1)
    assert found["snapshot"].seconds == 29
    assert found["bent"].seconds == 58  # 83 s in all: b = 1.73 (truly 2) from 3 points
    assert found["bent"].low <= 58 <= found["bent"].high


def test_a_paused_step_is_not_a_stalled_one() -> None:
    # Paused at 40 s: an hour later the step has still worked 40 s, so nothing grows.
    stats = {("app", "build"): history(50, 60, 60, 72)}
    paused = step(1, "build", S.PAUSED, progress=50.0, started_at=START, paused_since=at(40))
    assert estimate(task(paused), at(3640), stats) == estimate(task(paused), at(40), stats)


@pytest.mark.parametrize("progress", [0.0, 50.0])
def test_a_stalled_step_expects_more_time_the_longer_it_stands(progress: float) -> None:
    # Four runs of 60 s: a tight prior. Past its usual length the survivors are the
    # troubled runs, so the estimate grows with the time taken instead of "any moment".
    stats = {("app", "build"): history(50, 60, 60, 72)}
    current = step(1, "build", S.RUNNING, progress=progress, started_at=START)
    seconds = []
    for elapsed in (120, 300, 600, 1800, 3600, 36000):
        found = estimate(task(current), at(elapsed), stats)
        assert found is not None and found.low <= found.seconds <= found.high
        seconds.append(found.seconds)
    assert seconds == sorted(seconds) and len(set(seconds)) == len(seconds)
    assert seconds[-2] > 0.1 * 3600  # an hour in: minutes more, not seconds
    assert seconds[-1] > 0.1 * 36000


def test_pending_steps_add_their_priors() -> None:
    stats = {("app", "a"): history(40), ("app", "b"): history(80)}
    found = estimate(
        task(step(1, "a", S.COMPLETED, started_at=START, finished_at=at(40)), step(2, "b")),
        at(40),
        stats,
    )
    assert found is not None and found.seconds == 80


def test_without_history_the_estimate_is_the_live_rate() -> None:
    current = step(1, "build", S.RUNNING, progress=25.0, started_at=START)
    plain = task(current, step(2, "deploy"))
    found = estimate(plain, at(60), {})
    assert found is not None
    assert found.seconds == remaining_seconds(plain, at(60)) == 420
    assert found.low <= found.seconds <= found.high
    assert estimate(task(step(1, "build")), START, {}) is None


@pytest.mark.parametrize("progress", [0.0, 10.0, 50.0, 90.0])
@pytest.mark.parametrize("elapsed", [1, 30, 600, 36000])
def test_ranges_contain_the_point(progress: float, elapsed: int) -> None:
    stats = {("app", "a"): history(20, 35, 50), ("app", "b"): history(300, 200)}
    current = step(1, "a", S.RUNNING, progress=progress, started_at=START)
    found = estimate(task(current, step(2, "b")), at(elapsed), stats)
    assert found is not None
    assert found.low <= found.seconds <= found.high


# --- through the service, on both databases -------------------------------------------------

PLAN = TaskPlan(
    title="Nightly build",
    kind="build",
    steps=(StepPlan("Compile"), StepPlan("Test")),
)


async def _user(engine: Engine) -> int:
    async with engine.database.write() as conn:
        return (await ensure_user(conn, "alice", engine.clock.now())).id


async def _run(engine: Engine, owner: int, compile_s: float, test_s: float) -> str:
    service, clock = engine.service, engine.clock
    created, _ = await service.create_task(owner, PLAN)
    task_id: str = created["task_id"]
    await service.report_step(owner, task_id, 1, StepReport(S.RUNNING))
    clock.advance(compile_s)
    await service.report_step(owner, task_id, 1, StepReport(S.COMPLETED))
    await service.report_step(owner, task_id, 2, StepReport(S.RUNNING))
    clock.advance(test_s)
    await service.report_step(owner, task_id, 2, StepReport(S.COMPLETED))
    return task_id


def _sum_of_lognormals(
    *parts: tuple[float, float], shared: float = 0.0
) -> tuple[float, float, float]:
    """Median, p10 and p90 of a sum of lognormals given as (median, sigma^2), all scaled by
    one more lognormal factor of log-variance `shared` (the task's pace)."""
    means = [m * math.exp(v / 2) for m, v in parts]
    variance = sum(math.expm1(v) * mean**2 for (_, v), mean in zip(parts, means, strict=True))
    sigma2 = math.log1p(variance / sum(means) ** 2)
    mu = math.log(sum(means)) - sigma2 / 2
    spread = Z90 * math.sqrt(sigma2 + shared)
    return math.exp(mu), math.exp(mu - spread), math.exp(mu + spread)


async def _stats(engine: Engine) -> dict[tuple[str, str], StepStats]:
    async with engine.database.read() as conn:
        return await conn.run_sync(load_step_stats)


async def test_completed_steps_update_the_statistics_and_the_estimate(engine: Engine) -> None:
    alice = await _user(engine)
    await _run(engine, alice, 60, 100)
    await _run(engine, alice, 240, 100)
    stats = await _stats(engine)
    assert stats[("build", "compile")].count == 2
    assert math.exp(stats[("build", "compile")].mean_y) == pytest.approx(120.0)
    created, _ = await engine.service.create_task(alice, PLAN)
    # Compile: median 120 s, spread^2 (2 ln^2 2 + 0.5) / 3 * 1.5; test: 100 s, 0.5 / 3 * 1.5.
    # Of each, the task's pace (spread 0.2) is shared by both steps, so it is taken out of
    # each step's spread and applied to the sum. The sum's median (one lognormal with the
    # sum's mean and variance) is above 120 + 100.
    # Each step also carries the troubled runs' 0.1 of log-variance.
    pace = 0.2**2
    compile_s = (120, (2 * math.log(2) ** 2 + 0.5) / 2 - pace + 0.1)
    expected = _sum_of_lognormals(compile_s, (100, 0.25 - pace + 0.1), shared=pace)
    assert created["eta_seconds"] == round(expected[0]) == 241
    low, high = created["eta_range"]
    assert (low, high) == (round(expected[1]), round(expected[2]))
    assert low < 241 < high
    document = await engine.service.progress(alice, created["task_id"])
    assert (document["eta_seconds"], document["eta_range"]) == (241, [low, high])


async def test_a_pause_does_not_inflate_the_estimate_or_the_history(engine: Engine) -> None:
    alice = await _user(engine)
    service, clock = engine.service, engine.clock
    await _run(engine, alice, 100, 100)
    created, _ = await service.create_task(alice, PLAN)
    task_id = created["task_id"]
    await service.report_step(alice, task_id, 1, StepReport(S.RUNNING))
    clock.advance(40)
    await service.report_step(alice, task_id, 1, StepReport(progress=50))
    before = await service.progress(alice, task_id)
    await service.task_action(alice, task_id, "pause", "alice")
    clock.advance(3600)
    await service.task_action(alice, task_id, "resume", "alice")
    after = await service.progress(alice, task_id)
    assert after["eta_seconds"] == before["eta_seconds"]
    assert after["eta_range"] == before["eta_range"]
    clock.advance(40)
    await service.report_step(alice, task_id, 1, StepReport(S.COMPLETED))
    stats = (await _stats(engine))[("build", "compile")]
    # 100 s and 80 s of work; the hour paused counts for nothing.
    assert stats.count == 2
    assert math.exp(stats.mean_y) == pytest.approx(math.sqrt(100 * 80))


async def test_skipped_steps_do_not_count(engine: Engine) -> None:
    alice = await _user(engine)
    service = engine.service
    created, _ = await service.create_task(alice, PLAN)
    task_id = created["task_id"]
    await service.report_step(alice, task_id, 1, StepReport(S.RUNNING))
    engine.clock.advance(30)
    await service.step_action(alice, task_id, 1, "skip", "alice")
    assert await _stats(engine) == {}


async def test_without_history_events_and_documents_use_the_live_rate(engine: Engine) -> None:
    alice = await _user(engine)
    service = engine.service
    created, _ = await service.create_task(alice, PLAN)
    task_id = created["task_id"]
    assert created["eta_seconds"] is None and created["eta_range"] is None
    await service.report_step(alice, task_id, 1, StepReport(S.RUNNING))
    engine.clock.advance(30)
    outcome = await service.report_step(alice, task_id, 1, StepReport(progress=50))
    assert outcome.task["eta_seconds"] == 90  # 30 s for a quarter: 90 s for the rest
    events = await service.events_between(alice, 0, await service.last_seq())
    progress = [e for e in events if e.type == "progress"][-1]
    assert progress.data["eta_seconds"] == 90
    assert progress.data["eta_range"] == outcome.task["eta_range"]


async def test_step_slow_is_sent_once_per_step_attempt(engine: Engine) -> None:
    alice = await _user(engine)
    service, clock = engine.service, engine.clock
    await _run(engine, alice, 60, 60)
    # One compile of 60 s: spread sqrt(0.5), so p90 = 60 * exp(1.2816 * 0.7071) = 148.5 s.
    created, _ = await service.create_task(alice, PLAN)
    task_id = created["task_id"]
    await service.report_step(alice, task_id, 1, StepReport(S.RUNNING))

    async def slow_events() -> list[dict[str, object]]:
        events = await service.events_between(alice, 0, await service.last_seq(), task_id)
        return [e.data for e in events if e.type == "step_slow"]

    clock.advance(148)
    assert await service.detect_slow_steps() == 0
    clock.advance(1)
    assert await service.detect_slow_steps() == 1
    assert await service.detect_slow_steps() == 0
    clock.advance(600)
    await service.report_step(alice, task_id, 1, StepReport(progress=90))
    assert await service.detect_slow_steps() == 0
    (first,) = await slow_events()
    assert (first["step"], first["attempt"], first["expected_ms"]) == (1, 1, 148_493)
    assert first["elapsed_ms"] == 149_000

    # A new attempt may be slow again; the report itself notices it.
    await service.report_step(alice, task_id, 1, StepReport(S.FAILED, error="boom"))
    await service.step_action(alice, task_id, 1, "retry", "alice")
    await service.report_step(alice, task_id, 1, StepReport(S.RUNNING))
    clock.advance(200)
    await service.report_step(alice, task_id, 1, StepReport(progress=20))
    assert await service.detect_slow_steps() == 0
    assert [e["attempt"] for e in await slow_events()] == [1, 2]


def test_a_task_that_ran_slow_so_far_expects_slower_steps_ahead() -> None:
    # Four runs each: log-variance (0 + 2 * 0.25) / (3 + 2) * (1 + 1/4) = 0.125, of which
    # the pace's 0.2^2 is shared by the task's steps and 0.085 is a step's own. Step a took
    # 1.5x its prior, so the pace's posterior mean (prior precision 1 / 0.04 = 25, the
    # step's 1 / 0.085) is ln 1.5 * (1/0.085) / (25 + 1/0.085) = ln 1.5 * 0.32.
    stats = {("app", "a"): history(40, 40, 40, 40), ("app", "b"): history(80, 80, 80, 80)}
    own = 0.125 - 0.04
    weight = (1 / own) / (1 / 0.04 + 1 / own)
    assert weight == pytest.approx(0.32, abs=0.001)
    done = step(1, "a", S.COMPLETED, started_at=START, finished_at=at(60))
    found = estimate(task(done, step(2, "b")), at(60), stats)
    assert found is not None and found.seconds == round(80 * 1.5**weight) == 91
    # The pace's own doubt (variance 1 / (25 + 1/0.085)) widens the pending step's range,
    # as do the troubled runs (0.1).
    sigma = math.sqrt(own + 0.1 + 1 / (1 / 0.04 + 1 / own))
    assert found.high == round(80 * 1.5**weight * math.exp(Z90 * sigma))


def test_one_outlier_does_not_set_the_pace_alone() -> None:
    # Step a took 4x its prior: its residual ln 4 counts as 2 of its own spreads, 2 sqrt(0.085).
    stats = {("app", "a"): history(40, 40, 40, 40), ("app", "b"): history(80, 80, 80, 80)}
    own = 0.125 - 0.04
    weight = (1 / own) / (1 / 0.04 + 1 / own)
    done = step(1, "a", S.COMPLETED, started_at=START, finished_at=at(160))
    found = estimate(task(done, step(2, "b")), at(160), stats)
    assert found is not None
    assert found.seconds == round(80 * math.exp(2 * math.sqrt(own) * weight)) == 96


def test_statistics_winsorise_an_outlier_once_they_know_the_step() -> None:
    # Ten runs of 100 s and 20 s alike (log-spread ln 5 / 2 each way), then one of 6000 s:
    # it counts as the prediction plus 2.5 predicted spreads, not as ln 6000.
    before = history(*[100.0, 20.0] * 5)
    expected = predict(before, None)
    after = observe(before, None, 6000)
    clipped = expected.mu + 2.5 * expected.sigma
    assert after.mean_y == pytest.approx((10 * before.mean_y + clipped) / 11)
    assert math.exp(clipped) < 6000 / 3
    # Fewer than ten runs: every run counts as it is (the two-pass formulas hold).
    assert history(100, 20, 6000).mean_y == pytest.approx(math.log(100 * 20 * 6000) / 3)


def test_a_running_step_going_slow_expects_slower_steps_ahead() -> None:
    # As above, but step a is still running, at 100% after 60 s (1.5x its prior): its rate
    # is as good as a finished step's (noise floor MIN_SIGMA^2), so step b moves by the
    # same pace weight: 91 s for b, plus about a second that a may still need.
    stats = {("app", "a"): history(40, 40, 40, 40), ("app", "b"): history(80, 80, 80, 80)}
    own = 0.125 - 0.04
    rate = own + eta.MIN_SIGMA**2
    weight = (1 / rate) / (1 / 0.04 + 1 / rate)
    running = step(1, "a", S.RUNNING, progress=100.0, started_at=START)
    found = estimate(task(running, step(2, "b")), at(60), stats)
    assert round(80 * 1.5**weight) == 91
    assert found is not None and found.seconds == 92
    # A step that keeps to its prior leaves the pending ones alone: 80 s, plus that second.
    on_time = step(1, "a", S.RUNNING, progress=100.0, started_at=START)
    found = estimate(task(on_time, step(2, "b")), at(40), stats)
    assert found is not None and found.seconds == 81
