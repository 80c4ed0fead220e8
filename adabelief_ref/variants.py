r"""Every published AdaBelief variant as a tiny float64 numpy step, pinned to its source.

Implementations of "AdaBelief" disagree with each other and with the paper: where ε goes, whether
it accumulates, which first moment the residual uses, what ``amsgrad`` does, and whether a RAdam
style rectification is on by default (THEORY §1.3, §6). Each function below reproduces one of them
exactly, in the paper's symbols, and says how it differs from Algorithm 2 (THEORY §1.1)::

    m_t = β1 m_{t−1} + (1 − β1) g_t
    s_t = β2 s_{t−1} + (1 − β2)(g_t − m_t)² + ε
    θ_t = θ_{t−1} − α m̂_t / (√ŝ_t + ε),   m̂_t = m_t/(1 − β1^t),  ŝ_t = s_t/(1 − β2^t)

All steps are pure functions ``step(state, grad, **hyper) -> OptState`` on the reference state
(:class:`~adabelief_ref.optimizers.OptState`: θ, m, s, t and the AMSGrad buffer ``s_max``), float64,
element-wise (arrays may carry leading batch dimensions), with no projection (F = R^d, as in every
package). They compute exactly what the package computes, including NaN or inf where the package
would produce them (e.g. ε = 0 with a zero residual); :class:`Variant` wraps one step with fixed
hyper-parameters into the optimizer interface that :func:`adabelief_ref.run` drives, and refuses a
non-finite iterate there.

Sources (the variants that install here are checked in lock-step against the real package by
``tests/test_variants.py``; the others are reproduced from their published source, and say so):

==============================  ==========================================  =====================
key                             source                                      checked against
==============================  ==========================================  =====================
``paper-v1``                    arXiv:2010.07468v1, Algorithm 2             reproduced (paper)
``algorithm-2``                 arXiv v2+ / NeurIPS camera-ready, Alg. 2    ``adabelief_ref.AdaBelief``
``adabelief-pytorch-0.0.5``     PyPI ``adabelief-pytorch==0.0.5``           real package
``adabelief-pytorch-0.1.0``     PyPI ``adabelief-pytorch==0.1.0``           real package
``adabelief-pytorch-0.2``       PyPI ``adabelief-pytorch==0.2.0, 0.2.1``    real packages
``adabelief-tf-0.2``            PyPI ``adabelief-tf==0.2.0, 0.2.1``         reproduced (source)
``optax-before-fix``            ``optax.scale_by_belief`` ≤ 0.2.3           real package (jax)
``optax-after-fix``             ``optax.scale_by_belief`` ≥ 0.2.4           real package (jax)
``timm``                        ``timm.optim.AdaBelief`` (timm 1.0.31)      real package
==============================  ==========================================  =====================

The last section measures the ε facts of THEORY §1.3 on runs of these steps, each next to its
one-line prediction: the floor ŝ ≥ ε/(1−β2) (:func:`epsilon_floor`), β1 = 0 as SGD and its
overflow (:func:`beta1_zero_multiplier`, :func:`beta1_zero_blowup`), float16/bfloat16 storage
(:func:`low_precision_facts`, :func:`algorithm2_in_dtype`) and the spread of per-coordinate step
sizes against ε (:func:`step_size_spread`); notebook 08 and the tests call them.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from . import _checks
from .optimizers import OptState

__all__ = [
    "init",
    "paper_v1_step",
    "algorithm2_step",
    "pytorch_0_0_5_step",
    "pytorch_0_1_0_step",
    "pytorch_0_2_step",
    "tf_0_2_step",
    "optax_before_fix_step",
    "optax_after_fix_step",
    "timm_step",
    "VariantSpec",
    "VARIANTS",
    "Variant",
    "make_variant",
    "MATCHED",
    "drift_from_algorithm2",
    "epsilon_floor",
    "beta1_zero_multiplier",
    "beta1_zero_blowup",
    "LOW_PRECISION",
    "algorithm2_in_dtype",
    "low_precision_facts",
    "step_size_spread",
]

KERAS_DEFAULT_EPSILON = 1e-7  # tf.keras.backend.epsilon(): what adabelief-tf uses when epsilon is 0


# ------------------------------------------------------------------------------------------------
# shared pieces
# ------------------------------------------------------------------------------------------------
def init(theta0: Any, *, amsgrad: bool = False) -> OptState:
    """State at t = 0 for every variant: θ_0 = ``theta0`` (float64 copy), m_0 = s_0 = 0, and the
    AMSGrad buffer s_max,0 = 0 when ``amsgrad=True`` (all packages start it at zero)."""
    theta = _checks.finite_array("theta0", theta0).copy()
    zeros = np.zeros_like(theta)
    return OptState(theta=theta, m=zeros, s=zeros.copy(), t=0, s_max=zeros.copy() if _flag("amsgrad", amsgrad) else None)


def _ieee(step: Callable[..., OptState]) -> Callable[..., OptState]:
    """Run a step under IEEE semantics without numpy warnings: overflow gives ±inf and 0/0 NaN,
    silently, exactly as the packages' tensor code does (validation errors still raise)."""

    @functools.wraps(step)
    def wrapped(*args: Any, **kwargs: Any) -> OptState:
        with np.errstate(all="ignore"):
            return step(*args, **kwargs)

    return wrapped


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False; got {value!r}")
    return bool(value)


def _start(state: Any, grad: Any, lr: Any, betas: Any, eps: Any, amsgrad: bool = False):
    """Validate the common inputs; return (t, g, α, β1, β2, ε)."""
    if not isinstance(state, OptState):
        raise ValueError(f"state must be an OptState from variants.init(theta0); got {type(state).__name__}")
    t = state.t + 1
    g = _checks.finite_array("grad", grad, step=t)
    _checks.same_shape("grad", g, state.theta.shape)
    if amsgrad and state.s_max is None:
        raise ValueError("amsgrad=True needs the buffer s_max; got a state with s_max=None "
                         "(accepted: a state from variants.init(theta0, amsgrad=True))")
    b1, b2 = _checks.betas_pair(betas)
    return t, g, _checks.positive("lr", lr), b1, b2, _checks.non_negative("eps", eps)


def _radam_rho(t: int, beta2: float) -> tuple[float, float]:
    """RAdam's length of the approximated SMA: ρ_∞ = 2/(1−β2) − 1, ρ_t = ρ_∞ − 2tβ2^t/(1−β2^t)."""
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    beta2_t = beta2**t
    return rho_inf, rho_inf - 2.0 * t * beta2_t / (1.0 - beta2_t)


