r"""Theorem 2.2 and Corollary 2.2.1 (THEORY §3, row N1 of §4) evaluated on stochastic runs.

Theorem 2.2 bounds, for the analysed recursion (``AdaBelief(form="analysis",
lr_schedule="inv_sqrt")``, α_t = α/√t) on an L-smooth f with ‖∇f(θ_t)‖, ‖g_t‖ ≤ H, E‖ζ_t‖² ≤ σ²
and min_j (s_1)_j ≥ c,

    min_{t∈[T]} E‖∇f(θ_t)‖² ≤ H/(α√T) · [C1 α²(H²+σ²)(1+log T)/c + C2 dα/√c + C3 dα²/c + C4],

and Corollary 2.2.1 the weighted average (1/T) Σ_t E[α_t² ‖∇f(θ_t)‖²]. C1..C4 (Chen et al. 2019,
Theorem 3.1) are not printed in the paper and are **not** hard-coded here: what is checked is the
*shape* of the bound — the rate in T, the scaling of each term in c, d and σ² — and the three
explicit pieces (i)–(iii) of the proof (N1) against their explicit bounds.

Conventions. Runs are batches of seeds: a :class:`StationarityRun` holds the trace (time first,
(T, S, d) for S seeds) and ∇f at every iterate. The paper's θ_t, t ∈ [T], at which g_t is drawn,
is ``trace.played[t-1]`` (θ_0..θ_{T−1} of :func:`adabelief_ref.run`). Expectations are means over
seeds; intervals come from resampling seeds (bootstrap) or from the spread of per-seed slopes.

Back ends: :func:`run_stationarity` steps the seeds with the numpy reference (``backend="numpy"``,
default) or the batched torch engine (``backend="engine"`` on ``device``, :mod:`.backends`) — the
same trace to rounding, the way to larger T and more seeds; the stochastic gradients stay numpy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple, Sequence

import numpy as np

from .. import _checks
from ..optimizers import Optimizer
from ..runner import Trace
from ..stats import SlopeFit, fit_loglog_slope, log_grid
from .audit import decrease_share, negative_gamma_share, observed_c, within_bound_share
from .backends import run_trace


# -- runs ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StationarityRun:
    """A batch of runs with the exact gradient at every iterate.

    Attributes:
        trace: the :class:`~adabelief_ref.Trace` (arrays (T, S, d), or (T, d) for one run).
        full_grads: (T+1, ..., d) ∇f(θ_0), ..., ∇f(θ_T).
        grad_sq: (T, ...) ‖∇f(θ_t)‖² at the points where g_1..g_T were drawn (the paper's θ_1..θ_T).
        d: dimension.
    """

    trace: Trace
    full_grads: np.ndarray
    grad_sq: np.ndarray
    d: int

    @property
    def T(self) -> int:
        return self.trace.T


def run_stationarity(
    opt: Optimizer, problem: Any, theta0: Any, T: int, *, backend: str = "numpy", device: Any = "auto"
) -> StationarityRun:
    """Run ``opt`` on ``problem`` for ``T`` steps from θ_0 = ``theta0`` ((S, d) for S seeds at once)
    and evaluate the exact ∇f (``problem.full_grad``) at every iterate.

    ``backend="engine"`` steps the S seeds as one batch of the torch engine on ``device``
    (``"auto"``: CUDA if present); g_t = ∇f(θ_{t−1}) + ζ_t is still drawn by the numpy problem, one
    host round trip per step, so the minibatches are the reference's and the trace equals it to
    rounding. ∇f at the iterates is evaluated by numpy afterwards on either back end.
    """
    if not callable(getattr(problem, "full_grad", None)):
        raise ValueError(
            f"problem must have a method full_grad(theta) giving the exact gradient; got {type(problem).__name__}"
        )
    trace = run_trace(opt, problem, theta0, T, backend=backend, device=device)
    full = problem.full_grad(trace.theta)
    return StationarityRun(trace=trace, full_grads=full, grad_sq=np.sum(full[:-1] ** 2, axis=-1), d=int(full.shape[-1]))


# -- the left-hand sides -----------------------------------------------------------------------------
def min_expected_grad_sq(grad_sq: Any) -> np.ndarray:
    r"""min_{t ≤ T'} E‖∇f(θ_t)‖² for every horizon T' = 1..T (Theorem 2.2's left-hand side).

    E is the mean over seeds (axis 1 of a (T, S) array; a (T,) array is one run). With α_t = α/√t
    or a constant α the run does not depend on the horizon, so one run of length T gives the whole
    curve. Returns (T,).
    """
    gs = _time_first("grad_sq", grad_sq)
    mean = gs.reshape(gs.shape[0], -1).mean(axis=1)
    return np.minimum.accumulate(mean)


def weighted_grad_sq_average(grad_sq: Any, alpha: Any) -> np.ndarray:
    r"""(1/T') Σ_{t ≤ T'} α_t² E‖∇f(θ_t)‖² for every T' = 1..T (Corollary 2.2.1's left-hand side).

    Corollary 2.2.1 bounds it by (1/T')·[C1α²σ²(1+log T')/c + C2dα/√c + C3dα²/c + C4]/(1/H − C1/c),
    i.e. T'·(this) = Σ_{t≤T'} α_t² E‖∇f(θ_t)‖² may grow at most like log T'. Returns (T,).
    """
    gs = _time_first("grad_sq", grad_sq)
    a = _checks.finite_array("alpha", alpha)
    if a.shape != (gs.shape[0],):
        raise ValueError(f"alpha must have shape ({gs.shape[0]},) (one α_t per step); got {a.shape}")
    mean = gs.reshape(gs.shape[0], -1).mean(axis=1)
    return np.cumsum(a * a * mean) / np.arange(1, gs.shape[0] + 1)


# -- the rate in T -----------------------------------------------------------------------------------
class RateCheck(NamedTuple):
    """Fitted exponent p of min_{t≤T} E‖∇f(θ_t)‖² ≈ C·T^p against the bound's log T/√T.

    Attributes:
        slope, ci_low, ci_high: p and its bootstrap interval (seeds resampled).
        reference_slope: the fitted exponent of log T/√T on the same grid (−1/2 plus the log
            factor's local slope ≈ 1/log T).
        consistent: the interval does not lie entirely above ``reference_slope`` — the data do
            not reject min_t E‖∇f‖² = O(log T/√T) at this level.
        grid: the horizons T fitted; curve: the measured min_{t≤T} E‖∇f‖² on the grid.
    """

    slope: float
    ci_low: float
    ci_high: float
    reference_slope: float
    consistent: bool
    grid: np.ndarray
    curve: np.ndarray


def stationarity_rate(
    grad_sq: Any,
    *,
    start_fraction: float = 1 / 16,
    points: int = 20,
    n_boot: int = 400,
    level: float = 0.95,
    seed: int = 0,
) -> RateCheck:
    r"""Fit p in min_{t≤T} E‖∇f(θ_t)‖² ≈ C·T^p over T ∈ [start_fraction·T_max, T_max] (Theorem 2.2).

    The point estimate is :func:`adabelief_ref.stats.fit_loglog_slope` on the seed-mean curve. Its
    points are a running minimum, hence strongly correlated, so the interval is a percentile
    bootstrap over seeds (``n_boot`` resamples drawn from ``default_rng(seed)``) rather than the
    least-squares interval. The theorem predicts p ≤ the slope of log T/√T on the same grid.

    Args:
        grad_sq: (T, S) ‖∇f(θ_t)‖² per step and seed (S ≥ 2).
        start_fraction: the fit starts at T = ⌈start_fraction·T⌉ (drops the early transient).
        points: about this many log-spaced horizons.
        n_boot, level, seed: bootstrap size, two-sided level and its seed.
    """
    gs = _time_first("grad_sq", grad_sq)
    if gs.ndim != 2 or gs.shape[1] < 2:
        raise ValueError(f"grad_sq must have shape (T, seeds) with seeds >= 2; got shape {gs.shape}")
    frac = _checks.positive("start_fraction", start_fraction)
    if frac >= 1.0:
        raise ValueError(f"start_fraction must lie in (0, 1); got {start_fraction!r}")
    level = _level(level)
    n_boot = _count("n_boot", n_boot, minimum=10)
    T, S = gs.shape
    grid = log_grid(T, _count("points", points, minimum=3), start=max(1, math.ceil(frac * T)))
    if grid.size < 3:
        raise ValueError(
            f"the fit window [{math.ceil(frac * T)}, {T}] holds fewer than 3 horizons; "
            "raise T or lower start_fraction"
        )
    curve = min_expected_grad_sq(gs)[grid - 1]
    point = fit_loglog_slope(grid, curve).slope
    # bootstrap: resample seeds with replacement, recompute the running minimum of the mean.
    counts = _resample_counts(np.random.default_rng(_seed(seed)), n_boot, S)
    boot_curves = np.minimum.accumulate(counts @ gs.T / S, axis=1)[:, grid - 1]
    lo, hi = np.quantile(_ols_slopes(np.log(grid), np.log(boot_curves)), [(1 - level) / 2, (1 + level) / 2])
    ref = fit_loglog_slope(grid, np.log(grid) / np.sqrt(grid)).slope
    return RateCheck(point, float(lo), float(hi), ref, bool(lo <= ref), grid, curve)


# -- assumption audit -----------------------------------------------------------------------------
class AssumptionAudit(NamedTuple):
    """The assumptions of Theorem 2.2 measured on a run (never assumed).

    Attributes:
        s_decrease_share: share of (t, i, seed) with s_{t,i} < s_{t−1,i} (0 ⇔ s_t ≤ s_{t+1} held).
        step_increase_share: share of (t, i, seed) with α_t/√s_t > α_{t−1}/√s_{t−1} — what the proof
            of piece (ii) of N1 really needs to be 0 (α_t/√s_t non-increasing); weaker than
            monotone s because α_t decreases.
        g_within_H: share of (t, seed) with ‖g_t‖ ≤ H.
        grad_within_H: share of (t, seed) with ‖∇f(θ_t)‖ ≤ H.
        c_first: min_j (s_1)_j over seeds — the theorem's c.
        c_run: min_{t,i} s_{t,i} over seeds — the largest c with s_{t,i} ≥ c on the whole run.
        below_first_share: share of (t, i, seed) with s_{t,i} < min_j (s_1)_j of that seed: where
            the proof's use of s_t ≥ c (with c from s_1) fails without monotone s.
    """

    s_decrease_share: float
    step_increase_share: float
    g_within_H: float
    grad_within_H: float
    c_first: float
    c_run: float
    below_first_share: float


def assumption_audit(result: StationarityRun, H: float) -> AssumptionAudit:
    """Measure Theorem 2.2's assumptions on ``result``: monotone s (and α_t/√s_t non-increasing),
    ‖g_t‖ ≤ H, ‖∇f(θ_t)‖ ≤ H, s ≥ c.

    The s audited is the one the step divides by: s_max,t with ``amsgrad=True``, else s_t.
    """
    H = _checks.positive("H", H)
    s = _s_used(result.trace)
    d = result.d
    first = s[0].min(axis=-1)  # per seed
    return AssumptionAudit(
        s_decrease_share=decrease_share(s),
        step_increase_share=negative_gamma_share(s, result.trace.alpha),
        g_within_H=within_bound_share(result.trace.g.reshape(-1, d), H, ord=2),
        grad_within_H=float(np.mean(np.sqrt(result.grad_sq) <= H)),
        c_first=float(first.min()),
        c_run=observed_c(s),
        below_first_share=float(np.mean(s < first[None, ..., None])),
    )


# -- N1: the three pieces of Chen et al.'s Theorem 3.1 ------------------------------------------
class N1Pieces(NamedTuple):
    """Pieces (i)–(iii) of N1 per seed, each with its bound (arrays shaped like the seed axes).

    (i)   Σ_{t=1}^T ‖α_t g_t/√s_t‖²                      ≤ α²(H²+σ²)(1+log T)/c
    (ii)  Σ_{t=2}^T ‖α_t/√s_t − α_{t−1}/√s_{t−1}‖_1       ≤ dα/√c   (needs α_t/√s_t non-increasing)
    (iii) Σ_{t=2}^T ‖α_t/√s_t − α_{t−1}/√s_{t−1}‖²        ≤ dα²/c

    c is the run's own min_{t,i} s_{t,i} (per seed), so (i) and (iii) are evaluated with the
    largest c the run allows.
    """

    i: np.ndarray
    bound_i: np.ndarray
    ii: np.ndarray
    bound_ii: np.ndarray
    iii: np.ndarray
    bound_iii: np.ndarray
    c: np.ndarray

    def worst_ratios(self) -> dict[str, float]:
        """max over seeds of piece/bound for (i), (ii), (iii) (≤ 1 means the bound held)."""
        return {
            "i": float(np.max(self.i / self.bound_i)),
            "ii": float(np.max(self.ii / self.bound_ii)),
            "iii": float(np.max(self.iii / self.bound_iii)),
        }


def n1_pieces(result: StationarityRun, *, H: float, sigma2: float) -> N1Pieces:
    r"""Evaluate pieces (i)–(iii) of N1 (THEORY §4) on a run of ``AdaBelief(form="analysis",
    lr_schedule="inv_sqrt")``, with v̂_t = s_t (s_max,t with ``amsgrad=True``) and α = α_1."""
    tr = result.trace
    if "form='analysis'" not in tr.optimizer:
        raise ValueError(f"n1_pieces needs a run of AdaBelief(form='analysis'); got {tr.optimizer}")
    alpha = tr.alpha
    steps = np.arange(1, tr.T + 1)
    if not np.allclose(alpha * np.sqrt(steps), alpha[0], rtol=1e-12, atol=0.0):
        raise ValueError(f"n1_pieces needs alpha_t = alpha/sqrt(t) (lr_schedule='inv_sqrt'); got {tr.optimizer}")
    H = _checks.positive("H", H)
    sigma2 = _checks.non_negative("sigma2", sigma2)
    s = _s_used(tr)
    a = alpha.reshape((-1,) + (1,) * (s.ndim - 1))
    eta = a / np.sqrt(s)  # effective per-coordinate step α_t/√s_t
    time_coord = (0, s.ndim - 1)
    piece_i = np.sum(eta * eta * tr.g * tr.g, axis=time_coord)
    diff = np.diff(eta, axis=0)
    piece_ii = np.sum(np.abs(diff), axis=time_coord)
    piece_iii = np.sum(diff * diff, axis=time_coord)
    c = np.min(s, axis=time_coord)
    a1, d, T = float(alpha[0]), result.d, tr.T
    return N1Pieces(
        i=piece_i, bound_i=a1**2 * (H**2 + sigma2) * (1 + math.log(T)) / c,
        ii=piece_ii, bound_ii=d * a1 / np.sqrt(c),
        iii=piece_iii, bound_iii=d * a1**2 / c,
        c=c,
    )


# -- constants measured on a run ---------------------------------------------------------------------
def measured_constants(problem: Any, result: StationarityRun, *, stride: int = 1) -> dict[str, float]:
    r"""H, σ² and L measured along a run (for problems whose constants are not known).

    * ``H_g`` = max ‖g_t‖ and ``H_grad`` = max ‖∇f(θ_t)‖ over steps and seeds (H must bound both);
    * ``sigma2`` = max over the visited θ_t (every ``stride``-th step) of the exact E‖ζ‖² at θ_t;
    * ``L_secant`` = max ‖∇f(θ_t) − ∇f(θ_{t−1})‖/‖θ_t − θ_{t−1}‖ — a *lower* estimate of the
      smoothness constant on the region visited (a true L is at least this).
    """
    stride = _count("stride", stride, minimum=1)
    tr = result.trace
    g_norm = np.linalg.norm(tr.g, axis=-1)
    grad_norm = np.sqrt(result.grad_sq)
    step = np.linalg.norm(np.diff(tr.theta, axis=0), axis=-1)
    change = np.linalg.norm(np.diff(result.full_grads, axis=0), axis=-1)
    moved = step > 0
    return {
        "H_g": float(g_norm.max()),
        "H_grad": float(grad_norm.max()),
        "sigma2": float(np.max(problem.noise_variance(tr.played[::stride]))),
        "L_secant": float(np.max(change[moved] / step[moved])) if np.any(moved) else 0.0,
    }


# -- scaling of the bound's terms ---------------------------------------------------------------------
class TermScaling(NamedTuple):
    """Measured against predicted exponents along one sweep variable x.

    Attributes:
        x: (n,) the sweep values.
        measured: name → SlopeFit of the measured quantity along x: "i", "ii", "iii" (the N1
            pieces; mean of per-seed slopes with its t-interval) and "stationarity"
            (min_{t≤T} E‖∇f(θ_t)‖² at the final T; bootstrap interval over seeds).
        predicted: name → exponent along x of the piece's explicit bound, fitted on the bound
            evaluated at each run's constants (H, σ², d and the run's own c) — not a hard-coded number.
        rhs_range: (low, high) exponents along x of the four terms of Theorem 2.2's right-hand
            side, H/(α√T)·{α²(H²+σ²)(1+log T)/c, dα/√c, dα²/c, 1} (C4 taken as constant in x,
            THEORY §3). Whatever C1..C4 ≥ 0 are, the right-hand side is a positive combination of
            these terms, so its own exponent on the window lies in [low, high].
        stationarity: (n,) min_{t≤T} E‖∇f(θ_t)‖² per sweep value.
        rhs_terms: (4, n) the four terms per sweep value (for plotting their shapes).
    """

    x: np.ndarray
    measured: dict[str, SlopeFit]
    predicted: dict[str, float]
    rhs_range: tuple[float, float]
    stationarity: np.ndarray
    rhs_terms: np.ndarray

    def allowed(self, name: str) -> tuple[float, float]:
        """Exponents the bound's shape allows for ``name``: between 0 and the bound's exponent
        (between 0 and the right-hand side's range for "stationarity")."""
        low, high = self.rhs_range if name == "stationarity" else (self.predicted[name],) * 2
        return min(0.0, low), max(0.0, high)

    def covers(self, name: str) -> bool:
        r"""Whether the bound's shape covers the measured exponent of ``name`` on this window.

        True when the measured interval meets [min(0, p_low), max(0, p_high)]: the measured
        quantity moves with x in the direction its bound allows and not more steeply. This is a
        statement about the *shape* on the swept window: a bound that is loose by orders of
        magnitude can still hold numerically where its shape does not cover the measurement.
        """
        low, high = self.allowed(name)
        fit = self.measured[name]
        return bool(fit.ci_low <= high and fit.ci_high >= low)

    def table(self) -> str:
        """The exponents as a small text table (rounded to 2 decimals)."""
        lines = [f"{'quantity':<14}{'measured [95% CI]':<26}{'bound allows':<18}covered"]
        for name in ("i", "ii", "iii", "stationarity"):
            fit = self.measured[name]
            low, high = self.allowed(name)
            lines.append(
                f"{name:<14}{f'{fit.slope:+.2f} [{fit.ci_low:+.2f}, {fit.ci_high:+.2f}]':<26}"
                f"{f'[{low:+.2f}, {high:+.2f}]':<18}{self.covers(name)}"
            )
        return "\n".join(lines)


def term_scaling(
    x: Sequence[float],
    results: Sequence[StationarityRun],
    *,
    H: Sequence[float] | float,
    sigma2: Sequence[float] | float,
    n_boot: int = 400,
    level: float = 0.95,
    seed: int = 0,
) -> TermScaling:
    r"""Exponents of the bound's terms along a sweep (ε through c, d, or σ²), measured vs predicted.

    Args:
        x: (n,) positive sweep values (e.g. ε, d or σ²), one per run, n ≥ 3.
        results: n runs of ``AdaBelief(form="analysis", lr_schedule="inv_sqrt")`` with the same
            number of seeds and the same α and T; run k was made with sweep value x[k].
        H, sigma2: the problem's constants per run (sequences of n) or shared (scalars).
        n_boot, level, seed: for the bootstrap interval of the stationarity exponent.
    """
    xs = _checks.finite_array("x", x)
    n = xs.shape[0]
    if xs.ndim != 1 or n < 3 or len(results) != n:
        raise ValueError(
            f"x must be 1-d with at least 3 values, one per run; got shape {xs.shape} for {len(results)} runs"
        )
    if len({(r.T, r.grad_sq.size // r.T, float(r.trace.alpha[0])) for r in results}) != 1:
        raise ValueError("results must share T, the number of seeds and alpha")
    Hs = np.broadcast_to(_checks.finite_array("H", H), (n,))
    s2s = np.broadcast_to(_checks.finite_array("sigma2", sigma2), (n,))
    level = _level(level)
    pieces = [n1_pieces(r, H=float(h), sigma2=float(v)) for r, h, v in zip(results, Hs, s2s)]
    measured: dict[str, SlopeFit] = {}
    predicted: dict[str, float] = {}
    for name in ("i", "ii", "iii"):
        values = np.stack([np.ravel(getattr(p, name)) for p in pieces], axis=-1)  # (seeds, n)
        bounds = np.array([np.mean(getattr(p, "bound_" + name)) for p in pieces])
        measured[name] = fit_loglog_slope(xs, values if values.shape[0] > 1 else values[0], level=level)
        predicted[name] = fit_loglog_slope(xs, bounds).slope
    # min_t E‖∇f‖² at the final T per run, with a seed-bootstrap interval of its exponent
    gs = np.stack([r.grad_sq.reshape(r.T, -1) for r in results])  # (n, T, S)
    final = gs.mean(axis=2).min(axis=1)
    S = gs.shape[2]
    counts = _resample_counts(np.random.default_rng(_seed(seed)), _count("n_boot", n_boot, minimum=10), S)
    boot = np.einsum("bs,nts->bnt", counts, gs).min(axis=2) / S  # (n_boot, n)
    lo, hi = np.quantile(_ols_slopes(np.log(xs), np.log(boot)), [(1 - level) / 2, (1 + level) / 2])
    measured["stationarity"] = SlopeFit(fit_loglog_slope(xs, final).slope, float(lo), float(hi))
    # the four terms of the right-hand side (C1..C4 unknown, non-negative)
    T = results[0].T
    alpha = float(results[0].trace.alpha[0])
    c = np.array([float(np.mean(p.c)) for p in pieces])
    d = np.array([float(r.d) for r in results])
    front = Hs / (alpha * math.sqrt(T))
    terms = np.stack([
        front * alpha**2 * (Hs**2 + s2s) * (1 + math.log(T)) / c,
        front * d * alpha / np.sqrt(c),
        front * d * alpha**2 / c,
        front,
    ])
    exps = [fit_loglog_slope(xs, term).slope for term in terms]
    return TermScaling(xs, measured, predicted, (float(min(exps)), float(max(exps))), final, terms)


# -- helpers -------------------------------------------------------------------------------------------
def _s_used(trace: Trace) -> np.ndarray:
    s = trace.s_max if trace.s_max is not None else trace.s
    if s is None or trace.g is None:
        raise ValueError("the trace must record 's' (and 's_max' with amsgrad) and 'g'")
    return s


def _time_first(name: str, value: Any) -> np.ndarray:
    arr = _checks.finite_array(name, value)
    if arr.ndim < 1 or arr.shape[0] < 1:
        raise ValueError(f"{name} must have a time axis first, shape (T, ...); got shape {arr.shape}")
    return arr


def _resample_counts(rng: np.random.Generator, n_boot: int, seeds: int) -> np.ndarray:
    """(n_boot, seeds) multiplicities of a bootstrap resample of seeds (with replacement)."""
    draws = rng.integers(0, seeds, size=(n_boot, seeds))
    return np.sum(draws[:, :, None] == np.arange(seeds), axis=1).astype(np.float64)


def _ols_slopes(lx: np.ndarray, ly: np.ndarray) -> np.ndarray:
    """Least-squares slopes of each row of ``ly`` on ``lx`` (vectorised twin of fit_loglog_slope's point estimate)."""
    xc = lx - lx.mean()
    return (ly - ly.mean(axis=-1, keepdims=True)) @ xc / float(xc @ xc)


def _level(level: Any) -> float:
    v = _checks.positive("level", level)
    if v >= 1.0:
        raise ValueError(f"level must lie in (0, 1); got {level!r}")
    return v


def _count(name: str, value: Any, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def _seed(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"seed must be an integer >= 0; got {value!r}")
    return int(value)
