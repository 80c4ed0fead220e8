r"""L5 — merging the two momentum terms needs two monotonicities:

* s_t ≥ s_{t−1} ⇒ ‖s_t^{−1/4} m_{t−1}‖² ≤ ‖s_{t−1}^{−1/4} m_{t−1}‖², because φ(s) = m²/√s is
  non-increasing in s (φ′(s) = −m²/(2 s^{3/2}) ≤ 0);
* α_t ≤ α_{t−1}, because α(t) = α/√t is non-increasing in t.

Both are proved through the sign of the derivative (mean value theorem); the statement takes φ and
α(t) as data, so the false variants (a φ increasing in s, an increasing schedule) are the same call.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from . import _engine as E

S = sp.Symbol("s", positive=True)
T_ = sp.Symbol("t", positive=True)
ALPHA = sp.Symbol("alpha", positive=True)
M = sp.Symbol("m", real=True)
SYMBOLS = {"s": S, "t": T_, "alpha": ALPHA, "m": M}
PAPER_PHI, PAPER_SCHEDULE = "m**2/sqrt(s)", "alpha/sqrt(t)"
USED_IN = "Thm 2.1: β1t α_t ‖s_t^{-1/4} m_{t−1}‖² ≤ β1 α_{t−1} ‖s_{t−1}^{-1/4} m_{t−1}‖² (second term, factor 1+β1)"


def check_l5_monotone(
    phi: Any = PAPER_PHI, schedule: Any = PAPER_SCHEDULE, *, n_points: int = 20_000, seed: Any = 0
) -> E.Check:
    """Assert s_t ≥ s_{t−1} ⇒ ``phi``(s_t) ≤ ``phi``(s_{t−1}), and ``schedule``(t) ≤ ``schedule``(t−1).

    Numeric first (random pairs s_{t−1} ≤ s_t over 12 decades; t = 2..n_points), then the sign of
    −∂φ/∂s and −∂α/∂t.
    """
    step = "L5"
    f_phi, f_alpha = E.parse(phi, SYMBOLS, name="phi"), E.parse(schedule, SYMBOLS, name="schedule")
    rng = E.seeded(seed)
    s_prev = E.log_uniform(rng, 1e-8, 1e4, n_points)
    s_next = s_prev * E.log_uniform(rng, 1.0, 1e4, n_points)
    m, alpha = rng.normal(size=n_points), E.log_uniform(rng, 1e-4, 1e1, n_points)
    ev = E.lambdify([S, M, ALPHA, T_], f_phi)
    E.falsify(step, ev(s_next, m, alpha, 1.0), ev(s_prev, m, alpha, 1.0),
              {"s_prev": s_prev, "s_t": s_next, "m": m}, what="φ(s_t) ≤ φ(s_{t−1})")
    t = np.arange(2, n_points + 2, dtype=np.float64)
    ea = E.lambdify([T_, ALPHA, M, S], f_alpha)
    E.falsify(step, ea(t, 0.1, 1.0, 1.0), ea(t - 1, 0.1, 1.0, 1.0), {"t": t}, what="α_t ≤ α_{t−1}")
    how_s = E.non_increasing(step, f_phi, S, "φ non-increasing in s")
    how_t = E.non_increasing(step, f_alpha, T_, "α(t) non-increasing in t")
    return E.Check(
        id="L5",
        statement=f"s_t ≥ s_{{t−1}} ⇒ φ(s_t) ≤ φ(s_{{t−1}}) for φ = {E.shown(phi, f_phi)}; "
        f"α_t ≤ α_{{t−1}} for α_t = {E.shown(schedule, f_alpha)}",
        method="symbolic",
        detail=f"−∂φ/∂s = {E.text(sp.simplify(-sp.diff(f_phi, S)))} ≥ 0 ({how_s}); "
        f"−∂α/∂t = {E.text(sp.simplify(-sp.diff(f_alpha, T_)))} ≥ 0 ({how_t}); numeric: {n_points} pairs each",
        used_in=USED_IN,
    )
