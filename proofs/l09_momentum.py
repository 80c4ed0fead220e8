r"""L9 — the momentum is bounded by a discounted sum of squared gradients:

    m_{t,i}² ≤ κ Σ_{j≤t} β1^{t−j} g_{j,i}²,   κ = 1/(1 − β1) in the paper,

for m_t = β1t m_{t−1} + (1 − β1t) g_t, m_0 = 0, 0 ≤ β1t ≤ β1 < 1.

Proof by induction for every t with V_t = β1t V_{t−1} + (1 − β1t) g_t² and
W_t = β1 W_{t−1} + g_t² = Σ_j β1^{t−j} g_j² (V_0 = W_0 = 0), carrying m_t² ≤ V_t ≤ W_t:

* V_t − m_t² = β1t (V_{t−1} − m_{t−1}²) + β1t(1 − β1t)(m_{t−1} − g_t)²    (convexity of x²);
* W_t − V_t = (β1 − β1t) W_{t−1} + β1t (W_{t−1} − V_{t−1}) + β1t g_t²;
* κ W_t − m_t² = (κ − 1) W_t + (W_t − V_t) + (V_t − m_t²), non-negative as soon as κ ≥ 1.

So the step holds with κ = 1: the paper's κ = 1/(1 − β1) is loose by the factor 1/(1 − β1)
(10× at β1 = 0.9), and so is one factor 1/(1 − β1) of Theorem 2.1's second term.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from . import _engine as E

BETA1 = sp.Symbol("beta1", nonnegative=True)
SYMBOLS = {"beta1": BETA1}
PAPER_CONSTANT = "1/(1 - beta1)"
USED_IN = "Thm 2.1 second term (one factor 1/(1−β1))"


def check_l9_momentum(
    constant: Any = PAPER_CONSTANT, *, n_seq: int = 4000, T: int = 60, seed: Any = 0
) -> E.Check:
    """Assert m_t² ≤ ``constant``·Σ_j β1^{t−j} g_j² for every t and every 0 ≤ β1t ≤ β1 < 1.

    Numeric first: ``n_seq`` random sequences of length ``T`` (β1 ∈ [0, 0.99]; β1t mixing 0, β1
    and uniform values; heavy-tailed g), every t checked. Symbolic: the induction above, with
    β1t = k/(1+k), β1 = β1t + e (k, e ≥ 0), V_{t−1} = m_{t−1}² + p, W_{t−1} = V_{t−1} + q (p, q ≥ 0),
    and κ − 1 ≥ 0 with β1 = b/(1+b).
    """
    step = "L9"
    kappa = E.parse(constant, SYMBOLS, name="constant")
    rng = E.seeded(seed)
    beta1 = rng.uniform(0, 0.99, n_seq)
    kind = rng.integers(0, 3, (T, n_seq))
    b1t = np.where(kind == 0, 0.0, np.where(kind == 1, beta1, beta1 * rng.uniform(0, 1, (T, n_seq))))
    b1t[0] = beta1  # β11 = β1
    g = rng.standard_t(2, (T, n_seq))
    kappa_n = np.broadcast_to(E.lambdify([BETA1], kappa)(beta1), beta1.shape)
    m, w = np.zeros(n_seq), np.zeros(n_seq)
    lhs, rhs = np.empty((T, n_seq)), np.empty((T, n_seq))
    for t in range(T):
        m = b1t[t] * m + (1 - b1t[t]) * g[t]
        w = beta1 * w + g[t] ** 2
        lhs[t], rhs[t] = m**2, kappa_n * w
    res = E.falsify(step, lhs, rhs, {"beta1": np.broadcast_to(beta1, (T, n_seq)), "t": np.arange(1, T + 1)[:, None]},
                    what="random momentum sequences", rtol=1e-12)
    x, y = sp.symbols("m_prev g_t", real=True)
    k, e, p, q = sp.symbols("k e p q", nonnegative=True)
    a = k / (1 + k)
    v_prev, w_prev = x**2 + p, x**2 + p + q
    m_t = a * x + (1 - a) * y
    v_t, w_t = a * v_prev + (1 - a) * y**2, (a + e) * w_prev + y**2
    E.certificate(step, v_t - m_t**2, [a * p, a * (1 - a) * (x - y) ** 2], "V_t ≥ m_t² (induction step)")
    E.certificate(step, w_t - v_t, [e * w_prev, a * q, a * y**2], "W_t ≥ V_t (induction step)")
    b = sp.Symbol("b", nonnegative=True)
    how = E.nonneg(step, kappa.subs(BETA1, b / (1 + b)) - 1, "κ − 1 (β1 = b/(1+b))")
    return E.Check(
        id="L9",
        statement=f"m_{{t,i}}² ≤ {E.shown(constant, kappa)}·Σ_j β1^(t−j) g_{{j,i}}² for 0 ≤ β1t ≤ β1 < 1",
        method="symbolic",
        detail="induction m_t² ≤ V_t ≤ W_t with two sum-of-non-negative-terms certificates (simplify), then "
        f"κ − 1 ≥ 0 ({how}) — so κ = 1 already suffices; numeric: {n_seq} sequences × T={T}",
        used_in=USED_IN,
        figures={"min_margin": res["min_margin"]},
    )
