"""Running statistics of step durations, so an estimate never scans history.

Per (task kind, step key) we keep a weighted, bivariate Welford summary of
x = log(complexity) and y = log(active seconds): means, second moments and the
co-moment. That is enough for a per-key regression of log-duration on log-complexity
(durations are lognormal, and complexity scales them by a power law), updated in O(1)
when a step completes. Old observations are forgotten exponentially once the effective
weight reaches `MEMORY`, so a slow drift in step durations is followed, and outliers are
winsorised, so one hung run does not drag every later estimate.

Also the lognormal arithmetic the estimate needs: a sum of steps as one lognormal, and
quantiles of a step's length given that it has already lasted so long.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

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
#: Once a key has this many observations, a new one counts at most WINSOR predicted
#: spreads from its prediction (winsorised): one hung run that took 6x as long moves the
#: median and the spread like a slow run, not like six.
WINSOR_AFTER = 10
WINSOR = 2.5
#: z-score of the 90th percentile of a normal distribution.
Z90 = 1.2815515655446004
_INV_CDF = NormalDist().inv_cdf
_SQRT2 = math.sqrt(2.0)
_SQRT2PI = math.sqrt(2.0 * math.pi)


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
    if s.count >= WINSOR_AFTER:
        expected = predict(s, x)
        limit = WINSOR * expected.sigma
        y = max(expected.mu - limit, min(expected.mu + limit, y))
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


def sum_of_lognormals(parts: Sequence[LogNormal]) -> LogNormal:
    """One lognormal with the mean and variance of the sum of independent lognormals
    (Fenton-Wilkinson): its median is close to the sum's for a handful of steps."""
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


def survivor_quantiles(
    parts: Sequence[tuple[float, float, float]], elapsed: float, levels: Sequence[float]
) -> list[float]:
    """Quantiles of D given D > elapsed, D a mixture of lognormal parts given as
    (weight, log-mean, log-spread).

    Given survival, D follows the mixture of the parts' own conditional laws (reweighted
    by how much of each survives), so each answer lies between the parts' quantiles; a
    safeguarded Newton on log S(z) then finds it in a few steps (z = log D).
    """
    start = math.log(elapsed)
    alive = [w * 0.5 * math.erfc((start - mu) / (sigma * _SQRT2)) for w, mu, sigma in parts]
    survive = sum(alive)
    found = []
    for level in levels:
        if survive <= 0.0:  # beyond floating point: the widest tail's excess is ~exponential
            _, mu, sigma = max(parts, key=lambda part: part[2])
            excess = -(sigma**2) * math.log1p(-level) / max(start - mu, 1e-9)
            found.append(elapsed * math.exp(excess))
            continue
        low = math.inf
        high = -math.inf
        z = 0.0
        for (w, mu, sigma), left in zip(parts, alive, strict=True):
            tail = left / w * (1.0 - level) if w > 0.0 else 0.0
            if tail > 0.0:
                end = mu - sigma * _INV_CDF(tail)
            else:  # far out the excess over the start is ~exponential (Mills ratio)
                end = start - sigma**2 * math.log1p(-level) / max(start - mu, 1e-9)
            low = min(low, end)
            high = max(high, end)
            z += left * end
        z /= survive
        goal = math.log(survive) + math.log1p(-level)
        for _ in range(50):
            if high - low < 1e-9:
                break
            tail = 0.0
            density = 0.0
            for w, mu, sigma in parts:
                u = (z - mu) / sigma
                tail += w * 0.5 * math.erfc(u / _SQRT2)
                density += w * math.exp(-0.5 * u * u) / (_SQRT2PI * sigma)
            if tail <= 0.0:
                high, z = z, (low + z) / 2.0
                continue
            gap = math.log(tail) - goal
            if -1e-6 < gap < 1e-6:
                break
            if gap > 0.0:
                low = z
            else:
                high = z
            step = z + gap * tail / density if density > 0.0 else low
            z = step if low < step < high else (low + high) / 2.0
        found.append(math.exp(z))
    return found
