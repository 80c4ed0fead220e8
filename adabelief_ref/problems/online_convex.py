r"""Online convex problems with bounded feasible sets and an exact comparator (THEORY §2, §5).

Each problem is a stream of convex losses f_1, ..., f_T on a convex set F ⊂ R^d, generated once
from a seed at construction, with

* ``loss(t, θ)`` = f_t(θ) and ``grad(t, θ)`` = ∇f_t(θ) (t counts from 1, as in :func:`adabelief_ref.run`);
* ``feasible_set`` (a set of :mod:`adabelief_ref.sets`), ``D_inf`` = sup_{θ,θ'∈F} ‖θ − θ'‖_∞ and
  ``G_inf`` = 2·sup_{t ≤ T, θ ∈ F} ‖∇f_t(θ)‖_∞, computed exactly from the data and the set, so
  that ‖g_t‖_∞ ≤ G∞/2 holds at every feasible point, as Theorem 2.1 assumes;
* ``comparator(T)`` = θ*_T = argmin_{θ∈F} Σ_{t≤T} f_t(θ) — in closed form where there is one,
  by an exact solver otherwise (tested against cvxpy), with a Frank–Wolfe certificate ``fw_gap``;
* ``regret(trace, horizons)`` = R(T) = Σ_{t≤T} f_t(θ_t) − min_{θ∈F} Σ_{t≤T} f_t(θ) for every
  requested horizon T (the comparator is re-optimised at each T, which is the regret the
  theorem bounds: its proof holds for every fixed θ* ∈ F).

Indexing follows the runner: the t-th loss is played at ``trace.theta[t-1]`` (the paper's θ_t).

Batches: ``seed`` may be a sequence of integers; the data then carry a leading batch dimension
(one stream per seed, each identical to the stream of that seed alone) and ``grad`` accepts θ of
shape (..., B, d), so ``run(opt, problem, theta0 of shape (B, d), T)`` runs all seeds at once.
Data arrays are stored time-first, (T, *batch, ...).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from scipy.special import expit

from .. import _checks
from ..sets import Box, L2Ball, Simplex

__all__ = [
    "OnlineConvexProblem",
    "OnlineQuadraticBox",
    "OnlineLogisticL2Ball",
    "OnlineLeastSquaresSimplex",
    "ReddiProblem",
    "logistic_ball_argmin",
    "simplex_qp_argmin",
]

CVXPY_SOLVER = "CLARABEL"  # used by simplex_qp_argmin (tests compare every comparator with cvxpy)
_NEWTON_MAX_ITER = 100
_SECULAR_MAX_ITER = 100


def _positive_int(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def _generators(seed: Any) -> tuple[list[np.random.Generator], tuple[int, ...]]:
    """One Generator per run and the batch shape: () for an int or a Generator, (B,) for a sequence."""
    if isinstance(seed, np.random.Generator):
        return [seed], ()
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        if seed < 0:
            raise ValueError(f"seed must be >= 0; got {seed!r}")
        return [np.random.default_rng(int(seed))], ()
    if isinstance(seed, (Sequence, np.ndarray)) and not isinstance(seed, str):
        seeds = list(seed)
        if seeds and all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 0 for s in seeds):
            return [np.random.default_rng(int(s)) for s in seeds], (len(seeds),)
    raise ValueError(
        "seed must be an integer >= 0, a numpy.random.Generator, or a non-empty sequence of integers >= 0 "
        f"(one run per seed); got {seed!r}"
    )


def _stack_time_first(per_run: list[np.ndarray], batch: tuple[int, ...]) -> np.ndarray:
    """Stack per-run arrays (T, ...) into (T, *batch, ...)."""
    return per_run[0] if not batch else np.stack(per_run, axis=1)


class OnlineConvexProblem:
    """Shared machinery: validation, time series of losses, regret, comparator certificates.

    Subclasses define ``_loss_at(idx, θ)`` and ``_grad_at(idx, θ)`` for an integer time index or
    a slice of time indices (0-based), ``comparator(T)``, ``_lmo(direction)`` (a minimiser of
    ⟨direction, v⟩ over F) and the attributes ``d``, ``T``, ``batch_shape``, ``feasible_set``,
    ``D_inf``, ``G_inf``.
    """

    d: int
    T: int
    batch_shape: tuple[int, ...]
    feasible_set: Any
    D_inf: float
    G_inf: float

    # -- helpers --------------------------------------------------------------------------------
    def _check_t(self, t: Any) -> int:
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or not 1 <= t <= self.T:
            raise ValueError(f"t must be an integer in [1, T={self.T}] (the generated horizon); got {t!r}")
        return int(t)

    def _check_theta(self, theta: Any, *, lead: int = 0) -> np.ndarray:
        th = _checks.finite_array("theta", theta)
        core = self.batch_shape + (self.d,)
        if th.ndim < lead + len(core) or th.shape[th.ndim - len(core):] != core:
            want = ("(T, " if lead else "(") + "..., " + ", ".join(map(str, core)) + ")"
            raise ValueError(f"theta must have shape {want} (batch {self.batch_shape}, d={self.d}); got {th.shape}")
        return th

    def _series(self, arr: np.ndarray, n: int, extra: int) -> np.ndarray:
        """arr[:n] with ``extra`` singleton axes after time, to broadcast against (n, *extra, *batch, ...)."""
        a = arr[:n]
        return a.reshape(a.shape[:1] + (1,) * extra + a.shape[1:])

    def _extra(self, points: np.ndarray) -> int:
        return points.ndim - 2 - len(self.batch_shape)

    def _check_horizons(self, horizons: Any, T_run: int) -> np.ndarray:
        if horizons is None:
            return np.arange(1, T_run + 1)
        h = np.asarray(horizons)
        if h.ndim != 1 or h.size == 0 or h.dtype.kind not in "iu" or h.min() < 1 or h.max() > T_run:
            raise ValueError(f"horizons must be a non-empty 1-d array of integers in [1, {T_run}]; got {horizons!r}")
        return h.astype(np.int64)

    # -- the interface --------------------------------------------------------------------------
    def loss(self, t: int, theta: Any) -> np.ndarray:
        """f_t(θ) for θ of shape (..., *batch, d); returns shape (..., *batch)."""
        return self._loss_at(self._check_t(t) - 1, self._check_theta(theta))

    def grad(self, t: int, theta: Any) -> np.ndarray:
        """∇f_t(θ), same shape as θ (..., *batch, d)."""
        return self._grad_at(self._check_t(t) - 1, self._check_theta(theta))

    def losses(self, points: Any) -> np.ndarray:
        """f_t(points[t−1]) for t = 1..n, points of shape (n, ..., *batch, d); returns (n, ..., *batch)."""
        p = self._check_theta(points, lead=1)
        n = p.shape[0]
        if n > self.T:
            raise ValueError(f"points has {n} time steps, more than the generated horizon T={self.T}")
        return self._loss_at(slice(0, n), p, extra=self._extra(p))

    def cumulative_loss(self, T: int, theta: Any) -> np.ndarray:
        """F_T(θ) = Σ_{t≤T} f_t(θ) for θ of shape (..., *batch, d)."""
        T = self._check_t(T)
        th = self._check_theta(theta)
        return self._loss_at(slice(0, T), th[None], extra=th.ndim - 1 - len(self.batch_shape)).sum(axis=0)

    def cumulative_grad(self, T: int, theta: Any) -> np.ndarray:
        """∇F_T(θ) = Σ_{t≤T} ∇f_t(θ)."""
        T = self._check_t(T)
        th = self._check_theta(theta)
        return self._grad_at(slice(0, T), th[None], extra=th.ndim - 1 - len(self.batch_shape)).sum(axis=0)

    def best_loss(self, horizons: Any) -> np.ndarray:
        """min_{θ∈F} F_T(θ) for every T in ``horizons``; shape (H, *batch)."""
        h = self._check_horizons(horizons, self.T)
        return np.stack([self.cumulative_loss(int(T), self.comparator(int(T))) for T in h])

    def comparator(self, T: int) -> np.ndarray:
        """θ*_T = argmin_{θ∈F} Σ_{t≤T} f_t(θ), shape (*batch, d) (cached per T; the data never change)."""
        T = self._check_t(T)
        cache = self.__dict__.setdefault("_comparator_cache", {})
        if T not in cache:
            cache[T] = self._comparator(T)
            cache[T].setflags(write=False)
        return cache[T]

    def fw_gap(self, T: int, theta: Any) -> np.ndarray:
        r"""Frank–Wolfe gap max_{v∈F} ⟨∇F_T(θ), θ − v⟩ ≥ F_T(θ) − min_F F_T (by convexity).

        A certificate: for θ = ``comparator(T)`` it bounds how far the computed comparator is
        from optimal (0 for an exact minimiser).
        """
        th = self._check_theta(theta)
        gF = self.cumulative_grad(T, th)
        return np.sum(gF * (th - self._lmo(gF)), axis=-1)

    def regret(self, trace: Any, horizons: Any = None) -> np.ndarray:
        r"""R(T) = Σ_{t≤T} f_t(θ_t) − min_{θ∈F} Σ_{t≤T} f_t(θ), for each T in ``horizons``.

        Args:
            trace: a :class:`~adabelief_ref.Trace` whose θ has shape (T+1, ..., *batch, d).
            horizons: increasing integers in [1, trace.T]; ``None`` = every T (for problems whose
                comparator has no closed form, each horizon costs one solve per run).
        Returns:
            (H, ..., *batch) regrets.
        """
        played = self._played(trace)
        h = self._check_horizons(horizons, played.shape[0])
        cum = np.cumsum(self.losses(played), axis=0)[h - 1]
        return cum - self.best_loss(h).reshape((h.size,) + (1,) * self._extra(played) + self.batch_shape)

    def linearized_regret(self, trace: Any, horizons: Any = None) -> np.ndarray:
        r"""Σ_{t≤T} ⟨g_t, θ_t − θ*_T⟩ for each T: by convexity (THEORY L0) it is ≥ R(T); the
        proof of Theorem 2.1 bounds this quantity."""
        played = self._played(trace)
        h = self._check_horizons(horizons, played.shape[0])
        g = self._grad_at(slice(0, played.shape[0]), played, extra=self._extra(played))
        out = []
        for T in h:
            star = self.comparator(int(T))
            out.append(np.sum(g[:T] * (played[:T] - star), axis=(0, -1)))
        return np.stack(out)

    def initial_point(self) -> np.ndarray:
        """A deterministic feasible θ_0 of shape (*batch, d) (the set's centre)."""
        return np.broadcast_to(self._centre(), self.batch_shape + (self.d,)).copy()

    def _played(self, trace: Any) -> np.ndarray:
        theta = getattr(trace, "theta", None)
        if theta is None:
            raise ValueError("trace must record theta (run(..., record=(..., 'theta', ...)))")
        return self._check_theta(np.asarray(theta)[:-1], lead=1)

    # -- to be defined by subclasses ------------------------------------------------------------
    def _loss_at(self, idx, theta, extra: int = 0):  # pragma: no cover - interface
        raise NotImplementedError

    def _grad_at(self, idx, theta, extra: int = 0):  # pragma: no cover - interface
        raise NotImplementedError

    def _comparator(self, T: int) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def _lmo(self, direction: np.ndarray) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def _centre(self) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(d={self.d}, T={self.T}, batch={self.batch_shape})"


# ================================================================================================
class OnlineQuadraticBox(OnlineConvexProblem):
    r"""Online separable quadratics on a box.

        f_t(θ) = ½ Σ_i a_{t,i} (θ_i − b_{t,i})²,   F = [−r, r]^d,
        a_{t,i} ~ U(a_lo, a_hi),  b_{t,i} = μ_i + σ ξ_{t,i},  μ_i ~ U(−2r, 2r),  ξ ~ N(0, 1).

    About half of the coordinates have their mean target μ_i outside the box, so the constraint is
    active at θ* for them. Closed forms (every T at once, from cumulative sums
    A_T = Σ_{t≤T} a_t, B_T = Σ a_t b_t, C_T = Σ a_t b_t²):

        θ*_{T,i} = clip(B_{T,i}/A_{T,i}, −r, r)  (a 1-d convex quadratic on an interval),
        F_T(θ) = ½ Σ_i (A_{T,i} θ_i² − 2 B_{T,i} θ_i + C_{T,i}).

    G∞/2 = max_{t,i} a_{t,i} (r + |b_{t,i}|) = sup_{θ∈F} ‖∇f_t(θ)‖_∞ (attained at a corner);
    D∞ = 2r.

    Args:
        d: dimension. T: horizon generated. seed: int, Generator or sequence of ints (batch).
        radius: r > 0. curvature: (a_lo, a_hi) with 0 < a_lo ≤ a_hi. noise: σ ≥ 0.
    """

    def __init__(
        self, d: int = 5, T: int = 1000, seed: Any = 0, *, radius: float = 1.0,
        curvature: tuple[float, float] = (0.5, 2.0), noise: float = 1.0,
    ):
        self.d = _positive_int("d", d)
        self.T = _positive_int("T", T)
        self.radius = _checks.positive("radius", radius)
        try:
            a_lo, a_hi = curvature
        except (TypeError, ValueError):
            raise ValueError(f"curvature must be a pair (a_lo, a_hi) with 0 < a_lo <= a_hi; got {curvature!r}") from None
        a_lo, a_hi = _checks.positive("curvature[0]", a_lo), _checks.positive("curvature[1]", a_hi)
        if a_lo > a_hi:
            raise ValueError(f"curvature must satisfy a_lo <= a_hi; got {curvature!r}")
        self.noise = _checks.non_negative("noise", noise)
        gens, self.batch_shape = _generators(seed)
        r = self.radius
        a_runs, b_runs = [], []
        for rng in gens:
            mu = rng.uniform(-2 * r, 2 * r, size=self.d)
            a_runs.append(rng.uniform(a_lo, a_hi, size=(self.T, self.d)))
            b_runs.append(mu + self.noise * rng.standard_normal((self.T, self.d)))
        self.a = _stack_time_first(a_runs, self.batch_shape)
        self.b = _stack_time_first(b_runs, self.batch_shape)
        self.feasible_set = Box(-r, r)
        self.D_inf = 2.0 * r
        self.G_inf = 2.0 * float(np.max(self.a * (r + np.abs(self.b))))
        self._A = np.cumsum(self.a, axis=0)
        self._B = np.cumsum(self.a * self.b, axis=0)
        self._C = np.cumsum(self.a * self.b**2, axis=0)

    def _loss_at(self, idx, theta, extra: int = 0):
        a, b = (x[idx] if isinstance(idx, (int, np.integer)) else self._series(x, idx.stop, extra) for x in (self.a, self.b))
        diff = theta - b
        return 0.5 * np.sum(a * diff * diff, axis=-1)

    def _grad_at(self, idx, theta, extra: int = 0):
        a, b = (x[idx] if isinstance(idx, (int, np.integer)) else self._series(x, idx.stop, extra) for x in (self.a, self.b))
        return a * (theta - b)

    def _comparator(self, T: int) -> np.ndarray:
        return np.clip(self._B[T - 1] / self._A[T - 1], -self.radius, self.radius)

    def best_loss(self, horizons: Any) -> np.ndarray:
        h = self._check_horizons(horizons, self.T) - 1
        A, B, C = self._A[h], self._B[h], self._C[h]
        star = np.clip(B / A, -self.radius, self.radius)
        return 0.5 * np.sum(A * star * star - 2 * B * star + C, axis=-1)

    def _lmo(self, direction):
        return np.where(direction > 0, -self.radius, self.radius)

    def _centre(self):
        return np.zeros(self.d)


# ================================================================================================
class OnlineLogisticL2Ball(OnlineConvexProblem):
    r"""Online logistic regression on an ℓ2 ball, streamed synthetic data.

        f_t(θ) = log(1 + exp(−y_t ⟨x_t, θ⟩)),   ∇f_t(θ) = −y_t x_t σ(−y_t ⟨x_t, θ⟩),   F = {‖θ‖₂ ≤ R},
        x_t ~ N(0, I_d),  P(y_t = +1) = σ(⟨x_t, w⟩),  w = ``signal``·u, u uniform on the unit sphere.

    With ``signal`` > R the best predictor lies outside F, so θ* is on the sphere (the weighted
    projection of Algorithm 2 is exercised). θ*_T by proximal Newton (no closed form).

    G∞/2 = max_{t,i} |x_{t,i}| σ(R ‖x_t‖₂) = sup_{θ∈F} ‖∇f_t(θ)‖_∞ (σ(−y⟨x,θ⟩) is largest at
    θ = −y R x/‖x‖); D∞ = 2R.

    Args:
        d, T, seed: as in :class:`OnlineQuadraticBox`. radius: R > 0. signal: ‖w‖ ≥ 0.
    """

    def __init__(self, d: int = 5, T: int = 1000, seed: Any = 0, *, radius: float = 1.0, signal: float = 3.0):
        self.d = _positive_int("d", d)
        self.T = _positive_int("T", T)
        self.radius = _checks.positive("radius", radius)
        self.signal = _checks.non_negative("signal", signal)
        gens, self.batch_shape = _generators(seed)
        xs, ys, ws = [], [], []
        for rng in gens:
            u = rng.standard_normal(self.d)
            w = self.signal * u / np.linalg.norm(u)
            x = rng.standard_normal((self.T, self.d))
            y = np.where(rng.uniform(size=self.T) < expit(x @ w), 1.0, -1.0)
            xs.append(x), ys.append(y), ws.append(w)
        self.x = _stack_time_first(xs, self.batch_shape)
        self.y = _stack_time_first(ys, self.batch_shape)
        self.w = np.stack(ws) if self.batch_shape else ws[0]
        self.feasible_set = L2Ball(self.radius)
        self.D_inf = 2.0 * self.radius
        norms = np.linalg.norm(self.x, axis=-1, keepdims=True)
        self.G_inf = 2.0 * float(np.max(np.abs(self.x) * expit(self.radius * norms)))

    def _data(self, idx, extra):
        if isinstance(idx, (int, np.integer)):
            return self.x[idx], self.y[idx]
        return self._series(self.x, idx.stop, extra), self._series(self.y, idx.stop, extra)

    def _loss_at(self, idx, theta, extra: int = 0):
        x, y = self._data(idx, extra)
        return np.logaddexp(0.0, -y * np.sum(x * theta, axis=-1))

    def _grad_at(self, idx, theta, extra: int = 0):
        x, y = self._data(idx, extra)
        margin = y * np.sum(x * theta, axis=-1)
        return (-y * expit(-margin))[..., None] * x

    def _comparator(self, T: int) -> np.ndarray:
        """θ*_T = argmin_{‖θ‖≤R} Σ_{t≤T} log(1 + exp(−y_t⟨x_t, θ⟩)), by :func:`logistic_ball_argmin`."""
        x, y = self.x[:T], self.y[:T]
        if self.batch_shape:
            x, y = np.moveaxis(x, 0, -2), np.moveaxis(y, 0, -1)
        return logistic_ball_argmin(x, y, self.radius)

    def _lmo(self, direction):
        n = np.linalg.norm(direction, axis=-1, keepdims=True)
        return -self.radius * direction / np.where(n > 0, n, 1.0)

    def _centre(self):
        return np.zeros(self.d)


# ================================================================================================
class OnlineLeastSquaresSimplex(OnlineConvexProblem):
    r"""Online least squares on the probability simplex (mixture weights / portfolio style).

        f_t(θ) = ½ (⟨x_t, θ⟩ − y_t)²,   ∇f_t(θ) = (⟨x_t, θ⟩ − y_t) x_t,   F = {θ ≥ 0, Σ θ_i = 1},
        x_t ~ N(0, I_d),  y_t = ⟨x_t, θ_◦⟩ + σ ξ_t,  θ_◦ = 1.5·e_j − 0.5·e_k for random j ≠ k (outside F).

    θ*_T by cvxpy with an exact KKT polish (a QP). On F, ⟨x_t, θ⟩ ranges over [min_j x_{t,j}, max_j x_{t,j}] (a linear
    function on the simplex is extreme at a vertex), hence the exact
    G∞/2 = max_{t,i} |x_{t,i}| · max(|max_j x_{t,j} − y_t|, |min_j x_{t,j} − y_t|); D∞ = 1 (d ≥ 2).

    Args:
        d (≥ 2), T, seed: as in :class:`OnlineQuadraticBox`. noise: σ ≥ 0.
    """

    def __init__(self, d: int = 5, T: int = 1000, seed: Any = 0, *, noise: float = 0.5):
        self.d = _positive_int("d", d, minimum=2)
        self.T = _positive_int("T", T)
        self.noise = _checks.non_negative("noise", noise)
        gens, self.batch_shape = _generators(seed)
        xs, ys, targets = [], [], []
        for rng in gens:
            j, k = rng.choice(self.d, size=2, replace=False)
            target = np.zeros(self.d)
            target[j], target[k] = 1.5, -0.5
            x = rng.standard_normal((self.T, self.d))
            xs.append(x), ys.append(x @ target + self.noise * rng.standard_normal(self.T)), targets.append(target)
        self.x = _stack_time_first(xs, self.batch_shape)
        self.y = _stack_time_first(ys, self.batch_shape)
        self.target = np.stack(targets) if self.batch_shape else targets[0]
        self.feasible_set = Simplex(1.0)
        self.D_inf = self.feasible_set.diameter_inf(self.d)
        hi = np.abs(self.x.max(axis=-1) - self.y)
        lo = np.abs(self.x.min(axis=-1) - self.y)
        self.G_inf = 2.0 * float(np.max(np.abs(self.x) * np.maximum(hi, lo)[..., None]))

    def _data(self, idx, extra):
        if isinstance(idx, (int, np.integer)):
            return self.x[idx], self.y[idx]
        return self._series(self.x, idx.stop, extra), self._series(self.y, idx.stop, extra)

    def _loss_at(self, idx, theta, extra: int = 0):
        x, y = self._data(idx, extra)
        r = np.sum(x * theta, axis=-1) - y
        return 0.5 * r * r

    def _grad_at(self, idx, theta, extra: int = 0):
        x, y = self._data(idx, extra)
        return (np.sum(x * theta, axis=-1) - y)[..., None] * x

    def _comparator(self, T: int) -> np.ndarray:
        """θ*_T = argmin_{θ∈Δ} ½‖X_T θ − y_T‖², by :func:`simplex_qp_argmin` on A = X_TᵀX_T, b = X_Tᵀy_T."""
        x, y = self.x[:T], self.y[:T]
        A = np.einsum("t...i,t...j->...ij", x, x)
        b = np.einsum("t...i,t...->...i", x, y)
        return simplex_qp_argmin(A, b)

    def _lmo(self, direction):
        return np.eye(self.d)[np.argmin(direction, axis=-1)]

    def _centre(self):
        return np.full(self.d, 1.0 / self.d)


# ================================================================================================
class ReddiProblem(OnlineConvexProblem):
    r"""Reddi, Kale & Kumar (ICLR 2018) online family, one independent copy per coordinate (THEORY §5).

        f_t(θ) = Σ_i c_{t,i} θ_i,   c_{t,i} = C_i if (t − 1 − φ_i) mod P_i = 0 else −1,   F = [−1, 1]^d.

    With d = 1, φ = 0, C = P this is f_t(x) = P·x if t mod P = 1 else −x. Over one period the
    coefficients add up to C − (P − 1) (= 1 for C = P), so x* = −1 while a method that
    over-weights the frequent −1 gradients drifts to the worst point +1. The coordinates are
    uncoupled (the optimizers are element-wise and the box projection is separable), so a
    vector of periods P_i runs several instances at once.

    Closed forms: K_{T,i} = Σ_{t≤T} c_{t,i} = C_i n_{T,i} − (T − n_{T,i}) with
    n_{T,i} = #{t ≤ T : (t − 1 − φ_i) ≡ 0 mod P_i} = ⌊(T − 1 − φ_i)/P_i⌋ + 1 (φ_i < T, else 0);
    θ*_{T,i} = −1 if K_{T,i} > 0, +1 otherwise; min F_T = −Σ_i |K_{T,i}|.
    G∞/2 = max_i max(C_i, 1); D∞ = 2.

    Args:
        P: period(s), integer ≥ 2, scalar or (d,) array. C: large coefficient(s) > 0, default P.
        T: horizon. phase: shifts φ_i ∈ [0, P_i), integers of shape (..., d) (a leading batch
            gives independent phase patterns), default 0. d: dimension when P, C, phase are scalars.
    """

    def __init__(self, P: Any = 3, C: Any = None, T: int = 1000, *, phase: Any = None, d: int | None = None):
        P_arr = np.asarray(P)
        if P_arr.ndim > 1 or P_arr.dtype.kind not in "iu" or np.any(P_arr < 2):
            raise ValueError(f"P must be an integer >= 2 or a 1-d array of them; got {P!r}")
        C_arr = P_arr.astype(np.float64) if C is None else np.asarray(C, dtype=np.float64)
        if C_arr.ndim > 1 or not np.all(np.isfinite(C_arr)) or np.any(C_arr <= 0):
            raise ValueError(f"C must be a number > 0 or a 1-d array of them; got {C!r}")
        ph = np.zeros((), dtype=np.int64) if phase is None else np.asarray(phase)
        if ph.dtype.kind not in "iu":
            raise ValueError(f"phase must be integers in [0, P); got {phase!r}")
        dims = {int(a.shape[-1]) for a in (P_arr, C_arr, ph) if a.ndim >= 1}
        if d is not None:
            dims.add(_positive_int("d", d))
        if len(dims) > 1:
            raise ValueError(f"P, C, phase and d disagree on the dimension: {sorted(dims)}")
        self.d = dims.pop() if dims else 1
        self.T = _positive_int("T", T)
        self.P = np.broadcast_to(P_arr, (self.d,)).astype(np.int64)
        self.C = np.broadcast_to(C_arr, (self.d,)).astype(np.float64)
        if ph.ndim == 0:
            ph = np.broadcast_to(ph, (self.d,))
        if np.any(ph < 0) or np.any(ph >= self.P):
            raise ValueError(f"phase must satisfy 0 <= phase_i < P_i; got {phase!r} with P={self.P.tolist()}")
        self.phase = ph.astype(np.int64)
        self.batch_shape = tuple(self.phase.shape[:-1])
        self.feasible_set = Box(-1.0, 1.0)
        self.D_inf = 2.0
        self.G_inf = 2.0 * float(np.max(np.maximum(self.C, 1.0)))

    @classmethod
    def random_phases(cls, P: Any = 3, C: Any = None, T: int = 1000, *, d: int = 10, seed: Any = 0) -> "ReddiProblem":
        """The d-dimensional version with phases φ_i drawn uniformly from [0, P_i) for each seed."""
        gens, batch = _generators(seed)
        d = _positive_int("d", d)
        P_vec = np.broadcast_to(np.asarray(P), (d,))
        phases = [rng.integers(0, P_vec) for rng in gens]
        return cls(P=P_vec, C=C, T=T, phase=np.stack(phases) if batch else phases[0])

    def coefficients(self, n: int) -> np.ndarray:
        """c_{t,i} for t = 1..n; shape (n, *batch, d)."""
        t = np.arange(1, n + 1).reshape((n,) + (1,) * (len(self.batch_shape) + 1))
        return np.where((t - 1 - self.phase) % self.P == 0, self.C, -1.0)

    def _coef(self, idx, extra):
        if isinstance(idx, (int, np.integer)):
            return np.where((idx - self.phase) % self.P == 0, self.C, -1.0)
        c = self.coefficients(idx.stop)
        return c.reshape(c.shape[:1] + (1,) * extra + c.shape[1:])

    def _loss_at(self, idx, theta, extra: int = 0):
        return np.sum(self._coef(idx, extra) * theta, axis=-1)

    def _grad_at(self, idx, theta, extra: int = 0):
        c = self._coef(idx, extra)
        return np.broadcast_to(c, np.broadcast_shapes(theta.shape, c.shape)).copy()

    def _K(self, horizons: np.ndarray) -> np.ndarray:
        T = horizons.reshape((-1,) + (1,) * (len(self.batch_shape) + 1))
        n = np.where(self.phase <= T - 1, (T - 1 - self.phase) // self.P + 1, 0)
        return self.C * n - (T - n)

    def _comparator(self, T: int) -> np.ndarray:
        return np.where(self._K(np.array([T]))[0] > 0, -1.0, 1.0)

    def best_loss(self, horizons: Any) -> np.ndarray:
        h = self._check_horizons(horizons, self.T)
        return -np.sum(np.abs(self._K(h)), axis=-1)

    def regret_per_coordinate(self, trace: Any, horizons: Any = None) -> np.ndarray:
        r"""R_i(T) = Σ_{t≤T} c_{t,i} θ_{t,i} + |K_{T,i}| for each coordinate (f_t is separable, so
        R(T) = Σ_i R_i(T) and each coordinate is its own instance of the 1-d family); (H, ..., d)."""
        played = self._played(trace)
        h = self._check_horizons(horizons, played.shape[0])
        c = self._coef(slice(0, played.shape[0]), self._extra(played))
        cum = np.cumsum(c * played, axis=0)[h - 1]
        best = -np.abs(self._K(h))
        return cum - best.reshape((h.size,) + (1,) * self._extra(played) + best.shape[1:])

    def _lmo(self, direction):
        return np.where(direction > 0, -1.0, 1.0)

    def _centre(self):
        return np.zeros(self.d)


# ================================================================================================
# exact comparators without a closed form
# ================================================================================================
def _secular_mu(c: np.ndarray, lam: np.ndarray, R: float) -> np.ndarray:
    """μ ≥ 0 with ‖c/(λ + μ)‖ = R per row (μ = 0 where ‖c/λ‖ ≤ R); λ > 0, rows over leading axes.

    Newton on ψ(μ) = 1/R − 1/n(μ), n(μ)² = Σ_j c_j²/(λ_j + μ)² (ψ concave increasing, so Newton
    from μ = 0 climbs monotonically to the root — Moré & Sorensen, 1983).
    """
    c2 = c * c
    n0 = np.sqrt(np.sum(c2 / lam**2, axis=-1))
    mu = np.zeros(n0.shape)
    active = n0 > R
    for _ in range(_SECULAR_MAX_ITER):
        inv = 1.0 / (lam + mu[..., None])
        n2 = np.sum(c2 * inv**2, axis=-1)
        s3 = np.sum(c2 * inv**3, axis=-1)
        n = np.sqrt(n2)
        step = np.where(active, n2 * (n / R - 1.0) / np.maximum(s3, np.finfo(float).tiny), 0.0)
        new = np.maximum(mu + step, 0.0)
        done = np.abs(new - mu) <= 8 * np.finfo(float).eps * np.maximum(new, 1e-300)
        mu = new
        if np.all(done | ~active):
            break
    return mu


def logistic_ball_argmin(x: Any, y: Any, radius: float, *, tol: float = 1e-13) -> np.ndarray:
    r"""argmin_{‖θ‖₂ ≤ R} F(θ), F(θ) = Σ_t log(1 + exp(−y_t ⟨x_t, θ⟩)), for every run of a batch.

    Proximal Newton (projected Newton in the Hessian metric): at θ_k solve exactly
    min_{‖u‖≤R} ⟨∇F, u − θ_k⟩ + ½ (u − θ_k)ᵀ H_δ (u − θ_k), H_δ = ∇²F(θ_k) + δI, δ = 1e-12(1 + tr ∇²F),
    by the eigen-decomposition H_δ = QΛQᵀ and the secular equation ‖(H_δ + μI)⁻¹(H_δθ_k − ∇F)‖ = R
    (μ ≥ 0, :func:`_secular_mu`), then backtrack (Armijo) along u − θ_k (F is convex, so the
    segment stays in the ball). Locally quadratic; stops when the Frank–Wolfe gap
    ⟨∇F, θ⟩ + R‖∇F‖ ≥ F(θ) − min F falls below ``tol``·(1 + F) for every run.

    Args:
        x: (..., T, d) features; y: (..., T) labels in {−1, +1}; radius: R > 0.
    Returns:
        (..., d) minimisers.
    """
    x = _checks.finite_array("x", x)
    y = _checks.finite_array("y", y)
    R = _checks.positive("radius", radius)
    if x.ndim < 2 or y.shape != x.shape[:-1]:
        raise ValueError(f"x must have shape (..., T, d) and y shape (..., T); got {x.shape} and {y.shape}")
    batch, (T, d) = x.shape[:-2], x.shape[-2:]
    X = x.reshape((-1, T, d))
    Y = y.reshape((-1, T))
    B = X.shape[0]

    def objective(th):
        return np.sum(np.logaddexp(0.0, -Y * np.einsum("btd,bd->bt", X, th)), axis=-1)

    theta = np.zeros((B, d))
    eye = np.eye(d)
    for _ in range(_NEWTON_MAX_ITER):
        margin = Y * np.einsum("btd,bd->bt", X, theta)
        F = np.sum(np.logaddexp(0.0, -margin), axis=-1)
        p = expit(-margin)
        g = np.einsum("bt,btd->bd", -Y * p, X)
        gap = np.sum(g * theta, axis=-1) + R * np.linalg.norm(g, axis=-1)
        if np.all(gap <= tol * (1.0 + F)):
            break
        H = np.einsum("bt,bti,btj->bij", p * (1.0 - p), X, X)
        H = H + (1e-12 * (1.0 + np.trace(H, axis1=-2, axis2=-1)))[:, None, None] * eye
        lam, Q = np.linalg.eigh(H)
        c = np.einsum("bji,bj->bi", Q, np.einsum("bij,bj->bi", H, theta) - g)
        mu = _secular_mu(c, lam, R)
        u = np.einsum("bij,bj->bi", Q, c / (lam + mu[:, None]))
        norm_u = np.linalg.norm(u, axis=-1, keepdims=True)
        u = np.where(norm_u > R, u * (R / norm_u), u)  # rounding guard: stay in the ball
        direction = u - theta
        slope = np.sum(g * direction, axis=-1)
        eta = np.ones(B)
        for _ in range(60):
            trial = objective(theta + eta[:, None] * direction)
            ok = trial <= F + 1e-4 * eta * slope + 1e-15 * np.abs(F)
            if np.all(ok):
                break
            eta = np.where(ok, eta, 0.5 * eta)
        theta = theta + eta[:, None] * direction
    return theta.reshape(batch + (d,))


def simplex_qp_argmin(A: Any, b: Any, *, total: float = 1.0) -> np.ndarray:
    r"""argmin_{θ ≥ 0, Σθ = total} ½ θᵀAθ − bᵀθ (A symmetric PSD), for every run of a batch.

    cvxpy (CLARABEL) on ½‖Λ^{1/2}Qᵀθ‖² − bᵀθ with A = QΛQᵀ, then an exact polish on the support
    S = {θ_i > τ} (τ = 1e-10, 1e-8, 1e-6, 1e-4 tried in turn): the KKT system A_SS θ_S − b_S + ν1 = 0, 1ᵀθ_S = total (least squares if
    singular). The polished point is kept when it is feasible, satisfies the multiplier signs
    (A θ − b + ν1)_i ≥ 0 off S (then it is the exact minimiser, KKT being sufficient for a convex
    QP) and does not increase the objective; otherwise the solver's point, projected onto the
    simplex, is returned.

    Args:
        A: (..., d, d); b: (..., d); total: the simplex sum, > 0.
    Returns:
        (..., d) minimisers.
    """
    import warnings

    import cvxpy as cp

    A = _checks.finite_array("A", A)
    b = _checks.finite_array("b", b)
    total = _checks.positive("total", total)
    if A.ndim < 2 or A.shape[-1] != A.shape[-2] or b.shape != A.shape[:-1]:
        raise ValueError(f"A must have shape (..., d, d) and b shape (..., d); got {A.shape} and {b.shape}")
    d = A.shape[-1]
    out = np.empty(b.shape)
    simplex = Simplex(total)
    for k in np.ndindex(*b.shape[:-1]):
        Ak, bk = 0.5 * (A[k] + A[k].T), b[k]
        lam, Q = np.linalg.eigh(Ak)
        M = np.sqrt(np.maximum(lam, 0.0))[:, None] * Q.T
        th = cp.Variable(d)
        prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(M @ th) - bk @ th), [th >= 0, cp.sum(th) == total])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an inaccurate status is checked and polished below
            prob.solve(solver=CVXPY_SOLVER)
        if th.value is None:
            raise ValueError(f"the simplex QP comparator failed for run {k}: cvxpy status {prob.status!r}")
        x0 = simplex.project(np.asarray(th.value, dtype=np.float64))
        out[k] = _polish_simplex_qp(Ak, bk, x0, total)
    return out


