r"""N1 (i) — the first quantity of Chen et al. (2019) Theorem 3.1 with v̂_t = s_t:

    Σ_{t=1}^T ‖α_t g_t/√s_t‖² ≤ α²(H² + σ²)(1 + log T)/c.

Each term is (α²/t) Σ_i g_{t,i}²/s_{t,i} ≤ (α²/t)‖g_t‖²/c (s ≥ c, written s = c + r) ≤ α²H²/(c t)
(‖g_t‖ ≤ H; in expectation E‖g_t‖² ≤ ‖∇f‖² + σ² ≤ H² + σ²), and Σ 1/t ≤ 1 + log T (L12).
Note: Theorem 2.2 assumes only min_j (s_1)_j ≥ c; s_t ≥ c for every t needs s_t ≤ s_{t+1} — or the
ε floor of §1.3 (c = ε always works).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from . import _engine as E
from .l12_harmonic import harmonic_upper_bound

T_ = sp.Symbol("T", positive=True)
ALPHA, C, H = sp.symbols("alpha c H", positive=True)
SIGMA = sp.Symbol("sigma", nonnegative=True)
SYMBOLS = {"T": T_, "alpha": ALPHA, "c": C, "H": H, "sigma": SIGMA}
PAPER_CONSTANT = "alpha**2*(H**2 + sigma**2)*(1 + log(T))/c"
USED_IN = "Thm 2.2: the C1 term α²(H²+σ²)(1+log T)/c"


def check_n1_i(
    constant: Any = PAPER_CONSTANT, *, n_runs: int = 500, T: int = 200, d: int = 3, seed: Any = 0
) -> E.Check:
    """Assert Σ_{t≤T} ‖α_t g_t/√s_t‖² ≤ ``constant`` for α_t = α/√t, s ≥ c, ‖g_t‖ ≤ H, every T.

    Numeric first: ``n_runs`` random instances (c over 8 decades, s ≥ c with the floor attained,
    ‖g_t‖ ≤ H, σ = 0), every horizon ≤ ``T``. Symbolic: per-term bound and L12, then
    constant − α²H²(1 + log T)/c ≥ 0.
    """
    step = "N1.i"
    kappa = E.parse(constant, SYMBOLS, name="constant")
    rng = E.seeded(seed)
    c, H_n, alpha = E.log_uniform(rng, 1e-6, 1e2, n_runs), rng.uniform(0.1, 10, n_runs), rng.uniform(0.01, 1, n_runs)
    spread = np.where(rng.uniform(size=(T, n_runs, d)) < 0.5, 1.0, E.log_uniform(rng, 1, 1e4, (T, n_runs, d)))
    s = c[None, :, None] * spread  # s ≥ c, the floor attained on half of the entries
    g = rng.normal(size=(T, n_runs, d))
    g *= (H_n[None, :, None] * rng.uniform(0.5, 1, (T, n_runs, 1))) / np.linalg.norm(g, axis=-1, keepdims=True)
    t = np.arange(1, T + 1, dtype=np.float64)[:, None]
    lhs = np.cumsum((alpha**2 / t) * np.sum(g**2 / s, axis=-1), axis=0)
    rhs = np.broadcast_to(E.lambdify([ALPHA, H, SIGMA, T_, C], kappa)(alpha, H_n, 0.0, t, c), lhs.shape)
    E.falsify(step, lhs, rhs, {"T": t, "c": np.broadcast_to(c, lhs.shape)}, what="random instances", rtol=1e-12)
    r = sp.Symbol("r", nonnegative=True)
    E.nonneg(step, 1 / C - 1 / (C + r), "1/c − 1/s with s = c + r")
    proven = ALPHA**2 * H**2 * harmonic_upper_bound(step) / C
    tau = sp.Symbol("tau", nonnegative=True)
    how = E.nonneg(step, (kappa - proven).subs(T_, 1 + tau), "constant − α²H²(1+log T)/c")
    return E.Check(
        id="N1.i",
        statement=f"Σ_t ‖α_t g_t/√s_t‖² ≤ {E.shown(constant, kappa)} (s ≥ c, ‖g_t‖ ≤ H)",
        method="symbolic",
        detail=f"per term ≤ α²H²/(ct) (1/s ≤ 1/c by sign), L12, constant − α²H²(1+log T)/c ≥ 0 ({how}); "
        f"numeric: {n_runs} instances, every T ≤ {T}, d={d}",
        used_in=USED_IN,
    )
