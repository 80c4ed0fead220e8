r"""Assembly — composing the lemma bounds recovers the constants of Theorem 2.1 exactly.

Start from L3 (in aggregate form, A_t = ‖s_t^{1/4}(θ_t − θ*)‖², B_t = ‖s_t^{1/4}(θ_{t+1} − θ*)‖²,
X_t = ⟨m_{t−1}, θ_t − θ*⟩, M_t = ‖s_t^{−1/4} m_t‖²), bound −X_t by L4 (Young, giving
M′_t = ‖s_t^{−1/4} m_{t−1}‖² and A′_t = A_t), and read off the coefficient of each quantity:

* first term: coefficient of A_t − B_t is 1/(2α_t(1 − β1t)) → 1/(2α_t(1 − β1)) (**L7** — invalid for
  decaying β1t, see L7.a) → Σ_t (A_t − B_t)/α_t ≤ D∞² Σ_i √s_{T,i}/α_T = D∞²√T Σ_i √s_{T,i}/α
  (**L6**, diameter) ⇒ 1/(2α(1 − β1)).
* second term: coefficients α_t/(2(1 − β1t)) of M_t and β1t α_t/(2(1 − β1t)) of M′_t; both grow with
  β1t, so β1t → β1 is valid; **L5** moves α_t M′_t to α_{t−1} M_{t−1} ⇒ (1 + β1)/(2(1 − β1)) per
  unit of Σ α_t M_t; **L11** (= L8·L9·L10·L12) ⇒ × 1/(1 − β1)² ⇒ (1 + β1)/(2(1 − β1)³).
* third term: coefficient β1t/(2α_t(1 − β1t)) of A′_t → β1t/(2α_t(1 − β1)) (valid: A′_t ≥ 0),
  A′_t ≤ D∞² Σ_i √s_{t,i} ⇒ 1/(2(1 − β1)) per unit of D∞² Σ_t Σ_i β1t √s_{t,i}/α_t.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from . import _engine as E
from . import l03_one_step as L3
from . import l04_young as L4
from . import l11_second_term as L11
from ._instances import Box, quadratic_run

ALPHA, C, T_ = sp.symbols("alpha c T", positive=True)
BETA1 = sp.Symbol("beta1", nonnegative=True)
SYMBOLS = {"alpha": ALPHA, "beta1": BETA1}
PAPER = {
    "first": "1/(2*alpha*(1 - beta1))",
    "second": "(1 + beta1)/(2*(1 - beta1)**3)",
    "third": "1/(2*(1 - beta1))",
}
USED_IN = "Thm 2.1 (the three constants of the regret bound)"


def derive_constants(step: str = "assembly") -> tuple[dict[str, sp.Expr], dict[str, list[str]]]:
    """Compose L3, L4, L5, L6, L7, L11 symbolically; return the three constants and, for each, the
    list of steps that produced its factors."""
    a, b1t = sp.Symbol("alpha_t", positive=True), sp.Symbol("beta1t", nonnegative=True)
    A, B, X, M, Mp, Ap = sp.symbols("A B X M Mp Ap", real=True)
    aggregated = (A - B) / (2 * a * (1 - b1t)) - b1t / (1 - b1t) * X + a / (2 * (1 - b1t)) * M
    coordinate = {A: sp.sqrt(L3.S) * (L3.THETA - L3.THETA_STAR) ** 2, B: L3.NEXT,
                  X: L3.M_PREV * (L3.THETA - L3.THETA_STAR), M: L3.M_T**2 / sp.sqrt(L3.S)}
    paper_l3 = sp.parse_expr(L3.PAPER_BOUND, local_dict=L3.SYMBOLS)
    E.identity(step, aggregated.subs(coordinate).subs({a: L3.ALPHA, b1t: L3.BETA1T}), paper_l3, "L3 in aggregate form")
    cm = sp.parse_expr(L4.PAPER_COEF_M, local_dict=L4.SYMBOLS).subs(L4.ALPHA, a)
    cx = sp.parse_expr(L4.PAPER_COEF_X, local_dict=L4.SYMBOLS).subs(L4.ALPHA, a)
    bound = sp.expand(aggregated.subs(X, -(cm * Mp + cx * Ap)))  # −X ≤ c_m M′ + c_x A′ (L4), coefficient ≥ 0
    coef = {name: sp.simplify(bound.coeff(sym)) for name, sym in (("tel", A), ("M", M), ("Mp", Mp), ("Ap", Ap))}
    E.identity(step, coef["tel"], -sp.simplify(bound.coeff(B)), "A_t − B_t enter together")
    k, b, v = sp.symbols("k b v", nonnegative=True)
    for name in ("M", "Mp"):
        E.nonneg(step, sp.diff(coef[name], b1t).subs(b1t, k / (1 + k)), f"coefficient of {name} grows with β1t")
    beta1_of_b, b1t_below = b / (1 + b), b / ((1 + b) * (1 + v))  # 0 ≤ β1t ≤ β1 < 1
    E.nonneg(step, (1 / (1 - BETA1) - 1 / (1 - b1t)).subs({BETA1: beta1_of_b, b1t: b1t_below}),
             "1/(1−β1t) ≤ 1/(1−β1) on the non-negative terms")
    first = sp.simplify(coef["tel"].subs(b1t, BETA1) * a / ALPHA)
    per_unit = sp.simplify((coef["M"] + coef["Mp"]).subs(b1t, BETA1) / a)
    l11 = sp.parse_expr(L11.PAPER_CONSTANT, local_dict=L11.SYMBOLS)
    second = sp.simplify(per_unit * l11 / (L11.ALPHA * sp.sqrt(1 + sp.log(L11.T_)) / sp.sqrt(L11.C)))
    third = sp.simplify((coef["Ap"] * (1 - b1t) / (1 - BETA1)) * a / b1t)
    provenance = {
        "first": ["L3: 1/(2α_t(1−β1t))", "L7: β1t → β1 in a signed sum", "L6: Σ Γ = √T√s_T/α"],
        "second": ["L3: α_t/(2(1−β1t))", "L4: β1t α_t/(2(1−β1t))", "L5: index shift", "L11: 1/(1−β1)² (L8·L9·L10·L12)"],
        "third": ["L4: β1t/(2α_t(1−β1t))", "1/(1−β1t) ≤ 1/(1−β1) on A′ ≥ 0", "diameter D∞²"],
    }
    return {"first": first, "second": second, "third": third}, provenance


def check_assembly(
    first: Any = PAPER["first"], second: Any = PAPER["second"], third: Any = PAPER["third"],
    *, T: int = 300, seed: Any = 0,
) -> E.Check:
    """Assert that the composed constants equal ``first``, ``second``, ``third`` exactly, and that
    the resulting bound holds at every horizon of a run that satisfies every assumption
    (running max of s, β1t ≡ β1, box F, d = 3; c = min s, G∞ and D∞ = 2 measured).
    """
    step = "assembly"
    claimed = {k: E.parse(v, SYMBOLS, name=k) for k, v in (("first", first), ("second", second), ("third", third))}
    derived, provenance = derive_constants(step)
    for key in ("first", "second", "third"):
        E.identity(step, claimed[key], derived[key], f"{key} constant vs composed lemmas")
    rng = E.seeded(seed)
    lr, beta1, d = 0.1, 0.9, 3
    z = rng.normal(0, 0.7, (T, d))
    r = quadratic_run(z, lr=lr, betas=(beta1, 0.999), eps=1e-8, amsgrad=True, box=Box())
    tr, s = r.trace, r.s_used
    tau = np.arange(1, T + 1, dtype=np.float64)
    mean = np.cumsum(z, axis=0) / tau[:, None]
    star = np.clip(mean, -1, 1)  # θ*_τ for each horizon τ
    played = np.cumsum(0.5 * np.sum((r.played - z) ** 2, axis=1))
    best = 0.5 * (tau * np.sum(star**2, axis=1) - 2 * np.sum(star * np.cumsum(z, axis=0), axis=1)
                  + np.cumsum(np.sum(z**2, axis=1)))
    regret = played - best
    k = {key: float(claimed[key].subs({ALPHA: lr, BETA1: beta1})) for key in claimed}
    c_tau = np.minimum.accumulate(s.min(axis=1))
    bound = (4 * np.sqrt(tau) * k["first"] * np.sum(np.sqrt(s), axis=1)
             + k["second"] * lr * np.sqrt(1 + np.log(tau)) / np.sqrt(c_tau)
             * np.sum(np.sqrt(np.cumsum(tr.g**4, axis=0)), axis=1)
             + 4 * k["third"] * np.cumsum(np.sum(beta1 * np.sqrt(s), axis=1) / tr.alpha))
    res = E.falsify(step, regret, bound, {"T": tau}, what="regret ≤ bound on a run satisfying the assumptions")
    return E.Check(
        id="assembly",
        statement=f"L3+L4+L5+L6+L7+L11 compose to 1st {E.shown(first, claimed['first'])}, "
        f"2nd {E.shown(second, claimed['second'])}, 3rd {E.shown(third, claimed['third'])}",
        method="symbolic",
        detail="; ".join(f"{key}: " + " × ".join(provenance[key]) for key in ("first", "second", "third"))
        + f"; exact by simplify; numeric: regret ≤ bound at every T ≤ {T} "
        f"(max ratio {float(np.max(regret / bound)):.3g})",
        used_in=USED_IN,
        figures={"max_regret_over_bound": float(np.max(regret / bound)), "min_margin": res["min_margin"]},
    )
