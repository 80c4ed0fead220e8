r"""L7 — replacing 1/(1 − β1t) by 1/(1 − β1) inside the telescoping sum of the first term.

The proof bounds Σ_t D_t/(2α_t(1 − β1t)) by Σ_t D_t/(2α_t(1 − β1)) with
D_t = ‖s_t^{1/4}(θ_t − θ*)‖² − ‖s_t^{1/4}(θ_{t+1} − θ*)‖². Termwise this needs D_t ≥ 0, which is
false whenever an iterate moves away from θ*; the difference is Σ_t w_t D_t/(2α_t) with weights
w_t = 1/(1 − β1) − 1/(1 − β1t) ≥ 0 that vanish only when β1t ≡ β1. Tran & Phong (2019) found the
same step invalid in AMSGrad's proof.

* **(a)** counterexample on a run of the analysed recursion with β1t = β1 λ^(t−1), the running
  maximum of s (so L6 holds and only this step is tested) and θ* the exact best fixed point.
* **(b)** the natural repair — keep 1/(1 − β1t) and telescope √s_t/(α_t(1 − β1t)) — needs that
  sequence non-decreasing; with constant s (which satisfies s_t ≤ s_{t+1}) and β1t = β1 λ^(t−1) it
  decreases: an exact counterexample.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from adabelief_ref import _checks

from . import _engine as E
from ._instances import Box, quadratic_run

USED_IN = "Thm 2.1 first term (constant 1/(2α(1−β1))) and Cor 2.1.1 (β1t = β1λ^(t−1))"


def check_l7_replacement(
    *, lam: float = 0.99, T: int = 100, lr: float = 0.1, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-16,
) -> E.Check:
    """Exhibit Σ_t D_t/(2α_t(1 − β1t)) > Σ_t D_t/(2α_t(1 − β1)) on a run.

    Problem: F = [−1, 1], f_t(θ) = ½(θ − z_t)² with z_t = +1 for t ≤ T/2 and −1 after, so
    θ* = clip(mean z) = 0 exactly and θ_1 = 0 = θ*: the iterate is pushed away and then pulled
    through θ* to the other side. ``lam=1`` (β1t ≡ β1) makes both sides equal, so no counterexample.
    """
    step = "L7"
    lam = _checks.decay_factor("lam", lam)
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 2 or T % 2:
        raise ValueError(f"T must be an even integer >= 2 (θ* = 0 needs balanced targets); got {T!r}")
    z = np.r_[np.ones(T // 2), -np.ones(T // 2)][:, None]
    r = quadratic_run(z, lr=lr, betas=betas, eps=eps, beta1_decay=lam, amsgrad=True, box=Box())
    q = np.sqrt(r.s_used)
    D = np.sum(q * (r.played - r.theta_star) ** 2 - q * (r.next_iterate - r.theta_star) ** 2, axis=1)
    alpha, beta1t = r.trace.alpha, r.trace.beta1
    as_printed = float(np.sum(D / (2 * alpha * (1 - beta1t))))
    replaced = float(np.sum(D / (2 * alpha * (1 - betas[0]))))
    if not as_printed - replaced > 1e-9 * (abs(as_printed) + abs(replaced)):
        raise E.ProofError(step, f"no counterexample: Σ D_t/(2α_t(1−β1t)) = {as_printed:.6g} ≤ "
                           f"Σ D_t/(2α_t(1−β1)) = {replaced:.6g} (λ={lam:g})")
    return E.Check(
        id="L7.a",
        statement="Σ_t D_t/(2α_t(1−β1t)) ≤ Σ_t D_t/(2α_t(1−β1)) with β1t = β1λ^(t−1) — fails",
        method="counterexample",
        detail=f"analysed recursion with running max of s, F=[−1,1], z_t = +1 then −1, θ* = 0, α={lr:g}/√t, "
        f"β=({betas[0]:g}, {betas[1]:g}), λ={lam:g}, T={T}: {np.sum(D < 0)} of {T} brackets D_t are negative",
        used_in=USED_IN,
        holds_as_used=False,
        figures={"lhs_with_beta1t": as_printed, "rhs_with_beta1": replaced, "negative_brackets": int(np.sum(D < 0))},
    )


def check_l7_monotone_fix(*, beta1: Any = "9/10", lam: Any = "99/100", T: int = 300) -> E.Check:
    """Exhibit t with q_t < q_{t−1} for q_t = √t/(1 − β1 λ^(t−1)) (s constant, α = 1), in exact
    rational arithmetic. ``beta1`` and ``lam`` are exact numbers (text like "9/10", or floats,
    which are read by their decimal text). ``lam=1`` gives q_t = √t/(1 − β1), increasing: no
    counterexample.
    """
    step = "L7"
    b, l = _exact("beta1", beta1), _exact("lam", lam)
    if not (0 < b < 1):
        raise ValueError(f"beta1 must lie in (0, 1); got {beta1!r}")
    if not (0 < l <= 1):
        raise ValueError(f"lam must lie in (0, 1]; got {lam!r}")
    t = np.arange(1, T + 1, dtype=np.float64)
    q = np.sqrt(t) / (1 - float(b) * float(l) ** (t - 1))
    drops = np.flatnonzero(q[1:] < q[:-1]) + 2
    for t_bad in drops[:1]:
        n = sp.Integer(int(t_bad))
        exact = sp.sqrt(n) / (1 - b * l ** (n - 1)) - sp.sqrt(n - 1) / (1 - b * l ** (n - 2))
        if exact.is_negative is True:
            return E.Check(
                id="L7.b",
                statement="√s_t/(α_t(1−β1t)) non-decreasing for s_t ≤ s_{t+1}, β1t = β1λ^(t−1) — fails",
                method="counterexample",
                detail=f"s constant, α_t = 1/√t, β1 = {b}, λ = {l}: q_t − q_(t−1) < 0 at t = {int(t_bad)} "
                f"(exact sign by sympy); q decreases on {drops.size} of t = 2..{T}",
                used_in=USED_IN,
                holds_as_used=False,
                figures={"t": int(t_bad), "q_t_minus_q_prev": float(exact.evalf(30)),
                         "decreasing_steps": int(drops.size)},
            )
    raise E.ProofError(step, f"no counterexample: q_t is non-decreasing on t = 1..{T} (β1 = {b}, λ = {l})")


def _exact(name: str, value: Any) -> sp.Rational:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number or its text; got {value!r}")
    try:
        number = sp.Rational(str(value))
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number or its text (e.g. '9/10'); got {value!r}") from None
    return number
