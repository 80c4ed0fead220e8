r"""L14 — the weighted geometric sum of Corollary 2.1.1: for 0 ≤ λ < 1,

    Σ_{t=1}^T t λ^{t−1} = (1 − (T+1)λ^T + Tλ^{T+1})/(1 − λ)² ≤ 1/(1 − λ)²,   and √t ≤ t (t ≥ 1).

The closed form by induction (C(0) = 0, C(T) − C(T−1) = Tλ^{T−1}); the remainder
1/(1−λ)² − C(T) = λ^T(1 + T(1 − λ))/(1 − λ)² is ≥ 0 (sign with λ = l/(1+l), l ≥ 0);
t − √t = √t(√t − 1) ≥ 0 (t = (1+r)²).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from . import _engine as E

T_ = sp.Symbol("T", integer=True, nonnegative=True)
LAM = sp.Symbol("lam", nonnegative=True)
SYMBOLS = {"T": T_, "lam": LAM}
PAPER_CLOSED = "(1 - (T + 1)*lam**T + T*lam**(T + 1))/(1 - lam)**2"
PAPER_BOUND = "1/(1 - lam)**2"
USED_IN = "Cor 2.1.1: Σ_t β1λ^(t−1)√t ≤ β1/(1−λ)²"


def check_l14_weighted_geometric(
    closed_form: Any = PAPER_CLOSED, bound: Any = PAPER_BOUND, *, T_max: int = 3000, n_lam: int = 400, seed: Any = 0
) -> E.Check:
    """Assert Σ_{t≤T} tλ^{t−1} = ``closed_form`` ≤ ``bound`` for 0 ≤ λ < 1, T ≥ 0, and √t ≤ t.

    Numeric first: direct partial sums for ``n_lam`` values of λ ∈ [0, 0.999] and every T ≤ ``T_max``
    (closed form to 1e-9 relative, bound). Symbolic: induction and the sign of the remainder.
    """
    step = "L14"
    closed, upper = E.parse(closed_form, SYMBOLS, name="closed_form"), E.parse(bound, SYMBOLS, name="bound")
    rng = E.seeded(seed)
    lam = np.r_[0.0, rng.uniform(0, 0.999, n_lam - 1)]
    t = np.arange(1, T_max + 1, dtype=np.float64)[:, None]
    partial = np.cumsum(t * lam ** (t - 1), axis=0)
    cf = np.broadcast_to(E.lambdify([T_, LAM], closed)(t, lam), partial.shape)
    pts = {"T": t, "lam": np.broadcast_to(lam, partial.shape)}
    E.falsify(step, np.abs(cf - partial), 1e-9 * (partial + 1.0), pts, what="closed form vs partial sums")
    upper_n = np.broadcast_to(E.lambdify([T_, LAM], upper)(t, lam), partial.shape)
    E.falsify(step, partial, upper_n, pts, what="bound", rtol=1e-12)
    how = _closed_form_and_bound(step, closed, upper)
    return E.Check(
        id="L14",
        statement=f"Σ_(t≤T) tλ^(t−1) = {E.shown(closed_form, closed)} ≤ {E.shown(bound, upper)}; √t ≤ t",
        method="symbolic",
        detail=f"induction on T (simplify); remainder sign ({how}); t − √t ≥ 0 with t = (1+r)²; "
        f"numeric: {n_lam} λ × every T ≤ {T_max}",
        used_in=USED_IN,
    )


def weighted_geometric_bound(step: str) -> sp.Expr:
    """Prove Σ_{t≤T} √t λ^{t−1} ≤ Σ_{t≤T} tλ^{t−1} ≤ 1/(1 − λ)² symbolically; return 1/(1 − λ)²."""
    upper = sp.parse_expr(PAPER_BOUND, local_dict=SYMBOLS)
    _closed_form_and_bound(step, sp.parse_expr(PAPER_CLOSED, local_dict=SYMBOLS), upper)
    return upper


def _closed_form_and_bound(step: str, closed: sp.Expr, upper: sp.Expr) -> str:
    E.identity(step, closed.subs(T_, 0), sp.Integer(0), "C(0) = 0")
    E.identity(step, closed - closed.subs(T_, T_ - 1), T_ * LAM ** (T_ - 1), "C(T) − C(T−1) = Tλ^(T−1)")
    l = sp.Symbol("l", nonnegative=True)
    how = E.nonneg(step, (upper - closed).subs(LAM, l / (1 + l)), "bound − C(T), λ = l/(1+l)")
    r = sp.Symbol("r", nonnegative=True)
    E.nonneg(step, (1 + r) ** 2 - (1 + r), "t − √t with t = (1+r)²")
    return how
