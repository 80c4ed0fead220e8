r"""L12 — the harmonic sum: Σ_{t=1}^T 1/t ≤ 1 + log T (natural log).

Integral comparison: for t ≥ 2 and u ∈ [t − 1, t], 1/u ≥ 1/t (1/u is non-increasing), so
1/t ≤ ∫_{t−1}^t du/u = log t − log(t − 1); these telescope to log T, and the t = 1 term adds 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from . import _engine as E

T_ = sp.Symbol("T", positive=True)
SYMBOLS = {"T": T_}
PAPER_BOUND = "1 + log(T)"
USED_IN = "L11 (√(1+log T)), N1 (i) and the C1 term of Thm 2.2"


def harmonic_upper_bound(step: str) -> sp.Expr:
    """Prove Σ_{t≤T} 1/t ≤ 1 + log T symbolically (integral comparison) and return 1 + log T."""
    u, t = sp.Symbol("u", positive=True), sp.Symbol("t", positive=True)
    E.non_increasing(step, 1 / u, u, "integrand 1/u")
    E.identity(step, sp.integrate(1 / u, (u, t - 1, t)), sp.log(t) - sp.log(t - 1), "∫_{t−1}^t du/u")
    # Σ_{t=2}^T (log t − log(t−1)) = log T by induction: base T = 1 and the increment
    closed = sp.Lambda(T_, sp.log(T_))
    E.identity(step, closed(1), sp.Integer(0), "telescoping base")
    E.identity(step, closed(T_) - closed(T_ - 1), sp.log(T_) - sp.log(T_ - 1), "telescoping increment")
    return 1 + sp.log(T_)


def check_l12_harmonic(bound: Any = PAPER_BOUND, *, T_max: int = 10**6) -> E.Check:
    """Assert Σ_{t=1}^T 1/t ≤ ``bound`` for every integer T ≥ 1.

    Numeric first: the exact partial sums (float64 cumulative sum) for every T ≤ ``T_max``.
    Symbolic: integral comparison, then bound − (1 + log T) ≥ 0 with T = 1 + τ, τ ≥ 0.
    """
    step = "L12"
    claimed = E.parse(bound, SYMBOLS, name="bound")
    T = np.arange(1, T_max + 1, dtype=np.float64)
    partial = np.cumsum(1.0 / T)
    res = E.falsify(step, partial, np.broadcast_to(E.lambdify([T_], claimed)(T), T.shape), {"T": T},
                    what="partial sums", rtol=1e-12)
    proven = harmonic_upper_bound(step)
    tau = sp.Symbol("tau", nonnegative=True)
    how = E.nonneg(step, (claimed - proven).subs(T_, 1 + tau), "bound − (1 + log T), T = 1 + τ")
    return E.Check(
        id="L12",
        statement=f"Σ_(t=1)^T 1/t ≤ {E.shown(bound, claimed)}",
        method="symbolic",
        detail=f"integral comparison 1/t ≤ ∫_(t−1)^t du/u, telescoping to log T; bound − (1+log T) ≥ 0 ({how}); "
        f"numeric: every T ≤ {T_max:.0e}",
        used_in=USED_IN,
        figures={"min_margin": res["min_margin"]},
    )
