r"""L6 — the first term telescopes only if Γ_{t,i} = √s_{t,i}/α_t − √s_{t−1,i}/α_{t−1} ≥ 0.

Write h(t, s) = √s/α(t), so Γ_{t,i} = h(t, s_{t,i}) − h(t−1, s_{t−1,i}). Then ∂h/∂s = 1/(2√s α(t)) ≥ 0
and ∂h/∂t = −√s α′(t)/α(t)² ≥ 0 when α(t) is non-increasing, so Γ ≥ 0 whenever s_{t,i} ≥ s_{t−1,i}
(move first in t at fixed s_{t−1}, then in s) — **(a), symbolic, under the theorems' assumption
s_t ≤ s_{t+1}**.

The assumption is not part of the algorithm: raw AdaBelief's s_t decays like β2^t once the
residuals g_t − m_t shrink, and as soon as β2 < (t−1)/t (t > 1/(1−β2)) that is faster than α_t's
1/√t growth allows — **(b), counterexample on a run of the analysed recursion**. Γ does not
involve β1t; the decaying-β1t failure of the first term is L7.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from adabelief_ref.theory.audit import decrease_share

from . import _engine as E
from ._instances import quadratic_run

S = sp.Symbol("s", positive=True)
T_ = sp.Symbol("t", positive=True)
ALPHA = sp.Symbol("alpha", positive=True)
SYMBOLS = {"s": S, "t": T_, "alpha": ALPHA}
PAPER_SCHEDULE = "alpha/sqrt(t)"
USED_IN = "Thm 2.1 first term: Σ_t Σ_i Γ_{t,i}(θ_{t,i} − θ*_i)² ≤ D∞² Σ_i √s_{T,i}/α_T"


def check_l6_gamma_sign(
    schedule: Any = PAPER_SCHEDULE, *, s_nondecreasing: bool = True, n_points: int = 20_000, seed: Any = 0
) -> E.Check:
    """Assert Γ_t = √s_t/α_t − √s_{t−1}/α_{t−1} ≥ 0 for α_t = ``schedule``, over all s_{t−1} > 0 and
    s_t ≥ s_{t−1} (``s_nondecreasing=True``, the theorems' assumption) or all s_t > 0 (``False``).

    Numeric first (random t ∈ [2, 1e5], s over 12 decades), then the signs of ∂h/∂t and ∂h/∂s.
    """
    step = "L6"
    if not isinstance(s_nondecreasing, bool):
        raise ValueError(f"s_nondecreasing must be True or False; got {s_nondecreasing!r}")
    f_alpha = E.parse(schedule, SYMBOLS, name="schedule")
    rng = E.seeded(seed)
    t = np.floor(E.log_uniform(rng, 2, 1e5, n_points))
    s_prev = E.log_uniform(rng, 1e-8, 1e4, n_points)
    low = 1.0 if s_nondecreasing else 1e-3
    s_t = s_prev * E.log_uniform(rng, low, 1e3, n_points)
    ea = E.lambdify([T_, ALPHA, S], f_alpha)
    h_t, h_prev = np.sqrt(s_t) / ea(t, 0.1, 1.0), np.sqrt(s_prev) / ea(t - 1, 0.1, 1.0)
    E.falsify(step, h_prev, h_t, {"t": t, "s_prev": s_prev, "s_t": s_t}, what="Γ_t ≥ 0 at random points")
    h = sp.sqrt(S) / f_alpha
    how_t = E.nonneg(step, sp.diff(h, T_), "∂h/∂t (α non-increasing)")
    how_s = E.nonneg(step, sp.diff(h, S), "∂h/∂s")
    if not s_nondecreasing:
        raise E.ProofError(step, "the s-leg of the path needs s_t ≥ s_{t−1}; without it Γ_t ≥ 0 does not follow")
    return E.Check(
        id="L6.a",
        statement=f"s_t ≥ s_{{t−1}}, α_t = {E.shown(schedule, f_alpha)} ⇒ "
        "Γ_{t,i} = √s_{t,i}/α_t − √s_{t−1,i}/α_{t−1} ≥ 0",
        method="symbolic",
        detail=f"h(t,s) = √s/α(t): ∂h/∂t = {E.text(sp.simplify(sp.diff(h, T_)))} ≥ 0 ({how_t}), ∂h/∂s ≥ 0 ({how_s}); "
        f"numeric: {n_points} random (t, s_(t−1), s_t)",
        used_in=USED_IN,
    )


def gamma_on_run(
    *, T: int = 2000, d: int = 2, lr: float = 0.1, betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-16, amsgrad: bool = False, seed: Any = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Γ_{t,i} on a run of the analysed recursion (α_t = α/√t, no projection) on the deterministic
    quadratic f(θ) = ½‖θ − z‖², z ~ N(0, I_d) from ``seed``; with ``amsgrad=True`` the running
    maximum of s (the theorems' assumption) replaces s.

    Returns (t = 2..T, Γ of shape (T−1, d), Γ relative to √s_{t,i}/α_t, share of (t, i) with
    s_{t,i} < s_{t−1,i}).
    """
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 2:
        raise ValueError(f"T must be an integer >= 2; got {T!r}")
    z = np.broadcast_to(E.seeded(seed).normal(size=d), (T, d))
    r = quadratic_run(z, lr=lr, betas=betas, eps=eps, amsgrad=amsgrad)
    level = np.sqrt(r.s_used) / r.trace.alpha[:, None]
    gamma = level[1:] - level[:-1]
    return np.arange(2, T + 1), gamma, gamma / level[1:], decrease_share(r.s_used)


def check_l6_as_used(
    *, T: int = 2000, d: int = 2, lr: float = 0.1, betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-16, amsgrad: bool = False, seed: Any = 0,
) -> E.Check:
    """Exhibit Γ_{t,i} < 0 on the run of :func:`gamma_on_run`.

    Raises :class:`ProofError` when the run has no Γ_{t,i} < −1e-12·√s_{t,i}/α_t — which is what
    ``amsgrad=True`` (s replaced by its running maximum, the theorems' assumption) must give.
    """
    step = "L6"
    t, gamma, relative, share_dec = gamma_on_run(T=T, d=d, lr=lr, betas=betas, eps=eps, amsgrad=amsgrad, seed=seed)
    worst = np.unravel_index(int(np.argmin(relative)), relative.shape)
    if relative[worst] >= -1e-12:
        raise E.ProofError(step, f"no counterexample on this run: min Γ/(√s_t/α_t) = {relative[worst]:.3g} "
                           f"(amsgrad={amsgrad}, T={T})")
    negative = relative < -1e-12
    return E.Check(
        id="L6.b",
        statement="Γ_{t,i} ≥ 0 for raw AdaBelief (s_t not forced monotone) — fails",
        method="counterexample",
        detail=f"analysed recursion, α={lr:g}/√t, β=({betas[0]:g}, {betas[1]:g}), ε={eps:g}, f = ½‖θ − z‖², d={d}, "
        f"T={T}: Γ_{{t,i}} < 0 first at t = {int(t[np.argmax(negative.any(axis=1))])} "
        f"(t > 1/(1−β2) = {1 / (1 - betas[1]):.0f} is needed); "
        f"the worst at t = {int(t[worst[0]])}, i = {int(worst[1])}",
        used_in=USED_IN,
        holds_as_used=False,
        figures={
            "min_gamma": float(gamma[worst]), "min_gamma_relative": float(relative[worst]), "t": int(t[worst[0]]),
            "share_gamma_negative": float(np.mean(negative)), "share_s_decreasing": share_dec,
        },
    )