def _radam_factor(t: int, beta2: float, *, with_bias2: bool) -> float:
    """RAdam's variance rectification r_t = √((ρ_t−4)(ρ_t−2)ρ_∞ / ((ρ_∞−4)(ρ_∞−2)ρ_t)), times
    √(1−β2^t) when ``with_bias2`` (the 0.1.0+ packages fold ŝ's bias correction into it)."""
    rho_inf, rho_t = _radam_rho(t, beta2)
    r2 = (rho_t - 4.0) / (rho_inf - 4.0) * (rho_t - 2.0) / rho_t * rho_inf / (rho_inf - 2.0)
    if with_bias2:
        r2 = (1.0 - beta2**t) * r2
    return math.sqrt(r2) if r2 >= 0 else math.nan


def _weight_decay(theta, g, lr, weight_decay, decoupled: bool, fixed_decay: bool):
    """Weight decay of the PyTorch packages: decoupled θ ← θ(1 − αλ) (or θ(1 − λ) with
    ``fixed_decay``), else coupled g ← g + λθ. Returns (θ, g)."""
    if decoupled:
        return theta * (1.0 - (weight_decay if fixed_decay else lr * weight_decay)), g
    if weight_decay != 0:
        return theta, g + weight_decay * theta
    return theta, g


# ------------------------------------------------------------------------------------------------
# the paper
# ------------------------------------------------------------------------------------------------
@_ieee
def paper_v1_step(
    state: OptState, grad: Any, *, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8, bias_correction: bool = False,
) -> OptState:
    r"""Algorithm 2 as printed in arXiv:2010.07468 **v1** (October 2020).

    Source: the first arXiv version, main text. Differences from Algorithm 2: **no ε inside s_t**,
    and the main text showed **no bias correction** (the v1 appendix had it; ``bias_correction=True``
    gives that reading)::

        s_t = β2 s_{t−1} + (1 − β2)(g_t − m_t)²                      (no + ε)
        θ_t = θ_{t−1} − α m_t / (√s_t + ε)                            (bias_correction=False)
        θ_t = θ_{t−1} − α m̂_t / (√ŝ_t + ε)                           (bias_correction=True)

    Without the inner ε nothing bounds s_t from below (THEORY §1.3's s_t ≥ ε fails), so with β1 = 0
    (residual ≡ 0) the step is α g/ε. The default ε = 1e-8 is that of the code of the time (0.0.5).
    """
    t, g, lr, b1, b2, eps = _start(state, grad, lr, betas, eps)
    m = b1 * state.m + (1.0 - b1) * g
    prediction_error = g - m
    s = b2 * state.s + (1.0 - b2) * prediction_error * prediction_error
    if _flag("bias_correction", bias_correction):
        step = (m / (1.0 - b1**t)) / (np.sqrt(s / (1.0 - b2**t)) + eps)
    else:
        step = m / (np.sqrt(s) + eps)
    theta = state.theta - lr * step
    return OptState(theta=theta, m=m, s=s, t=t)


@_ieee
def algorithm2_step(
    state: OptState, grad: Any, *, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-16,
) -> OptState:
    r"""Algorithm 2 of arXiv v2+ and the NeurIPS camera-ready (THEORY §1.1), F = R^d::

        s_t = β2 s_{t−1} + (1 − β2)(g_t − m_t)² + ε,   θ_t = θ_{t−1} − α m̂_t / (√ŝ_t + ε)

    The same update as :class:`adabelief_ref.AdaBelief` (``form="algorithm"``, no projection): the
    baseline every other variant is measured against.
    """
    t, g, lr, b1, b2, eps = _start(state, grad, lr, betas, eps)
    m = b1 * state.m + (1.0 - b1) * g
    prediction_error = g - m
    s = b2 * state.s + (1.0 - b2) * prediction_error * prediction_error + eps
    theta = state.theta - lr * (m / (1.0 - b1**t)) / (np.sqrt(s / (1.0 - b2**t)) + eps)
    return OptState(theta=theta, m=m, s=s, t=t)


# ------------------------------------------------------------------------------------------------
# the official PyTorch package, three generations
# ------------------------------------------------------------------------------------------------
@_ieee
def pytorch_0_0_5_step(
    state: OptState, grad: Any, *, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False, weight_decouple: bool = False,
    fixed_decay: bool = False, rectify: bool = False,
) -> OptState:
    r"""``adabelief-pytorch==0.0.5`` (PyPI, October 2020: the code behind the paper's experiments).

    Source: ``adabelief_pytorch/AdaBelief.py`` of the 0.0.5 wheel. Defaults ε = 1e-8, no decoupled
    weight decay, no rectification. Weight decay acts on g_t *before* the moments (coupled) or on
    θ (decoupled). Without ``amsgrad`` it is Algorithm 2 (ε added to s_t in place, every step).

    Differences from Algorithm 2:

    * ``amsgrad=True``: s_t gets **no** ε; the buffer takes the maximum and then ε is added to the
      buffer in place, so it **accumulates**: s_max,t = max(s_max,t−1, s_t) + ε ≥ t·ε, and the
      step divides by √(s_max,t/(1−β2^t)) + ε.
    * ``rectify=True`` (RAdam): with ρ_t > 4, θ_t = θ_{t−1} − r_t α m̂_t/(√ŝ_t + ε) (the amsgrad
      buffer still used when on); otherwise an SGD step θ_t = θ_{t−1} − α m_t with **no** bias
      correction.
    """
    t, g, lr, b1, b2, eps = _start(state, grad, lr, betas, eps, _flag("amsgrad", amsgrad))
    wd = _checks.non_negative("weight_decay", weight_decay)
    theta, g = _weight_decay(state.theta, g, lr, wd, _flag("weight_decouple", weight_decouple),
                             _flag("fixed_decay", fixed_decay))
    m = b1 * state.m + (1.0 - b1) * g
    prediction_error = g - m
    s = b2 * state.s + (1.0 - b2) * prediction_error * prediction_error
    s_max = None
    if amsgrad:
        s_max = np.maximum(state.s_max, s) + eps          # ε accumulates in the buffer
        used = s_max
    else:
        s = s + eps
        used = s
    denom = np.sqrt(used) / math.sqrt(1.0 - b2**t) + eps
    if not _flag("rectify", rectify):
        theta = theta - (lr / (1.0 - b1**t)) * (m / denom)
    else:
        rho_inf, rho_t = _radam_rho(t, b2)
        if rho_t > 4:
            r_t = _radam_factor(t, b2, with_bias2=False)
            theta = theta - (r_t * lr / (1.0 - b1**t)) * (m / denom)
        else:
            theta = theta - lr * m
    return OptState(theta=theta, m=m, s=s, t=t, s_max=s_max)


