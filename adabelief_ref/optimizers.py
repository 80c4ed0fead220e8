r"""Exact float64 reference optimizers: AdaBelief (Algorithm 2 and the analysed recursion) and
the baselines Adam, AMSGrad, SGD with heavy-ball momentum and AdaGrad.

Every optimizer is a small immutable object of hyper-parameters with two pure methods::

    state = opt.init(theta0)        # OptState(theta, m, s, t=0, s_max)
    state = opt.step(state, grad)   # a new OptState; the inputs are never mutated

Arrays may carry leading batch dimensions (e.g. ``(seeds, d)``): every update is element-wise,
so a batch of independent runs steps with the same code (the projection must accept the batch).

Symbols follow the paper (Zhuang et al., 2020) and ``THEORY.md``: step t = 1, 2, ... reads the
gradient g_t evaluated at the previous iterate and produces θ_t; α_t is the step size, β1t the
(possibly decaying) momentum, ε the epsilon.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from . import _checks

LR_SCHEDULES = ("constant", "inv_sqrt")
FORMS = ("algorithm", "analysis")


class FeasibleSet(Protocol):
    """Anything with ``project(y, weights)`` = argmin_{x ∈ F} Σ_i w_i (x_i − y_i)²."""

    def project(self, y: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray: ...


@dataclass(frozen=True)
class OptState:
    """Optimizer state after ``t`` steps.

    Attributes:
        theta: the iterate θ_t.
        m: first moment m_t (the momentum buffer for SGD, zeros for AdaGrad).
        s: second statistic s_t — AdaBelief's EMA of (g − m)² + ε, Adam's EMA of g²,
            AdaGrad's running sum of g²; ``None`` for SGD.
        t: number of steps taken.
        s_max: running maximum of s (only with ``amsgrad=True``), else ``None``.
    """

    theta: np.ndarray
    m: np.ndarray
    s: np.ndarray | None
    t: int
    s_max: np.ndarray | None = None


class Optimizer:
    """Common machinery: step-size schedule, gradient validation and the projection."""

    name = "optimizer"

    def __init__(self, lr: float, *, lr_schedule: str = "constant", feasible_set: FeasibleSet | None = None):
        self.lr = _checks.positive("lr", lr)
        self.lr_schedule = _checks.choice("lr_schedule", lr_schedule, LR_SCHEDULES)
        if feasible_set is not None and not callable(getattr(feasible_set, "project", None)):
            raise ValueError(
                f"feasible_set must have a method project(y, weights); got {type(feasible_set).__name__}"
            )
        self.feasible_set = feasible_set

    # -- schedules -------------------------------------------------------------------------------
    def alpha(self, t: int) -> float:
        """Step size α_t: α (``"constant"``) or α/√t (``"inv_sqrt"``, Theorems 2.1 and 2.2)."""
        return self.lr if self.lr_schedule == "constant" else self.lr / math.sqrt(t)

    def beta1_at(self, t: int) -> float:
        """Momentum coefficient β1t used at step t (0 for optimizers without momentum)."""
        return 0.0

    # -- the interface ---------------------------------------------------------------------------
    def init(self, theta0: Any) -> OptState:
        """State at t = 0: θ_0 = ``theta0`` (float64 copy), all statistics zero."""
        theta = _checks.finite_array("theta0", theta0).copy()
        zeros = np.zeros_like(theta)
        return OptState(theta=theta, m=zeros, s=zeros.copy(), t=0, s_max=None)

    def step(self, state: OptState, grad: Any) -> OptState:
        """One step from ``state`` with gradient g_t = ``grad``; returns a new state."""
        t = state.t + 1
        g = _checks.finite_array("grad", grad, step=t)
        _checks.same_shape("grad", g, state.theta.shape)
        new = self._update(state, g, t)
        if not np.all(np.isfinite(new.theta)):
            raise ValueError(
                f"{self.name} produced a non-finite iterate at step t={t}: a denominator vanished "
                f"(eps={getattr(self, 'eps', None)!r}); use eps > 0"
            )
        return new

    def _update(self, state: OptState, g: np.ndarray, t: int) -> OptState:  # pragma: no cover
        raise NotImplementedError

    def _project(self, y: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
        if self.feasible_set is None:
            return y
        return np.asarray(self.feasible_set.project(y, weights), dtype=np.float64)

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if k != "feasible_set")
        return f"{type(self).__name__}({items})"


class _MomentOptimizer(Optimizer):
    """Shared hyper-parameters of the Adam family: β1, β2, ε, form, β1 decay, AMSGrad max."""

    def __init__(
        self,
        lr: float,
        betas: tuple[float, float],
        eps: float,
        *,
        form: str,
        lr_schedule: str,
        beta1_decay: float | None,
        amsgrad: bool,
        feasible_set: FeasibleSet | None,
    ):
        super().__init__(lr, lr_schedule=lr_schedule, feasible_set=feasible_set)
        self.beta1, self.beta2 = _checks.betas_pair(betas)
        self.eps = _checks.non_negative("eps", eps)
        self.form = _checks.choice("form", form, FORMS)
        self.beta1_decay = None if beta1_decay is None else _checks.decay_factor("beta1_decay (lambda)", beta1_decay)
        if not isinstance(amsgrad, (bool, np.bool_)):
            raise ValueError(f"amsgrad must be True or False; got {amsgrad!r}")
        self.amsgrad = bool(amsgrad)

    def beta1_at(self, t: int) -> float:
        """β1t = β1 (default) or β1·λ^(t−1) with ``beta1_decay=λ`` (Corollary 2.1.1)."""
        return self.beta1 if self.beta1_decay is None else self.beta1 * self.beta1_decay ** (t - 1)

    def init(self, theta0: Any) -> OptState:
        state = super().init(theta0)
        if self.amsgrad:
            state = OptState(state.theta, state.m, state.s, 0, s_max=np.zeros_like(state.theta))
        return state

    def _moments(self, state: OptState, g: np.ndarray, t: int, second, add: float = 0.0):
        """m_t; s_t = β2 s_{t−1} + (1 − β2)·second(m_t) + add; s_max; and the s the step uses."""
        b1t = self.beta1_at(t)
        m = b1t * state.m + (1.0 - b1t) * g
        s = self.beta2 * state.s + (1.0 - self.beta2) * second(m) + add
        s_max = np.maximum(state.s_max, s) if self.amsgrad else None
        return m, s, s_max, (s_max if self.amsgrad else s)


class AdaBelief(_MomentOptimizer):
    r"""AdaBelief (Zhuang et al., 2020), float64 reference.

    ``form="algorithm"`` — Algorithm 2 as printed (THEORY §1.1)::

        m_t = β1t m_{t−1} + (1 − β1t) g_t
        s_t = β2 s_{t−1} + (1 − β2)(g_t − m_t)² + ε              (ε inside, every step)
        m̂_t = m_t / (1 − β1^t),   ŝ_t = s_t / (1 − β2^t)
        θ_t = Π_{F, √ŝ_t}( θ_{t−1} − α_t m̂_t / (√ŝ_t + ε) )      (ε again outside the root)

    ``form="analysis"`` — the recursion analysed in Theorems 2.1/2.2 (THEORY §1.2): same m_t, s_t,
    no bias correction and no outer ε: θ_t = Π_{F, √s_t}(θ_{t−1} − α_t m_t / √s_t).

    With ``amsgrad=True`` the running maximum s_max,t = max(s_max,t−1, s_t) replaces s_t in the
    step and the projection weights (this enforces the theorems' assumption s_t ≤ s_{t+1}); the
    official package takes the same maximum after adding ε.

    Args:
        lr: α > 0.
        betas: (β1, β2), each in [0, 1).
        eps: ε ≥ 0 (1e-16 is the official default; with ε = 0 the analysis form can divide by 0).
        form: ``"algorithm"`` or ``"analysis"``.
        lr_schedule: ``"constant"`` (α_t = α) or ``"inv_sqrt"`` (α_t = α/√t).
        beta1_decay: λ ∈ (0, 1] for β1t = β1 λ^(t−1); ``None`` keeps β1t = β1. The bias
            correction of the algorithm form stays 1 − β1^t as printed.
        amsgrad: use the running maximum of s_t.
        feasible_set: object with ``project(y, weights)``; ``None`` means F = R^d.
    """

    name = "AdaBelief"

    def __init__(
        self,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-16,
        *,
        form: str = "algorithm",
        lr_schedule: str = "constant",
        beta1_decay: float | None = None,
        amsgrad: bool = False,
        feasible_set: FeasibleSet | None = None,
    ):
        super().__init__(
            lr, betas, eps, form=form, lr_schedule=lr_schedule, beta1_decay=beta1_decay,
            amsgrad=amsgrad, feasible_set=feasible_set,
        )

    def _update(self, state: OptState, g: np.ndarray, t: int) -> OptState:
        def belief_residual_sq(m):  # (g_t − m_t)², with the NEW m_t
            prediction_error = g - m
            return prediction_error * prediction_error

        m, s, s_max, s_used = self._moments(state, g, t, belief_residual_sq, add=self.eps)
        alpha_t = self.alpha(t)
        if self.form == "algorithm":
            m_hat = m / (1.0 - self.beta1**t)
            sqrt_s_hat = np.sqrt(s_used / (1.0 - self.beta2**t))
            y = state.theta - alpha_t * m_hat / (sqrt_s_hat + self.eps)
            theta = self._project(y, sqrt_s_hat)
        else:
            sqrt_s = np.sqrt(s_used)
            with np.errstate(divide="ignore", invalid="ignore"):
                y = state.theta - alpha_t * m / sqrt_s
            theta = self._project(y, sqrt_s) if np.all(np.isfinite(y)) else y
        return OptState(theta=theta, m=m, s=s, t=t, s_max=s_max)


class Adam(_MomentOptimizer):
    r"""Adam (Kingma & Ba, 2015), float64 reference; ``amsgrad=True`` gives AMSGrad.

    ``form="algorithm"`` (as in ``torch.optim.Adam``)::

        m_t = β1t m_{t−1} + (1 − β1t) g_t,   v_t = β2 v_{t−1} + (1 − β2) g_t²
        θ_t = Π_{F, √v̂_t + ε}( θ_{t−1} − α_t m̂_t / (√v̂_t + ε) ),  m̂_t = m_t/(1−β1^t), v̂_t = v_t/(1−β2^t)

    ``form="analysis"`` (Reddi et al., 2018): no bias correction, θ_t = Π(θ_{t−1} − α_t m_t/(√v_t + ε)).
    With ``amsgrad=True`` v_max,t = max(v_max,t−1, v_t) replaces v_t. The projection weights are
    the step's denominator √v̂_t + ε (resp. √v_t + ε), which stays positive while ε > 0.
    The state's ``s`` holds v_t.
    """

    name = "Adam"

    def __init__(
        self,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        *,
        form: str = "algorithm",
        lr_schedule: str = "constant",
        beta1_decay: float | None = None,
        amsgrad: bool = False,
        feasible_set: FeasibleSet | None = None,
    ):
        super().__init__(
            lr, betas, eps, form=form, lr_schedule=lr_schedule, beta1_decay=beta1_decay,
            amsgrad=amsgrad, feasible_set=feasible_set,
        )

    def _update(self, state: OptState, g: np.ndarray, t: int) -> OptState:
        m, v, v_max, v_used = self._moments(state, g, t, lambda m: g * g)
        alpha_t = self.alpha(t)
        if self.form == "algorithm":
            m_eff = m / (1.0 - self.beta1**t)
            denom = np.sqrt(v_used / (1.0 - self.beta2**t)) + self.eps
        else:
            m_eff = m
            denom = np.sqrt(v_used) + self.eps
        with np.errstate(divide="ignore", invalid="ignore"):
            y = state.theta - alpha_t * m_eff / denom
        theta = self._project(y, denom) if np.all(np.isfinite(y)) else y
        return OptState(theta=theta, m=m, s=v, t=t, s_max=v_max)


class AMSGrad(Adam):
    """AMSGrad (Reddi et al., 2018): :class:`Adam` with ``amsgrad=True`` fixed."""

    name = "AMSGrad"

    def __init__(
        self,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        *,
        form: str = "algorithm",
        lr_schedule: str = "constant",
        beta1_decay: float | None = None,
        feasible_set: FeasibleSet | None = None,
    ):
        super().__init__(
            lr, betas, eps, form=form, lr_schedule=lr_schedule, beta1_decay=beta1_decay,
            amsgrad=True, feasible_set=feasible_set,
        )


class SGD(Optimizer):
    r"""SGD with heavy-ball momentum (the ``torch.optim.SGD`` convention, no dampening)::

        m_t = μ m_{t−1} + g_t,   θ_t = Π_F( θ_{t−1} − α_t m_t )    (Euclidean projection)

    ``momentum=0`` is plain (projected) gradient descent. The state's ``s`` is ``None``.
    """

    name = "SGD"

    def __init__(
        self,
        lr: float = 1e-2,
        momentum: float = 0.0,
        *,
        lr_schedule: str = "constant",
        feasible_set: FeasibleSet | None = None,
    ):
        super().__init__(lr, lr_schedule=lr_schedule, feasible_set=feasible_set)
        self.momentum = _checks.in_unit_interval("momentum", momentum)

    def beta1_at(self, t: int) -> float:
        return self.momentum

    def init(self, theta0: Any) -> OptState:
        state = super().init(theta0)
        return OptState(state.theta, state.m, None, 0)

    def _update(self, state: OptState, g: np.ndarray, t: int) -> OptState:
        m = self.momentum * state.m + g
        theta = self._project(state.theta - self.alpha(t) * m, None)
        return OptState(theta=theta, m=m, s=None, t=t)


class AdaGrad(Optimizer):
    r"""AdaGrad (Duchi et al., 2011), diagonal::

        s_t = s_{t−1} + g_t²,   θ_t = Π_{F, √s_t + ε}( θ_{t−1} − α_t g_t / (√s_t + ε) )

    The state's ``m`` stays zero (no momentum); ``s`` is the running sum of squares.
    """

    name = "AdaGrad"

    def __init__(
        self,
        lr: float = 1e-2,
        eps: float = 1e-10,
        *,
        lr_schedule: str = "constant",
        feasible_set: FeasibleSet | None = None,
    ):
        super().__init__(lr, lr_schedule=lr_schedule, feasible_set=feasible_set)
        self.eps = _checks.non_negative("eps", eps)

    def _update(self, state: OptState, g: np.ndarray, t: int) -> OptState:
        s = state.s + g * g
        denom = np.sqrt(s) + self.eps
        with np.errstate(divide="ignore", invalid="ignore"):
            y = state.theta - self.alpha(t) * g / denom
        theta = self._project(y, denom) if np.all(np.isfinite(y)) else y
        return OptState(theta=theta, m=state.m, s=s, t=t)
