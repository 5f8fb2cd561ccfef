"""Remaining-time estimate: a point and a p10-p90 range, from running step statistics.

Remaining time = the current step's remainder + the priors of the pending steps. A
step's prior is the lognormal its (kind, key) statistics predict at the task's complexity
(`engine.statistics`), moved by the task's own pace: the posterior of a per-task factor
given how much slower or faster its completed steps ran than their priors (and, for the
steps still to come, how fast the running step is going).

The running step's whole length D has that prior, mixed with a much wider one for the
runs that go wrong (stalls, retries); its observed rate (elapsed / progress, bent by the
shape its progress curve has shown so far, `engine.progress_curve`; a noisier guide the
less progress there is) updates both, and D is conditioned on D > elapsed: the
remainder is D - elapsed. So a step that has outlasted its usual runs, or stands still,
expects more time the longer it takes, not "any moment now". The parts are summed as one
lognormal (Fenton-Wilkinson); the point is its median, the range its p10-p90.

Steps with no history use the task's own rate (working time per unit of weighted work
done); with no history at all that is exactly the live-rate estimate. Paused time and
approval waits are not working time (`engine.timing`), and skipped steps count as done.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from engine.progress_curve import ProgressCurve, length_guess
from engine.records import StepState, TaskState
from engine.states import DONE_STEP_STATES, StepStatus, TaskStatus
from engine.statistics import (
    PRIOR_SIGMA,
    Z90,
    LogNormal,
    StepStats,
    log_complexity,
    predict,
    sum_of_lognormals,
    survivor_quantiles,
)
from engine.timing import step_active_ms, task_active_ms

#: Statistics by (task kind or "", step key).
StatsLookup = Mapping[tuple[str, str], StepStats]
NO_STATS: StatsLookup = {}
#: Spread of a task's pace (log-factor on all its steps: a slower machine, a bigger app
#: than its table count says). Part of every step's spread in the statistics; the rest
#: is the step's own noise. Sets how much a task's finished steps move its pending ones.
PACE_SIGMA = 0.2
#: A finished step's residual counts at most this many of its own spreads, so one
#: outlier or stall does not set the pace alone (winsorised).
PACE_CLIP = 2.0
#: Smallest spread kept in any part, so a ratio never becomes a certainty.
MIN_SIGMA = 0.02
#: Share of runs that go wrong (stall, retry, a much bigger input) and how much wider
#: their log-length spreads than the step's usual runs (x2.7 per unit). The statistics
#: winsorise such runs away, so the estimate adds them back here.
TROUBLE_RATE = 0.1
TROUBLE_SIGMA = 1.0
#: What the troubled runs add to a pending step's log-variance (their share of the mix).
TROUBLE_VARIANCE = TROUBLE_RATE * TROUBLE_SIGMA**2
#: The remainder is matched to a lognormal at these quantiles (median and p90).
_LEVELS = (0.5, 0.9)


@dataclass(frozen=True, slots=True)
class Estimate:
    """Seconds of work left: the median and the 10th-90th percentile range."""

    seconds: int
    low: int
    high: int


def done_fraction(task: TaskState) -> float | None:
    """Share of the task's weighted work that is done, 0-1; None for a weightless task."""
    total = 0.0
    done = 0.0
    for step in task.steps:
        total += step.weight
        done += step.weight * (100.0 if step.status in DONE_STEP_STATES else step.progress)
    if total <= 0:
        return None
    return done / (100.0 * total)


def remaining_seconds(task: TaskState, now: datetime, fraction: float | None = None) -> int | None:
    """Live-rate seconds of work left, or None when there is nothing yet to extrapolate from.

    `fraction` is `done_fraction(task)` when the caller has it already.
    """
    if task.status is TaskStatus.COMPLETED:
        return 0
    if task.status in (TaskStatus.CANCELLED, TaskStatus.FAILED):
        return None
    if fraction is None:
        fraction = done_fraction(task)
    if fraction is None or fraction <= 0.0:
        return None
    active_ms = task_active_ms(task, now)
    if active_ms <= 0:
        return None
    remaining_ms = active_ms * (1.0 - fraction) / fraction
    return max(0, round(remaining_ms / 1000))


def step_prior(task: TaskState, step: StepState, stats: StatsLookup) -> LogNormal | None:
    """The step's duration prior at this task's complexity, or None without history."""
    found = stats.get((task.kind or "", step.key))
    if found is None or found.count == 0:
        return None
    return predict(found, log_complexity(task.complexity_tables, task.complexity_class))


