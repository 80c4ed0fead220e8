r"""L10 — exchanging the order of summation in the momentum term: for x_j ≥ 0, 0 ≤ β1 < 1,

    Σ_{t=1}^T t^{−1/2} Σ_{j≤t} β1^{t−j} x_j ≤ κ Σ_{j=1}^T x_j/√j,   κ = 1/(1 − β1).

Proof for every T: the left side is Σ_j x_j Σ_{t=j}^T β1^{t−j}/√t (the same triangle of indices);
1/√t ≤ 1/√j for t ≥ j (t^{−1/2} is non-increasing); Σ_{k=0}^{n} β1^k = (1 − β1^{n+1})/(1 − β1)
≤ 1/(1 − β1) ≤ κ.
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


def check_l10_sum_swap(constant: Any = PAPER_CONSTANT, *, n_seq: int = 2000, T: int = 300, seed: Any = 0) -> E.Check:
    """Assert Σ_t t^{−1/2} Σ_{j≤t} β1^{t−j} x_j ≤ ``constant``·Σ_j x_j/√j for x ≥ 0, every horizon.

    Numeric first: ``n_seq`` random non-negative sequences (sparse and dense; β1 ∈ [0, 0.999]),
    every horizon 1..``T`` compared. Symbolic: the three facts above, the geometric sum by
    ``sympy.summation`` with a symbolic number of terms, and κ − 1/(1 − β1) ≥ 0.
    """
    step = "L10"
    kappa = E.parse(constant, SYMBOLS, name="constant")
    rng = E.seeded(seed)
    beta1 = rng.uniform(0, 0.999, n_seq)
    x = rng.exponential(size=(T, n_seq)) * (rng.uniform(size=(T, n_seq)) < rng.uniform(0.02, 1, n_seq))
    x[0, : n_seq // 4] = 1.0  # mass at j = 1, where the discounted tail is longest
    kappa_n = np.broadcast_to(E.lambdify([BETA1], kappa)(beta1), beta1.shape)
    t = np.arange(1, T + 1)[:, None]
    disc = np.zeros(n_seq)
    lhs, rhs = np.empty((T, n_seq)), np.empty((T, n_seq))
    acc_l, acc_r = np.zeros(n_seq), np.zeros(n_seq)
    for k in range(T):
        disc = beta1 * disc + x[k]
        acc_l = acc_l + disc / np.sqrt(k + 1)
        acc_r = acc_r + x[k] / np.sqrt(k + 1)
        lhs[k], rhs[k] = acc_l, kappa_n * acc_r
    pts = {"beta1": np.broadcast_to(beta1, (T, n_seq)), "T": t}
    res = E.falsify(step, lhs, rhs, pts, what="random sequences", rtol=1e-12)
    tt = sp.Symbol("t", positive=True)
    E.non_increasing(step, 1 / sp.sqrt(tt), tt, "t^(−1/2)")
    n, kk = sp.Symbol("n", integer=True, nonnegative=True), sp.Symbol("k", integer=True, nonnegative=True)
    b = sp.Symbol("b", nonnegative=True)
    beta = b / (1 + b)
    partial = sp.summation(beta**kk, (kk, 0, n))
    partial = partial.args[-1][0] if isinstance(partial, sp.Piecewise) else partial  # the β1 ≠ 1 branch
    E.identity(step, partial, (1 - beta ** (n + 1)) / (1 - beta), "geometric sum Σ_{k≤n} β1^k")
    E.nonneg(step, 1 / (1 - beta) - partial, "1/(1−β1) − Σ_{k≤n} β1^k")
    how = E.nonneg(step, kappa.subs(BETA1, beta) - 1 / (1 - beta), "κ − 1/(1−β1)")
    return E.Check(
        id="L10",
        statement=f"Σ_t t^(−1/2) Σ_(j≤t) β1^(t−j) x_j ≤ {E.shown(constant, kappa)}·Σ_j x_j/√j (x ≥ 0)",
        method="symbolic",
        detail="swap of the triangular double sum; t^(−1/2) non-increasing (derivative sign); geometric partial "
        f"sums by sympy.summation for symbolic n, ≤ 1/(1−β1); κ − 1/(1−β1) ≥ 0 ({how}); numeric: {n_seq} sequences, "
        f"every T ≤ {T}",
        used_in=USED_IN,
        figures={"min_margin": res["min_margin"]},
    )
