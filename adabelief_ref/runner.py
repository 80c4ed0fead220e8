"""Drive a reference optimizer on a problem for T steps and keep the whole trajectory.

The :class:`Trace` is the raw material of every notebook: θ, g, m, s (and s_max) per step as
arrays, plus the α_t and β1t actually used, so that the theorems' right-hand sides can be
evaluated a posteriori from the run (``adabelief_ref.theory``).

Indexing: ``theta[0]`` is θ_0; step t = 1..T reads g_t = ∇f_t(θ_{t−1}) (``g[t-1]``) and produces
θ_t (``theta[t]``). The point at which the t-th loss is played is ``played[t-1] = theta[t-1]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from . import _checks
from .optimizers import Optimizer, OptState

RECORDABLE = ("theta", "g", "m", "s", "s_max")


@dataclass(frozen=True)
class Trace:
    """Trajectory of one run (or of a batch of runs sharing leading dimensions).

    Attributes:
        theta: (T+1, *shape) iterates θ_0..θ_T.
        g: (T, *shape) gradients g_1..g_T.
        m: (T, *shape) first moments m_1..m_T.
        s: (T, *shape) second statistics s_1..s_T (``None`` if not recorded or the optimizer has none).
        s_max: (T, *shape) running maxima (``amsgrad`` only), else ``None``.
        alpha: (T,) step sizes α_1..α_T.
        beta1: (T,) momentum coefficients β1,1..β1,T.
        optimizer: ``repr`` of the optimizer that produced the run.
    """

    theta: np.ndarray | None
    g: np.ndarray | None
    m: np.ndarray | None
    s: np.ndarray | None
    s_max: np.ndarray | None
    alpha: np.ndarray
    beta1: np.ndarray
    optimizer: str

    @property
    def T(self) -> int:
        return int(self.alpha.shape[0])

    @property
    def played(self) -> np.ndarray:
        """(T, *shape) the points θ_0..θ_{T−1} at which f_1..f_T are evaluated."""
        if self.theta is None:
            raise ValueError("this trace did not record theta; pass record including 'theta'")
        return self.theta[:-1]


def gradient_oracle(problem: Any) -> Callable[[int, np.ndarray], np.ndarray]:
    """Return ``grad(t, theta)`` from a problem with a ``grad`` method, or a callable itself."""
    if hasattr(problem, "grad") and callable(problem.grad):
        return problem.grad
    if callable(problem):
        return problem
    raise ValueError(
        f"problem must be callable as grad(t, theta) or have a method grad(t, theta); got {type(problem).__name__}"
    )


def run(
    opt: Optimizer,
    problem: Any,
    theta0: Any,
    T: int,
    *,
    record: tuple[str, ...] = RECORDABLE,
    state: OptState | None = None,
) -> Trace:
    """Run ``opt`` for ``T`` steps with g_t = ``problem.grad(t, θ_{t−1})`` and return the trace.

    Args:
        opt: a reference optimizer (``AdaBelief``, ``Adam``, ...).
        problem: ``grad(t, theta)`` callable, or an object with that method; t counts from 1
            (from ``state.t + 1`` when resuming).
        theta0: θ_0 (ignored when ``state`` is given).
        T: number of steps, ≥ 1.
        record: which of ``theta, g, m, s, s_max`` to keep (the others are ``None``).
        state: resume from this state instead of ``opt.init(theta0)``.
    """
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 1:
        raise ValueError(f"T must be an integer >= 1; got {T!r}")
    unknown = set(record) - set(RECORDABLE)
    if unknown:
        raise ValueError(f"record accepts {', '.join(RECORDABLE)}; got unknown {sorted(unknown)}")
    grad = gradient_oracle(problem)
    state = opt.init(theta0) if state is None else state
    t0 = state.t
    buffers: dict[str, list[np.ndarray]] = {k: [] for k in record}
    if "theta" in buffers:
        buffers["theta"].append(state.theta)
    alpha = np.empty(T)
    beta1 = np.empty(T)
    for k in range(T):
        t = t0 + k + 1
        g = _checks.finite_array("grad", grad(t, state.theta), step=t)
        state = opt.step(state, g)
        alpha[k], beta1[k] = opt.alpha(t), opt.beta1_at(t)
        for key, buf in buffers.items():
            buf.append(g if key == "g" else getattr(state, key))
    arrays = {
        k: (np.stack(v) if v and all(x is not None for x in v) else None) for k, v in buffers.items()
    }
    return Trace(
        theta=arrays.get("theta"), g=arrays.get("g"), m=arrays.get("m"), s=arrays.get("s"),
        s_max=arrays.get("s_max"), alpha=alpha, beta1=beta1, optimizer=repr(opt),
    )

