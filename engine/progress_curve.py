"""How a running step's progress has grown with its working time, kept as a running fit.

A step's progress is rarely linear in time: an install races to 60% and crawls to the
end, a test suite starts slow. A snapshot (elapsed / progress) assumes a straight line,
so the estimate of the step's length is off by the curve's bend, most at low progress.
Each change of progress adds the point (x, y) = (log progress, log working seconds) to a
Welford summary, so the fit costs O(1) per report and a few numbers per step.

The model is progress = (t / D) ** (1 / b), so log t = log D + b * log progress: a line
whose slope b the estimate needs. Its prior is 1 (a straight line) with spread
`SLOPE_SIGMA`; the points pull it towards the step's own curve as they spread out in
progress, each trusted to `POINT_NOISE` in log-time (reports are late, work comes in
lumps). With one point, or none, the result is the snapshot's assumption exactly.
"""

from __future__ import annotations

import math
from typing import NamedTuple

#: Prior spread of the slope b: how far curves usually bend from a straight line.
SLOPE_SIGMA = 0.25
#: Spread of one point's log-time around the fitted line.
POINT_NOISE = 0.1
#: The slope is kept in this range: progress that falls back or leaps from nothing to
#: nearly done in no time is noise, not a curve.
SLOPE_RANGE = (0.2, 5.0)
#: Progress fractions outside (0, 1) say nothing about the curve; times under a
#: millisecond neither.
_SMALLEST = 1e-3


class ProgressCurve(NamedTuple):
    """Welford moments of x = log(progress fraction), y = log(working seconds). A tuple:
    one is made per progress report, and a tuple is the cheapest immutable record."""

    points: int = 0
    mean_x: float = 0.0
    mean_y: float = 0.0
    m2_x: float = 0.0
    c_xy: float = 0.0

    def encode(self) -> str:
        """The compact text stored in the step's row."""
        return " ".join(map(repr, self))

    @classmethod
    def decode(cls, text: str) -> ProgressCurve:
        points, *moments = text.split()
        mean_x, mean_y, m2_x, c_xy = (float(value) for value in moments)
        return cls(int(points), mean_x, mean_y, m2_x, c_xy)


def observe(curve: ProgressCurve | None, fraction: float, seconds: float) -> ProgressCurve | None:
    """The curve with the step at `fraction` done after `seconds` of work; unchanged for a
    point that carries no shape (nothing done yet, finished, or no time spent)."""
    if not (0.0 < fraction < 1.0) or seconds < _SMALLEST:
        return curve
    c = curve or ProgressCurve()
    x = math.log(fraction)
    y = math.log(seconds)
    points = c.points + 1
    dx = x - c.mean_x
    mean_x = c.mean_x + dx / points
    mean_y = c.mean_y + (y - c.mean_y) / points
    return ProgressCurve(
        points, mean_x, mean_y, c.m2_x + dx * (x - mean_x), c.c_xy + dx * (y - mean_y)
    )


def slope(curve: ProgressCurve | None) -> tuple[float, float]:
    """Posterior mean and variance of b (log-time per log-progress) given the points."""
    prior_precision = 1.0 / SLOPE_SIGMA**2
    if curve is None or curve.points < 2:
        return 1.0, 1.0 / prior_precision
    noise = POINT_NOISE**2
    precision = prior_precision + curve.m2_x / noise
    low, high = SLOPE_RANGE
    mean = (prior_precision + curve.c_xy / noise) / precision
    return min(high, max(low, mean)), 1.0 / precision


def length_guess(
    curve: ProgressCurve | None, elapsed: float, progress: float
) -> tuple[float, float]:
    """Log of the step's whole length read from its progress, and that guess's variance:
    log D = log t - b * log progress, the line through where the step is now."""
    b, variance = slope(curve)
    log_progress = math.log(progress)
    return math.log(elapsed) - b * log_progress, variance * log_progress**2
