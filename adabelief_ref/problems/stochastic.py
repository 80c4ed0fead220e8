r"""Stochastic non-convex problems for Theorem 2.2 (THEORY §3): f(θ) = (1/n) Σ_j f_j(θ) + r(θ).

Each problem exposes, for θ of shape (..., d) with any leading batch dimensions (e.g. (seeds, d)):

* ``loss(θ)`` — f(θ), shape (...);
* ``full_grad(θ)`` — the exact ∇f(θ), for evaluation only;
* ``grad(t, θ)`` — the stochastic gradient g_t = ∇f(θ) + ζ_t the optimizer sees (t = 1, 2, ...);
* ``noise_variance(θ)`` — the exact E‖ζ_t‖² at θ (a finite sum, no sampling);
* ``L``, ``H``, ``sigma2`` and ``constants`` — the constants of Theorem 2.2 and whether each is
  *known* (a proven global bound, derived in the class docstring) or must be *measured* on a run
  (``None`` here; see :func:`adabelief_ref.theory.nonconvex.measured_constants`).

The noise ζ_t is bounded, so ‖g_t‖ ≤ H can actually hold:

* minibatch sampling (``batch_size=b``): b indices drawn uniformly with replacement, so
  E ζ_t = 0 and E‖ζ_t‖² = (1/b)[(1/n)Σ_j ‖∇f_j‖² − ‖(1/n)Σ_j ∇f_j‖²];
* bounded additive noise (``noise_scale=σ_a``): ζ_t += σ_a r/√d with r uniform on {−1, +1}^d, so
  E ζ = 0 and ‖σ_a r/√d‖ = σ_a exactly (variance σ_a², norm never above σ_a).

Randomness: step t of the run in batch slot k draws from ``numpy.random.default_rng((seed, t))``
as one block of shape (..., b) (indices) and (..., d) (signs); so ``grad(t, θ)`` is a pure
function of (t, θ), a rerun is bit-identical, and two optimizers run on the same problem see the
same minibatches. Data are drawn once from ``data_seed``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import expit as _expit

from .. import _checks

# max_x |d/dx x²/(1+x²)| = 2·max_x x/(1+x²)² = 2·(1/√3)/(4/3)² = 9/(8√3), reached at x² = 1/3.
_REG_SLOPE_MAX = 9.0 / (8.0 * math.sqrt(3.0))
# max_r |ρ'(r)| for ρ(r) = (δ²/2) r²/(δ² + r²) is 9δ/(16√3) (at r² = δ²/3); see GemanMcClureRegression.
_GM_SLOPE_MAX = 9.0 / (16.0 * math.sqrt(3.0))
# Rows of a flattened batch evaluated at once on the full data set (bounds memory to ~2^21 floats).
_CHUNK_ELEMENTS = 2**21


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1; got {value!r}")
    return int(value)


def _seed(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0; got {value!r}")
    return int(value)


class StochasticProblem:
    """Finite-sum objective with minibatch and/or bounded additive gradient noise (see module doc).

    Subclasses set ``self.dim``, ``self.n`` and implement ``_data_loss(θ)`` (the mean of f_j over
    all samples), ``_data_grad(θ, idx)`` (the mean of ∇f_j over the samples ``idx`` of shape
    (..., b), or over all samples when ``idx`` is None), ``_per_sample_sq_norms(θ)`` ((..., n)
    values ‖∇f_j(θ)‖²) and optionally ``_reg_loss`` / ``_reg_grad`` (the deterministic r(θ)).
    """

    name = "problem"
    dim: int
    n: int
    L: float | None = None
    H: float | None = None
    sigma2: float | None = None
    f_lower: float = 0.0
    constants: dict[str, str] = {}

    def __init__(self, *, batch_size: int | None, noise_scale: float, seed: int):
        self.batch_size = None if batch_size is None else _positive_int("batch_size", batch_size)
        self.noise_scale = _checks.non_negative("noise_scale", noise_scale)
        self.seed = _seed("seed", seed)
        if self.batch_size is None and self.noise_scale == 0.0:
            raise ValueError(
                "batch_size=None with noise_scale=0 gives a noiseless gradient; pass batch_size >= 1 "
                "or noise_scale > 0 (use full_grad for the exact gradient)"
            )

    # -- validation ------------------------------------------------------------------------------
    def _theta(self, theta: Any) -> np.ndarray:
        arr = _checks.finite_array("theta", theta)
        if arr.ndim < 1 or arr.shape[-1] != self.dim:
            raise ValueError(
                f"theta must have shape (..., {self.dim}) for {self.name} (d={self.dim}); got shape {arr.shape}"
            )
        return arr

    # -- the interface ---------------------------------------------------------------------------
    def loss(self, theta: Any) -> np.ndarray:
        """f(θ) = (1/n) Σ_j f_j(θ) + r(θ), shape (...)."""
        th = self._theta(theta)
        return self._chunked(th, lambda x: self._data_loss(x) + self._reg_loss(x), ())

    def full_grad(self, theta: Any) -> np.ndarray:
        """The exact ∇f(θ) = (1/n) Σ_j ∇f_j(θ) + ∇r(θ), shape (..., d) (evaluation only)."""
        th = self._theta(theta)
        return self._chunked(th, lambda x: self._data_grad(x, None) + self._reg_grad(x), (self.dim,))

    def grad(self, t: int, theta: Any) -> np.ndarray:
        """Stochastic gradient g_t = ∇f(θ) + ζ_t (minibatch mean and/or σ_a r/√d), shape (..., d).

        ``t`` ≥ 1 keys the draw: the same (t, θ) always gives the same g_t.
        """
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or t < 1:
            raise ValueError(f"t must be an integer >= 1; got {t!r}")
        th = self._theta(theta)
        batch = th.shape[:-1]
        rng = np.random.default_rng((self.seed, int(t)))
        if self.batch_size is None:
            g = self.full_grad(th)
        else:
            idx = rng.integers(0, self.n, size=batch + (self.batch_size,))
            g = self._data_grad(th, idx) + self._reg_grad(th)
        if self.noise_scale > 0.0:
            signs = 2.0 * rng.integers(0, 2, size=batch + (self.dim,)) - 1.0
            g = g + (self.noise_scale / math.sqrt(self.dim)) * signs
        return g

    def noise_variance(self, theta: Any) -> np.ndarray:
        """E‖g_t − ∇f(θ)‖² at θ, exactly: (1/b)[(1/n)Σ_j‖∇f_j‖² − ‖(1/n)Σ_j ∇f_j‖²] + σ_a², shape (...)."""
        th = self._theta(theta)
        var = np.full(th.shape[:-1], self.noise_scale**2)
        if self.batch_size is not None:
            def minibatch_var(x):
                mean_grad = self._data_grad(x, None)
                spread = self._per_sample_sq_norms(x).mean(axis=-1) - np.sum(mean_grad * mean_grad, axis=-1)
                return np.maximum(spread, 0.0) / self.batch_size

            var = var + self._chunked(th, minibatch_var, ())
        return var

    def initial_points(self, seeds: int, *, seed: int = 0, scale: float = 1.0) -> np.ndarray:
        """(seeds, d) starting points θ_0 ~ N(0, scale² I), one row per run, from ``default_rng(seed)``."""
        seeds = _positive_int("seeds", seeds)
        scale = _checks.positive("scale", scale)
        return scale * np.random.default_rng(_seed("seed", seed)).standard_normal((seeds, self.dim))

    # -- pieces for subclasses -------------------------------------------------------------------
    def _reg_loss(self, theta: np.ndarray) -> np.ndarray:
        return np.zeros(theta.shape[:-1])

    def _reg_grad(self, theta: np.ndarray) -> np.ndarray:
        return np.zeros_like(theta)

    def _chunked(self, theta: np.ndarray, fn, tail: tuple[int, ...]) -> np.ndarray:
        """Apply ``fn`` (full-data evaluation) to a flattened batch in chunks that bound memory."""
        lead = theta.shape[:-1]
        flat = theta.reshape(-1, self.dim)
        rows = max(1, _CHUNK_ELEMENTS // max(1, self.n * self._width()))
        out = np.empty((flat.shape[0],) + tail)
        for start in range(0, flat.shape[0], rows):
            out[start:start + rows] = fn(flat[start:start + rows])
        return out.reshape(lead + tail)

    def _width(self) -> int:
        """Floats per (sample, batch row) in a full-data evaluation (for chunking)."""
        return 1

    def __repr__(self) -> str:
        keep = ("n", "dim", "batch_size", "noise_scale", "seed")
        extra = ", ".join(f"{k}={getattr(self, k)!r}" for k in keep)
        return f"{type(self).__name__}({extra})"


class NonconvexLogistic(StochasticProblem):
    r"""Logistic regression with the non-convex regulariser λ Σ_i x_i²/(1 + x_i²).

        f(x) = (1/n) Σ_j log(1 + exp(−y_j a_jᵀx)) + λ Σ_i x_i²/(1 + x_i²),   y_j ∈ {−1, +1}

    Data: a_j ~ N(0, I_d) and y_j = sign(a_jᵀx° + 0.5 u_j) (u_j ~ N(0, 1) label noise) with
    x° ~ N(0, I_d/d), from ``data_seed``.

    Known constants (global, proven):

    * L = λ_max(AᵀA)/(4n) + 2λ — the logistic Hessian is (1/n) Σ_j σ(z_j)σ(−z_j) a_j a_jᵀ ≼ AᵀA/(4n),
      and |d²/dx² x²/(1+x²)| = |2(1 − 3x²)/(1 + x²)³| ≤ 2 (at x = 0). Tight at x = 0.
    * H = max_j ‖a_j‖ + λ √d · 9/(8√3) + σ_a — each ∇f_j = −y_j σ(−z_j) a_j has norm ≤ ‖a_j‖, so
      any minibatch mean is within max_j ‖a_j‖, and |d/dx x²/(1+x²)| ≤ 9/(8√3) per coordinate.
    * σ² = (1/b)(1/n) Σ_j ‖a_j‖² + σ_a² — an upper bound on E‖ζ‖² (the variance of the minibatch
      mean is at most (1/b) E_j‖∇f_j‖²); ``noise_variance`` gives the exact value at a point.
    * f ≥ 0 (``f_lower``).
    """

    name = "nonconvex logistic regression"

    def __init__(
        self,
        n: int = 512,
        d: int = 10,
        *,
        lam: float = 0.1,
        batch_size: int | None = 8,
        noise_scale: float = 0.0,
        data_seed: int = 0,
        seed: int = 0,
    ):
        super().__init__(batch_size=batch_size, noise_scale=noise_scale, seed=seed)
        self.n, self.dim = _positive_int("n", n), _positive_int("d", d)
        self.lam = _checks.non_negative("lam", lam)
        rng = np.random.default_rng(_seed("data_seed", data_seed))
        self.A = rng.standard_normal((self.n, self.dim))
        x_ref = rng.standard_normal(self.dim) / math.sqrt(self.dim)
        self.y = np.where(self.A @ x_ref + 0.5 * rng.standard_normal(self.n) >= 0.0, 1.0, -1.0)
        self.Ay = self.A * self.y[:, None]  # rows y_j a_j
        row_sq = np.sum(self.A * self.A, axis=1)
        self.L = float(np.linalg.eigvalsh(self.A.T @ self.A)[-1] / (4.0 * self.n) + 2.0 * self.lam)
        self.H = float(np.sqrt(row_sq.max()) + self.lam * math.sqrt(self.dim) * _REG_SLOPE_MAX + self.noise_scale)
        minibatch_var = row_sq.mean() / self.batch_size if self.batch_size else 0.0
        self.sigma2 = float(minibatch_var + self.noise_scale**2)
        self.constants = {"L": "known", "H": "known", "sigma2": "known upper bound"}

    def _margins(self, theta: np.ndarray, idx: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        if idx is None:
            return theta @ self.Ay.T, self.Ay  # (N, n), rows
        rows = self.Ay[idx]  # (..., b, d)
        return np.einsum("...bd,...d->...b", rows, theta), rows

    def _data_loss(self, theta):
        z, _ = self._margins(theta, None)
        return np.logaddexp(0.0, -z).mean(axis=-1)

    def _data_grad(self, theta, idx):
        z, rows = self._margins(theta, idx)
        w = -_sigmoid(-z)  # d/dz log(1 + e^{−z})
        if idx is None:
            return w @ rows / self.n
        return np.einsum("...b,...bd->...d", w, rows) / idx.shape[-1]

    def _per_sample_sq_norms(self, theta):
        z, _ = self._margins(theta, None)
        return _sigmoid(-z) ** 2 * np.sum(self.A * self.A, axis=1)

    def _reg_loss(self, theta):
        sq = theta * theta
        return self.lam * np.sum(sq / (1.0 + sq), axis=-1)

    def _reg_grad(self, theta):
        return self.lam * 2.0 * theta / (1.0 + theta * theta) ** 2


class GemanMcClureRegression(StochasticProblem):
    r"""Robust linear regression with the Geman–McClure loss ρ(r) = (δ²/2) r²/(δ² + r²).

        f(x) = (1/n) Σ_j ρ(a_jᵀx − y_j)

    ρ is ≈ r²/2 for |r| ≪ δ, saturates at δ²/2, and is concave for r² > δ²/3 (so f is non-convex).
    Data: a_j ~ N(0, I_d), y_j = a_jᵀx° + 0.1 u_j with x° ~ N(0, I_d), and a fraction
    ``outlier_fraction`` of the y_j replaced by N(0, 10²) outliers, from ``data_seed``.

    Known constants (global, proven): ρ'(r) = δ⁴ r/(δ² + r²)², |ρ'| ≤ 9δ/(16√3) (at r² = δ²/3);
    ρ''(r) = δ⁴(δ² − 3r²)/(δ² + r²)³ ∈ [−1/4, 1]. Hence

    * L = λ_max(AᵀA)/n (the Hessian is (1/n) Σ_j ρ''(r_j) a_j a_jᵀ with |ρ''| ≤ 1);
    * H = 9δ/(16√3) · max_j ‖a_j‖ + σ_a;
    * σ² = (9δ/(16√3))² (1/b)(1/n) Σ_j ‖a_j‖² + σ_a² (upper bound; exact value from ``noise_variance``);
    * f ≥ 0.
    """

    name = "Geman-McClure robust regression"

    def __init__(
        self,
        n: int = 512,
        d: int = 10,
        *,
        delta: float = 1.0,
        outlier_fraction: float = 0.1,
        batch_size: int | None = 8,
        noise_scale: float = 0.0,
        data_seed: int = 0,
        seed: int = 0,
    ):
        super().__init__(batch_size=batch_size, noise_scale=noise_scale, seed=seed)
        self.n, self.dim = _positive_int("n", n), _positive_int("d", d)
        self.delta = _checks.positive("delta", delta)
        frac = _checks.non_negative("outlier_fraction", outlier_fraction)
        if frac > 1.0:
            raise ValueError(f"outlier_fraction must lie in [0, 1]; got {outlier_fraction!r}")
        self.outlier_fraction = frac
        rng = np.random.default_rng(_seed("data_seed", data_seed))
        self.A = rng.standard_normal((self.n, self.dim))
        x_ref = rng.standard_normal(self.dim)
        y = self.A @ x_ref + 0.1 * rng.standard_normal(self.n)
        outliers = rng.random(self.n) < frac
        self.y = np.where(outliers, 10.0 * rng.standard_normal(self.n), y)
        row_sq = np.sum(self.A * self.A, axis=1)
        slope = _GM_SLOPE_MAX * self.delta
        self.L = float(np.linalg.eigvalsh(self.A.T @ self.A)[-1] / self.n)
        self.H = float(slope * np.sqrt(row_sq.max()) + self.noise_scale)
        minibatch_var = slope**2 * row_sq.mean() / self.batch_size if self.batch_size else 0.0
        self.sigma2 = float(minibatch_var + self.noise_scale**2)
        self.constants = {"L": "known", "H": "known", "sigma2": "known upper bound"}

    def _residuals(self, theta, idx):
        if idx is None:
            return theta @ self.A.T - self.y, self.A
        rows = self.A[idx]
        return np.einsum("...bd,...d->...b", rows, theta) - self.y[idx], rows

    def _rho_prime(self, r):
        d2 = self.delta**2
        return d2 * d2 * r / (d2 + r * r) ** 2

    def _data_loss(self, theta):
        r, _ = self._residuals(theta, None)
        d2 = self.delta**2
        return (0.5 * d2 * r * r / (d2 + r * r)).mean(axis=-1)

    def _data_grad(self, theta, idx):
        r, rows = self._residuals(theta, idx)
        w = self._rho_prime(r)
        if idx is None:
            return w @ rows / self.n
        return np.einsum("...b,...bd->...d", w, rows) / idx.shape[-1]

    def _per_sample_sq_norms(self, theta):
        r, _ = self._residuals(theta, None)
        return self._rho_prime(r) ** 2 * np.sum(self.A * self.A, axis=1)


class TanhMLP(StochasticProblem):
    r"""A one-hidden-layer tanh network fitted by least squares on synthetic teacher data.

        f(θ) = (1/n) Σ_j ½ (vᵀ tanh(W a_j) − y_j)²,   θ = (vec W, v),  W ∈ R^{h×k}, v ∈ R^h

    so d = h(k + 1); ``vec W`` is row-major (W[p, q] is θ[p·k + q]) and v is θ[h·k:].
    Data: a_j ~ N(0, I_k), y_j = v°ᵀ tanh(W° a_j) + 0.1 u_j with a random teacher (W°, v°).

    Constants: *measured*, not known. The loss is not globally L-smooth with bounded gradients
    (∇_v grows with ‖W‖, ∇_W with ‖v‖), so ``L``, ``H`` and ``sigma2`` are ``None`` here and are
    measured on a run (:func:`adabelief_ref.theory.nonconvex.measured_constants`): H as the
    largest ‖g_t‖ and ‖∇f(θ_t)‖ seen, σ² as the largest exact ``noise_variance`` along the path,
    L as the largest secant ‖∇f(θ_t) − ∇f(θ_{t−1})‖/‖θ_t − θ_{t−1}‖ (a lower estimate of the
    smoothness on the region visited). f ≥ 0.
    """

    name = "tanh MLP"

    def __init__(
        self,
        n: int = 256,
        inputs: int = 4,
        hidden: int = 6,
        *,
        batch_size: int | None = 8,
        noise_scale: float = 0.0,
        data_seed: int = 0,
        seed: int = 0,
    ):
        super().__init__(batch_size=batch_size, noise_scale=noise_scale, seed=seed)
        self.n = _positive_int("n", n)
        self.k, self.h = _positive_int("inputs", inputs), _positive_int("hidden", hidden)
        self.dim = self.h * (self.k + 1)
        rng = np.random.default_rng(_seed("data_seed", data_seed))
        self.X = rng.standard_normal((self.n, self.k))
        w_ref = rng.standard_normal((self.h, self.k)) / math.sqrt(self.k)
        v_ref = rng.standard_normal(self.h)
        self.y = np.tanh(self.X @ w_ref.T) @ v_ref + 0.1 * rng.standard_normal(self.n)
        self.constants = {"L": "measured", "H": "measured", "sigma2": "measured"}

    def _width(self) -> int:
        return self.h

    def _split(self, theta):
        W = theta[..., : self.h * self.k].reshape(theta.shape[:-1] + (self.h, self.k))
        return W, theta[..., self.h * self.k:]

    def _forward(self, theta, idx):
        """Hidden activations z (..., b|n, h), residuals r (..., b|n), inputs (..., b|n, k) or (n, k)."""
        W, v = self._split(theta)
        if idx is None:
            X, y = self.X, self.y
            z = np.tanh(np.einsum("...hk,nk->...nh", W, X))
        else:
            X, y = self.X[idx], self.y[idx]
            z = np.tanh(np.einsum("...hk,...bk->...bh", W, X))
        r = np.einsum("...bh,...h->...b", z, v) - y
        return z, r, X, v

    def _data_loss(self, theta):
        _, r, _, _ = self._forward(theta, None)
        return 0.5 * np.mean(r * r, axis=-1)

    def _data_grad(self, theta, idx):
        z, r, X, v = self._forward(theta, idx)
        b = r.shape[-1]
        grad_v = np.einsum("...b,...bh->...h", r, z) / b
        back = r[..., None] * v[..., None, :] * (1.0 - z * z)  # ∂/∂(W a_j) of ½ r_j²
        if idx is None:
            grad_W = np.einsum("...nh,nk->...hk", back, X) / b
        else:
            grad_W = np.einsum("...bh,...bk->...hk", back, X) / b
        return np.concatenate([grad_W.reshape(theta.shape[:-1] + (self.h * self.k,)), grad_v], axis=-1)

    def _per_sample_sq_norms(self, theta):
        # ∇_v f_j = r_j z_j and ∇_W f_j = r_j (v ⊙ (1 − z_j²)) a_jᵀ, a rank-one matrix.
        z, r, X, v = self._forward(theta, None)
        back_sq = np.sum((v[..., None, :] * (1.0 - z * z)) ** 2, axis=-1)
        return r * r * (np.sum(z * z, axis=-1) + back_sq * np.sum(X * X, axis=-1))

    def __repr__(self) -> str:
        return (
            f"TanhMLP(n={self.n}, inputs={self.k}, hidden={self.h}, batch_size={self.batch_size}, "
            f"noise_scale={self.noise_scale!r}, seed={self.seed})"
        )


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) = 1/(1 + e^{−z}), computed without overflow."""
    return _expit(z)


