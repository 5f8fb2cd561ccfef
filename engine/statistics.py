"""Running statistics of step durations, so an estimate never scans history.

Per (task kind, step key) we keep a weighted, bivariate Welford summary of
x = log(complexity) and y = log(active seconds): means, second moments and the
co-moment. That is enough for a per-key regression of log-duration on log-complexity
(durations are lognormal, and complexity scales them by a power law), updated in O(1)
when a step completes. Old observations are forgotten exponentially once the effective
weight reaches `MEMORY`, so a slow drift in step durations is followed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Effective number of observations remembered; older ones fade geometrically.
MEMORY = 200.0
#: Prior slope of log-duration on log-tables (duration proportional to tables), and how
#: many squared log-complexity units of evidence it is worth (ridge toward the prior).
PRIOR_SLOPE = 1.0
PRIOR_SLOPE_WEIGHT = 1.0
#: Prior spread of log-duration (a typical step varies by about x1.65) and its weight in
#: pseudo-observations, so one or two observations still give a sensible range.
PRIOR_SIGMA = 0.5
PRIOR_SIGMA_WEIGHT = 2.0
#: Tables assumed for a complexity class when the task gives no table count.
CLASS_TABLES = {"simple": 1.5, "medium": 4.0, "complex": 8.0}
#: z-score of the 90th percentile of a normal distribution.
Z90 = 1.2815515655446004


@dataclass(frozen=True, slots=True)
class StepStats:
    """Summary of one (kind, step key): `weight` is the effective count after forgetting."""

    count: int = 0
    weight: float = 0.0
    mean_x: float = 0.0
    mean_y: float = 0.0
    m2_x: float = 0.0
    m2_y: float = 0.0
    c_xy: float = 0.0


@dataclass(frozen=True, slots=True)
class LogNormal:
    """Duration in seconds with log-mean `mu` and log-spread `sigma`."""

    mu: float
    sigma: float

    @property
    def median(self) -> float:
        return math.exp(self.mu)

    def quantile_z(self, z: float) -> float:
        return math.exp(self.mu + z * self.sigma)


def log_complexity(tables: int | None, complexity_class: str | None) -> float | None:
    """x for the regression: log of the table count (or the class's typical count)."""
    if tables is not None and tables > 0:
        return math.log(tables)
    if complexity_class in CLASS_TABLES:
        return math.log(CLASS_TABLES[complexity_class])
    return None


def observe(stats: StepStats | None, x: float | None, seconds: float) -> StepStats:
    """The summary with one more completed step of `seconds` active time at complexity x.

    An unknown complexity is imputed as the running mean, so it moves nothing but y.
    """
    s = stats or StepStats()
    y = math.log(max(seconds, 1e-3))
    if x is None:
        x = s.mean_x
    weight, m2_x, m2_y, c_xy = s.weight, s.m2_x, s.m2_y, s.c_xy
    if weight > MEMORY - 1.0:
        fade = (MEMORY - 1.0) / weight
        weight, m2_x, m2_y, c_xy = weight * fade, m2_x * fade, m2_y * fade, c_xy * fade
    weight += 1.0
    dx = x - s.mean_x
    dy = y - s.mean_y
    mean_x = s.mean_x + dx / weight
    mean_y = s.mean_y + dy / weight
    return StepStats(
        count=s.count + 1,
        weight=weight,
        mean_x=mean_x,
        mean_y=mean_y,
        m2_x=m2_x + dx * (x - mean_x),
        m2_y=m2_y + dy * (y - mean_y),
        c_xy=c_xy + dx * (y - mean_y),
    )


def predict(stats: StepStats, x: float | None) -> LogNormal:
    """The duration prior of a step at complexity x (None: the history's mean complexity).

    Slope: ridge regression toward `PRIOR_SLOPE`. Spread: residual variance pooled with
    `PRIOR_SIGMA`, widened for the uncertainty of the mean.
    """
    slope = (stats.c_xy + PRIOR_SLOPE_WEIGHT * PRIOR_SLOPE) / (stats.m2_x + PRIOR_SLOPE_WEIGHT)
    shift = 0.0 if x is None else x - stats.mean_x
    residual = max(0.0, stats.m2_y - 2.0 * slope * stats.c_xy + slope * slope * stats.m2_x)
    dof = max(stats.weight - 1.0, 0.0)
    variance = (residual + PRIOR_SIGMA_WEIGHT * PRIOR_SIGMA**2) / (dof + PRIOR_SIGMA_WEIGHT)
    if stats.weight > 0:
        variance *= 1.0 + 1.0 / stats.weight
    return LogNormal(stats.mean_y + slope * shift, math.sqrt(variance))
