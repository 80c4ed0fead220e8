"""Tests for adabelief_ref.stats: the fitted log-log slope and its interval."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adabelief_ref.stats import fit_loglog_slope, log_grid


@settings(deadline=None, max_examples=40)
@given(p=st.floats(-2.0, 2.0), c=st.floats(1e-3, 1e3))
def test_exact_power_law_recovers_exponent(p, c):
    T = np.arange(1, 200, dtype=float)
    fit = fit_loglog_slope(T, c * T**p)
    assert fit.slope == pytest.approx(p, abs=1e-10)
    assert fit.ci_high - fit.ci_low < 1e-8
    many = fit_loglog_slope(T, np.stack([c * T**p, 2 * c * T**p]))
    assert many.slope == pytest.approx(p, abs=1e-10)


def test_seed_interval_covers_truth_and_distinguishes_rates():
    rng = np.random.default_rng(7)
    T = log_grid(10_000, 25)
    noise = np.exp(0.3 * rng.standard_normal((12, T.size)))
    slopes = 0.5 + 0.05 * rng.standard_normal((12, 1))
    y = T ** slopes * noise
    fit = fit_loglog_slope(T, y)
    assert fit.ci_low < 0.5 < fit.ci_high
    # a sqrt(T) curve is told apart from a linear one
    assert fit.ci_high < 0.9
    lin = fit_loglog_slope(T, T * noise)
    assert lin.ci_low > 0.9


def test_single_curve_interval_widens_with_noise():
    rng = np.random.default_rng(1)
    T = np.arange(1.0, 101.0)
    clean = fit_loglog_slope(T, T**0.5)
    noisy = fit_loglog_slope(T, T**0.5 * np.exp(0.5 * rng.standard_normal(T.size)))
    assert noisy.ci_high - noisy.ci_low > clean.ci_high - clean.ci_low
    assert noisy.ci_low <= noisy.slope <= noisy.ci_high
    slope, low, high = noisy  # unpacks as (slope, ci_low, ci_high)
    assert (slope, low, high) == (noisy.slope, noisy.ci_low, noisy.ci_high)


@pytest.mark.parametrize(
    "T, y, match",
    [
        ([1, 2, 3], [1, 0, 2], "y must be > 0|> 0 everywhere"),
        ([1, 2], [1, 2], "at least 3 distinct"),
        ([1, 2, 3], [1, 2], "shape"),
        ([1, 2, np.nan], [1, 2, 3], "T"),
    ],
)
def test_bad_input(T, y, match):
    with pytest.raises(ValueError, match=match):
        fit_loglog_slope(T, y)
    with pytest.raises(ValueError, match="level"):
        fit_loglog_slope([1, 2, 3], [1, 2, 3], level=1.5)


def test_log_grid():
    g = log_grid(1000, 20)
    assert g[0] == 1 and g[-1] == 1000 and np.all(np.diff(g) > 0)
    with pytest.raises(ValueError, match="T must"):
        log_grid(0)