def _polish_simplex_qp(A: np.ndarray, b: np.ndarray, x0: np.ndarray, total: float) -> np.ndarray:
    """Exact KKT point on a support guessed from the solver's point (several thresholds), else x0."""
    d = b.shape[0]
    scale = 1.0 + np.max(np.abs(A)) * total + np.max(np.abs(b))

    def obj(z):
        return 0.5 * z @ A @ z - b @ z

    for threshold in (1e-10, 1e-8, 1e-6, 1e-4):
        S = np.flatnonzero(x0 > threshold * total)
        K = np.zeros((S.size + 1, S.size + 1))
        K[:-1, :-1] = A[np.ix_(S, S)]
        K[:-1, -1] = 1.0
        K[-1, :-1] = 1.0
        sol, *_ = np.linalg.lstsq(K, np.concatenate([b[S], [total]]), rcond=None)
        x = np.zeros(d)
        x[S] = sol[:-1]
        multipliers = A @ x - b + sol[-1]  # λ_i ≥ 0 off S, 0 on S
        feasible = np.all(x >= 0) and abs(x.sum() - total) <= 1e-12 * scale
        kkt = np.all(multipliers >= -1e-9 * scale) and np.max(np.abs(multipliers[S]), initial=0.0) <= 1e-9 * scale
        if feasible and kkt and obj(x) <= obj(x0) + 1e-12 * scale:
            return x
    return x0
