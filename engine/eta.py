"""Remaining-time estimate: a point and a p10-p90 range, from running step statistics.

Remaining time = the current step's remainder + the priors of the pending steps. A
step's prior is the lognormal its (kind, key) statistics predict at the task's complexity
(`engine.statistics`). The current step's remainder blends the prior's remaining share
with the step's own observed rate, weighted by its progress. Priors shift by the task's own
pace (how much slower its completed steps ran than theirs, shrunk toward none). The sum of
lognormals is matched to one lognormal (Fenton-Wilkinson) for the median and the range.

Steps with no history use the task's own rate (working time per unit of weighted work
done); with no history at all that is exactly the live-rate estimate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from engine.records import StepState, TaskState
from engine.states import DONE_STEP_STATES, StepStatus, TaskStatus
from engine.statistics import PRIOR_SIGMA, Z90, LogNormal, StepStats, log_complexity, predict
from engine.timing import step_active_ms, task_active_ms

#: Statistics by (task kind or "", step key).
StatsLookup = Mapping[tuple[str, str], StepStats]
NO_STATS: StatsLookup = {}
#: A task's own pace: the completed steps' mean log-ratio to their priors, shrunk toward 0
#: as the posterior mean of a task effect (normal-normal): n / (n + step var / task var).
PACE_SHRINK = 4.0
#: Residuals beyond this (x2.7) count only this much, so one outlier does not set the pace.
PACE_CLIP = 1.0


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
    fixed, lognormals = parts
    if not lognormals:
        seconds = max(0, round(fixed))
        return Estimate(seconds, seconds, seconds)
    total = _fenton_wilkinson(lognormals)
    return Estimate(
        max(0, round(fixed + total.median)),
        max(0, round(fixed + total.quantile_z(-Z90))),
        max(0, round(fixed + total.quantile_z(Z90))),
    )


def _remaining_parts(
    task: TaskState, now: datetime, stats: StatsLookup
) -> tuple[float, list[LogNormal]] | None:
    """Rate-based seconds plus lognormal remainders; None when no unfinished step has a
    prior (use the live rate) or a step has neither a prior nor a rate to go on."""
    if not stats:
        return None
    unfinished = [s for s in task.steps if s.status not in DONE_STEP_STATES]
    priors = {s.order: step_prior(task, s, stats) for s in unfinished}
    if all(p is None for p in priors.values()):
        return None
    rate = _seconds_per_work_unit(task, now)
    pace = _pace(task, now, stats)
    fixed = 0.0
    lognormals: list[LogNormal] = []
    for step in unfinished:
        prior = priors[step.order]
        if prior is not None and pace:
            prior = LogNormal(prior.mu + pace, prior.sigma)
        share = 1.0 - min(max(step.progress, 0.0), 100.0) / 100.0
        elapsed = (step_active_ms(step, now) or 0) / 1000.0
        if prior is None:
            if rate is None:
                return None
            fixed += rate * step.weight * share
            continue
        progress = 1.0 - share
        if progress <= 0.0 or share <= 0.0:
            lognormals.append(_shifted(prior, share) if share > 0.0 else LogNormal(-30.0, 0.0))
            continue
        own = elapsed * share / progress
        blended = progress * own + (1.0 - progress) * prior.median * share
        lognormals.append(LogNormal(math.log(max(blended, 1e-3)), prior.sigma * share))
    return fixed, lognormals


def _pace(task: TaskState, now: datetime, stats: StatsLookup) -> float:
    """Log-factor by which this task's completed steps ran slower (+) than their priors."""
    total = 0.0
    count = 0
    for step in task.steps:
        if step.status is not StepStatus.COMPLETED:
            continue
        active_ms = step_active_ms(step, now)
        prior = step_prior(task, step, stats)
        if prior is None or not active_ms:
            continue
        residual = math.log(active_ms / 1000.0) - prior.mu
        total += max(-PACE_CLIP, min(PACE_CLIP, residual))
        count += 1
    return total / (count + PACE_SHRINK) if count else 0.0


def _shifted(prior: LogNormal, share: float) -> LogNormal:
    """The prior scaled to the share of the step still to do."""
    return LogNormal(prior.mu + math.log(share), prior.sigma)


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
    return Estimate(
        seconds,
        round(seconds * math.exp(-Z90 * PRIOR_SIGMA)),
        round(seconds * math.exp(Z90 * PRIOR_SIGMA)),
    )


def _fenton_wilkinson(parts: list[LogNormal]) -> LogNormal:
    """One lognormal with the mean and variance of the sum of independent lognormals."""
    mean = 0.0
    variance = 0.0
    for part in parts:
        s2 = part.sigma * part.sigma
        m = math.exp(part.mu + s2 / 2.0)
        mean += m
        variance += math.expm1(s2) * m * m
    if mean <= 0.0:
        return LogNormal(-30.0, 0.0)
    sigma2 = math.log1p(variance / (mean * mean))
    return LogNormal(math.log(mean) - sigma2 / 2.0, math.sqrt(sigma2))
