r"""The compiled multi-tensor AdaBelief step: ``fused=True`` off the CPU, ``fused="compiled"`` anywhere
(the path of :class:`adabelief_ref.torch_optim.AdaBelief` that ``torch.compile`` builds).

:func:`adabelief_update` is Algorithm 2 (THEORY §1.1, no projection) written with the
``torch._foreach_*`` multi-tensor operations over all tensors of one parameter group on one device,
with optional weight decay λ and the AMSGrad maximum::

    g'_t = g_t + λ θ_{t−1}                                         (coupled weight decay)
    θ'   = θ_{t−1} (1 − α λ)                                       (decoupled weight decay)
    m_t  = β1 m_{t−1} + (1 − β1) g'_t
    s_t  = β2 s_{t−1} + (1 − β2)(g'_t − m_t)² + ε
    s_max,t = max(s_max,t−1, s_t)                                  (amsgrad; used instead of s_t)
    θ_t  = θ' − (α / (1 − β1^t)) · m_t / (√s_t / √(1 − β2^t) + ε)

:class:`CompiledStep` hands it to ``torch.compile`` (``fullgraph=True``, static shapes): inductor
turns the whole group's update into one compiled call per step — Triton kernels on CUDA, C++/OpenMP
on the CPU. Nothing that changes from step to step is a Python number in the graph, so it is
compiled once and never re-specialised:

* the step counts t (one per tensor, as in the other paths) are float64 0-d tensors on the
  parameters' device, incremented inside the graph;
* α, β1, β2, ε, λ are the entries of one float64 vector ``hyper`` on the device (see
  :data:`HYPER_FIELDS`); a learning-rate schedule rewrites its entries, not the graph;
* the bias corrections α/(1 − β1^t) and (1 − β2^t)^{−1/2} are computed in the graph, in float64,
  from those tensors, and then rounded to the compute dtype — as the other paths round their
  float64 Python scalars.

Only the group's structure is baked in: the number, shapes, strides and dtypes of its tensors,
``amsgrad`` and the weight-decay mode. float16/bfloat16 parameters are up-cast to their float32
state's dtype inside the graph and written back rounded once.

dynamo keeps its compiled graphs per code object, with a limit of 8 variants (``recompile_limit``)
after which it runs the function uncompiled (logging a warning). Every :class:`CompiledStep` therefore compiles a private
copy of :func:`adabelief_update` (same code, a fresh code object), and :func:`compiled_step` hands
out one per group layout (shared by optimizers over equal layouts), so that each group compiles
exactly once however many groups and optimizers there are.

Two quirks of inductor's CPU code generation in torch 2.13, both caught by the tests (float64
against the numpy reference, with 0-d parameters and ε = 1e-3) and both avoided here:
``torch._foreach_add_(tensors, x)`` with a single float64 0-d tensor ``x`` rounds ``x`` to
float32 (a list ``[x] * n`` is exact), and per-tensor in-place operations (``x.add_(...)``,
``x.copy_(...)``) on 0-d graph inputs are silently dropped while the ``_foreach_*`` in-place
operations write them — so every write below is a ``_foreach_*`` operation.

This module checks nothing: the caller (the optimizer) validates options and scans the gradients
for inf/NaN before calling it.
"""

from __future__ import annotations

import functools
import types
import warnings
from collections.abc import Hashable
from typing import Any

import torch

#: The entries of the ``hyper`` vector, in order.
HYPER_FIELDS = ("lr", "beta1", "beta2", "eps", "weight_decay")
WD_NONE, WD_COUPLED, WD_DECOUPLED = 0, 1, 2


