"""Deterministic toy objectives used to illustrate the update rule (notebook 01)."""

from __future__ import annotations

import numpy as np


class AbsSum:
    r"""f(θ) = Σ_i |θ_i| — the paper's intuition example f(x, y) = |x| + |y| (Section 2.2).

    Away from the axes the gradient sign(θ) is constant ("large gradient, zero curvature"):
    AdaBelief's residual g_t − m_t → 0, so ŝ_t shrinks and its step grows, while Adam's
    m̂_t/√v̂_t stays ≈ 1. Near θ_i = 0 the gradient flips sign every step.
    ``grad`` uses the sub-gradient 0 at θ_i = 0.
    """

    def loss(self, t: int, theta: np.ndarray) -> np.ndarray:
        return np.abs(theta).sum(axis=-1)

    def grad(self, t: int, theta: np.ndarray) -> np.ndarray:
        return np.sign(theta)
