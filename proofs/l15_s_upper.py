r"""L15 — the upper bound on s_t behind √s_{t,i} ≤ G∞ in Corollary 2.1.1.

With |g_t − m_t| ≤ G∞ (Theorem 2.1's assumption) and s_0 = 0, the recursion
s_t = β2 s_{t−1} + (1 − β2)(g_t − m_t)² + ε is bounded by the sequence with residual ≡ G∞,

    W_t = G∞²(1 − β2^t) + ε(1 − β2^t)/(1 − β2)     (W_0 = 0, W_t = β2 W_{t−1} + (1 − β2)G∞² + ε),

by induction: W_t − s_t = β2(W_{t−1} − s_{t−1}) + (1 − β2)(G∞² − (g_t − m_t)²) ≥ 0. W_t is attained
(residual ≡ G∞), so a claimed bound U_t is valid iff U_t ≥ W_t: the ε-free bound G∞²(1 − β2^t)
holds only at ε = 0, and √s_{t,i} ≤ G∞ needs ε = 0 (with ε > 0: √(G∞² + ε/(1 − β2))).
Aside: g_t − m_t = β1t(g_t − m_{t−1}), so on actual runs |g_t − m_t| ≤ β1t G∞ — far inside the bound.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from adabelief_ref import AdaBelief, run

from . import _engine as E

G = sp.Symbol("G", positive=True)
EPS = sp.Symbol("eps", nonnegative=True)
BETA2 = sp.Symbol("beta2", positive=True)  # β2 = 0 is the same identity with 0^0 = 1
T_ = sp.Symbol("t", integer=True, nonnegative=True)
SYMBOLS = {"G": G, "eps": EPS, "beta2": BETA2, "t": T_}
PAPER_BOUND = "G**2*(1 - beta2**t) + eps*(1 - beta2**t)/(1 - beta2)"
W = G**2 * (1 - BETA2**T_) + EPS * (1 - BETA2**T_) / (1 - BETA2)
USED_IN = "Cor 2.1.1: √s_(t,i) ≤ G∞ in the third term"


def check_l15_s_upper(bound: Any = PAPER_BOUND, *, n_seq: int = 2000, T: int = 200, seed: Any = 0) -> E.Check:
    """Assert s_t ≤ ``bound`` for every residual sequence with |g_t − m_t| ≤ G∞ (β2 ∈ [0, 1), ε ≥ 0).

    Numeric first: ``n_seq`` residual sequences in [−G∞, G∞] (a quarter at ±G∞, where the bound is
    attained), ε log-uniform in [1e-16, 1], β2 ∈ [0, 0.999], every t ≤ ``T``; and a reference
    AdaBelief run with |g| ≤ G∞/2. Symbolic: the recursion identity of W_t, the induction
    certificate, and bound − W_t ≥ 0.
    """
    step = "L15"
    claimed = E.parse(bound, SYMBOLS, name="bound")
    rng = E.seeded(seed)
    G_n, beta2 = 1.0, rng.uniform(0, 0.999, n_seq)
    eps = E.log_uniform(rng, 1e-16, 1.0, n_seq)
    resid = rng.uniform(-G_n, G_n, (T, n_seq))
    resid[:, : n_seq // 4] = G_n * np.sign(resid[:, : n_seq // 4])
    t = np.arange(1, T + 1, dtype=np.float64)[:, None]
    s, lhs = np.zeros(n_seq), np.empty((T, n_seq))
    for k in range(T):
        s = beta2 * s + (1 - beta2) * resid[k] ** 2 + eps
        lhs[k] = s
    ev = E.lambdify([G, EPS, BETA2, T_], claimed)
    pts = {"t": t, "beta2": np.broadcast_to(beta2, lhs.shape), "eps": np.broadcast_to(eps, lhs.shape)}
    E.falsify(step, lhs, np.broadcast_to(ev(G_n, eps, beta2, t), lhs.shape), pts, what="residual sequences", rtol=1e-12)
    opt = AdaBelief(1e-2, (0.9, 0.999), 1e-8)
    tr = run(opt, lambda k, th: rng.uniform(-G_n / 2, G_n / 2, 3), np.zeros(3), T)
    bound_run = np.broadcast_to(ev(G_n, 1e-8, 0.999, t), tr.s.shape)
    E.falsify(step, tr.s, bound_run, {"t": t}, what="reference run", rtol=1e-12)
    residual_ratio = float(np.max(np.abs(tr.g - tr.m)) / (0.9 * G_n))
    E.identity(step, W.subs(T_, 0), sp.Integer(0), "W_0 = 0")
    E.identity(step, W, BETA2 * W.subs(T_, T_ - 1) + (1 - BETA2) * G**2 + EPS, "W_t recursion")
    bb, h, j = sp.symbols("bb h j", nonnegative=True)
    beta = bb / (1 + bb)
    E.certificate(step, beta * h + (1 - beta) * j, [beta * h, (1 - beta) * j], "W_t − s_t = β2(W−s) + (1−β2)(G² − r²)")
    how = E.nonneg(step, (claimed - W).subs(BETA2, beta), "bound − W_t")
    return E.Check(
        id="L15",
        statement=f"|g_t − m_t| ≤ G∞ ⇒ s_t ≤ {E.shown(bound, claimed)}",
        method="symbolic",
        detail=f"W_t recursion (simplify), induction certificate, bound − W_t ≥ 0 ({how}); "
        "W_t attained by residual ≡ G∞; "
        f"numeric: {n_seq} residual sequences × T={T} and a reference run; on that run max|g−m| = "
        f"{residual_ratio:.3g}·β1G∞",
        used_in=USED_IN,
        figures={"run_max_residual_over_beta1_G": residual_ratio},
    )
