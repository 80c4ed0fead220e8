r"""L0 — convexity turns the regret into linear terms: f_t(θ_t) − f_t(θ*) ≤ ⟨g_t, θ_t − θ*⟩.

For a convex, twice differentiable f the gap f(y) − f(x) − f′(x)(y − x) equals the integral
remainder R = ∫_x^y (y − u) f″(u) du, which the substitution u = x + τ(y − x) turns into
(y − x)² ∫_0^1 (1 − τ) f″(x + τ(y − x)) dτ — an integral of a non-negative integrand. The vector
statement follows by applying this to φ(τ) = f_t(θ_t + τ(θ* − θ_t)), convex on [0, 1].
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from . import _engine as E

X, Y, U = sp.symbols("x y u", real=True)
TAU = sp.Symbol("tau")
F = sp.Function("f")
SYMBOLS = {"x": X, "y": Y, "f": F, "fp": sp.Lambda(U, sp.Derivative(F(U), U))}

PAPER_GAP = "f(y) - f(x) - fp(x)*(y - x)"
USED_IN = "Thm 2.1: regret R(T) ≤ Σ_t ⟨g_t, θ_t − θ*⟩ (x = θ_t, y = θ*)"
# convex test functions for the numeric search (f'' ≥ 0 everywhere)
CONVEX_FAMILY = {
    "exp": sp.exp(U),
    "softplus": sp.log(1 + sp.exp(U)),
    "quartic": U**4,
    "cosh": sp.cosh(U),
    "square": (U - sp.Rational(1, 3)) ** 2,
}


def check_l0_convexity(gap: Any = PAPER_GAP, *, n_points: int = 20_000, seed: Any = 0) -> E.Check:
    """Assert ``gap`` ≥ 0 for every convex C² function f (x = θ_t, y = θ*; ``fp`` is f′).

    The paper's gap f(y) − f(x) − f′(x)(y − x) ≥ 0 is f(x) − f(y) ≤ f′(x)(x − y), i.e. L0.
    Symbolic: d/dy (gap − R) = 0 and (gap − R)|_{y=x} = 0 identify the gap with the integral
    remainder R; after u = x + τ(y − x) the integrand is (1 − τ)(y − x)² f″(·) ≥ 0. Numeric: the gap
    at ``n_points`` random (x, y) ∈ [−3, 3]² for each of five convex functions.
    """
    step = "L0"
    claimed = E.parse(gap, SYMBOLS, name="gap")
    rng = E.seeded(seed)
    x = rng.uniform(-3, 3, n_points)
    y = rng.uniform(-3, 3, n_points)
    for name, body in CONVEX_FAMILY.items():
        concrete = claimed.subs(F, sp.Lambda(U, body)).doit()
        values = E.lambdify([X, Y], concrete)(x, y)
        E.falsify(step, np.zeros_like(x), values, {"f": np.array(name), "x": x, "y": y}, what=f"gap ≥ 0 for f = {name}")
    remainder = sp.Integral((Y - U) * sp.Derivative(F(U), (U, 2)), (U, X, Y))
    difference = claimed - remainder
    E.identity(step, sp.diff(difference, Y).doit(), sp.Integer(0), "d/dy (gap − ∫_x^y (y−u) f″(u) du)")
    E.identity(step, difference.subs(Y, X).doit(), sp.Integer(0), "(gap − remainder) at y = x")
    substituted = remainder.transform(U, (X + TAU * (Y - X), TAU))
    integrand, (var, low, high) = substituted.function, substituted.limits[0]
    if (low, high) != (0, 1):
        raise E.ProofError(step, f"substitution gave limits ({low}, {high}), expected (0, 1)")
    curvature, one_minus_tau = sp.Symbol("f2", nonnegative=True), sp.Symbol("sigma", nonnegative=True)
    integrand = integrand.replace(lambda e: isinstance(e, sp.Subs), lambda e: curvature)
    integrand = sp.factor(integrand.subs(var, 1 - one_minus_tau))
    how = E.nonneg(step, integrand, "integrand (1−τ)(y−x)² f″ on τ ∈ [0, 1], f″ ≥ 0")
    return E.Check(
        id="L0",
        statement=f"f convex ⇒ {E.shown(gap, claimed)} ≥ 0, i.e. f_t(θ_t) − f_t(θ*) ≤ ⟨g_t, θ_t − θ*⟩",
        method="symbolic",
        detail="gap = ∫_x^y (y−u) f″(u) du for generic f (derivative in y and value at y = x simplify to 0); "
        f"u = x + τ(y−x) gives integrand {E.text(integrand)} ({how}); numeric: {n_points} points × "
        f"{len(CONVEX_FAMILY)} convex f, no violation",
        used_in=USED_IN,
    )