def _pytorch_rectified(theta, m, s_for_rectify, t, lr, b1, b2, eps, degenerated_to_sgd):
    """The RAdam branch of 0.1.0+/timm: with N_t ≥ 5, θ ← θ − α r_t √(1−β2^t)/(1−β1^t) · m/(√s + ε);
    otherwise θ ← θ − α m/(1−β1^t) if ``degenerated_to_sgd``, else θ unchanged."""
    _, n_sma = _radam_rho(t, b2)
    if n_sma >= 5:
        step_size = _radam_factor(t, b2, with_bias2=True) / (1.0 - b1**t)
        return theta - (step_size * lr) * (m / (np.sqrt(s_for_rectify) + eps))
    if degenerated_to_sgd:
        return theta - (lr / (1.0 - b1**t)) * m
    return theta


@_ieee
def pytorch_0_1_0_step(
    state: OptState, grad: Any, *, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-16, weight_decay: float = 0.0, amsgrad: bool = False, weight_decouple: bool = True,
    fixed_decay: bool = False, rectify: bool = True, degenerated_to_sgd: bool = True,
) -> OptState:
    r"""``adabelief-pytorch==0.1.0`` (PyPI, November 2020).

    Source: ``adabelief_pytorch/AdaBelief.py`` of the 0.1.0 wheel. New defaults ε = 1e-16,
    ``weight_decouple=True``, ``rectify=True`` (RAdam-style, ``degenerated_to_sgd=True``).

    Differences from Algorithm 2:

    * the **coupled** weight decay g ← g + λθ is applied *after* the moments are updated, so it
      changes nothing (only the decoupled form acts);
    * ``amsgrad=True``: as in 0.0.5, ε accumulates in the max buffer (s_max,t ≥ t·ε) and s_t has no ε;
    * ``rectify=True`` (default): with N_t = ρ_t ≥ 5, θ ← θ − α r_t √(1−β2^t)/(1−β1^t) · m_t/(√s_t + ε)
      — the outer ε is *not* bias-corrected, i.e. it acts like ε/√(1−β2^t) on √ŝ_t — using s_t,
      never the amsgrad buffer; for N_t < 5 an SGD step α m_t/(1−β1^t) (``degenerated_to_sgd``).
    """
    t, g, lr, b1, b2, eps = _start(state, grad, lr, betas, eps, _flag("amsgrad", amsgrad))
    wd = _checks.non_negative("weight_decay", weight_decay)
    m = b1 * state.m + (1.0 - b1) * g
    prediction_error = g - m
    s = b2 * state.s + (1.0 - b2) * prediction_error * prediction_error
    s_max = None
    if amsgrad:
        s_max = np.maximum(state.s_max, s) + eps          # ε accumulates in the buffer
        used = s_max
    else:
        s = s + eps
        used = s
    # weight decay comes after the moments: the coupled form only changes a g nobody reads again
    theta, _ = _weight_decay(state.theta, g, lr, wd, _flag("weight_decouple", weight_decouple),
                             _flag("fixed_decay", fixed_decay))
    if not _flag("rectify", rectify):
        denom = np.sqrt(used) / math.sqrt(1.0 - b2**t) + eps
        theta = theta - (lr / (1.0 - b1**t)) * (m / denom)
    else:
        theta = _pytorch_rectified(theta, m, s, t, lr, b1, b2, eps, _flag("degenerated_to_sgd", degenerated_to_sgd))
    return OptState(theta=theta, m=m, s=s, t=t, s_max=s_max)


@_ieee
def pytorch_0_2_step(
    state: OptState, grad: Any, *, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-16, weight_decay: float = 0.0, amsgrad: bool = False, weight_decouple: bool = True,
    fixed_decay: bool = False, rectify: bool = True, degenerated_to_sgd: bool = True,
) -> OptState:
    r"""``adabelief-pytorch==0.2.0`` and ``==0.2.1`` (PyPI; identical in float64 — 0.2.1 only adds
    an fp16 → fp32 cast around the update).

    Source: ``adabelief_pytorch/AdaBelief.py`` of the 0.2.0/0.2.1 wheels (THEORY §6). Defaults as
    0.1.0. Weight decay is back *before* the moments (coupled form acts again). With
    ``rectify=False, weight_decouple=False, weight_decay=0`` it is Algorithm 2 exactly.

    Differences from Algorithm 2:

    * ``amsgrad=True``: ε is added to s_t in place (as Algorithm 2) and then
      s_max,t = max(s_max,t−1, s_t) — no accumulation in the buffer any more;
    * ``rectify=True`` (default): as 0.1.0 — r_t-scaled step with the non-bias-corrected outer ε
      when N_t ≥ 5, SGD step α m_t/(1−β1^t) before; the rectified step reads s_t, so **amsgrad is
      ignored** whenever rectify is on (the buffer is still maintained).
    """
    t, g, lr, b1, b2, eps = _start(state, grad, lr, betas, eps, _flag("amsgrad", amsgrad))
    wd = _checks.non_negative("weight_decay", weight_decay)
    theta, g = _weight_decay(state.theta, g, lr, wd, _flag("weight_decouple", weight_decouple),
                             _flag("fixed_decay", fixed_decay))
    m = b1 * state.m + (1.0 - b1) * g
    prediction_error = g - m
    s = b2 * state.s + (1.0 - b2) * prediction_error * prediction_error + eps
    s_max = np.maximum(state.s_max, s) if amsgrad else None
    if not _flag("rectify", rectify):
        denom = np.sqrt(s_max if amsgrad else s) / math.sqrt(1.0 - b2**t) + eps
        theta = theta - (lr / (1.0 - b1**t)) * (m / denom)
    else:
        theta = _pytorch_rectified(theta, m, s, t, lr, b1, b2, eps, _flag("degenerated_to_sgd", degenerated_to_sgd))
    return OptState(theta=theta, m=m, s=s, t=t, s_max=s_max)


