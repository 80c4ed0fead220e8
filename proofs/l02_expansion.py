r"""L2 — the one-step expansion: per coordinate, with q = √s > 0,

    √s (θ − α m/√s − θ*)² = √s (θ − θ*)² − 2 α m (θ − θ*) + α² m²/√s,

i.e. ‖s^{1/4}(θ − α m/√s − θ*)‖² = ‖s^{1/4}(θ − θ*)‖² − 2α⟨m, θ − θ*⟩ + α²‖s^{−1/4} m‖².
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from . import _engine as E

S = sp.Symbol("s", positive=True)
ALPHA = sp.Symbol("alpha", positive=True)
THETA, THETA_STAR, M = sp.symbols("theta theta_star m", real=True)
SYMBOLS = {"s": S, "alpha": ALPHA, "theta": THETA, "theta_star": THETA_STAR, "m": M}

LHS = sp.sqrt(S) * (THETA - ALPHA * M / sp.sqrt(S) - THETA_STAR) ** 2
PAPER_RHS = "sqrt(s)*(theta - theta_star)**2 - 2*alpha*m*(theta - theta_star) + alpha**2*m**2/sqrt(s)"
USED_IN = "Thm 2.1 one-step bound (expanding the projected step)"


def check_l2_expansion(rhs: Any = PAPER_RHS, *, n_points: int = 10_000, seed: Any = 0) -> E.Check:
    """Assert √s(θ − αm/√s − θ*)² = ``rhs`` (per coordinate; the vector form is the sum over i).

    Numeric first (both directions at ``n_points`` random points, s log-uniform in [1e-8, 1e4]),
    then ``simplify(lhs − rhs) == 0``.
    """
    step = "L2"
    claimed = E.parse(rhs, SYMBOLS, name="rhs")
    rng = E.seeded(seed)
    pts = {
        "s": E.log_uniform(rng, 1e-8, 1e4, n_points), "alpha": E.log_uniform(rng, 1e-4, 1e1, n_points),
        "theta": rng.normal(size=n_points), "theta_star": rng.normal(size=n_points), "m": rng.normal(size=n_points),
    }
    args = [SYMBOLS[k] for k in pts]
    left, right = E.lambdify(args, LHS)(*pts.values()), E.lambdify(args, claimed)(*pts.values())
    E.falsify(step, left, right, pts, what="lhs ≤ rhs", rtol=1e-8)
    E.falsify(step, right, left, pts, what="rhs ≤ lhs", rtol=1e-8)
    E.identity(step, LHS, claimed, "expansion of the square")
    return E.Check(
        id="L2",
        statement=f"√s(θ − αm/√s − θ*)² = {E.shown(rhs, claimed)}",
        method="symbolic",
        detail=f"simplify(lhs − rhs) == 0; numeric: {n_points} random points agree to 1e-8 relative",
        used_in=USED_IN,
    )
