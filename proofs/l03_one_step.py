r"""L3 — the per-step bound on the linear term, after substituting m_t = β1t m_{t−1} + (1 − β1t) g_t.

From L1 (with θ* ∈ F a fixed point of the projection) and L2,

    ‖s_t^{1/4}(θ_{t+1} − θ*)‖² ≤ ‖s_t^{1/4}(θ_t − θ*)‖² − 2α_t⟨m_t, θ_t − θ*⟩ + α_t²‖s_t^{−1/4} m_t‖²,

and solving for ⟨g_t, θ_t − θ*⟩ (divide by 2α_t(1 − β1t) > 0):

    ⟨g_t, θ_t − θ*⟩ ≤ (‖s_t^{1/4}(θ_t − θ*)‖² − ‖s_t^{1/4}(θ_{t+1} − θ*)‖²) / (2α_t(1 − β1t))
                      − β1t/(1 − β1t)·⟨m_{t−1}, θ_t − θ*⟩ + α_t/(2(1 − β1t))·‖s_t^{−1/4} m_t‖².

Certificate: writing the projected distance as (unprojected distance) − w with w ≥ 0 (L1), the
right side minus the left side is w/(2α_t(1 − β1t)) — checked per coordinate (the statement is a
sum over coordinates of the same expression) with β1t = k/(1 + k), k ≥ 0, encoding β1t ∈ [0, 1).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from . import _engine as E
from ._instances import Box, quadratic_run

S = sp.Symbol("s", positive=True)
ALPHA = sp.Symbol("alpha", positive=True)
BETA1T = sp.Symbol("beta1t", nonnegative=True)
NEXT = sp.Symbol("next_dist", nonnegative=True)
G, M_PREV, THETA, THETA_STAR = sp.symbols("g m_prev theta theta_star", real=True)
M_T = BETA1T * M_PREV + (1 - BETA1T) * G
SYMBOLS = {
    "s": S, "alpha": ALPHA, "beta1t": BETA1T, "next_dist": NEXT, "g": G, "m_prev": M_PREV,
    "theta": THETA, "theta_star": THETA_STAR, "m": M_T,
}
PAPER_BOUND = (
    "(sqrt(s)*(theta - theta_star)**2 - next_dist)/(2*alpha*(1 - beta1t))"
    " - beta1t/(1 - beta1t)*m_prev*(theta - theta_star) + alpha/(2*(1 - beta1t))*m**2/sqrt(s)"
)
USED_IN = "Thm 2.1 regret decomposition: every term of the bound starts from this per-step inequality"


def check_l3_one_step(bound: Any = PAPER_BOUND, *, n_points: int = 20_000, T: int = 200, seed: Any = 0) -> E.Check:
    """Assert g(θ − θ*) ≤ ``bound`` per coordinate, where ``next_dist`` = √s(θ_{t+1} − θ*)², m is
    β1t·m_prev + (1 − β1t)·g, and next_dist ≤ √s(θ − αm/√s − θ*)² (L1).

    Numeric first: ``n_points`` random points of that domain, then a run of the analysed recursion
    (d = 3, box [−1, 1]³, β1t = 0.9·0.9^(t−1), T steps) where the vector inequality is checked at
    every step with the actual projected θ_{t+1}. Symbolic: the certificate described above.
    """
    step = "L3"
    claimed = E.parse(bound, SYMBOLS, name="bound")
    unprojected = sp.sqrt(S) * (THETA - ALPHA * M_T / sp.sqrt(S) - THETA_STAR) ** 2
    args = [S, ALPHA, BETA1T, NEXT, G, M_PREV, THETA, THETA_STAR]
    rng = E.seeded(seed)
    n = n_points
    pts = {
        "s": E.log_uniform(rng, 1e-6, 1e2, n), "alpha": E.log_uniform(rng, 1e-3, 1.0, n),
        "beta1t": rng.uniform(0, 0.99, n), "g": rng.normal(size=n), "m_prev": rng.normal(size=n),
        "theta": rng.normal(size=n), "theta_star": rng.normal(size=n),
    }
    full = E.lambdify([S, ALPHA, BETA1T, G, M_PREV, THETA, THETA_STAR], unprojected)(
        pts["s"], pts["alpha"], pts["beta1t"], pts["g"], pts["m_prev"], pts["theta"], pts["theta_star"])
    pts["next_dist"] = full * rng.uniform(0, 1, n) ** 3
    ev = E.lambdify(args, claimed)
    ordered = [pts[str(a)] for a in args]
    E.falsify(step, pts["g"] * (pts["theta"] - pts["theta_star"]), ev(*ordered), pts, what="random points", rtol=1e-8)
    z = rng.normal(0, 1.5, (T, 3))
    r = quadratic_run(z, lr=0.1, betas=(0.9, 0.999), eps=1e-16, beta1_decay=0.9, box=Box())
    tr = r.trace
    m_prev = np.vstack([np.zeros((1, 3)), tr.m[:-1]])
    next_dist = np.sqrt(r.s_used) * (r.next_iterate - r.theta_star) ** 2
    cols = {"s": r.s_used, "alpha": tr.alpha[:, None], "beta1t": tr.beta1[:, None], "next_dist": next_dist,
            "g": tr.g, "m_prev": m_prev, "theta": r.played, "theta_star": r.theta_star}
    rhs_run = np.sum(np.broadcast_to(ev(*[cols[str(a)] for a in args]), tr.g.shape), axis=1)
    lhs_run = np.sum(tr.g * (r.played - r.theta_star), axis=1)
    run_margin = E.falsify(step, lhs_run, rhs_run, {"t": np.arange(1, T + 1)}, what="AdaBelief run", rtol=1e-9)
    k, w = sp.Symbol("k", nonnegative=True), sp.Symbol("w", nonnegative=True)
    gap = (claimed - G * (THETA - THETA_STAR)).subs(NEXT, unprojected - w).subs(BETA1T, k / (1 + k))
    how = E.nonneg(step, gap, "bound − g(θ − θ*) with next_dist = unprojected − w")
    return E.Check(
        id="L3",
        statement=f"⟨g_t, θ_t − θ*⟩ ≤ Σ_i [{E.shown(bound, claimed)}]",
        method="symbolic",
        detail=f"certificate: bound − lhs = {E.text(sp.factor(sp.cancel(sp.together(gap))))} ≥ 0 ({how}), "
        "w = unprojected − projected distance ≥ 0 by L1, β1t = k/(1+k); numeric: "
        f"{n_points} random points and every step of a T={T} run (box, β1t = 0.9^t)",
        used_in=USED_IN,
        figures={"run_min_margin": run_margin["min_margin"]},
    )