def adabelief_update(
    params: list[torch.Tensor],
    grads: list[torch.Tensor],
    exp_avgs: list[torch.Tensor],
    exp_avg_vars: list[torch.Tensor],
    max_exp_avg_vars: list[torch.Tensor],
    steps: list[torch.Tensor],
    hyper: torch.Tensor,
    amsgrad: bool,
    wd_mode: int,
) -> None:
    """One in-place AdaBelief step (module docstring) for every tensor of the lists.

    ``params`` θ (any float dtype), ``grads`` g, ``exp_avgs`` m, ``exp_avg_vars`` s and
    ``max_exp_avg_vars`` s_max (empty unless ``amsgrad``) in the state dtype (float32 for
    float16/bfloat16 θ), ``steps`` the float64 0-d step counts t − 1 (incremented here), ``hyper``
    the float64 vector (α, β1, β2, ε, λ). ``wd_mode``: :data:`WD_NONE`, :data:`WD_COUPLED` or
    :data:`WD_DECOUPLED`.
    """
    lr, beta1, beta2, eps, wd = hyper.unbind()
    torch._foreach_add_(steps, 1.0)
    t = torch.stack(steps)
    step_size = lr / (1.0 - beta1**t)  # α / (1 − β1^t), float64, one per tensor
    inv_sqrt_bc2 = 1.0 / torch.sqrt(1.0 - beta2**t)  # (1 − β2^t)^(−1/2)
    buckets: dict[torch.dtype, list[int]] = {}
    for i, p in enumerate(params):
        buckets.setdefault(p.dtype, []).append(i)
    for members in buckets.values():
        ps = [params[i] for i in members]
        ms = [exp_avgs[i] for i in members]
        ss = [exp_avg_vars[i] for i in members]
        dtype = ms[0].dtype
        thetas = [p if p.dtype == dtype else p.to(dtype) for p in ps]
        gs = [grads[i] if grads[i].dtype == dtype else grads[i].to(dtype) for i in members]
        b1, b2, e = beta1.to(dtype), beta2.to(dtype), eps.to(dtype)
        if wd_mode == WD_COUPLED:
            gs = torch._foreach_add(gs, torch._foreach_mul(thetas, wd.to(dtype)))
        elif wd_mode == WD_DECOUPLED:
            torch._foreach_mul_(thetas, (1.0 - lr * wd).to(dtype))
        torch._foreach_mul_(ms, b1)
        torch._foreach_add_(ms, torch._foreach_mul(gs, (1.0 - beta1).to(dtype)))
        prediction_errors = torch._foreach_sub(gs, ms)
        torch._foreach_mul_(ss, b2)
        squares = torch._foreach_mul(prediction_errors, prediction_errors)
        torch._foreach_add_(ss, torch._foreach_mul(squares, (1.0 - beta2).to(dtype)))
        torch._foreach_add_(ss, [e] * len(ss))  # a list: inductor rounds a single 0-d tensor to float32
        s_used = ss
        if amsgrad:
            s_used = [max_exp_avg_vars[i] for i in members]
            torch._foreach_maximum_(s_used, ss)
        denoms = torch._foreach_sqrt(s_used)
        torch._foreach_mul_(denoms, inv_sqrt_bc2[members].to(dtype).unbind())
        torch._foreach_add_(denoms, [e] * len(denoms))
        updates = torch._foreach_div(ms, denoms)
        torch._foreach_mul_(updates, (-step_size[members]).to(dtype).unbind())
        torch._foreach_add_(thetas, updates)
        if thetas[0] is not ps[0]:
            torch._foreach_copy_(ps, thetas)


def _private_copy(fn: types.FunctionType) -> types.FunctionType:
    """``fn`` with a fresh code object, so dynamo keeps a separate cache for it."""
    code = fn.__code__.replace()
    copy = types.FunctionType(code, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
    copy.__kwdefaults__, copy.__doc__ = fn.__kwdefaults__, fn.__doc__
    return copy


class CompiledStep:
    """:func:`adabelief_update` compiled by ``torch.compile`` with ``backend`` (``"inductor"`` by
    default; a test may pass ``"aot_eager"``, which traces the same graph but runs it with eager
    kernels). The graph is built on the first call; calls take the arguments of
    :func:`adabelief_update`.

    Raises:
        RuntimeError: on the first call, when the backend cannot compile the graph (no C++ compiler
            on the CPU, no Triton on CUDA); nothing has been written then.
    """

    def __init__(self, backend: str = "inductor"):
        self.backend = backend
        self._fn: Any = torch.compile(
            _private_copy(adabelief_update), backend=backend, dynamic=False, fullgraph=True
        )
        self._built = False

    def __call__(self, *args: Any) -> None:
        if self._built:
            self._fn(*args)
            return
        try:
            with warnings.catch_warnings():
                # On first use torch's compiler stack imports modules that emit Deprecation/
                # FutureWarnings of their own (torch.jit.script_method in torch 2.13); they say
                # nothing about this update.
                warnings.simplefilter("ignore", DeprecationWarning)
                warnings.simplefilter("ignore", FutureWarning)
                self._fn(*args)
        except torch._dynamo.exc.BackendCompilerFailed as exc:
            device = args[0][0].device if args[0] else "?"
            raise RuntimeError(
                f"torch.compile (backend {self.backend!r}) could not build the fused AdaBelief step "
                f"for tensors on {device}: {exc}; use foreach=True instead"
            ) from exc
        self._built = True


@functools.lru_cache(maxsize=128)
def compiled_step(layout: Hashable, backend: str = "inductor") -> CompiledStep:
    """The :class:`CompiledStep` for one group layout (any hashable description of what the graph
    is specialised on: tensor shapes, strides, dtypes, device, amsgrad, weight-decay mode),
    created on first request and shared afterwards; the 128 most recently used are kept."""
    return CompiledStep(backend)
