r"""N1 (iii) — the squared variation: Σ_{t=2}^T ‖a_t − a_{t−1}‖² ≤ d α²/c, a_{t,i} = α_t/√s_{t,i}.

With a_{t,i} non-increasing, the differences δ_t = a_{t−1,i} − a_{t,i} are ≥ 0, so
Σ δ_t² ≤ (Σ δ_t)² (by induction: (S + δ)² − (Q + δ²) = (S² − Q) + 2Sδ) ≤ (α/√c)² per coordinate
(N1 (ii)). Needs the same monotonicity as (ii).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from . import _engine as E
from .n1_ii_step_variation import monotone_instances

ALPHA, C = sp.symbols("alpha c", positive=True)
D = sp.Symbol("d", positive=True, integer=True)
SYMBOLS = {"alpha": ALPHA, "c": C, "d": D}
PAPER_CONSTANT = "d*alpha**2/c"
USED_IN = "Thm 2.2: the C3 term C3·dα²/c (needs α_t/√s_t non-increasing)"


def check_n1_iii(
    constant: Any = PAPER_CONSTANT, *, n_runs: int = 1000, T: int = 100, d: int = 3, seed: Any = 0
) -> E.Check:
    """Assert Σ_{t=2}^T ‖a_t − a_{t−1}‖² ≤ ``constant`` when a_{t,i} is non-increasing in t.

    Numeric first: ``n_runs`` random monotone instances and the two-step extreme. Symbolic: the
    induction certificate for Σδ² ≤ (Σδ)², (Σδ)² ≤ α²/c, and constant − dα²/c ≥ 0.
    """
    step = "N1.iii"
    kappa = E.parse(constant, SYMBOLS, name="constant")
    rng = E.seeded(seed)
    a, c, alpha = monotone_instances(rng, n_runs, T, d)
    lhs = np.sum(np.diff(a, axis=0) ** 2, axis=(0, 2))
    rhs = np.broadcast_to(E.lambdify([ALPHA, C, D], kappa)(alpha, c, d), lhs.shape)
    E.falsify(step, lhs, rhs, {"c": c, "alpha": alpha}, what="random monotone instances", rtol=1e-12)
    extreme = (1 - 1 / np.sqrt(2e12)) ** 2
    E.falsify(step, np.array(extreme), np.array(float(kappa.subs({ALPHA: 1, C: 1, D: 1}))), {"d": np.array(1)},
              what="two-step extreme", rtol=1e-12)
    S, dl, h = sp.symbols("S delta h", nonnegative=True)
    Q = S**2 - h
    E.certificate(step, (S + dl) ** 2 - (Q + dl**2), [h, 2 * S * dl], "Σδ² ≤ (Σδ)² (induction step)")
    r = sp.Symbol("r", nonnegative=True)
    E.nonneg(step, ALPHA**2 / C - ALPHA**2 / (sp.sqrt(C) + r) ** 2, "(α/√c)² − (α/√s_1)²")
    how = E.nonneg(step, kappa - D * ALPHA**2 / C, "constant − dα²/c")
    return E.Check(
        id="N1.iii",
        statement=f"α_t/√s_t non-increasing ⇒ Σ_t ‖α_t/√s_t − α_(t−1)/√s_(t−1)‖² ≤ {E.shown(constant, kappa)}",
        method="symbolic",
        detail=f"Σδ² ≤ (Σδ)² by an induction certificate, (Σδ)² ≤ α²/c by (ii), constant − dα²/c ≥ 0 ({how}); "
        f"numeric: {n_runs} monotone instances, T={T}, d={d}",
        used_in=USED_IN,
    )