def estimate(
    task: TaskState, now: datetime, stats: StatsLookup = NO_STATS, fraction: float | None = None
) -> Estimate | None:
    """Point and range of the seconds left; None when there is nothing to go on."""
    if task.status is TaskStatus.COMPLETED:
        return Estimate(0, 0, 0)
    if task.status in (TaskStatus.CANCELLED, TaskStatus.FAILED):
        return None
    parts = _remaining_parts(task, now, stats)
    if parts is None:
        return _live_rate(task, now, fraction)
    fixed, total = parts
    if total is None:
        seconds = max(0, round(fixed))
        return Estimate(seconds, seconds, seconds)
    return Estimate(
        max(0, round(fixed + total.median)),
        max(0, round(fixed + total.quantile_z(-Z90))),
        max(0, round(fixed + total.quantile_z(Z90))),
    )


def _own_variance(prior: LogNormal) -> float:
    """A step's log-variance within one task: its prior's less the pace's share (which
    all the task's steps share), keeping at least a quarter as the step's own."""
    variance = prior.sigma * prior.sigma
    return max(variance - PACE_SIGMA**2, variance / 4.0, MIN_SIGMA**2)


def _remaining_parts(
    task: TaskState, now: datetime, stats: StatsLookup
) -> tuple[float, LogNormal | None] | None:
    """Rate-based seconds plus the lognormal of the rest; None when no unfinished step has
    a prior (use the live rate) or a step has neither a prior nor a rate to go on.

    The task's pace is the posterior of a per-task log-factor (prior N(0, PACE_SIGMA^2))
    given residuals r = log(seconds) - prior log-median = pace + noise of variance v:
    mean sum(r / v) / (1 / PACE_SIGMA^2 + sum(1 / v)). Finished steps give one each. A
    running step's own length uses that pace; the pending steps' also count the running
    step's rate, the freshest sign of how this task is going (counted once: not for the
    step it came from).
    """
    if not stats:
        return None
    precision = 1.0 / PACE_SIGMA**2
    weighted = 0.0
    unfinished: list[tuple[StepState, LogNormal | None]] = []
    for step in task.steps:
        if step.status is StepStatus.COMPLETED:
            active_ms = step_active_ms(step, now)
            done = step_prior(task, step, stats) if active_ms else None
            if done is not None and active_ms:
                own = _own_variance(done)
                weighted += _evidence(math.log(active_ms / 1000.0) - done.mu, own)
                precision += 1.0 / own
        elif step.status not in DONE_STEP_STATES:
            unfinished.append((step, step_prior(task, step, stats)))
    if all(prior is None for _, prior in unfinished):
        return None
    finished_pace, finished_variance = weighted / precision, 1.0 / precision
    fixed = 0.0
    parts: list[LogNormal] = []
    pending: list[LogNormal] = []
    for step, prior in unfinished:
        progress = min(max(step.progress, 0.0), 100.0) / 100.0
        if prior is None:
            rate = _seconds_per_work_unit(task, now)
            if rate is None:
                return None
            fixed += rate * step.weight * (1.0 - progress)
            continue
        own = _own_variance(prior)
        elapsed = (step_active_ms(step, now) or 0) / 1000.0
        if elapsed <= 0.0 and progress <= 0.0:
            # The usual runs mixed with the troubled ones, matched in log-mean and -variance.
            pending.append(LogNormal(prior.mu, math.sqrt(own + TROUBLE_VARIANCE)))
            continue
        length = LogNormal(prior.mu + finished_pace, math.sqrt(own + finished_variance))
        if elapsed > 0.0 and progress > 0.0:
            guess = _guess(step.curve, elapsed, progress)
            parts.append(_remainder(length, elapsed, progress, guess))
            variance = own + guess[1]
            weighted += _evidence(guess[0] - prior.mu, variance)
            precision += 1.0 / variance
        else:
            parts.append(_remainder(length, elapsed, progress, None))
    if pending:
        # The pace scales all pending steps alike, so it moves their sum, and its doubt does
        # not average out.
        together = sum_of_lognormals(pending)
        shift, shift_variance = weighted / precision, 1.0 / precision
        spread = math.hypot(together.sigma, math.sqrt(shift_variance))
        parts.append(LogNormal(together.mu + shift, spread))
    return fixed, (sum_of_lognormals(parts) if parts else None)


