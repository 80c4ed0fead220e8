"""Concrete runs of the reference optimizer that the proof checks evaluate their statements on.

Every run is the analysed recursion of THEORY §1.2 (``form="analysis"``, α_t = α/√t) driven by
the float64 reference :class:`adabelief_ref.AdaBelief`; the problems are online quadratics
f_t(θ) = ½‖θ − z_t‖², whose best fixed point on a box is known in closed form
(θ* = clip(mean_t z_t)), so no solver enters a check.

Index convention (the proofs' one): the proof's θ_t is the point where f_t is played,
``trace.theta[t-1]``; its θ_{t+1} is ``trace.theta[t]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adabelief_ref import AdaBelief, Trace, run


@dataclass(frozen=True)
class Box:
    """F = [lo, hi]^d; its √s_t-weighted projection is clipping, whatever the weights are."""

    lo: float = -1.0
    hi: float = 1.0

    def project(self, y: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        return np.clip(y, self.lo, self.hi)


@dataclass(frozen=True)
class QuadraticRun:
    """A run on f_t(θ) = ½‖θ − z_t‖² together with the comparator θ* and the s the step used."""

    trace: Trace
    z: np.ndarray  # (T, d) targets z_t
    theta_star: np.ndarray  # (d,)
    s_used: np.ndarray  # (T, d): s_t, or its running maximum with amsgrad

    @property
    def played(self) -> np.ndarray:
        """(T, d) the proof's θ_1..θ_T (the points where f_1..f_T are played)."""
        return self.trace.theta[:-1]

    @property
    def next_iterate(self) -> np.ndarray:
        """(T, d) the proof's θ_2..θ_{T+1}."""
        return self.trace.theta[1:]


def quadratic_run(
    z: np.ndarray,
    *,
    lr: float,
    betas: tuple[float, float],
    eps: float,
    beta1_decay: float | None = None,
    amsgrad: bool = False,
    box: Box | None = None,
    theta0: np.ndarray | None = None,
) -> QuadraticRun:
    """Run the analysed AdaBelief recursion on f_t(θ) = ½‖θ − z_t‖² for T = len(z) steps.

    g_t = θ_t − z_t; θ* = clip(mean_t z_t) on the box (the minimiser of Σ_t f_t over F), or
    mean_t z_t without a box; θ_1 = ``theta0`` (zeros by default).
    """
    z = np.asarray(z, dtype=np.float64)
    opt = AdaBelief(
        lr, betas, eps, form="analysis", lr_schedule="inv_sqrt", beta1_decay=beta1_decay,
        amsgrad=amsgrad, feasible_set=box,
    )
    start = np.zeros(z.shape[1]) if theta0 is None else np.asarray(theta0, dtype=np.float64)
    trace = run(opt, lambda t, theta: theta - z[t - 1], start, z.shape[0])
    mean = z.mean(axis=0)
    theta_star = mean if box is None else np.clip(mean, box.lo, box.hi)
    s_used = trace.s_max if amsgrad else trace.s
    return QuadraticRun(trace=trace, z=z, theta_star=theta_star, s_used=s_used)
