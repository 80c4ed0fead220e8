r"""L13 — the step-size sum: √T ≤ Σ_{t=1}^T 1/√t ≤ 2√T − 1.

Lower: each of the T terms is ≥ 1/√T. Upper: for t ≥ 2, 1/√t ≤ ∫_{t−1}^t u^{−1/2} du
= 2√t − 2√(t − 1) (u^{−1/2} is non-increasing), telescoping to 2√T − 2; the t = 1 term adds 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from . import _engine as E

T_ = sp.Symbol("T", positive=True)
SYMBOLS = {"T": T_}
PAPER_LOWER, PAPER_UPPER = "sqrt(T)", "2*sqrt(T) - 1"
USED_IN = "β1t = β1/t variant of Thm 2.1; the lower bound Σ α_t ≥ α√T in Thm 2.2"


def check_l13_inv_sqrt_sum(lower: Any = PAPER_LOWER, upper: Any = PAPER_UPPER, *, T_max: int = 10**6) -> E.Check:
    """Assert ``lower`` ≤ Σ_{t=1}^T 1/√t ≤ ``upper`` for every integer T ≥ 1.

    Numeric first (exact partial sums for T ≤ ``T_max``), then the integral comparison and the
    signs of √T − lower and upper − (2√T − 1) with T = 1 + τ.
    """
    step = "L13"
    lo, hi = E.parse(lower, SYMBOLS, name="lower"), E.parse(upper, SYMBOLS, name="upper")
    T = np.arange(1, T_max + 1, dtype=np.float64)
    partial = np.cumsum(1.0 / np.sqrt(T))
    lo_n, hi_n = (np.broadcast_to(E.lambdify([T_], e)(T), T.shape) for e in (lo, hi))
    E.falsify(step, lo_n, partial, {"T": T}, what="lower bound", rtol=1e-12)
    E.falsify(step, partial, hi_n, {"T": T}, what="upper bound", rtol=1e-12)
    u, t = sp.Symbol("u", positive=True), sp.Symbol("t", positive=True)
    E.non_increasing(step, 1 / sp.sqrt(u), u, "u^(−1/2)")
    E.identity(step, T_ * (1 / sp.sqrt(T_)), sp.sqrt(T_), "T terms of size 1/√T")
    E.identity(step, sp.integrate(1 / sp.sqrt(u), (u, t - 1, t)),
               2 * sp.sqrt(t) - 2 * sp.sqrt(t - 1), "∫_{t−1}^t u^(−1/2) du")
    tau = sp.Symbol("tau", nonnegative=True)
    how_lo = E.nonneg(step, (sp.sqrt(T_) - lo).subs(T_, 1 + tau), "√T − lower")
    how_hi = E.nonneg(step, (hi - (2 * sp.sqrt(T_) - 1)).subs(T_, 1 + tau), "upper − (2√T − 1)")
    return E.Check(
        id="L13",
        statement=f"{E.shown(lower, lo)} ≤ Σ_(t=1)^T 1/√t ≤ {E.shown(upper, hi)}",
        method="symbolic",
        detail=f"termwise lower bound; integral comparison + telescoping for the upper; signs: {how_lo}; {how_hi}; "
        f"numeric: every T ≤ {T_max:.0e}",
        used_in=USED_IN,
    )