def _evidence(residual: float, variance: float) -> float:
    """A residual's term r / v in the pace's mean, winsorised at PACE_CLIP spreads so one
    stall or outlier does not set the pace alone."""
    limit = PACE_CLIP * math.sqrt(variance)
    return max(-limit, min(limit, residual)) / variance


def step_remainder(
    length: LogNormal, elapsed: float, progress: float, curve: ProgressCurve | None = None
) -> LogNormal:
    """Seconds a started step has left, as a lognormal matched at its median and p90.

    `length` is the prior of its whole duration D, mixed with a wider one for troubled
    runs; the guess its progress curve gives (`engine.progress_curve`: elapsed / progress
    bent by the curve's shape so far) updates both (normal in logs), then D is
    conditioned on D > elapsed and the remainder is D - elapsed. Past its usual runs
    only troubled ones survive, so the remainder grows with the time already taken
    instead of shrinking to "any moment now".
    """
    guess = _guess(curve, elapsed, progress) if progress > 0.0 and elapsed > 0.0 else None
    return _remainder(length, elapsed, progress, guess)


def _guess(curve: ProgressCurve | None, elapsed: float, progress: float) -> tuple[float, float]:
    """The progress curve's guess at log D, its variance kept above MIN_SIGMA^2 (at 100%
    done it would be 0: a ratio is never a certainty)."""
    guess, noise = length_guess(curve, elapsed, progress)
    return guess, max(noise, MIN_SIGMA**2)


def _remainder(
    length: LogNormal, elapsed: float, progress: float, guess: tuple[float, float] | None
) -> LogNormal:
    """`step_remainder` given the progress's guess at log D and its variance, if any."""
    variance = length.sigma**2
    parts = [(1.0 - TROUBLE_RATE, length.mu, variance)]
    if TROUBLE_RATE > 0.0:
        parts.append((TROUBLE_RATE, length.mu, variance + TROUBLE_SIGMA**2))
    if guess is not None:
        parts = _observe_rate(parts, guess[0], guess[1])
    mixture = [(w, mu, max(math.sqrt(v), MIN_SIGMA)) for w, mu, v in parts]
    if elapsed <= 0.0:  # nothing to condition on: the usual runs' share of the step left
        _, mu, sigma = mixture[0]
        return LogNormal(mu + math.log(max(1.0 - progress, 1e-3)), sigma)
    median, high = (q - elapsed for q in survivor_quantiles(mixture, elapsed, _LEVELS))
    spread = math.log(high / median) / Z90 if median > 0.0 and high > median else MIN_SIGMA
    return LogNormal(math.log(max(median, 1e-3)), max(spread, MIN_SIGMA))


def _observe_rate(
    parts: list[tuple[float, float, float]], guess: float, noise: float
) -> list[tuple[float, float, float]]:
    """Bayes update of (weight, mean, variance) normal parts in log-length by a guess with
    that noise variance; the weights move by how well each part predicted the guess."""
    updated = []
    for weight, mu, variance in parts:
        total = variance + noise
        likely = weight * math.exp(-0.5 * (guess - mu) ** 2 / total) / math.sqrt(total)
        updated.append((likely, (mu * noise + guess * variance) / total, variance * noise / total))
    norm = sum(w for w, _, _ in updated)
    if norm <= 0.0:  # the guess is far from every part: trust the widest
        return [(1.0, updated[-1][1], updated[-1][2])]
    return [(w / norm, mu, v) for w, mu, v in updated]


def _seconds_per_work_unit(task: TaskState, now: datetime) -> float | None:
    """The task's own pace: active seconds per unit of weighted work done."""
    done = sum(
        step.weight * (1.0 if step.status in DONE_STEP_STATES else step.progress / 100.0)
        for step in task.steps
    )
    active = task_active_ms(task, now) / 1000.0
    if done <= 0.0 or active <= 0.0:
        return None
    return active / done


def _live_rate(task: TaskState, now: datetime, fraction: float | None) -> Estimate | None:
    seconds = remaining_seconds(task, now, fraction)
    if seconds is None:
        return None
    return Estimate(seconds, round(seconds * _LIVE_LOW), round(seconds * _LIVE_HIGH))


#: The live-rate range: p10 and p90 of the prior spread around the point.
_LIVE_LOW = math.exp(-Z90 * PRIOR_SIGMA)
_LIVE_HIGH = math.exp(Z90 * PRIOR_SIGMA)