class Replicated:
    r"""k independent copies of a problem: f(θ) = Σ_{b=1}^k f(θ_b), θ = (θ_1, ..., θ_k) ∈ R^{k·d0}.

    Every copy sees its own minibatches and noise (the base problem's draw has one more batch
    axis), so each coordinate keeps the statistics it has in the base problem and only d grows:
    the clean way to sweep the dimension d = k·d0 in Theorem 2.2. Constants follow from the
    base's (known or ``None``): L = L0, H = √k·H0, σ² = k·σ0².
    """

    def __init__(self, base: StochasticProblem, copies: int):
        if not isinstance(base, StochasticProblem):
            raise ValueError(f"base must be a StochasticProblem; got {type(base).__name__}")
        self.base = base
        self.copies = _positive_int("copies", copies)
        self.dim = base.dim * self.copies
        self.name = f"{self.copies} copies of {base.name}"
        self.L = base.L
        self.H = None if base.H is None else math.sqrt(self.copies) * base.H
        self.sigma2 = None if base.sigma2 is None else self.copies * base.sigma2
        self.f_lower = self.copies * base.f_lower
        self.constants = dict(base.constants)

    def _blocks(self, theta: Any) -> np.ndarray:
        arr = _checks.finite_array("theta", theta)
        if arr.ndim < 1 or arr.shape[-1] != self.dim:
            raise ValueError(f"theta must have shape (..., {self.dim}) for {self.name}; got shape {arr.shape}")
        return arr.reshape(arr.shape[:-1] + (self.copies, self.base.dim))

    def _join(self, blocks: np.ndarray) -> np.ndarray:
        return blocks.reshape(blocks.shape[:-2] + (self.dim,))

    def loss(self, theta: Any) -> np.ndarray:
        """f(θ) = Σ_b f0(θ_b)."""
        return self.base.loss(self._blocks(theta)).sum(axis=-1)

    def full_grad(self, theta: Any) -> np.ndarray:
        """∇f(θ) = (∇f0(θ_1), ..., ∇f0(θ_k))."""
        return self._join(self.base.full_grad(self._blocks(theta)))

    def grad(self, t: int, theta: Any) -> np.ndarray:
        """g_t = (g0_t(θ_1), ..., g0_t(θ_k)) with independent draws per copy."""
        return self._join(self.base.grad(t, self._blocks(theta)))

    def noise_variance(self, theta: Any) -> np.ndarray:
        """E‖ζ_t‖² = Σ_b E‖ζ0_t(θ_b)‖²."""
        return self.base.noise_variance(self._blocks(theta)).sum(axis=-1)

    def initial_points(self, seeds: int, *, seed: int = 0, scale: float = 1.0) -> np.ndarray:
        """(seeds, k·d0) starting points θ_0 ~ N(0, scale² I)."""
        seeds = _positive_int("seeds", seeds)
        scale = _checks.positive("scale", scale)
        return scale * np.random.default_rng(_seed("seed", seed)).standard_normal((seeds, self.dim))

    def __repr__(self) -> str:
        return f"Replicated({self.base!r}, copies={self.copies})"
