r"""L11 — the second term of Theorem 2.1, assembled from L8–L10 and L12.

(a) Σ_{j≤T} g_{j,i}²/√j ≤ ‖g²_{1:T,i}‖_2 · √(1 + log T), by Cauchy–Schwarz
    (Σ_j g_j² j^{−1/2})² ≤ (Σ_j g_j⁴)(Σ_j 1/j) and L12. Cauchy–Schwarz is proved for every length
    by induction: with P = Σa², Q = Σb², A = Σab and PQ − A² = h ≥ 0,
    (P + a²)(Q + b²) − (A + ab)² = h + P(b − Aa/P)² + (h/P)a².
(b) Σ_t α_t ‖s_t^{−1/4} m_t‖² ≤ α √(1 + log T)/(√c (1 − β1)²) · Σ_i ‖g²_{1:T,i}‖_2, the constant
    being the product of the factors the lemmas contribute:
    α (α_t = α/√t) × 1/√c (L8) × 1/(1 − β1) (L9) × 1/(1 − β1) (L10) × √(1 + log T) (part a).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from . import _engine as E
from ._instances import quadratic_run
from .l12_harmonic import harmonic_upper_bound

T_ = sp.Symbol("T", positive=True)
ALPHA, C = sp.symbols("alpha c", positive=True)
BETA1 = sp.Symbol("beta1", nonnegative=True)
SYMBOLS = {"T": T_, "alpha": ALPHA, "c": C, "beta1": BETA1}
PAPER_FACTOR = "sqrt(1 + log(T))"
PAPER_CONSTANT = "alpha*sqrt(1 + log(T))/(sqrt(c)*(1 - beta1)**2)"
USED_IN = "Thm 2.1 second term: (1+β1)/(2(1−β1)) × this constant"
FACTORS = (("alpha", "α_t = α/√t"), ("1/sqrt(c)", "L8"), ("1/(1 - beta1)", "L9"), ("1/(1 - beta1)", "L10"))


def cauchy_schwarz_step(step: str) -> None:
    """Prove the induction step of Cauchy–Schwarz by a sum-of-non-negative-terms certificate."""
    P, h = sp.Symbol("P", positive=True), sp.Symbol("h", nonnegative=True)
    A, a, b = sp.symbols("A a b", real=True)
    Q = (A**2 + h) / P
    gap = (P + a**2) * (Q + b**2) - (A + a * b) ** 2
    E.certificate(step, gap, [h, P * (b - A * a / P) ** 2, h / P * a**2], "Cauchy–Schwarz induction step")


def check_l11_second_term(
    factor: Any = PAPER_FACTOR, constant: Any = PAPER_CONSTANT, *, n_seq: int = 2000, T: int = 400, seed: Any = 0
) -> E.Check:
    """Assert (a) Σ_j g_j²/√j ≤ ‖g²_{1:T}‖_2·``factor`` and (b) Σ_t α_t‖s_t^{−1/4}m_t‖² ≤
    ``constant``·Σ_i ‖g²_{1:T,i}‖_2.

    Numeric first: (a) on ``n_seq`` random sequences at every horizon ≤ ``T`` (the constant
    sequence g ≡ 1 among them); (b) at every horizon of a stochastic run of the analysed recursion
    (c = min s, d = 3, T = 300). Symbolic: Cauchy–Schwarz by induction, L12, the sign of
    factor² − (1 + log T), and constant − (product of the lemma factors) ≥ 0.
    """
    step = "L11"
    phi = E.parse(factor, SYMBOLS, name="factor")
    kappa = E.parse(constant, SYMBOLS, name="constant")
    rng = E.seeded(seed)
    g = rng.standard_t(3, (T, n_seq))
    g[:, 0] = 1.0
    j = np.arange(1, T + 1, dtype=np.float64)[:, None]
    lhs_a = np.cumsum(g**2 / np.sqrt(j), axis=0)
    rhs_a = np.sqrt(np.cumsum(g**4, axis=0)) * np.broadcast_to(E.lambdify([T_], phi)(j), j.shape)
    E.falsify(step, lhs_a, rhs_a, {"T": j}, what="(a) on random sequences", rtol=1e-12)
    run_T, d = 300, 3
    r = quadratic_run(rng.normal(size=(run_T, d)), lr=0.1, betas=(0.9, 0.999), eps=1e-16)
    tr = r.trace
    lhs_b = np.cumsum(tr.alpha * np.sum(tr.m**2 / np.sqrt(r.s_used), axis=1))
    c_obs = np.minimum.accumulate(r.s_used.min(axis=1))
    horizon = np.arange(1, run_T + 1, dtype=np.float64)
    kappa_n = E.lambdify([ALPHA, C, BETA1, T_], kappa)(0.1, c_obs, 0.9, horizon)
    rhs_b = kappa_n * np.sum(np.sqrt(np.cumsum(tr.g**4, axis=0)), axis=1)
    run = E.falsify(step, lhs_b, rhs_b, {"T": horizon}, what="(b) on an AdaBelief run", rtol=1e-12)
    cauchy_schwarz_step(step)
    proven = harmonic_upper_bound(step)
    tau, b = sp.Symbol("tau", nonnegative=True), sp.Symbol("b", nonnegative=True)
    E.nonneg(step, phi.subs(T_, 1 + tau), "factor ≥ 0")
    E.nonneg(step, (phi**2 - proven).subs(T_, 1 + tau), "factor² − (1 + log T)")
    product = sp.Mul(*(sp.parse_expr(f, local_dict=SYMBOLS) for f, _ in FACTORS)) * phi
    gap = (kappa - product).subs({T_: 1 + tau, BETA1: b / (1 + b)})
    how = E.nonneg(step, gap, "constant − product of lemma factors")
    provenance = " × ".join(f"{f} ({src})" for f, src in FACTORS) + f" × {E.shown(factor, phi)} (part a)"
    return E.Check(
        id="L11",
        statement=f"Σ_j g_(j,i)²/√j ≤ ‖g²_(1:T,i)‖·{E.shown(factor, phi)}; "
        f"Σ_t α_t‖s_t^(-1/4)m_t‖² ≤ {E.shown(constant, kappa)}·Σ_i ‖g²_(1:T,i)‖",
        method="symbolic",
        detail=f"Cauchy–Schwarz by induction (certificate) + L12; constant = {provenance} ({how}); numeric: "
        f"{n_seq} sequences, every T ≤ {T}, and every horizon of a T={run_T} AdaBelief run",
        used_in=USED_IN,
        figures={"run_max_ratio": float(np.max(lhs_b / rhs_b)), "run_min_margin": run["min_margin"]},
    )
