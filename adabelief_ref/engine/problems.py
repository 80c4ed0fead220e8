r"""Online and stochastic problems that generate their data on the device, for B runs at once.

Each problem is written once against a tiny array back-end and can be *bound* either to torch
(``to(device, dtype)``: data generated on the device by the counter-based generator of
:mod:`.counter_rng`, no host transfer per step) or to numpy (``reference()``: float64 data from
the numpy twin of the generator, usable with :func:`adabelief_ref.run` one run at a time). Row b
of a batch depends only on its own seed σ_b, so ``select(rows)`` (a shard) sees the same data.

Protocol used by the engine (all tensors (B, d) or (B,)):

* ``sample(t)`` → the data of step t (``None`` for deterministic problems);
* ``grad(t, theta, data)`` → g_t evaluated at the played point θ_{t−1};
* ``init_stats(theta0)`` / ``observe(stats, t, theta, g, data)`` / ``summarize(stats, t)`` →
  streamed per-run statistics (float64 accumulators) and the metrics they give at a checkpoint t.

Problems (THEORY §2, §3, §5):

* :class:`ReddiOnline` — f_t(x) = Σ_i c_t x_i on F = [−1, 1]^d, c_t = P if t mod P = 1 else −1.
* :class:`OnlineQuadratic` — f_t(θ) = ½ Σ_i a_{t,i} (θ_i − b_{t,i})² on F = [−r, r]^d (bounded noise).
* :class:`StochasticNonconvex` — f(θ) = Σ_i log(1 + (θ_i − c_i)²), g_t = ∇f(θ) + √3 σ (2u_t − 1).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch

from .. import _checks
from . import counter_rng
from .devices import resolve_device, resolve_dtype


# -- back-ends -------------------------------------------------------------------------------------
class _NumpyBackend:
    """float64 numpy arrays; the numpy twin of the counter-based generator."""

    is_torch = False
    dtype = np.float64

    def keys(self, seeds, stream: int, d: int):
        return counter_rng.keys_numpy(seeds, stream, d)

    def uniform(self, keys, t: int):
        return counter_rng.uniform_numpy(keys, t)

    def const(self, value, shape=()):
        return np.full(shape, value, dtype=np.float64)

    def asarray(self, x):
        return np.asarray(x, dtype=np.float64)

    def zeros(self, shape):
        return np.zeros(shape, dtype=np.float64)

    def acc(self, x):  # accumulators are float64
        return np.asarray(x, dtype=np.float64)

    def sum_last(self, x):
        return x.sum(axis=-1)

    clip = staticmethod(np.clip)
    minimum = staticmethod(np.minimum)
    maximum = staticmethod(np.maximum)
    log1p = staticmethod(np.log1p)


class _TorchBackend:
    """torch tensors on one device in one dtype; accumulators in float64."""

    is_torch = True

    def __init__(self, device: torch.device, dtype: torch.dtype):
        self.device, self.dtype = device, dtype

    def keys(self, seeds, stream: int, d: int):
        return counter_rng.keys_torch(seeds, stream, d, self.device)

    def uniform(self, keys, t: int):
        return counter_rng.uniform_torch(keys, t, self.dtype)

    def const(self, value, shape=()):
        return torch.full(shape, float(value), dtype=self.dtype, device=self.device)

    def asarray(self, x):
        return torch.as_tensor(x, dtype=self.dtype, device=self.device)

    def zeros(self, shape):
        return torch.zeros(shape, dtype=torch.float64, device=self.device)

    def acc(self, x):
        return x.to(torch.float64)

    def sum_last(self, x):
        return x.sum(dim=-1)

    def clip(self, x, lo, hi):
        return torch.clamp(x, lo, hi)

    minimum = staticmethod(torch.minimum)
    maximum = staticmethod(torch.maximum)
    log1p = staticmethod(torch.log1p)


_NUMPY = _NumpyBackend()


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1; got {value!r}")
    return int(value)


class DeviceProblem:
    """Common machinery: binding to a back-end, row selection and the (B, d) / (d,) reference calls.

    Subclasses set ``B``, ``d``, ``seeds`` and implement ``_bind`` (build the per-run constants),
    ``sample``, ``grad``, ``init_stats``, ``observe``, ``summarize``.
    """

    name = "problem"
    seeds: np.ndarray | None = None
    B: int
    d: int

    def __init__(self):
        self._be = None

    # -- binding ---------------------------------------------------------------------------------
    def to(self, device: Any = "auto", dtype: Any = torch.float64) -> "DeviceProblem":
        """A copy bound to torch on ``device`` in ``dtype`` (data generated there)."""
        bound = copy.copy(self)
        bound._be = _TorchBackend(resolve_device(device), resolve_dtype(dtype))
        bound._bind()
        return bound

    def reference(self) -> "DeviceProblem":
        """A copy bound to numpy float64: ``grad(t, theta)`` on (B, d) arrays, or (d,) when B = 1."""
        bound = copy.copy(self)
        bound._be = _NUMPY
        bound._bind()
        return bound

    def select(self, rows: Any) -> "DeviceProblem":
        """The problem of runs ``rows`` only (unbound); each row keeps its seed, hence its data."""
        idx = np.asarray(rows, dtype=np.int64).reshape(-1)
        if idx.size == 0 or idx.min() < 0 or idx.max() >= self.B:
            raise ValueError(f"rows must be a non-empty set of run indices in [0, {self.B - 1}]; got {rows!r}")
        out = copy.copy(self)
        out._be = None
        out.B = int(idx.size)
        if self.seeds is not None:
            out.seeds = self.seeds[idx]
        return out

    @property
    def bound(self) -> bool:
        return self._be is not None

    def _require_bound(self):
        if self._be is None:
            raise ValueError(f"{self.name} is not bound to a back-end; call .to(device, dtype) or .reference() first")
        return self._be

    def _rows(self, theta):
        """Accept (B, d) — or (d,) for a single run (the reference's per-seed shape)."""
        be = self._require_bound()
        squeeze = (not be.is_torch) and np.ndim(theta) == 1
        if squeeze:
            if self.B != 1:
                raise ValueError(
                    f"a (d,) theta needs a problem with B = 1 (use select([b])); this one has B = {self.B}"
                )
            theta = np.asarray(theta, dtype=np.float64)[None, :]
        if tuple(theta.shape) != (self.B, self.d):
            raise ValueError(
                f"theta must have shape (B, d) = ({self.B}, {self.d})"
                f"{' or (d,) with B = 1' if self.B == 1 else ''}; got {tuple(theta.shape)}"
            )
        return theta, squeeze

    def __call__(self, t: int, theta):
        """``grad(t, theta)`` — the callable form :func:`adabelief_ref.run` accepts."""
        return self.grad(t, theta)

    def _finish(self, value, squeeze: bool):
        return value[0] if squeeze else value

    def feasible_set(self):
        """The set F the problem is posed on (``None`` = R^d)."""
        return None

    # to implement
    def _bind(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class ReddiOnline(DeviceProblem):
    r"""Reddi et al. (2018) online problem, d copies (THEORY §5)::

        F = [−1, 1]^d,   f_t(x) = Σ_i c_t x_i,   c_t = P if t mod P = 1, else −1.

    Deterministic (no seed): the B runs differ only by their hyper-parameters. Since
    S_T = Σ_{t≤T} c_t > 0 for P ≥ 2, the best fixed point is x* = −1 and
    R(T) = Σ_t f_t(x_{t−1}) + d·S_T (the regret of the point played at step t, x_{t−1}).

    Args:
        P: period ≥ 2.  B: number of runs.  d: number of coordinates (copies).
    """

    name = "ReddiOnline"

    def __init__(self, P: int = 3, B: int = 1, d: int = 1):
        super().__init__()
        self.P = _positive_int("P", P)
        if self.P < 2:
            raise ValueError(f"P must be an integer >= 2; got {P!r}")
        self.B = _positive_int("B", B)
        self.d = _positive_int("d", d)

    def _bind(self) -> None:
        pass

    def coefficient(self, t: int) -> float:
        """c_t = P if t mod P = 1, else −1."""
        return float(self.P) if t % self.P == 1 else -1.0

    def feasible_set(self):
        from ..sets import Box

        return Box(-1.0, 1.0)

    def sample(self, t: int):
        return None

    def grad(self, t: int, theta, data=None):
        theta, squeeze = self._rows(theta)
        return self._finish(self._be.const(self.coefficient(t), (self.B, self.d)), squeeze)

    def loss(self, t: int, theta, data=None):
        """f_t(θ) per run, (B,)."""
        theta, squeeze = self._rows(theta)
        return self._finish(self.coefficient(t) * self._be.sum_last(theta), squeeze)

    def init_stats(self, theta0) -> dict:
        be = self._require_bound()
        return {"cum_loss": be.zeros((self.B,)), "S": 0.0}

    def observe(self, stats: dict, t: int, theta, g, data=None) -> dict:
        c = self.coefficient(t)
        return {"cum_loss": stats["cum_loss"] + self._be.acc(c * self._be.sum_last(theta)), "S": stats["S"] + c}

    def summarize(self, stats: dict, t: int) -> dict:
        """``regret`` R(t) = Σ_{τ≤t} f_τ(x_{τ−1}) − min_{x∈F} Σ_{τ≤t} f_τ(x) (min = −d|S_t|)."""
        return {"regret": stats["cum_loss"] + self.d * abs(stats["S"])}


class OnlineQuadratic(DeviceProblem):
    r"""Noisy online quadratic on a box (convex, THEORY §2) — the device twin of
    :class:`adabelief_ref.problems.online_convex.OnlineQuadraticBox` with bounded noise::

        F = [−r, r]^d,   f_t(θ) = ½ Σ_i a_{t,i} (θ_i − b_{t,i})²,
        a_{t,i} = a_lo + (a_hi − a_lo) u_{t,i},   b_{t,i} = μ_i + σ √3 (2u'_{t,i} − 1),   μ_i = κ r (2u''_i − 1),

    with u, u', u'' the counter-based uniforms of the run's seed (streams 1, 2, 0). The noise has
    mean 0 and variance σ² like the reference problem's Gaussian, but is bounded, so
    ‖g_t‖_∞ ≤ a_hi (r + κr + √3σ) on F holds surely (Theorem 2.1's G∞/2). With κ = 2 about half of
    the mean targets lie outside F. The comparator is exact from three float64 accumulators
    A_t = Σ_τ a_τ, B_t = Σ_τ a_τ b_τ, C_t = Σ_τ a_τ b_τ²::

        θ*_{t,i} = clip(B_{t,i}/A_{t,i}, −r, r),   min_F Σ_τ f_τ = ½ Σ_i (A θ*² − 2B θ* + C).

    Args:
        seeds: (B,) run seeds in [0, 2³²).  d: dimension.  radius: r > 0.  noise: σ ≥ 0.
        spread: κ > 0.  curvature: (a_lo, a_hi), 0 < a_lo ≤ a_hi.
    """

    name = "OnlineQuadratic"

    def __init__(self, seeds: Any, d: int, *, radius: float = 1.0, noise: float = 1.0, spread: float = 2.0,
                 curvature: tuple[float, float] = (0.5, 2.0)):
        super().__init__()
        self.seeds = counter_rng.check_seeds(seeds)
        self.B = int(self.seeds.size)
        self.d = _positive_int("d", d)
        self.radius = _checks.positive("radius", radius)
        self.noise = _checks.non_negative("noise", noise)
        self.spread = _checks.positive("spread", spread)
        try:
            a_lo, a_hi = (float(curvature[0]), float(curvature[1]))
        except (TypeError, ValueError, IndexError):
            raise ValueError(f"curvature must be a pair (a_lo, a_hi) with 0 < a_lo <= a_hi; got {curvature!r}") from None
        if not (0 < a_lo <= a_hi < np.inf):
            raise ValueError(f"curvature must be a pair (a_lo, a_hi) with 0 < a_lo <= a_hi; got {curvature!r}")
        self.curvature = (a_lo, a_hi)

    def _bind(self) -> None:
        be = self._be
        self._mu = self.spread * self.radius * (2.0 * be.uniform(be.keys(self.seeds, 0, self.d), 0) - 1.0)
        self._a_keys = be.keys(self.seeds, 1, self.d)
        self._noise_keys = be.keys(self.seeds, 2, self.d)

    def feasible_set(self):
        from ..sets import Box

        return Box(-self.radius, self.radius)

    @property
    def D_inf(self) -> float:
        """D∞ = 2r."""
        return 2.0 * self.radius

    def grad_bound_inf(self) -> float:
        """sup over F and all t of ‖g_t‖_∞ ≤ a_hi (r + κr + √3σ) (Theorem 2.1 takes G∞/2 ≥ this)."""
        return self.curvature[1] * (self.radius * (1.0 + self.spread) + np.sqrt(3.0) * self.noise)

    def sample(self, t: int):
        """(a_t, b_t), each (B, d)."""
        be = self._require_bound()
        a_lo, a_hi = self.curvature
        a = a_lo + (a_hi - a_lo) * be.uniform(self._a_keys, t)
        b = self._mu + (np.sqrt(3.0) * self.noise) * (2.0 * be.uniform(self._noise_keys, t) - 1.0)
        return a, b

    def grad(self, t: int, theta, data=None):
        theta, squeeze = self._rows(theta)
        a, b = self.sample(t) if data is None else data
        return self._finish(a * (theta - b), squeeze)

    def loss(self, t: int, theta, data=None):
        theta, squeeze = self._rows(theta)
        a, b = self.sample(t) if data is None else data
        r = theta - b
        return self._finish(0.5 * self._be.sum_last(a * r * r), squeeze)

    def init_stats(self, theta0) -> dict:
        be = self._require_bound()
        z = lambda: be.zeros((self.B, self.d))  # noqa: E731
        return {"cum_loss": be.zeros((self.B,)), "A": z(), "Bsum": z(), "C": z()}

    def observe(self, stats: dict, t: int, theta, g, data=None) -> dict:
        be = self._be
        a, b = self.sample(t) if data is None else data
        r = theta - b
        a64, b64 = be.acc(a), be.acc(b)
        ab = a64 * b64
        return {
            "cum_loss": stats["cum_loss"] + be.acc(0.5 * be.sum_last(a * r * r)),
            "A": stats["A"] + a64,
            "Bsum": stats["Bsum"] + ab,
            "C": stats["C"] + ab * b64,
        }

    def comparator(self, stats: dict):
        """θ*_t (B, d) and min_{θ∈F} Σ_{τ≤t} f_τ(θ) (B,) from the accumulators."""
        be = self._be
        theta_star = be.clip(stats["Bsum"] / stats["A"], -self.radius, self.radius)
        value = 0.5 * be.sum_last(stats["A"] * theta_star * theta_star - 2.0 * stats["Bsum"] * theta_star + stats["C"])
        return theta_star, value

    def summarize(self, stats: dict, t: int) -> dict:
        """``regret`` R(t) = Σ_{τ≤t} f_τ(θ_{τ−1}) − min_{θ∈F} Σ_{τ≤t} f_τ(θ)."""
        _, value = self.comparator(stats)
        return {"regret": stats["cum_loss"] - value}


class StochasticNonconvex(DeviceProblem):
    r"""A smooth non-convex objective with bounded, unbiased stochastic gradients (THEORY §3)::

        f(θ) = Σ_i log(1 + (θ_i − c_i)²),   ∇f(θ)_i = 2(θ_i − c_i)/(1 + (θ_i − c_i)²),
        g_t = ∇f(θ_{t−1}) + ζ_t,   ζ_{t,i} = √3 σ (2u_{t,i} − 1)  (mean 0, variance σ²).

    f ≥ 0 = f(c) (bounded below), f is L-smooth with L = 2, non-convex (f'' < 0 for |θ_i − c_i| > 1),
    |∂_i f| ≤ 1 so ‖∇f‖ ≤ √d, and ‖g_t‖_∞ ≤ 1 + √3σ — the assumptions of Theorem 2.2 hold with
    H = √d (1 + √3σ). Centres c_i = κ(2u − 1) come from the run's seed.

    Args:
        seeds: (B,) run seeds.  d: dimension.  sigma: σ ≥ 0.  spread: κ > 0.
    """

    name = "StochasticNonconvex"
    smoothness = 2.0

    def __init__(self, seeds: Any, d: int, *, sigma: float = 1.0, spread: float = 1.0):
        super().__init__()
        self.seeds = counter_rng.check_seeds(seeds)
        self.B = int(self.seeds.size)
        self.d = _positive_int("d", d)
        self.sigma = _checks.non_negative("sigma", sigma)
        self.spread = _checks.positive("spread", spread)

    def _bind(self) -> None:
        be = self._be
        self._c = self.spread * (2.0 * be.uniform(be.keys(self.seeds, 0, self.d), 0) - 1.0)
        self._noise_keys = be.keys(self.seeds, 1, self.d)

    def grad_bound(self) -> float:
        """H with ‖∇f(θ)‖ ≤ H and ‖g_t‖ ≤ H: √d (1 + √3σ)."""
        return float(np.sqrt(self.d) * (1.0 + np.sqrt(3.0) * self.sigma))

    def true_grad(self, theta):
        """∇f(θ) (B, d), without noise."""
        theta, squeeze = self._rows(theta)
        r = theta - self._c
        return self._finish(2.0 * r / (1.0 + r * r), squeeze)

    def value(self, theta):
        """f(θ) per run (B,)."""
        theta, squeeze = self._rows(theta)
        r = theta - self._c
        return self._finish(self._be.sum_last(self._be.log1p(r * r)), squeeze)

    def sample(self, t: int):
        """ζ_t (B, d)."""
        be = self._require_bound()
        return (np.sqrt(3.0) * self.sigma) * (2.0 * be.uniform(self._noise_keys, t) - 1.0)

    def grad(self, t: int, theta, data=None):
        theta, squeeze = self._rows(theta)
        zeta = self.sample(t) if data is None else data
        r = theta - self._c
        return self._finish(2.0 * r / (1.0 + r * r) + zeta, squeeze)

    def init_stats(self, theta0) -> dict:
        be = self._require_bound()
        inf = be.zeros((self.B,)) + np.inf
        return {"grad_sq_sum": be.zeros((self.B,)), "grad_sq_min": inf, "grad_sq_last": be.zeros((self.B,))}

    def observe(self, stats: dict, t: int, theta, g, data=None) -> dict:
        be = self._be
        r = theta - self._c
        true_g = 2.0 * r / (1.0 + r * r)
        gsq = be.acc(be.sum_last(true_g * true_g))
        return {
            "grad_sq_sum": stats["grad_sq_sum"] + gsq,
            "grad_sq_min": be.minimum(stats["grad_sq_min"], gsq),
            "grad_sq_last": gsq,
        }

    def summarize(self, stats: dict, t: int) -> dict:
        """At checkpoint t, over the played points θ_0..θ_{t−1}: ``grad_sq`` = ‖∇f(θ_{t−1})‖²,
        ``grad_sq_mean`` = (1/t) Σ_τ ‖∇f(θ_{τ−1})‖², ``grad_sq_min`` = min_τ ‖∇f(θ_{τ−1})‖²."""
        return {
            "grad_sq": stats["grad_sq_last"],
            "grad_sq_mean": stats["grad_sq_sum"] / t,
            "grad_sq_min": stats["grad_sq_min"],
        }


class HostProblem(DeviceProblem):
    """Adapter for a numpy problem (``grad(t, theta)`` on (B, d) arrays, or a list of B per-run
    problems on (d,) arrays): one host round trip per step — correct, but the slow path; write a
    device-native problem for large runs. Streams ``cum_loss`` Σ_t f_t(θ_{t−1}) when the problem
    has ``loss(t, theta)``.
    """

    name = "HostProblem"

    def __init__(self, problem: Any, B: int, d: int):
        super().__init__()
        self.B = _positive_int("B", B)
        self.d = _positive_int("d", d)
        from ..runner import gradient_oracle

        if isinstance(problem, (list, tuple)):
            if len(problem) != self.B:
                raise ValueError(f"a list of per-run problems must have B={self.B} entries; got {len(problem)}")
            self.per_run = [gradient_oracle(p) for p in problem]
            losses = [getattr(p, "loss", None) for p in problem]
            self.losses = None if any(f is None for f in losses) else losses
            self.batched = None
        else:
            self.batched = gradient_oracle(problem)
            self.per_run = None
            self.losses = getattr(problem, "loss", None)

    def _bind(self) -> None:
        pass

    def _host(self, theta) -> np.ndarray:
        return theta.detach().cpu().numpy() if isinstance(theta, torch.Tensor) else np.asarray(theta, dtype=np.float64)

    def _back(self, arr) -> Any:
        be = self._be
        return be.asarray(np.asarray(arr, dtype=np.float64)) if be.is_torch else np.asarray(arr, dtype=np.float64)

    def sample(self, t: int):
        return None

    def grad(self, t: int, theta, data=None):
        self._require_bound()
        x = self._host(theta)
        if self.per_run is not None:
            g = np.stack([np.asarray(self.per_run[b](t, x[b]), dtype=np.float64) for b in range(self.B)])
        else:
            g = np.asarray(self.batched(t, x), dtype=np.float64)
        g = _checks.finite_array("grad", g, step=t)
        if g.shape != x.shape:
            raise ValueError(f"the problem returned a gradient of shape {g.shape} for theta of shape {x.shape}")
        return self._back(g)

    def init_stats(self, theta0) -> dict:
        be = self._require_bound()
        return {} if self.losses is None else {"cum_loss": be.zeros((self.B,))}

    def observe(self, stats: dict, t: int, theta, g, data=None) -> dict:
        if not stats:
            return stats
        x = self._host(theta)
        if self.per_run is not None:
            f = np.array([float(self.losses[b](t, x[b])) for b in range(self.B)])
        else:
            f = np.asarray(self.losses(t, x), dtype=np.float64).reshape(self.B)
        return {"cum_loss": stats["cum_loss"] + self._be.acc(self._back(f))}

    def summarize(self, stats: dict, t: int) -> dict:
        return dict(stats)

    def select(self, rows: Any) -> "HostProblem":
        """Rows of a list of per-run problems; a single batched numpy problem cannot be split."""
        if self.per_run is None:
            raise ValueError("a HostProblem wrapping one batched numpy problem cannot be split into rows; "
                             "pass a list of per-run problems or a device-native problem")
        idx = np.asarray(rows, dtype=np.int64).reshape(-1)
        if idx.size == 0 or idx.min() < 0 or idx.max() >= self.B:
            raise ValueError(f"rows must be a non-empty set of run indices in [0, {self.B - 1}]; got {rows!r}")
        out = copy.copy(self)
        out._be = None
        out.B = int(idx.size)
        out.per_run = [self.per_run[i] for i in idx]
        out.losses = None if self.losses is None else [self.losses[i] for i in idx]
        return out
