r"""Growth rates of measured curves: the log-log slope of y(T) with a confidence interval.

A rate claim such as R(T) = O(√T) (Theorem 2.1) or min E‖∇f‖² = O(log T/√T) (Theorem 2.2) is
checked as a fitted exponent p in y ≈ C·T^p, i.e. the least-squares slope of log y on log T.

Two regimes, chosen by the shape of ``y``:

* ``y`` of shape (n,) — one curve: ordinary least squares on (log T_k, log y_k) with the usual
  Student-t interval (n − 2 degrees of freedom). The points of a *cumulative* curve such as R(T)
  are strongly correlated, so this interval is too narrow; prefer several seeds.
* ``y`` of shape (seeds, n) — one curve per seed: the slope is fitted per seed and the interval is
  the Student-t interval of the mean slope over seeds (seeds − 1 degrees of freedom). Seeds are
  independent runs, so this interval is honest about run-to-run variation (not about the
  curvature of a single curve — fit on the tail, T ≥ T_0, when early transients matter).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from scipy import stats as _sps

from . import _checks


class SlopeFit(NamedTuple):
    """Fitted exponent p of y ≈ C·T^p and its two-sided confidence interval."""

    slope: float
    ci_low: float
    ci_high: float


def fit_loglog_slope(T: Any, y: Any, *, level: float = 0.95) -> SlopeFit:
    r"""Fit p in y ≈ C·T^p by least squares on log y = log C + p log T; return (p, low, high).

    Args:
        T: (n,) positive abscissae (e.g. horizons 1..T or a log-spaced grid), at least 3
            distinct values.
        y: (n,) or (seeds, n) positive values (e.g. regret R(T)); every entry must be > 0
            and finite (a log is taken).
        level: confidence level in (0, 1), default 0.95.

    Returns:
        ``SlopeFit(slope, ci_low, ci_high)`` (a named tuple, unpacks as three floats). For a
        (seeds, n) ``y`` with seeds ≥ 2: mean per-seed slope ± t_{level, seeds−1}·sd/√seeds;
        for a single curve: the OLS slope ± t_{level, n−2}·SE (see the module note on its width).

    Raises:
        ValueError: non-positive or non-finite entries, mismatched lengths, fewer than 3 points,
            ``level`` outside (0, 1).
    """
    level = _checks.positive("level", level)
    if not level < 1.0:
        raise ValueError(f"level must lie in (0, 1); got {level!r}")
    x = _checks.finite_array("T", T)
    yy = _checks.finite_array("y", y)
    if x.ndim != 1:
        raise ValueError(f"T must be one-dimensional (n,); got shape {x.shape}")
    if yy.ndim not in (1, 2) or yy.shape[-1] != x.shape[0]:
        raise ValueError(f"y must have shape (n,) or (seeds, n) with n = len(T) = {x.shape[0]}; got shape {yy.shape}")
    if np.any(x <= 0) or np.any(yy <= 0):
        raise ValueError("T and y must be > 0 everywhere (a logarithm is taken); got non-positive entries")
    if np.unique(x).size < 3:
        raise ValueError(f"T must contain at least 3 distinct values; got {np.unique(x).size}")
    lx = np.log(x)
    ly = np.log(yy)
    xc = lx - lx.mean()
    sxx = float(xc @ xc)
    slopes = (ly - ly.mean(axis=-1, keepdims=True)) @ xc / sxx
    if yy.ndim == 2 and yy.shape[0] >= 2:
        k = yy.shape[0]
        mean = float(np.mean(slopes))
        half = float(_sps.t.ppf(0.5 + level / 2, k - 1) * np.std(slopes, ddof=1) / np.sqrt(k))
        return SlopeFit(mean, mean - half, mean + half)
    slope = float(np.ravel(slopes)[0])
    line = ly.reshape(-1) - ly.mean() - slope * xc
    n = x.shape[0]
    se = float(np.sqrt((line @ line) / (n - 2) / sxx))
    half = float(_sps.t.ppf(0.5 + level / 2, n - 2) * se)
    return SlopeFit(slope, slope - half, slope + half)


def log_grid(T: int, n: int = 30, *, start: int = 1) -> np.ndarray:
    """About ``n`` distinct integers from ``start`` to ``T``, evenly spaced in log T (sorted).

    Used to sample a curve at every scale with equal weight before :func:`fit_loglog_slope`.
    """
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 1:
        raise ValueError(f"T must be an integer >= 1; got {T!r}")
    if isinstance(start, bool) or not isinstance(start, (int, np.integer)) or not 1 <= start <= T:
        raise ValueError(f"start must be an integer in [1, T={T}]; got {start!r}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an integer >= 2; got {n!r}")
    return np.unique(np.round(np.geomspace(start, T, n)).astype(np.int64))
