r"""L4 — Young's inequality for the momentum cross term: per coordinate, with s > 0, α > 0,

    −m x ≤ c_m m²/√s + c_x √s x²,   (c_m, c_x) = (α/2, 1/(2α)),

i.e. −⟨m_{t−1}, θ_t − θ*⟩ ≤ (α_t/2)‖s_t^{−1/4} m_{t−1}‖² + (1/(2α_t))‖s_t^{1/4}(θ_t − θ*)‖².

Certificate (completing the square, q = s^{1/4}): for c_m > 0,

    c_m m²/q² + c_x q² x² + m x = c_m (m/q + q x/(2c_m))² + (c_x − 1/(4c_m)) q² x²,

so the statement holds for every (m, x) iff c_m > 0 and c_x ≥ 1/(4 c_m); the paper's pair is the
equality case c_m c_x = 1/4.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from . import _engine as E

ALPHA = sp.Symbol("alpha", positive=True)
SYMBOLS = {"alpha": ALPHA}
PAPER_COEF_M, PAPER_COEF_X = "alpha/2", "1/(2*alpha)"
USED_IN = "Thm 2.1: bounding the momentum term −β1t/(1−β1t)·⟨m_{t−1}, θ_t − θ*⟩ (gives the third term)"


def check_l4_young(
    coef_m: Any = PAPER_COEF_M, coef_x: Any = PAPER_COEF_X, *, n_points: int = 20_000, seed: Any = 0
) -> E.Check:
    """Assert −m x ≤ ``coef_m``·m²/√s + ``coef_x``·√s x² for all real m, x and s > 0.

    Numeric first (``n_points`` random points, half of them near the line m = −α√s·x where the
    paper's square vanishes), then the completed-square certificate and the sign of c_x − 1/(4c_m).
    """
    step = "L4"
    cm, cx = E.parse(coef_m, SYMBOLS, name="coef_m"), E.parse(coef_x, SYMBOLS, name="coef_x")
    rng = E.seeded(seed)
    n = n_points
    alpha, s = E.log_uniform(rng, 1e-4, 1e2, n), E.log_uniform(rng, 1e-8, 1e4, n)
    x = rng.normal(size=n)
    m = rng.normal(size=n)
    # half of the points on the line where the square vanishes for the paper's constants: m = −α√s x
    m[: n // 2] = -alpha[: n // 2] * np.sqrt(s[: n // 2]) * x[: n // 2] * rng.uniform(0.5, 1.5, n // 2)
    cm_n, cx_n = E.lambdify([ALPHA], cm)(alpha), E.lambdify([ALPHA], cx)(alpha)
    rhs = cm_n * m**2 / np.sqrt(s) + cx_n * np.sqrt(s) * x**2
    E.falsify(step, -m * x, rhs, {"alpha": alpha, "s": s, "m": m, "x": x}, what="Young's inequality")
    q = sp.Symbol("q", positive=True)
    mm, xx = sp.symbols("m x", real=True)
    E.nonneg(step, cm, "coefficient c_m")
    if E.is_zero(cm):
        raise E.ProofError(step, "c_m = 0 leaves the cross term m·x unbounded")
    gap = cm * mm**2 / q**2 + cx * q**2 * xx**2 + mm * xx
    residual = cx - 1 / (4 * cm)
    E.identity(step, gap, cm * (mm / q + q * xx / (2 * cm)) ** 2 + residual * q**2 * xx**2, "completed square")
    how = E.nonneg(step, residual, "c_x − 1/(4 c_m)")
    return E.Check(
        id="L4",
        statement=f"−⟨m, x⟩ ≤ {E.shown(coef_m, cm)}·‖s^(-1/4)m‖² + {E.shown(coef_x, cx)}·‖s^(1/4)x‖²",
        method="symbolic",
        detail=f"completed square c_m(m/q + qx/(2c_m))² + (c_x − 1/(4c_m))q²x², q = s^(1/4), checked by simplify; "
        f"c_x − 1/(4c_m) = {E.text(sp.simplify(residual))} ≥ 0 ({how}); numeric: {n_points} points",
        used_in=USED_IN,
    )