# ------------------------------------------------------------------------------------------------
# TensorFlow, optax, timm
# ------------------------------------------------------------------------------------------------
@_ieee
def tf_0_2_step(
    state: OptState, grad: Any, *, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-14, weight_decay: float = 0.0, amsgrad: bool = False, rectify: bool = True,
    sma_threshold: float = 5.0,
) -> OptState:
    r"""``adabelief-tf==0.2.0`` / ``0.2.1`` (PyPI), dense update, ``total_steps=0`` (no warm-up).

    **Reproduced from the published source** (``adabelief_tf/AdaBelief_tf.py``,
    ``_resource_apply_dense``), not run: the package needs TensorFlow, which is not installed here.
    Arguments map ``learning_rate→lr``, ``beta_1, beta_2→betas``, ``epsilon→eps``. Default ε = 1e-14
    and ``rectify=True``. ε = 0 is replaced by ``tf.keras.backend.epsilon()`` = 1e-7
    (``self.epsilon = epsilon or ...``), so ε = 0 cannot be had. Differences from Algorithm 2::

        v_t = β2 v_{t−1} + (1−β2)(g_t − m_t)² + ε          (as Algorithm 2)
        amsgrad: v̂_t = max(v̂_{t−1}, v_t), used in every branch (also when rectified)
        rectify, ρ_t ≥ sma_threshold:  u_t = r_t m̂_t/(√(v_t/(1−β2^t)) + ε)
        rectify, ρ_t < sma_threshold:  u_t = m̂_t      (SGD step, bias-corrected)
        weight decay (decoupled, AdamW style): u_t ← u_t + λ θ_{t−1};   θ_t = θ_{t−1} − α u_t
    """
    t, g, lr, b1, b2, eps = _start(state, grad, lr, betas, eps, _flag("amsgrad", amsgrad))
    wd = _checks.non_negative("weight_decay", weight_decay)
    threshold = _checks._as_float("sma_threshold", sma_threshold)
    eps = eps or KERAS_DEFAULT_EPSILON
    m = b1 * state.m + (1.0 - b1) * g
    m_hat = m / (1.0 - b1**t)
    prediction_error = g - m
    s = b2 * state.s + (1.0 - b2) * prediction_error * prediction_error + eps
    s_max = np.maximum(state.s_max, s) if amsgrad else None
    sqrt_s_hat = np.sqrt((s_max if amsgrad else s) / (1.0 - b2**t))
    if _flag("rectify", rectify):
        _, rho_t = _radam_rho(t, b2)
        u = _radam_factor(t, b2, with_bias2=False) * m_hat / (sqrt_s_hat + eps) if rho_t >= threshold else m_hat
    else:
        u = m_hat / (sqrt_s_hat + eps)
    if wd != 0:
        u = u + wd * state.theta
    theta = state.theta - lr * u
    return OptState(theta=theta, m=m, s=s, t=t, s_max=s_max)


@_ieee
def optax_before_fix_step(
    state: OptState, grad: Any, *, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-16, eps_root: float = 1e-16,
) -> OptState:
    r"""``optax.adabelief`` = ``scale_by_belief`` + ``scale_by_learning_rate``, optax ≤ 0.2.3.

    Source: ``optax/_src/transform.py::scale_by_belief`` of optax 0.2.3 (and all earlier releases
    since 2020). Differences from Algorithm 2: the prediction error uses the **old** first moment,
    g_t − m_{t−1} (fixed in optax 0.2.4, PR #1130); the inner ε is ``eps_root`` (added every step,
    so it accumulates like Algorithm 2's ε); the outer one is ``eps``::

        s_t = β2 s_{t−1} + (1−β2)(g_t − m_{t−1})² + eps_root,   θ_t = θ_{t−1} − α m̂_t/(√ŝ_t + eps)

    With β1 = 0 the residual is g_t − g_{t−1}, not 0: this variant never degenerates to SGD.
    """
    t, g, lr, b1, b2, eps = _start(state, grad, lr, betas, eps)
    eps_root = _checks.non_negative("eps_root", eps_root)
    m = (1.0 - b1) * g + b1 * state.m
    prediction_error = g - state.m                       # m_{t−1}: the pre-0.2.4 residual
    s = (1.0 - b2) * prediction_error**2 + b2 * state.s + eps_root
    u = (m / (1.0 - b1**t)) / (np.sqrt(s / (1.0 - b2**t)) + eps)
    theta = state.theta + (-lr * u)
    return OptState(theta=theta, m=m, s=s, t=t)


@_ieee
def optax_after_fix_step(
    state: OptState, grad: Any, *, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-16, eps_root: float = 1e-16,
) -> OptState:
    r"""``optax.adabelief`` with the residual fix, optax ≥ 0.2.4 (``nesterov=False``).

    Source: ``optax/_src/transform.py::scale_by_belief`` of optax 0.2.4. The prediction error is
    g_t − m_t as in Algorithm 2; with ``eps_root = eps`` it *is* Algorithm 2 (two separately named ε,
    both 1e-16 by default)::

        s_t = β2 s_{t−1} + (1−β2)(g_t − m_t)² + eps_root,   θ_t = θ_{t−1} − α m̂_t/(√ŝ_t + eps)
    """
    t, g, lr, b1, b2, eps = _start(state, grad, lr, betas, eps)
    eps_root = _checks.non_negative("eps_root", eps_root)
    m = (1.0 - b1) * g + b1 * state.m
    prediction_error = g - m
    s = (1.0 - b2) * prediction_error**2 + b2 * state.s + eps_root
    u = (m / (1.0 - b1**t)) / (np.sqrt(s / (1.0 - b2**t)) + eps)
    theta = state.theta + (-lr * u)
    return OptState(theta=theta, m=m, s=s, t=t)


