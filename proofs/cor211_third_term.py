r"""Corollary 2.1.1 — the third term of Theorem 2.1 with β1t = β1 λ^(t−1), 0 < λ < 1:

    D∞²/(2(1−β1)) Σ_{t=1}^T Σ_{i=1}^d β1t √s_{t,i}/α_t
        ≤ D∞²/(2(1−β1)) · d β1 G∞/α · Σ_t λ^(t−1) √t          (√s_{t,i} ≤ G∞, L15 at ε = 0; α_t = α/√t)
        ≤ d · D∞² β1 G∞ / (2(1−β1)(1−λ)² α)                   (√t ≤ t and L14).

The sum over the d coordinates contributes the factor d; the corollary as printed omits it.

* **(a)** the corrected constant (with d), symbolic.
* **(b)** the printed constant (without d) is exceeded on an actual run — counterexample.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from adabelief_ref import AdaBelief, run

from . import _engine as E
from ._instances import Box
from .l14_weighted_geometric import LAM as L14_LAM
from .l14_weighted_geometric import weighted_geometric_bound

ALPHA, G, DIAM = sp.symbols("alpha G D", positive=True)
BETA1, LAM = sp.Symbol("beta1", nonnegative=True), sp.Symbol("lam", nonnegative=True)
DIM = sp.Symbol("d", positive=True, integer=True)
SYMBOLS = {"alpha": ALPHA, "G": G, "D": DIAM, "beta1": BETA1, "lam": LAM, "d": DIM}
CORRECTED = "d*D**2*beta1*G/(2*(1 - beta1)*(1 - lam)**2*alpha)"
PRINTED = "D**2*beta1*G/(2*(1 - beta1)*(1 - lam)**2*alpha)"
USED_IN = "Cor 2.1.1: R(T) = O(√(T log T)) (the third term is bounded by a constant)"


def check_cor211_third_term(
    constant: Any = CORRECTED, *, n_inst: int = 4000, T: int = 200, seed: Any = 0
) -> E.Check:
    """Assert third term ≤ ``constant`` for all d ≥ 1, 0 ≤ λ < 1, 0 ≤ β1 < 1, √s_{t,i} ≤ G∞, T.

    Numeric first: ``n_inst`` instances (d ∈ 1..200, λ and β1 ∈ [0, 0.99], Σ_i √s_{t,i} = ρ_t d G∞
    with ρ_t ∈ (0, 1], half at the extreme ρ ≡ 1), every horizon ≤ ``T``. Symbolic: the chain
    above with L14, then constant − dD²β1G/(2(1−β1)(1−λ)²α) ≥ 0 (β1 = b/(1+b), λ = l/(1+l), d = 1 + e).
    """
    step = "C2.1.1"
    kappa = E.parse(constant, SYMBOLS, name="constant")
    rng = E.seeded(seed)
    d = rng.integers(1, 201, n_inst).astype(np.float64)
    lam, beta1 = rng.uniform(0, 0.99, n_inst), rng.uniform(0, 0.99, n_inst)
    alpha, Gn, Dn = rng.uniform(0.01, 1, n_inst), rng.uniform(0.1, 10, n_inst), rng.uniform(0.1, 10, n_inst)
    rho = np.where(rng.uniform(size=(T, n_inst)) < 0.5, 1.0, rng.uniform(0, 1, (T, n_inst)))
    rho[:, : n_inst // 2] = 1.0
    t = np.arange(1, T + 1, dtype=np.float64)[:, None]
    terms = beta1 * lam ** (t - 1) * rho * d * Gn / (alpha / np.sqrt(t))
    lhs = Dn**2 / (2 * (1 - beta1)) * np.cumsum(terms, axis=0)
    rhs = np.broadcast_to(E.lambdify([ALPHA, G, DIAM, BETA1, LAM, DIM], kappa)(alpha, Gn, Dn, beta1, lam, d), lhs.shape)
    pts = {"T": t, "d": np.broadcast_to(d, lhs.shape), "lam": np.broadcast_to(lam, lhs.shape)}
    E.falsify(step, lhs, rhs, pts, what="third term vs constant", rtol=1e-12)
    geometric = weighted_geometric_bound(step).subs(L14_LAM, LAM)
    needed = DIAM**2 / (2 * (1 - BETA1)) * DIM * BETA1 * G / ALPHA * geometric
    b, l, e = sp.symbols("b l e", nonnegative=True)
    gap = (kappa - needed).subs({BETA1: b / (1 + b), LAM: l / (1 + l), DIM: 1 + e})
    how = E.nonneg(step, gap, "constant − dD²β1G/(2(1−β1)(1−λ)²α)")
    return E.Check(
        id="C2.1.1.a",
        statement=f"β1t = β1λ^(t−1), √s ≤ G∞ ⇒ D∞²/(2(1−β1)) Σ_t Σ_i β1t√s_(t,i)/α_t ≤ {E.shown(constant, kappa)}",
        method="symbolic",
        detail=f"Σ over i gives d; √t ≤ t and Σ tλ^(t−1) ≤ 1/(1−λ)² (L14); constant − needed ≥ 0 ({how}); "
        f"numeric: {n_inst} instances, every T ≤ {T}",
        used_in=USED_IN,
    )


def third_term_on_run(
    *, d: int = 100, lam: float = 0.01, T: int = 50, lr: float = 0.1, betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-16, G_inf: float = 1.0,
) -> dict[str, float]:
    """The third term of Theorem 2.1 on a run, next to the printed and the corrected constants.

    Run: the analysed recursion (β1t = β1λ^(t−1), α_t = α/√t) on f_t(θ) = ⟨(G∞/2)·1, θ⟩ over
    F = [−1, 1]^d (D∞ = 2, ‖g_t‖_∞ = G∞/2 exactly). Returns the third term, the printed constant
    D∞²β1G∞/(2(1−β1)(1−λ)²α), their ratio, and max_{t,i} √s_{t,i}/G∞ (the corollary's hypothesis).
    """
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
        raise ValueError(f"d must be an integer >= 1; got {d!r}")
    opt = AdaBelief(lr, betas, eps, form="analysis", lr_schedule="inv_sqrt", beta1_decay=lam, feasible_set=Box())
    tr = run(opt, lambda t, th: np.full(d, G_inf / 2), np.zeros(d), T)
    diam, beta1 = 2.0, betas[0]
    third = diam**2 / (2 * (1 - beta1)) * float(np.sum(tr.beta1[:, None] * np.sqrt(tr.s) / tr.alpha[:, None]))
    printed = diam**2 * beta1 * G_inf / (2 * (1 - beta1) * (1 - lam) ** 2 * lr)
    return {"third_term": third, "printed_constant": printed, "ratio": third / printed,
            "corrected_ratio": third / (d * printed), "max_sqrt_s_over_G": float(np.max(np.sqrt(tr.s))) / G_inf}


def check_cor211_missing_d(
    *, d: int = 100, lam: float = 0.01, T: int = 50, lr: float = 0.1, betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-16, G_inf: float = 1.0,
) -> E.Check:
    """Exhibit a run (:func:`third_term_on_run`) whose third term exceeds the printed constant while
    the corollary's hypothesis √s_{t,i} ≤ G∞ holds. With ``d=1`` the printed constant holds.
    """
    step = "C2.1.1"
    res = third_term_on_run(d=d, lam=lam, T=T, lr=lr, betas=betas, eps=eps, G_inf=G_inf)
    if res["max_sqrt_s_over_G"] > 1:
        raise E.ProofError(step, "the corollary's hypothesis √s ≤ G∞ fails on this run; not a valid instance")
    if not res["ratio"] > 1 + 1e-9:
        raise E.ProofError(step, f"no counterexample: third term {res['third_term']:.6g} ≤ printed constant "
                           f"{res['printed_constant']:.6g} (d={d})")
    return E.Check(
        id="C2.1.1.b",
        statement="third term ≤ D∞²β1G∞/(2(1−β1)(1−λ)²α) as printed (no factor d) — fails",
        method="counterexample",
        detail=f"analysed recursion on f_t = ⟨(G∞/2)·1, θ⟩, F = [−1,1]^d, d={d}, λ={lam:g}, α={lr:g}/√t, "
        f"β=({betas[0]:g}, {betas[1]:g}), ε={eps:g}, T={T}: ratio {res['ratio']:.3g} > 1 "
        f"({res['corrected_ratio']:.3g} against the corrected constant with d; "
        f"max √s/G∞ = {res['max_sqrt_s_over_G']:.3g})",
        used_in=USED_IN,
        holds_as_used=False,
        figures={**res, "d": d},
    )
