r"""A fused AdaBelief step for one large flat parameter: one pass over memory per step.

Algorithm 2 (THEORY §1.1) without projection, in place on (θ, m, s) with gradient g::

    m ← β1 m + (1 − β1) g
    s ← β2 s + (1 − β2)(g − m)² + ε
    θ ← θ − α (m / (1 − β1^t)) / (√(s / (1 − β2^t)) + ε)

Each parameter reads θ, g, m, s and writes θ, m, s: in float32 at least 7 × 4 = 28 bytes per
parameter and step, the bound a memory-bound kernel is measured against (``benchmarks/bench_engine.py``).
The step counter t lives on the device (a one-element tensor updated in place), so a step launches
no host-to-device copy and the compiled kernel is not re-specialised per step. (A 0-d counter is
not written back by the compiled CPU kernel of torch 2.13 — t stayed 0 — hence shape (1,).)

``compile="auto"`` fuses the update with ``torch.compile`` (Triton on CUDA, C++/OpenMP on CPU) and
falls back to the eager composition of torch operations when compilation is unavailable; the mode
actually used is reported in ``FusedAdaBelief.mode``.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch

from .. import _checks

COMPILE_MODES = ("auto", "always", "never")


def _adabelief_update(theta: torch.Tensor, g: torch.Tensor, m: torch.Tensor, s: torch.Tensor, step: torch.Tensor,
                      lr: float, beta1: float, beta2: float, eps: float) -> None:
    t = step + 1.0
    bc1 = 1.0 - torch.pow(beta1, t)
    bc2 = 1.0 - torch.pow(beta2, t)
    m.mul_(beta1).add_((1.0 - beta1) * g)
    prediction_error = g - m
    s.mul_(beta2).add_((1.0 - beta2) * (prediction_error * prediction_error)).add_(eps)
    sqrt_s_hat = torch.sqrt(s / bc2)
    theta.sub_(lr * (m / bc1) / (sqrt_s_hat + eps))
    step.copy_(t)


class FusedAdaBelief:
    """In-place AdaBelief (Algorithm 2, no projection) on a flat tensor θ of any size.

    Args:
        theta: the parameter tensor (updated in place; its device and dtype are used).
        lr, betas, eps: α, (β1, β2), ε as in :class:`adabelief_ref.AdaBelief`.
        compile: ``"auto"`` (torch.compile, eager on failure), ``"always"`` (raise on failure) or
            ``"never"`` (eager).
    """

    def __init__(self, theta: torch.Tensor, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-16, *, compile: str = "auto"):
        if not isinstance(theta, torch.Tensor) or not theta.is_floating_point():
            raise ValueError(f"theta must be a floating-point torch tensor; got {type(theta).__name__}")
        self.lr = _checks.positive("lr", lr)
        self.beta1, self.beta2 = _checks.betas_pair(betas)
        self.eps = _checks.non_negative("eps", eps)
        self.compile = _checks.choice("compile", compile, COMPILE_MODES)
        self.theta = theta
        self.m = torch.zeros_like(theta)
        self.s = torch.zeros_like(theta)
        self.t = torch.zeros(1, dtype=theta.dtype, device=theta.device)
        self.mode = "eager" if compile == "never" else "pending"
        self._fn: Any = _adabelief_update

    def step(self, grad: torch.Tensor) -> None:
        """One in-place step with gradient g_t = ``grad`` (same shape, device, dtype as θ)."""
        if grad.shape != self.theta.shape or grad.dtype != self.theta.dtype or grad.device != self.theta.device:
            raise ValueError(
                f"grad must match theta (shape {tuple(self.theta.shape)}, {self.theta.dtype}, {self.theta.device}); "
                f"got shape {tuple(grad.shape)}, {grad.dtype}, {grad.device}"
            )
        if self.mode == "pending":
            self._first_step(grad)
            return
        self._fn(self.theta, grad, self.m, self.s, self.t, self.lr, self.beta1, self.beta2, self.eps)

    def _first_step(self, grad: torch.Tensor) -> None:
        saved = [x.clone() for x in (self.theta, self.m, self.s, self.t)]
        try:
            with warnings.catch_warnings():
                # torch's compiler stack imports modules that emit Deprecation/FutureWarnings of
                # its own (e.g. torch.jit.script_method); they say nothing about this update.
                warnings.simplefilter("ignore", DeprecationWarning)
                warnings.simplefilter("ignore", FutureWarning)
                fn = torch.compile(_adabelief_update, dynamic=False, fullgraph=True)
                fn(self.theta, grad, self.m, self.s, self.t, self.lr, self.beta1, self.beta2, self.eps)
        except Exception:  # noqa: BLE001 - any compiler failure (no C++ compiler, no Triton) means eager
            if self.compile == "always":
                raise
            for x, old in zip((self.theta, self.m, self.s, self.t), saved):
                x.copy_(old)
            self.mode, self._fn = "eager", _adabelief_update
            self._fn(self.theta, grad, self.m, self.s, self.t, self.lr, self.beta1, self.beta2, self.eps)
            return
        self.mode, self._fn = "compiled", fn

    @property
    def bytes_per_step(self) -> int:
        """The minimum memory traffic of one step: 7 tensors of θ's size (read θ, g, m, s; write θ, m, s)."""
        return 7 * self.theta.numel() * self.theta.element_size()