@_ieee
def timm_step(
    state: OptState, grad: Any, *, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-16, weight_decay: float = 0.0, amsgrad: bool = False, decoupled_decay: bool = True,
    fixed_decay: bool = False, rectify: bool = True, degenerated_to_sgd: bool = True,
) -> OptState:
    r"""``timm.optim.AdaBelief`` (timm 1.0.31, ``timm/optim/adabelief.py``), both the single-tensor
    and the foreach path.

    Source: the timm 1.0.31 wheel. The same update as adabelief-pytorch 0.2.x (THEORY §6), with the
    first moment written as the lerp m_t = m_{t−1} + (1−β1)(g_t − m_{t−1}), the coupled weight decay
    not written back into the gradient, and the rectification computed per parameter instead of
    through a shared cache. Defaults ε = 1e-16, ``decoupled_decay=True``, ``rectify=True``; as in
    0.2.x, amsgrad is ignored by the rectified step.
    """
    t, g, lr, b1, b2, eps = _start(state, grad, lr, betas, eps, _flag("amsgrad", amsgrad))
    wd = _checks.non_negative("weight_decay", weight_decay)
    theta, g = _weight_decay(state.theta, g, lr, wd, _flag("decoupled_decay", decoupled_decay),
                             _flag("fixed_decay", fixed_decay))
    m = state.m + (1.0 - b1) * (g - state.m)
    prediction_error = g - m
    s = b2 * state.s + (1.0 - b2) * prediction_error * prediction_error + eps
    s_max = np.maximum(state.s_max, s) if amsgrad else None
    if not _flag("rectify", rectify):
        denom = np.sqrt(s_max if amsgrad else s) / math.sqrt(1.0 - b2**t) + eps
        theta = theta - (lr / (1.0 - b1**t)) * (m / denom)
    else:
        theta = _pytorch_rectified(theta, m, s, t, lr, b1, b2, eps, _flag("degenerated_to_sgd", degenerated_to_sgd))
    return OptState(theta=theta, m=m, s=s, t=t, s_max=s_max)


# ------------------------------------------------------------------------------------------------
# registry and the optimizer interface
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VariantSpec:
    """One published variant: its step function, its published defaults and provenance.

    Attributes:
        key: registry key (``VARIANTS[key]``).
        step: the pure step function.
        defaults: the package's default hyper-parameters (``lr`` and ``betas`` included).
        source: where the code comes from (package and version, or paper version).
        checked: ``"package"`` (lock-step tested against the installed package), ``"reference"``
            (tested against :class:`adabelief_ref.AdaBelief`) or ``"source"`` (reproduced from
            published source, not run here).
        differs: one line on how it differs from Algorithm 2.
    """

    key: str
    step: Callable[..., OptState]
    defaults: Mapping[str, Any]
    source: str
    checked: str
    differs: str


def _spec(key, step, source, checked, differs) -> VariantSpec:
    import inspect

    defaults = {k: p.default for k, p in inspect.signature(step).parameters.items() if p.kind is p.KEYWORD_ONLY}
    return VariantSpec(key, step, defaults, source, checked, differs)


VARIANTS: dict[str, VariantSpec] = {
    s.key: s
    for s in (
        _spec("paper-v1", paper_v1_step, "arXiv:2010.07468v1 Algorithm 2", "source",
              "no ε in s_t; no bias correction in the main text"),
        _spec("algorithm-2", algorithm2_step, "arXiv v2+ / NeurIPS 2020 Algorithm 2", "reference",
              "the baseline (THEORY §1.1)"),
        _spec("adabelief-pytorch-0.0.5", pytorch_0_0_5_step, "adabelief-pytorch==0.0.5", "package",
              "ε=1e-8; amsgrad adds ε to the max buffer every step (≥ tε); rectify optional"),
        _spec("adabelief-pytorch-0.1.0", pytorch_0_1_0_step, "adabelief-pytorch==0.1.0", "package",
              "rectify + decoupled decay by default; coupled decay after the moments (no effect)"),
        _spec("adabelief-pytorch-0.2", pytorch_0_2_step, "adabelief-pytorch==0.2.0, 0.2.1", "package",
              "rectify + decoupled decay by default; rectify ignores amsgrad"),
        _spec("adabelief-tf-0.2", tf_0_2_step, "adabelief-tf==0.2.0, 0.2.1 (TensorFlow)", "source",
              "ε=1e-14; rectify by default (uses the amsgrad max); ε=0 becomes 1e-7"),
        _spec("optax-before-fix", optax_before_fix_step, "optax<=0.2.3 scale_by_belief", "package",
              "residual g_t − m_{t−1}"),
        _spec("optax-after-fix", optax_after_fix_step, "optax>=0.2.4 scale_by_belief", "package",
              "residual g_t − m_t; eps_root inside, eps outside"),
        _spec("timm", timm_step, "timm==1.0.31 timm.optim.AdaBelief", "package",
              "as adabelief-pytorch 0.2.x (lerp first moment)"),
    )
}

# Hyper-parameters that make each variant as close to Algorithm 2 (ε = 1e-16) as its options allow.
MATCHED: dict[str, dict[str, Any]] = {
    "paper-v1": {"eps": 1e-16, "bias_correction": True},
    "algorithm-2": {"eps": 1e-16},
    "adabelief-pytorch-0.0.5": {"eps": 1e-16},
    "adabelief-pytorch-0.1.0": {"eps": 1e-16, "rectify": False, "weight_decouple": False},
    "adabelief-pytorch-0.2": {"eps": 1e-16, "rectify": False, "weight_decouple": False},
    "adabelief-tf-0.2": {"eps": 1e-16, "rectify": False},
    "optax-before-fix": {"eps": 1e-16, "eps_root": 1e-16},
    "optax-after-fix": {"eps": 1e-16, "eps_root": 1e-16},
    "timm": {"eps": 1e-16, "rectify": False, "decoupled_decay": False},
}


@dataclass(frozen=True)
class Variant:
    """A variant with fixed hyper-parameters, driven like a reference optimizer
    (``init``/``step``/``alpha``/``beta1_at``), so :func:`adabelief_ref.run` records its trace.

    Build it with :func:`make_variant`. ``step`` raises ``ValueError`` on a non-finite iterate
    (the bare step functions return it, as the packages do).
    """

    spec: VariantSpec
    hyper: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.key

    @property
    def lr(self) -> float:
        return float(self.hyper["lr"])

    def alpha(self, t: int) -> float:
        """α_t = α (every package uses a constant learning rate here)."""
        return self.lr

    def beta1_at(self, t: int) -> float:
        return float(self.hyper["betas"][0])

    def init(self, theta0: Any) -> OptState:
        return init(theta0, amsgrad=bool(self.hyper.get("amsgrad", False)))

    def step(self, state: OptState, grad: Any) -> OptState:
        new = self.spec.step(state, grad, **self.hyper)
        if not np.all(np.isfinite(new.theta)):
            raise ValueError(
                f"variant {self.name!r} produced a non-finite iterate at step t={new.t} with "
                f"eps={self.hyper.get('eps')!r}; the package computes the same NaN/inf"
            )
        return new

    def __repr__(self) -> str:
        return f"Variant({self.name!r}, {dict(self.hyper)!r})"


