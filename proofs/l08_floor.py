r"""L8 — the floor s_{t,i} ≥ c > 0 bounds the preconditioned momentum: ‖s_t^{−1/4} m_t‖² ≤ ‖m_t‖²/√c.

Per coordinate, with the hypothesis written into the variables as s = (√c + r)², r ≥ 0:
m²/√c − m²/√s = m² r/(√c(√c + r)) ≥ 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from . import _engine as E

C = sp.Symbol("c", positive=True)
M = sp.Symbol("m", real=True)
SYMBOLS = {"c": C, "m": M}
PAPER_BOUND = "m**2/sqrt(c)"
USED_IN = "Thm 2.1 second term (factor 1/√c), N1 (i)"


def check_l8_floor(bound: Any = PAPER_BOUND, *, n_points: int = 20_000, seed: Any = 0) -> E.Check:
    """Assert m²/√s ≤ ``bound`` for every s ≥ c > 0 (per coordinate; sum over i for the norm).

    Numeric first (c over 12 decades, s/c over 8), then the sign of bound − m²/√s with
    s = (√c + r)², r ≥ 0.
    """
    step = "L8"
    claimed = E.parse(bound, SYMBOLS, name="bound")
    rng = E.seeded(seed)
    c = E.log_uniform(rng, 1e-8, 1e4, n_points)
    s = c * E.log_uniform(rng, 1.0, 1e8, n_points)
    s[: n_points // 4] = c[: n_points // 4]  # the floor attained
    m = rng.normal(size=n_points)
    rhs = E.lambdify([C, M], claimed)(c, m)
    E.falsify(step, m**2 / np.sqrt(s), rhs, {"c": c, "s": s, "m": m}, what="random points")
    r = sp.Symbol("r", nonnegative=True)
    how = E.nonneg(step, claimed - M**2 / (sp.sqrt(C) + r), "bound − m²/√s with s = (√c + r)²")
    return E.Check(
        id="L8",
        statement=f"s ≥ c > 0 ⇒ ‖s^(-1/4) m‖² ≤ Σ_i {E.shown(bound, claimed)}",
        method="symbolic",
        detail=f"s = (√c + r)², r ≥ 0: bound − m²/√s ≥ 0 ({how}); numeric: {n_points} points",
        used_in=USED_IN,
    )
