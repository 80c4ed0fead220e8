r"""N1 (ii) — the total variation of the effective step sizes, with a_{t,i} = α_t/√s_{t,i}:

    Σ_{t=2}^T ‖a_t − a_{t−1}‖_1 ≤ d α/√c.

**(a)** If a_{t,i} is non-increasing in t (s_t ≤ s_{t+1} and α_t non-increasing), the sum
telescopes: Σ_t (a_{t−1,i} − a_{t,i}) = a_{1,i} − a_{T,i} ≤ a_{1,i} = α/√s_{1,i} ≤ α/√c — symbolic.

**(b)** Raw AdaBelief's s_t is not monotone, a_{t,i} oscillates, and the total variation exceeds
d α/√c even for the most generous admissible c = min_{t,i} s_{t,i} — counterexample on a run.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from . import _engine as E
from ._instances import quadratic_run

ALPHA, C = sp.symbols("alpha c", positive=True)
D = sp.Symbol("d", positive=True, integer=True)
SYMBOLS = {"alpha": ALPHA, "c": C, "d": D}
PAPER_CONSTANT = "d*alpha/sqrt(c)"
USED_IN = "Thm 2.2: the C2 term C2·dα/√c (needs α_t/√s_t non-increasing)"


def monotone_instances(rng: np.random.Generator, n: int, T: int, d: int):
    """Random (c, α, s) with s_{t,i} non-decreasing in t, s ≥ c and the floor attained at t = 1
    on half of the instances; returns a = α_t/√s_t of shape (T, n, d) with c, α."""
    c, alpha = E.log_uniform(rng, 1e-6, 1e2, n), rng.uniform(0.01, 1, n)
    growth = np.cumprod(E.log_uniform(rng, 1.0, 1.2, (T, n, d)), axis=0)
    start = np.where(rng.uniform(size=(n, d)) < 0.5, 1.0, E.log_uniform(rng, 1, 1e3, (n, d)))
    s = c[None, :, None] * start[None] * growth / growth[:1]
    t = np.arange(1, T + 1, dtype=np.float64)[:, None, None]
    return alpha[None, :, None] / np.sqrt(t) / np.sqrt(s), c, alpha


def check_n1_ii(
    constant: Any = PAPER_CONSTANT, *, n_runs: int = 1000, T: int = 100, d: int = 3, seed: Any = 0
) -> E.Check:
    """Assert Σ_{t=2}^T ‖a_t − a_{t−1}‖_1 ≤ ``constant`` when a_{t,i} is non-increasing in t.

    Numeric first: ``n_runs`` random monotone instances and the two-step extreme (s_1 = c, s_2 → ∞).
    Symbolic: telescoping (each term a_{t−1} − a_t ≥ 0), a_T ≥ 0, α/√s_1 ≤ α/√c, and
    constant − dα/√c ≥ 0.
    """
    step = "N1.ii"
    kappa = E.parse(constant, SYMBOLS, name="constant")
    rng = E.seeded(seed)
    a, c, alpha = monotone_instances(rng, n_runs, T, d)
    lhs = np.sum(np.abs(np.diff(a, axis=0)), axis=(0, 2))
    rhs = np.broadcast_to(E.lambdify([ALPHA, C, D], kappa)(alpha, c, d), lhs.shape)
    E.falsify(step, lhs, rhs, {"c": c, "alpha": alpha}, what="random monotone instances", rtol=1e-12)
    extreme = 1 - 1 / np.sqrt(2e12)  # s_1 = c, s_2 = 1e12·c, d = 1: variation α/√c·(1 − 1/√(2e12))
    E.falsify(step, np.array(extreme), np.array(float(kappa.subs({ALPHA: 1, C: 1, D: 1}))), {"d": np.array(1)},
              what="two-step extreme", rtol=1e-12)
    a_vars = sp.symbols("a1:6", nonnegative=True)
    E.identity(step, sum(a_vars[k - 1] - a_vars[k] for k in range(1, 5)), a_vars[0] - a_vars[4], "telescoping (T = 5)")
    r = sp.Symbol("r", nonnegative=True)
    E.nonneg(step, ALPHA / sp.sqrt(C) - ALPHA / (sp.sqrt(C) + r), "α/√c − α/√s_1, s_1 = (√c + r)²")
    how = E.nonneg(step, kappa - D * ALPHA / sp.sqrt(C), "constant − dα/√c")
    return E.Check(
        id="N1.ii.a",
        statement=f"α_t/√s_t non-increasing ⇒ Σ_t ‖α_t/√s_t − α_(t−1)/√s_(t−1)‖_1 ≤ {E.shown(constant, kappa)}",
        method="symbolic",
        detail=f"telescoping of non-negative differences (every T: Σ (a_(t−1) − a_t) = a_1 − a_T), a_T ≥ 0, "
        f"α/√s_1 ≤ α/√c (sign), constant − dα/√c ≥ 0 ({how}); numeric: {n_runs} monotone instances, T={T}, d={d}",
        used_in=USED_IN,
    )


def check_n1_ii_as_used(
    *, T: int = 1000, d: int = 1, lr: float = 0.1, betas: tuple[float, float] = (0.9, 0.9), eps: float = 1e-16,
    amsgrad: bool = False, seed: Any = 0,
) -> E.Check:
    """Exhibit Σ_t ‖a_t − a_{t−1}‖_1 > dα/√c with c = min_{t,i} s_{t,i} on a stochastic run of the
    analysed recursion (f_t(θ) = ½‖θ − z_t‖², z_t ~ N(0, I)). ``amsgrad=True`` makes a_t monotone:
    then the bound holds and there is no counterexample.
    """
    step = "N1.ii"
    z = E.seeded(seed).normal(size=(T, d))
    r = quadratic_run(z, lr=lr, betas=betas, eps=eps, amsgrad=amsgrad)
    a = r.trace.alpha[:, None] / np.sqrt(r.s_used)
    variation = float(np.sum(np.abs(np.diff(a, axis=0))))
    c = float(r.s_used.min())
    bound = d * lr / np.sqrt(c)
    if not variation > bound * (1 + 1e-9):
        raise E.ProofError(
            step, f"no counterexample: variation {variation:.6g} ≤ dα/√c = {bound:.6g} (amsgrad={amsgrad})"
        )
    return E.Check(
        id="N1.ii.b",
        statement="Σ_t ‖α_t/√s_t − α_(t−1)/√s_(t−1)‖_1 ≤ dα/√c for raw AdaBelief — fails",
        method="counterexample",
        detail=f"analysed recursion, α={lr:g}/√t, β=({betas[0]:g}, {betas[1]:g}), ε={eps:g}, noisy quadratic, d={d}, "
        f"T={T}, c = min s (the largest admissible): variation/(dα/√c) = {variation / bound:.3g}",
        used_in=USED_IN,
        holds_as_used=False,
        figures={"variation": variation, "bound": float(bound), "ratio": float(variation / bound)},
    )