def make_variant(key: str, **hyper: Any) -> Variant:
    """The variant ``key`` (see :data:`VARIANTS`) with its published defaults overridden by
    ``hyper``; unknown names and invalid values raise ``ValueError`` now, not at the first step."""
    _checks.choice("key", key, tuple(VARIANTS))
    spec = VARIANTS[key]
    unknown = sorted(set(hyper) - set(spec.defaults))
    if unknown:
        raise ValueError(
            f"hyper-parameters {unknown} are not accepted by variant {key!r}; accepted: {', '.join(spec.defaults)}"
        )
    merged = {**spec.defaults, **hyper}
    variant = Variant(spec, merged)
    probe = np.zeros(1)
    variant.spec.step(variant.init(probe), probe, **merged)  # validates every hyper-parameter once
    return variant


def drift_from_algorithm2(
    grads: Any, theta0: Any, *, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
    settings: str = "defaults", keys: tuple[str, ...] | None = None,
) -> dict[str, np.ndarray]:
    r"""Relative drift of each variant from Algorithm 2 on one gradient stream.

    Every variant is fed the same gradients g_1..g_T (``grads``, shape (T, *shape), open loop: the
    stream does not depend on θ, so the drift measures the update rules alone) from θ_0. With
    θ_t^v the variant's iterate and θ_t^A that of :func:`algorithm2_step` (ε = 1e-16)::

        D_v(t) = ‖θ_t^v − θ_t^A‖ / ‖θ_t^A − θ_0‖        (norm over all but the time axis)

    Args:
        grads: (T, *shape) gradient stream, finite.
        theta0: θ_0 with shape ``shape``.
        lr, betas: shared by every variant (α, (β1, β2)).
        settings: ``"defaults"`` (each package's published defaults: its ε, rectify, ...) or
            ``"matched"`` (:data:`MATCHED`: as close to Algorithm 2 as each variant's options allow).
        keys: which variants (default: all of :data:`VARIANTS`).

    Returns:
        ``{key: D (T,)}``, the drift after each step t = 1..T.
    """
    _checks.choice("settings", settings, ("defaults", "matched"))
    grads = _checks.finite_array("grads", grads)
    theta0 = _checks.finite_array("theta0", theta0)
    if grads.ndim < 1 or grads.shape[1:] != theta0.shape or grads.shape[0] < 1:
        raise ValueError(f"grads must have shape (T, *theta0.shape) = (T, {', '.join(map(str, theta0.shape))}) with "
                         f"T >= 1; got {grads.shape}")
    keys = tuple(VARIANTS) if keys is None else tuple(_checks.choice("keys[i]", k, tuple(VARIANTS)) for k in keys)

    def trajectory(key, extra):
        v = make_variant(key, lr=lr, betas=betas, **extra)
        state, out = v.init(theta0), np.empty_like(grads)
        for k, g in enumerate(grads):
            state = v.spec.step(state, g, **v.hyper)
            out[k] = state.theta
        return out

    baseline = trajectory("algorithm-2", {"eps": 1e-16})
    axes = tuple(range(1, grads.ndim))
    moved = np.sqrt(np.sum((baseline - theta0) ** 2, axis=axes))
    drift = {}
    for key in keys:
        extra = MATCHED[key] if settings == "matched" else {}
        path = trajectory(key, extra)
        drift[key] = np.sqrt(np.sum((path - baseline) ** 2, axis=axes)) / moved
    return drift


# ------------------------------------------------------------------------------------------------
# ε, measured (THEORY §1.3): the floor, β1 = 0, low precision, "is it just SGD?"
# ------------------------------------------------------------------------------------------------
def epsilon_floor(
    eps: float, *, beta2: float = 0.999, lr: float = 1e-3, T: int = 200, d: int = 8,
    rng: np.random.Generator | int = 0,
) -> dict[str, float]:
    r"""The ε floor ŝ_t ≥ ε/(1−β2) and its Adam-equivalent √(ε/(1−β2)), measured at equality.

    With s_0 = 0 the ε-part of s_t is ε(1−β2^t)/(1−β2), so ŝ_t = s_t/(1−β2^t) ≥ ε/(1−β2), with
    equality when every residual g − m vanishes — exactly the case β1 = 0 (m_t = g_t). The run
    feeds Algorithm 2 (:func:`algorithm2_step`, β1 = 0) T standard-normal gradients in d coordinates.

    Returns ``s_hat_min`` (min over t, i of ŝ_t,i), ``floor`` = ε/(1−β2), their ``ratio`` (1 up to
    rounding), ``adam_eps_measured`` = √(s_hat_min) (the ε an Adam with the same denominator would
    need) and ``adam_eps_predicted`` = √(ε/(1−β2)).
    """
    eps = _checks.positive("eps", eps)
    beta2 = _checks.in_unit_interval("beta2", beta2)
    rng = np.random.default_rng(rng)
    grads = rng.standard_normal((int(T), int(d)))
    state, s_hat_min = init(np.zeros(int(d))), np.inf
    for g in grads:
        state = algorithm2_step(state, g, lr=lr, betas=(0.0, beta2), eps=eps)
        s_hat_min = min(s_hat_min, float(np.min(state.s / (1.0 - beta2**state.t))))
    floor = eps / (1.0 - beta2)
    return {
        "s_hat_min": s_hat_min, "floor": floor, "ratio": s_hat_min / floor,
        "adam_eps_measured": math.sqrt(s_hat_min), "adam_eps_predicted": math.sqrt(floor),
    }


