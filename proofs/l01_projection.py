r"""L1 — the weighted projection is non-expansive in its own norm (McMahan & Streeter, 2010).

With Q = diag(q), q = √s_t > 0 and u_k = Π_{F,Q}(z_k) = argmin_{x ∈ F} ‖Q^{1/2}(x − z_k)‖:

    ‖Q^{1/2}(u1 − u2)‖ ≤ ‖Q^{1/2}(z1 − z2)‖.

Proof: the identity (per coordinate, hence summed over i)

    L²‖z1 − z2‖²_Q − ‖u1 − u2‖²_Q = (L² − 1)‖z1 − z2‖²_Q + ‖(z1 − u1) − (z2 − u2)‖²_Q
                                     + 2⟨z1 − u1, u1 − u2⟩_Q + 2⟨z2 − u2, u2 − u1⟩_Q

and the optimality (variational) inequality of the Q-weighted projection onto the convex F,
⟨z_k − u_k, x − u_k⟩_Q ≤ 0 for every x ∈ F, applied with x = u_{3−k}. It is the inner product of
the *same* Q that makes the last two terms non-negative: a Euclidean projection satisfies it only
for the identity inner product, and is not non-expansive in the Q-norm.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from . import _engine as E

LIPSCHITZ = sp.Symbol("L", positive=True)
SYMBOLS = {"L": LIPSCHITZ}
WEIGHTS = ("sqrt_s", "identity")
USED_IN = "Thm 2.1 one-step bound: ‖s_t^{1/4}(θ_{t+1} − θ*)‖² ≤ ‖s_t^{1/4}(θ_t − α_t m_t/√s_t − θ*)‖² (θ* ∈ F)"


def project_box(z: np.ndarray, q: np.ndarray, radius: float = 1.0) -> np.ndarray:
    """Π_{F,Q} onto the box [−r, r]^d: clipping (separable, so the weights do not matter)."""
    return np.clip(z, -radius, radius)


def project_ball(z: np.ndarray, q: np.ndarray | None, radius: float = 1.0) -> np.ndarray:
    """Π_{F,Q} onto the ball ‖x‖ ≤ r, rows of ``z``: x_i = q_i z_i/(q_i + μ), μ ≥ 0 the root of
    ‖x(μ)‖ = r found by bisection (200 halvings); ``q=None`` is the Euclidean projection."""
    if q is None:
        norm = np.linalg.norm(z, axis=-1, keepdims=True)
        return z * np.minimum(1.0, radius / np.maximum(norm, 1e-300))
    norm = np.linalg.norm(z, axis=-1)
    lo = np.zeros_like(norm)
    hi = q.max(axis=-1) * np.maximum(norm / radius, 1.0)  # ‖x(hi)‖ ≤ r
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        outside = np.linalg.norm(q * z / (q + mid[..., None]), axis=-1) > radius
        lo, hi = np.where(outside, mid, lo), np.where(outside, hi, mid)
    inside = (norm <= radius)[..., None]
    return np.where(inside, z, q * z / (q + hi[..., None]))


def check_l1_projection(
    lipschitz: Any = 1, *, weights: str = "sqrt_s", n_points: int = 4000, d: int = 3, seed: Any = 0
) -> E.Check:
    """Assert ‖Q^{1/2}(u1 − u2)‖ ≤ ``lipschitz``·‖Q^{1/2}(z1 − z2)‖ for u_k the projection of z_k.

    ``weights="sqrt_s"``: u_k is the Q-weighted projection (Algorithm 2); ``"identity"``: u_k is the
    Euclidean projection, measured in the Q-norm (the false variant). Numeric search first (box and
    unit ball, q log-uniform in [1e-3, 1e3], ``n_points`` pairs), then the symbolic certificate.
    """
    step = "L1"
    if weights not in WEIGHTS:
        raise ValueError(f"weights must be one of {', '.join(map(repr, WEIGHTS))}; got {weights!r}")
    constant = E.parse(lipschitz, SYMBOLS, name="lipschitz")
    if constant.free_symbols:
        raise ValueError(f"lipschitz must be a number; got {lipschitz!r}")
    rng = E.seeded(seed)
    q = E.log_uniform(rng, 1e-3, 1e3, (n_points, d))
    z1, z2 = rng.normal(0, 1.5, (2, n_points, d))
    z2[: n_points // 4] = z1[: n_points // 4] + 0.05 * rng.normal(size=(n_points // 4, d))  # nearby pairs
    margins = {}
    for name, proj in (("box", project_box), ("ball", project_ball)):
        metric = q if weights == "sqrt_s" else None
        u1, u2 = proj(z1, metric), proj(z2, metric)
        lhs = np.sqrt(np.sum(q * (u1 - u2) ** 2, axis=-1))
        rhs = float(constant) * np.sqrt(np.sum(q * (z1 - z2) ** 2, axis=-1))
        res = E.falsify(step, lhs, rhs, {"set": np.array(name), "q": q, "z1": z1, "z2": z2},
                        what=f"non-expansiveness on the {name}", rtol=1e-8)
        margins[f"min_margin_{name}"] = res["min_margin"]
    qs = sp.Symbol("q", positive=True)
    a1, a2, b1, b2 = sp.symbols("z1 z2 u1 u2", real=True)
    gap = constant**2 * qs * (a1 - a2) ** 2 - qs * (b1 - b2) ** 2
    vi_1, vi_2 = qs * (a1 - b1) * (b1 - b2), qs * (a2 - b2) * (b2 - b1)
    rest = (constant**2 - 1) * qs * (a1 - a2) ** 2 + qs * ((a1 - b1) - (a2 - b2)) ** 2
    E.identity(step, gap, rest + 2 * vi_1 + 2 * vi_2, "per-coordinate identity of the certificate")
    E.nonneg(step, constant**2 - 1, "coefficient L² − 1")
    if weights != "sqrt_s":
        raise E.ProofError(step, "the optimality inequality of a Euclidean projection holds in the identity inner "
                           "product, so ⟨z_k − u_k, u_k − u_{3−k}⟩_Q ≥ 0 is not available")
    return E.Check(
        id="L1",
        statement=f"‖Q^{{1/2}}(u1 − u2)‖ ≤ {E.shown(lipschitz, constant)}·‖Q^{{1/2}}(z1 − z2)‖, "
        "u_k = Π_{F,Q}(z_k), Q = diag(√s_t)",
        method="symbolic",
        detail="certificate: L²‖Δz‖²_Q − ‖Δu‖²_Q = (L²−1)‖Δz‖²_Q + ‖Δz − Δu‖²_Q + 2·(two optimality terms ≥ 0) "
        f"(identity by simplify; the optimality terms are the weighted projection's variational inequality); "
        f"numeric: {n_points} pairs on a box and a ball (exact weighted projections), d={d}, q ∈ [1e-3, 1e3]",
        used_in=USED_IN,
        figures=margins,
    )
