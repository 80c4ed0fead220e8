r"""THEORY §1.3 — the facts about ε that make the assumption s_{t,i} ≥ c > 0 true.

* **Floor.** With s_0 = 0 the ε-part e_t of s_t obeys e_t = β2 e_{t−1} + ε, so
  e_t = ε(1 − β2^t)/(1 − β2); hence s_t ≥ e_t ≥ ε for t ≥ 1 and ŝ_t = s_t/(1 − β2^t) ≥ ε/(1 − β2):
  the assumption holds with c = ε (raw s) or c = ε/(1 − β2) (bias-corrected ŝ). The Adam-equivalent
  floor of the denominator is √(ε/(1 − β2)).
* **β1 = 0.** Then m_t = g_t, the residual g_t − m_t vanishes, s_t = e_t, and Algorithm 2 is SGD
  with step α/(√(ε/(1 − β2)) + ε).
* **fp16.** ε = 1e-16 and squared residuals below ≈ 1.7e-4 round to 0 in float16.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from adabelief_ref import SGD, AdaBelief, run

from . import _engine as E

EPS = sp.Symbol("eps", positive=True)
BETA2 = sp.Symbol("beta2", nonnegative=True)
ALPHA = sp.Symbol("alpha", positive=True)
T_ = sp.Symbol("t", integer=True, nonnegative=True)
SYMBOLS = {"eps": EPS, "beta2": BETA2, "alpha": ALPHA, "t": T_}

USED_IN = "assumption s_{t,i} ≥ c > 0 of Thms 2.1/2.2 (c = ε or ε/(1−β2))"
PAPER_FLOOR = "eps*(1 - beta2**t)/(1 - beta2)"
PAPER_SGD_STEP = "alpha/(sqrt(eps/(1 - beta2)) + eps)"
FLOORS = ((1e-16, 0.999, 3.2e-7), (1e-8, 0.999, 3.2e-3))


def check_eps_floor(
    closed_form: Any = PAPER_FLOOR,
    *,
    floors: tuple[tuple[float, float, float], ...] = FLOORS,
    T: int = 200,
    seed: Any = 0,
) -> E.Check:
    """Assert e_t = ``closed_form`` (the ε-part of s_t), the floors s_t ≥ ε and ŝ_t ≥ ε/(1 − β2),
    and the Adam-equivalent floors √(ε/(1 − β2)) quoted in ``floors`` as (ε, β2, value to 2 digits).

    Symbolic: induction (e_0 = 0 and e_t = β2 e_{t−1} + ε) and ŝ-floor identity. Numeric
    cross-check: the reference optimizer with g ≡ 0 (then s_t = e_t exactly) and with random g.
    """
    step = "§1.3 floor"
    e = E.parse(closed_form, SYMBOLS, name="closed_form")
    E.identity(step, e.subs(T_, 0), sp.Integer(0), "base case e_0 = 0")
    E.identity(step, e, BETA2 * e.subs(T_, T_ - 1) + EPS, "induction step e_t = β2 e_{t−1} + ε")
    E.identity(step, e / (1 - BETA2**T_), EPS / (1 - BETA2), "ŝ floor e_t/(1 − β2^t) = ε/(1 − β2)")
    rng = E.seeded(seed)
    eps, beta2 = 1e-8, 0.999
    e_num = E.lambdify([EPS, BETA2, T_], e)(eps, beta2, np.arange(1, T + 1))
    opt = AdaBelief(1e-3, (0.9, beta2), eps)
    zero = run(opt, lambda t, th: np.zeros(3), np.zeros(3), T)
    E.falsify(step, np.abs(zero.s[:, 0] - e_num), 1e-13 * e_num, {"t": np.arange(1, T + 1)},
              what="reference s_t with g ≡ 0 equals e_t")
    noisy = run(opt, lambda t, th: rng.normal(size=3), np.zeros(3), T)
    E.falsify(step, e_num[:, None] * (1 - 1e-15), noisy.s, {}, what="s_t ≥ e_t on a random run")
    s_hat = noisy.s / (1 - beta2 ** np.arange(1, T + 1))[:, None]
    E.falsify(step, eps / (1 - beta2) * (1 - 1e-15), s_hat, {}, what="ŝ_t ≥ ε/(1 − β2) on a random run")
    figures = {}
    for eps_q, beta2_q, quoted in floors:
        value = float(np.sqrt(eps_q / (1 - beta2_q)))
        if float(f"{value:.2g}") != float(f"{quoted:.2g}"):
            raise E.ProofError(step, f"√(ε/(1−β2)) at ε={eps_q:g}, β2={beta2_q:g} is {value:.3g}, not ≈{quoted:g}")
        figures[f"floor(eps={eps_q:g})"] = value
    return E.Check(
        id="§1.3a",
        statement=f"e_t = {E.shown(closed_form, e)}; s_t ≥ ε, ŝ_t ≥ ε/(1−β2); √(ε/(1−β2)) ≈ "
        + ", ".join(f"{q:g} (ε={x:g})" for x, _, q in floors),
        method="symbolic",
        detail="induction: simplify(e_0) == 0 and simplify(e_t − β2 e_{t−1} − ε) == 0; "
        "s_t − e_t = β2(s_{t−1} − e_{t−1}) + (1−β2)(g_t − m_t)² ≥ 0; ŝ floor by simplify; "
        f"cross-checked on the reference optimizer (T={T}, g ≡ 0 to 1e-13 and random g)",
        used_in=USED_IN,
        figures=figures,
    )


def check_eps_sgd_limit(step_size: Any = PAPER_SGD_STEP, *, T: int = 50, seed: Any = 0) -> E.Check:
    """Assert that with β1 = 0 Algorithm 2 is SGD with step ``step_size``.

    Symbolic: β1 = 0 gives m_t = g_t, g_t − m_t = 0, s_t = e_t, ŝ_t = ε/(1 − β2), m̂_t = g_t, so the
    update is θ_t = θ_{t−1} − α g_t/(√(ε/(1 − β2)) + ε). Numeric: the reference AdaBelief with
    betas (0, β2) and the reference SGD with that step agree to 1e-12 on a random quadratic.
    """
    step = "§1.3 beta1=0"
    claimed = E.parse(step_size, SYMBOLS, name="step_size")
    g, m_prev = sp.symbols("g m_prev", real=True)
    m = 0 * m_prev + (1 - 0) * g
    E.identity(step, g - m, sp.Integer(0), "residual g_t − m_t with β1 = 0")
    s_hat = EPS * (1 - BETA2**T_) / (1 - BETA2) / (1 - BETA2**T_)
    update = ALPHA * m / (sp.sqrt(s_hat) + EPS)
    E.identity(step, update, claimed * g, "update α m̂_t/(√ŝ_t + ε) equals step_size·g_t")
    rng = E.seeded(seed)
    lr, beta2, eps = 1e-5, 0.999, 1e-8
    sgd_lr = float(claimed.subs({ALPHA: lr, BETA2: sp.Float(beta2), EPS: sp.Float(eps)}))
    a = rng.normal(size=(4, 4))
    hess = a @ a.T / 4 + np.eye(4)
    grad = lambda t, th: hess @ th  # noqa: E731
    theta0 = rng.normal(size=4)
    ab = run(AdaBelief(lr, (0.0, beta2), eps), grad, theta0, T).theta
    sgd = run(SGD(sgd_lr), grad, theta0, T).theta
    E.falsify(step, np.abs(ab - sgd), 1e-12 * (np.abs(ab) + 1e-300), {}, what="AdaBelief(β1=0) = SGD trajectory")
    return E.Check(
        id="§1.3b",
        statement=f"β1 = 0 ⇒ g_t − m_t ≡ 0, s_t = e_t and Algorithm 2 is SGD with step {E.shown(step_size, claimed)}",
        method="symbolic",
        detail="simplify of the residual and of the update; reference AdaBelief(β1=0) vs reference "
        f"SGD(lr={sgd_lr:.4g}) agree to 1e-12 over T={T} steps (α=1e-5, β2=0.999, ε=1e-8)",
        used_in="§1.3: AdaBelief with β1 = 0 degenerates to SGD with step ≈ α/√(ε/(1−β2))",
        figures={"sgd_step_over_alpha": sgd_lr / lr},
    )


def check_eps_fp16(
    eps: float = 1e-16, residual: float = 1e-4, *, dtype: str = "float16", underflows: bool = True
) -> E.Check:
    """Assert that ε and the squared residual (g − m)² with |g − m| = ``residual`` round to 0 in
    ``dtype`` (``underflows=True``), so s_t = 0 and the step divides by zero.

    Numeric by exact floating-point evaluation (no sampling): the claim is about one format.
    """
    step = "§1.3 fp16"
    try:
        kind = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"dtype must name a numpy floating dtype; got {dtype!r}") from None
    if kind.kind != "f":
        raise ValueError(f"dtype must name a numpy floating dtype; got {dtype!r}")
    cast = kind.type
    eps_d, r = cast(eps), cast(residual)
    square = r * r
    s = cast(1 - 0.999) * square + eps_d
    did_underflow = bool(eps_d == 0 and square == 0 and s == 0)
    if did_underflow != underflows:
        raise E.ProofError(
            step, f"in {kind.name}: ε → {float(eps_d):.3g}, residual² → {float(square):.3g}, s → {float(s):.3g}; "
            f"underflow is {did_underflow}, not {underflows}",
        )
    tiny = float(np.finfo(kind).smallest_subnormal)
    return E.Check(
        id="§1.3c",
        statement=f"in {kind.name}, ε={eps:g} and ({residual:g})² "
        f"{'underflow' if underflows else 'do not underflow'} to 0",
        method="numeric",
        detail=f"exact evaluation in {kind.name} (smallest subnormal {tiny:.3g}); the claim is about one number "
        "format, so there is nothing to sample",
        used_in="§1.3: fp16 training makes s_t = 0 (the floor of the theory is lost)",
        figures={"smallest_subnormal": tiny, "s_in_dtype": float(s)},
    )