def beta1_zero_multiplier(
    eps: float, *, lr: float = 1e-3, beta2: float = 0.999, T: int = 200, d: int = 8,
    rng: np.random.Generator | int = 0,
) -> dict[str, float]:
    r"""With β1 = 0, Algorithm 2 is SGD with step α/(√(ε/(1−β2)) + ε).

    m_t = g_t makes g_t − m_t ≡ 0 (exactly, in floating point), so ŝ_t = ε/(1−β2) and
    θ_t − θ_{t−1} = −α g_t/(√(ε/(1−β2)) + ε). Measured on T standard-normal gradients: the
    multiplier |θ_t − θ_{t−1}| / (α|g_t|) for every t and coordinate.

    Returns ``multiplier_min``, ``multiplier_max``, ``predicted`` = 1/(√(ε/(1−β2)) + ε) and
    ``max_rel_error``; ``sgd_lr`` = α·predicted is the equivalent SGD learning rate.
    """
    eps = _checks.positive("eps", eps)
    beta2 = _checks.in_unit_interval("beta2", beta2)
    rng = np.random.default_rng(rng)
    grads = rng.standard_normal((int(T), int(d)))
    state = init(np.zeros(int(d)))
    steps = np.empty_like(grads)
    for k, g in enumerate(grads):
        new = algorithm2_step(state, g, lr=lr, betas=(0.0, beta2), eps=eps)
        steps[k], state = new.theta - state.theta, new
    multiplier = np.abs(steps) / (lr * np.abs(grads))
    predicted = 1.0 / (math.sqrt(eps / (1.0 - beta2)) + eps)
    return {
        "multiplier_min": float(multiplier.min()), "multiplier_max": float(multiplier.max()),
        "predicted": predicted, "max_rel_error": float(np.max(np.abs(multiplier / predicted - 1.0))),
        "sgd_lr": lr * predicted,
    }


def beta1_zero_blowup(
    eps: float, *, lr: float = 1e-3, beta2: float = 0.999, curvature: float = 1.0, theta0: float = 1.0,
    T_max: int = 10_000,
) -> dict[str, Any]:
    r"""Why β1 = 0 gives NaN: on f(θ) = hθ²/2 Algorithm 2 with β1 = 0 is SGD with step
    α_eff = α/(√(ε/(1−β2)) + ε), so θ_t = (1 − α_eff h)^t θ_0 diverges once α_eff h > 2.

    Runs :func:`algorithm2_step` (float64, closed loop g_t = hθ_{t−1}) until θ_t overflows to
    ±inf; the next gradient is inf and its residual g − m = inf − inf is NaN (computed here).

    Returns ``alpha_eff``, ``growth`` = |1 − α_eff h| per step, ``first_inf_step`` (measured; None if
    θ stayed finite for T_max steps), ``predicted_inf_step`` = the first t with
    |θ_0|·growth^t > float64 max (None when growth ≤ 1), and ``next_residual_is_nan``.
    """
    eps = _checks.positive("eps", eps)
    beta2 = _checks.in_unit_interval("beta2", beta2)
    h = _checks.positive("curvature", curvature)
    alpha_eff = lr / (math.sqrt(eps / (1.0 - beta2)) + eps)
    growth = abs(1.0 - alpha_eff * h)
    state = init(np.array([float(theta0)]))
    first_inf = None
    for _ in range(int(T_max)):
        state = algorithm2_step(state, h * state.theta, lr=lr, betas=(0.0, beta2), eps=eps)
        if not np.all(np.isfinite(state.theta)):
            first_inf = state.t
            break
    next_nan = None
    if first_inf is not None:
        with np.errstate(invalid="ignore", over="ignore"):
            g_next = h * state.theta
            next_nan = bool(np.all(np.isnan(g_next - (0.0 * state.m + 1.0 * g_next))))
    huge = np.finfo(np.float64).max
    predicted = None
    if growth > 1:
        predicted = int(math.floor((math.log(huge) - math.log(abs(theta0))) / math.log(growth))) + 1
    return {"alpha_eff": alpha_eff, "growth": growth, "first_inf_step": first_inf,
            "predicted_inf_step": predicted, "next_residual_is_nan": next_nan}


LOW_PRECISION = ("float16", "bfloat16", "float32", "float64")


def _torch_dtype(dtype: str):
    import torch

    _checks.choice("dtype", dtype, LOW_PRECISION)
    return getattr(torch, dtype)


def algorithm2_in_dtype(
    grads: Any, theta0: Any, *, dtype: str, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-16,
) -> dict[str, np.ndarray]:
    r"""Algorithm 2 with θ, m and s kept in ``dtype`` — what adabelief-pytorch ≤ 0.2.0 does with a
    float16/bfloat16 parameter (0.2.1 upcasts fp16 to fp32 for the update; timm keeps fp32 state).

    The torch operations are those of the 0.2.0 update with ``rectify=False``: m ← β1 m + (1−β1) g;
    s ← β2 s + (1−β2)(g − m)²; s ← s + ε (in place); θ ← θ − α/(1−β1^t) · m/(√s/√(1−β2^t) + ε), each
    rounded to ``dtype`` (hyper-parameters and bias corrections are Python floats, as in the
    package). In float64 it is :func:`algorithm2_step`. The gradients are rounded to ``dtype`` first.

    Returns ``theta`` (T+1, *shape) and ``s`` (T, *shape) as float64 arrays (inf/NaN kept).
    """
    import torch

    dt = _torch_dtype(dtype)
    grads = _checks.finite_array("grads", grads)
    theta0 = _checks.finite_array("theta0", theta0)
    lr = _checks.positive("lr", lr)
    b1, b2 = _checks.betas_pair(betas)
    eps = _checks.non_negative("eps", eps)
    p = torch.tensor(theta0, dtype=dt)
    m, s = torch.zeros_like(p), torch.zeros_like(p)
    thetas, ss = [p.double().numpy().copy()], []
    for t, g in enumerate(torch.tensor(grads, dtype=dt), start=1):
        m.mul_(b1).add_(g, alpha=1.0 - b1)
        residual = g - m
        s.mul_(b2).addcmul_(residual, residual, value=1.0 - b2)
        denom = (s.add_(eps).sqrt() / math.sqrt(1.0 - b2**t)).add_(eps)
        p.addcdiv_(m, denom, value=-lr / (1.0 - b1**t))
        thetas.append(p.double().numpy().copy())
        ss.append(s.double().numpy().copy())
    return {"theta": np.stack(thetas), "s": np.stack(ss)}


def low_precision_facts(dtype: str, *, eps: float = 1e-16, beta2: float = 0.999) -> dict[str, float]:
    r"""What survives of ε, β2 and (g − m)² when s is stored in ``dtype`` (torch rounding).

    Each measured figure comes with its prediction from the format's constants: u = 2^-p the unit
    roundoff (``finfo.eps``/2), tiny the smallest subnormal, n_min the smallest normal number.

    * ``eps_stored``: ε after s ← 0 + ε (fp16 flushes 1e-16 to 0, since 1e-16 < tiny/2 = 3e-8).
    * ``residual_threshold``: the smallest r on a log grid with (1−β2)r² ≠ 0 in ``dtype``;
      predicted √(tiny/(2(1−β2))) (a product below tiny/2 rounds to 0).
    * ``eps_absorbed_from``: the smallest s on a log grid with s + ε == s; predicted ε/u (ε is
      below half a unit in the last place of s).
    * ``decay_stuck_share``: share of normal s on a log grid [n_min, 1] with β2·s == s (the EMA
      stops forgetting); predicted 1 when 1 − β2 < finfo.eps/4 (the decrement is below half an ulp
      everywhere in a binade: bfloat16 with β2 = 0.999), 0 when 1 − β2 ≥ finfo.eps/2.
    * ``decay_stuck_below``: the largest subnormal s on the grid with β2·s == s; predicted
      tiny/(2(1−β2)) (the decrement (1−β2)s is below half the subnormal spacing), capped at the
      largest subnormal.
    """
    import torch

    dt = _torch_dtype(dtype)
    eps = _checks.non_negative("eps", eps)
    beta2 = _checks.in_unit_interval("beta2", beta2)
    if beta2 == 0:
        raise ValueError("beta2 must lie in (0, 1) for low_precision_facts; got 0.0")
    finfo = torch.finfo(dt)
    n_min, u = float(finfo.smallest_normal), float(finfo.eps) / 2.0
    tiny = n_min * float(finfo.eps)                 # smallest subnormal 2^(emin−p+1)
    eps_stored = float(torch.zeros(1, dtype=dt).add_(eps).item())

    lo = math.log10(tiny)
    r = torch.logspace(lo / 2.0 - 2.0, 0.0, 4001, dtype=torch.float64).to(dt)
    contrib = torch.zeros_like(r).addcmul_(r, r, value=1.0 - beta2)
    grid = torch.unique(torch.logspace(lo, 0.0, 8001, dtype=torch.float64).to(dt))
    grid = grid[grid > 0]
    stuck = grid.clone().mul_(beta2) == grid
    normal = grid >= n_min
    absorbed = grid[grid.clone().add_(eps) == grid]
    stuck_sub = grid[stuck & ~normal]
    return {
        "eps_stored": eps_stored,
        "residual_threshold": float(r[contrib != 0].double().min().item()),
        "residual_threshold_predicted": math.sqrt(tiny / (2.0 * (1.0 - beta2))),
        "eps_absorbed_from": float(absorbed.double().min().item()),
        "eps_absorbed_from_predicted": eps / u if eps >= tiny / 2 else tiny,
        "decay_stuck_share": float(stuck[normal].double().mean().item()),
        "decay_stuck_share_predicted": 1.0 if (1.0 - beta2) < 2 * u / 4 else (0.0 if (1.0 - beta2) >= u else math.nan),
        "decay_stuck_below": float(stuck_sub.double().max().item()) if stuck_sub.numel() else 0.0,
        "decay_stuck_below_predicted": min(tiny / (2.0 * (1.0 - beta2)), n_min - tiny),
    }


def step_size_spread(
    sigmas: Any, eps: float, *, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), T: int = 4000,
    rng: np.random.Generator | int = 0, sgd_band: float = 0.1,
) -> dict[str, Any]:
    r""""Is it just SGD?" quantified: the spread of AdaBelief's per-coordinate step sizes.

    Algorithm 2 multiplies m_t by the per-coordinate step size η_t,i = α/((1−β1^t)(√ŝ_t,i + ε)).
    Fed zero-mean gradient noise g_t,i = σ_i ξ_t,i (ξ standard normal, open loop), the residual
    g_t − m_t = β1(g_t − m_{t−1}) has variance κσ_i² with κ = 2β1²/(1+β1), so

        ŝ_i ≈ κσ_i² + ε/(1−β2),       η_i ≈ α/(√(κσ_i² + ε/(1−β2)) + ε)     (t ≫ 1/(1−β2))

    Coordinates with σ_i ≪ σ* = √(ε/((1−β2)κ)) all get the floor step α/√(ε/(1−β2)): there the
    method *is* SGD with momentum. Measured over the second half of a T-step run of
    :class:`adabelief_ref.AdaBelief`:

    Returns ``spread`` (median over t of max_i η / min_i η), ``spread_predicted``, ``eta`` (median
    η per coordinate), ``eta_predicted``, ``sgd_share`` (share of coordinates with η within
    ``sgd_band`` of the floor step), ``sgd_share_predicted`` and ``sigma_star``.
    """
    from .optimizers import AdaBelief
    from .runner import run

    sigmas = _checks.finite_array("sigmas", sigmas)
    if sigmas.ndim != 1 or sigmas.size < 2 or np.any(sigmas < 0):
        raise ValueError(f"sigmas must be a 1-d array of >= 2 non-negative noise scales; got {sigmas!r}")
    eps = _checks.positive("eps", eps)
    b1, b2 = _checks.betas_pair(betas)
    T = int(T)
    if T < 4:
        raise ValueError(f"T must be an integer >= 4; got {T!r}")
    rng = np.random.default_rng(rng)
    grads = sigmas * rng.standard_normal((T, sigmas.size))
    tr = run(AdaBelief(lr, (b1, b2), eps), lambda t, th: grads[t - 1], np.zeros(sigmas.size), T,
             record=("s",))
    t = np.arange(1, T + 1)[:, None]
    eta = lr / ((1.0 - b1**t) * (np.sqrt(tr.s / (1.0 - b2**t)) + eps))
    late = eta[T // 2:]
    kappa = 2.0 * b1**2 / (1.0 + b1)
    floor = eps / (1.0 - b2)
    eta_pred = lr / (np.sqrt(kappa * sigmas**2 + floor) + eps)
    floor_step = lr / (math.sqrt(floor) + eps)
    eta_med = np.median(late, axis=0)
    return {
        "spread": float(np.median(late.max(axis=1) / late.min(axis=1))),
        "spread_predicted": float(eta_pred.max() / eta_pred.min()),
        "eta": eta_med, "eta_predicted": eta_pred,
        "sgd_share": float(np.mean(eta_med >= (1.0 - sgd_band) * floor_step)),
        "sgd_share_predicted": float(np.mean(eta_pred >= (1.0 - sgd_band) * floor_step)),
        "sigma_star": math.sqrt(floor / kappa) if kappa > 0 else math.inf,
    }
