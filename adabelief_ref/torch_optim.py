r"""AdaBelief as a ``torch.optim.Optimizer`` that matches the float64 reference step for step.

The update is Algorithm 2 of the paper as printed (THEORY §1.1; ``form="algorithm"``, constant
step size, F = R^d — no projection), with optional weight decay and the AMSGrad maximum::

    g'_t = g_t + λ θ_{t−1}                                        (coupled weight decay)
    θ'   = θ_{t−1} (1 − α λ)                                      (decoupled, AdamW style)
    m_t  = β1 m_{t−1} + (1 − β1) g'_t
    s_t  = β2 s_{t−1} + (1 − β2)(g'_t − m_t)² + ε                 (ε inside s_t, every step)
    s_max,t = max(s_max,t−1, s_t)                                 (amsgrad; used instead of s_t)
    θ_t  = θ' − (α / (1 − β1^t)) · m_t / (√s_t / √(1 − β2^t) + ε)  (ε again outside the root)

With λ = 0 this is :class:`adabelief_ref.AdaBelief` (``form="algorithm"``) and the official
``adabelief_pytorch.AdaBelief`` (0.2.x with ``rectify=False, weight_decouple=False``); the tests
pin both in float64. The state keys follow the official package: ``step`` (a float64 0-d tensor,
per parameter), ``exp_avg`` (m), ``exp_avg_var`` (s, ε included) and ``max_exp_avg_var`` (amsgrad).

Three interchangeable implementations (same state, same results up to rounding):

* for-loop — one tensor at a time with ordinary torch ops (``foreach=False``; the default on
  the CPU, where each tensor's passes stay in cache);
* foreach — the ``torch._foreach_*`` multi-tensor ops, one pass over all tensors of a
  (device, dtype) bucket per operation (``foreach=True``; the default off the CPU, as in
  ``torch.optim``);
* fused — one pass over memory per step for all tensors of a group (``fused=True``, opt-in):

  - CPU tensors: a C kernel (:mod:`adabelief_ref._fused_cpu`) compiled on first use reads θ, g,
    m, s once and writes θ, m, s once (28 bytes per float32 parameter) in one multi-threaded call
    that also does the non-finite check. Tensors it cannot take (non-contiguous, or a gradient
    whose dtype differs from its parameter's) are updated by the for-loop path within the same step.
  - CUDA (any non-CPU) tensors: ``torch.compile`` of the multi-tensor update
    (:mod:`adabelief_ref._fused_compiled`; inductor generates Triton kernels), one compiled call
    per group and device per step. Step counts, α, β1, β2, ε, λ and the bias corrections are
    float64 device tensors, never Python numbers in the graph, so a group compiles once — on its
    first step — and a learning-rate schedule does not recompile it (a new compile happens only
    when the group's layout changes: which parameters have gradients, their shapes, strides or
    dtypes, ``amsgrad``, or the weight-decay mode). On this path the step counts live on the
    parameters' device. The non-finite check before the update is one multi-tensor max-norm plus one
    device-to-host transfer, i.e. **one synchronisation per group and step** (also with
    ``skip_nonfinite=True``). The device must support float64 (CUDA does; MPS does not).

  ``fused="compiled"`` selects the compiled path on every device, the CPU included (inductor then
  generates C++/OpenMP code). It exists so that the CUDA path can be tested without a GPU: on the
  CPU ``fused=True`` keeps the C kernel, because on this project's CPU machines inductor needed
  85–150 s to compile a 200-tensor group and its step was 1.3–1.8× slower than
  ``torch.optim.Adam(fused=True)``, while the C kernel compiles in about 1 s, once per machine (cached).

float16/bfloat16 parameters keep float32 state; every path computes in float32 and writes θ back
rounded to the parameter's dtype. float32 and float64 parameters keep state of their own dtype.
``p.grad`` is never modified (the official package adds λθ to it in place).

Non-finite gradients: before a group is updated, its gradients are checked. An inf or NaN raises
a ``ValueError`` naming the parameter and the step, and leaves that group untouched (parameters,
state and step counts) — groups are stepped in order, so the groups before it have already taken
this step and those after it have not. With ``skip_nonfinite=True`` the group's step is skipped
silently instead and every other group steps.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, Callable

import numpy as np
import torch

from . import _checks
from ._fused_compiled import WD_COUPLED as _WD_COUPLED
from ._fused_compiled import WD_DECOUPLED as _WD_DECOUPLED
from ._fused_compiled import WD_NONE as _WD_NONE
from ._fused_compiled import compiled_step

_LOW_PRECISION = (torch.float16, torch.bfloat16)
_FUSED_DTYPES = {
    torch.float32: "float32", torch.float64: "float64", torch.float16: "float16", torch.bfloat16: "bfloat16",
}
_BOOL_OPTIONS = ("decoupled_weight_decay", "amsgrad", "skip_nonfinite")


def state_dtype(param: torch.Tensor) -> torch.dtype:
    """dtype of the optimizer state of ``param``: float32 for float16/bfloat16, else its own."""
    return torch.float32 if param.dtype in _LOW_PRECISION else param.dtype


def _flag(name: str, value: Any, *, allow_none: bool = False) -> bool | None:
    if value is None and allow_none:
        return None
    if not isinstance(value, (bool, np.bool_)):
        accepted = "True, False or None" if allow_none else "True or False"
        raise ValueError(f"{name} must be {accepted}; got {value!r}")
    return bool(value)


class AdaBelief(torch.optim.Optimizer):
    r"""AdaBelief (Zhuang et al., 2020), Algorithm 2 without projection, as a torch optimizer.

    See the module docstring for the update. Every option is also a per-group key.

    Args:
        params: iterable of parameters or of dicts defining parameter groups.
        lr: step size α > 0.
        betas: (β1, β2), each in [0, 1).
        eps: ε > 0, added inside s_t every step and to the denominator (official default 1e-16).
            ε = 0 is refused: an all-zero residual history would give 0/0, i.e. NaN parameters
            without an error (the numpy reference accepts ε = 0 and raises on the first
            non-finite iterate instead).
        weight_decay: λ ≥ 0.
        decoupled_weight_decay: ``False`` — coupled, g ← g + λθ (the official package with
            ``weight_decouple=False``); ``True`` — θ ← θ(1 − αλ) before the step (AdamW).
        amsgrad: use s_max,t = max(s_max,t−1, s_t) (ε included, as the official package does).
        foreach: ``True`` multi-tensor path, ``False`` for-loop path, ``None`` (default) → for-loop
            when the group's parameters include CPU tensors, multi-tensor otherwise.
        fused: ``True`` single-pass update — the C kernel on CPU tensors, the ``torch.compile``d
            multi-tensor update on any other device; ``"compiled"`` the compiled update on every
            device (the CPU too); ``None``/``False`` (default) → not fused. ``fused`` with
            ``foreach=True`` is refused.
        skip_nonfinite: ``False`` (default) — an inf/NaN gradient raises ``ValueError``;
            ``True`` — the whole group skips that step, with no change to parameters or state.

    Raises:
        ValueError: a hyper-parameter out of range (naming it, the value and the accepted range),
            ``fused`` with parameters on a device without float64 (MPS), or non-real parameters.
        RuntimeError: ``fused=True`` but the CPU kernel cannot be compiled (no C compiler), or
            the compiled path's first step fails to compile (no Triton / no C++ compiler).

    ``_compile_backend`` (class attribute, ``"inductor"``) is the ``torch.compile`` backend of the
    compiled path. It is a private testing hook: the tests set it to ``"aot_eager"`` (the same
    traced graph, run with eager kernels) where inductor's code generation would take too long.
    """

    _compile_backend = "inductor"

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-16,
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
        amsgrad: bool = False,
        foreach: bool | None = None,
        fused: bool | str | None = None,
        skip_nonfinite: bool = False,
    ):
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
            decoupled_weight_decay=decoupled_weight_decay, amsgrad=amsgrad,
            foreach=foreach, fused=fused, skip_nonfinite=skip_nonfinite,
        )
        defaults.update(_validated(defaults, prefix=""))
        super().__init__(params, defaults)

    # -- parameter groups --------------------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group (its options default to the constructor's) after validating its options."""
        super().add_param_group(param_group)
        index = len(self.param_groups) - 1
        group = self.param_groups[index]
        try:
            group.update(_validated(group, prefix=f"param_groups[{index}]"))
            _check_params(group, index)
        except ValueError:
            self.param_groups.pop()
            raise
        if group["fused"] is True and any(p.device.type == "cpu" for p in group["params"]):
            from . import _fused_cpu

            _fused_cpu.load()  # fail at construction, not at the first step, if it cannot build

    # -- state dict ---------------------------------------------------------------------------------
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state dict; the state is copied with this optimizer's dtypes (float32 for
        float16/bfloat16 parameters, float64 step counts), so saving at step k, loading into a
        fresh optimizer and continuing is bit-identical to an uninterrupted run.

        ``torch.optim.Optimizer.load_state_dict`` casts state to the parameter's dtype (which would
        round fp32 state of a float16 parameter) and shares tensors with ``state_dict``; the state is
        therefore re-read from ``state_dict`` afterwards (load-state-dict pre-hooks that rewrite the
        state are not supported). A state dict of the official package (integer ``step``) loads too.
        """
        super().load_state_dict(state_dict)
        self.__dict__.pop("_compiled_cache", None)  # the compiled path re-checks where step counts live
        saved_ids = [pid for g in state_dict["param_groups"] for pid in g["params"]]
        params = [p for g in self.param_groups for p in g["params"]]
        for pid, p in zip(saved_ids, params):
            saved = state_dict["state"].get(pid)
            if saved is not None:
                self.state[p] = _restored_state(p, saved)
        for index, group in enumerate(self.param_groups):
            for key, value in self.defaults.items():  # options a foreign state dict lacks
                group.setdefault(key, value)
            group.update(_validated(group, prefix=f"param_groups[{index}]", lr_zero_ok=True))

    # -- the step -----------------------------------------------------------------------------------
    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One AdaBelief step for every parameter with a gradient; returns ``closure()`` if given.

        Parameters whose ``grad`` is ``None`` are skipped and keep their step count.
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        offset = 0
        for index, group in enumerate(self.param_groups):
            self._step_group(group, index, offset)
            offset += len(group["params"])
        return loss

    def _step_group(self, group: dict[str, Any], index: int, offset: int) -> None:
        where, params, grads = [], [], []
        for j, p in enumerate(group["params"]):
            if p.grad is None:
                continue
            if p.grad.is_sparse:
                raise ValueError(
                    f"param_groups[{index}]['params'][{j}] (parameter {offset + j}) has a sparse "
                    "gradient; only dense gradients are accepted"
                )
            where.append(j)
            params.append(p)
            grads.append(p.grad)
        if not params:
            return
        hyper = _Hyper.of(group)
        if group["fused"]:
            states = [self.state[p] for p in params]
            fresh = [i for i, state in enumerate(states) if "step" not in state]
            for p, state in zip(params, states):  # the compiled path keeps t on p's device
                on_device = group["fused"] == "compiled" or p.device.type != "cpu"
                self._init_state(p, state, amsgrad=hyper.amsgrad, step_device=p.device if on_device else None)
            bad = self._fused_step(group, index, where, params, grads, states, hyper)  # writes nothing if bad
            for i in fresh if bad is not None else []:
                del self.state[params[i]]
        else:
            bad = _first_nonfinite(grads)
            if bad is None:
                states = [self._init_state(p, self.state[p], amsgrad=hyper.amsgrad) for p in params]
                foreach = group["foreach"]
                if foreach is None:  # like torch.optim: multi-tensor off the CPU, for-loop on it
                    foreach = all(p.device.type != "cpu" for p in params)
                (_foreach_update if foreach else _loop_update)(params, grads, states, hyper)
        if bad is not None and not group["skip_nonfinite"]:
            j = where[bad]
            state = self.state.get(params[bad], {})
            t = int(state["step"].item()) + 1 if "step" in state else 1
            raise ValueError(
                f"the gradient of param_groups[{index}]['params'][{j}] (parameter {offset + j}, shape "
                f"{tuple(params[bad].shape)}) contains inf or NaN at step t={t}; only finite gradients "
                "are accepted (nothing in this group was changed; pass skip_nonfinite=True to skip such steps)"
            )

    def _fused_step(self, group, index, where, params, grads, states, h: "_Hyper") -> int | None:
        """The fused step of one group: CPU tensors through the C kernel when ``fused=True``, every
        other tensor through one compiled call per device. Returns the index of the first
        non-finite gradient (then nothing was written), or None."""
        kernel, compiled = [], {}
        for i, p in enumerate(params):
            if group["fused"] is True and p.device.type == "cpu":
                kernel.append(i)
            else:
                compiled.setdefault(p.device, []).append(i)
        if not compiled:
            return _fused_update(params, grads, states, h)  # checks first, writes nothing if bad
        bad = _first_nonfinite(grads)  # off the CPU: one device-to-host transfer per device
        if bad is not None:
            return bad
        if kernel:
            _fused_update(*([x[i] for i in kernel] for x in (params, grads, states)), h)
        for device, members in compiled.items():
            self._compiled_update(
                index, device, [where[i] for i in members], [params[i] for i in members],
                [grads[i] for i in members], [states[i] for i in members], h,
            )
        return None

    def _compiled_update(self, index, device, where, params, grads, states, h: "_Hyper") -> None:
        """One call of the compiled multi-tensor update for the tensors of group ``index`` on
        ``device`` (``where``: their positions in the group). The compiled function is looked up
        per (group, device, parameters with gradients, amsgrad, weight-decay mode) — on a miss,
        step counts not yet on the device (a loaded state dict's) are moved there; the float64
        hyper-parameter vector (α, β1, β2, ε, λ) is kept on the device and refreshed in place when
        a value changes (a fill per changed entry; no host-to-device copy, no recompile)."""
        backend = self._compile_backend
        cache = self.__dict__.setdefault("_compiled_cache", {})  # not in state_dict / pickles
        values = (h.lr, h.beta1, h.beta2, h.eps, h.wd)
        hyper_key = ("hyper", index, device)
        if hyper_key not in cache:
            cache[hyper_key] = (values, torch.tensor(values, dtype=torch.float64, device=device))
        old, hyper = cache[hyper_key]
        if old != values:
            for k in (k for k in range(len(values)) if old[k] != values[k]):
                hyper[k].fill_(values[k])
            cache[hyper_key] = (values, hyper)
        key = (index, device, tuple(where), h.amsgrad, h.wd_mode, backend)
        step = cache.get(key)
        if step is None:
            for p, state in zip(params, states):
                if state["step"].device != p.device:  # loaded from a state dict: CPU step counts
                    state["step"] = state["step"].to(p.device)
            layout = (device, h.amsgrad, h.wd_mode) + tuple(
                (p.shape, p.stride(), p.dtype, p.requires_grad, g.shape, g.stride(), g.dtype,
                 state["exp_avg"].stride(), state["exp_avg"].dtype)
                for p, g, state in zip(params, grads, states)
            )
            step = cache[key] = compiled_step(layout, backend)
        step(
            params,
            grads,
            [x["exp_avg"] for x in states],
            [x["exp_avg_var"] for x in states],
            [x["max_exp_avg_var"] for x in states] if h.amsgrad else [],
            [x["step"] for x in states],
            hyper,
            h.amsgrad,
            h.wd_mode,
        )

    @staticmethod
    def _init_state(
        p: torch.Tensor, state: dict[str, Any], amsgrad: bool = False, step_device: torch.device | None = None
    ) -> dict[str, Any]:
        """Fill in missing state: step 0, m_0 = s_0 = 0 (and s_max,0 = 0 for amsgrad), laid out
        like ``p`` (the fused kernel relies on that) in :func:`state_dtype` of ``p``. The step
        count is a float64 0-d tensor on the CPU, or on ``step_device`` (the compiled path's)."""
        if "step" not in state:
            state["step"] = torch.zeros((), dtype=torch.float64, device=step_device)
            state["exp_avg"] = _zeros_like_param(p)
            state["exp_avg_var"] = _zeros_like_param(p)
        if amsgrad and "max_exp_avg_var" not in state:
            state["max_exp_avg_var"] = _zeros_like_param(p)
        return state


# ---- validation ------------------------------------------------------------------------------------
def _validated(options: dict[str, Any], *, prefix: str, lr_zero_ok: bool = False) -> dict[str, Any]:
    """Checked copies of a group's options; error messages name ``prefix['key']`` (or ``key``).

    ``lr_zero_ok`` admits α = 0 in a loaded state dict (a scheduler may have set it); a learning
    rate given by the user must be > 0.
    """

    def name(key: str) -> str:
        return f"{prefix}[{key!r}]" if prefix else key

    out: dict[str, Any] = {
        "lr": (_checks.non_negative if lr_zero_ok else _checks.positive)(name("lr"), options["lr"]),
        "eps": _checks.positive(name("eps"), options["eps"]),
        "weight_decay": _checks.non_negative(name("weight_decay"), options["weight_decay"]),
        "foreach": _flag(name("foreach"), options["foreach"], allow_none=True),
        "fused": _fused_option(name("fused"), options["fused"]),
    }
    try:
        b1, b2 = options["betas"]
    except (TypeError, ValueError):
        raise ValueError(
            f"{name('betas')} must be a pair (beta1, beta2), each in [0, 1); got {options['betas']!r}"
        ) from None
    out["betas"] = (
        _checks.in_unit_interval(f"{name('betas')}[0] (beta1)", b1),
        _checks.in_unit_interval(f"{name('betas')}[1] (beta2)", b2),
    )
    for key in _BOOL_OPTIONS:
        out[key] = _flag(name(key), options[key])
    if out["fused"] and out["foreach"]:
        raise ValueError(
            f"{name('fused')}={out['fused']!r} and {name('foreach')}=True conflict: fused is a single-pass "
            "update, foreach the eager multi-tensor path; set at most one of them"
        )
    return out


def _fused_option(name: str, value: Any) -> bool | str | None:
    """``fused``: True, False, None or ``"compiled"``."""
    if isinstance(value, str):
        if value == "compiled":
            return value
    elif value is None or isinstance(value, (bool, np.bool_)):
        return None if value is None else bool(value)
    raise ValueError(f"{name} must be True, False, None or 'compiled'; got {value!r}")


def _check_params(group: dict[str, Any], index: int) -> None:
    for j, p in enumerate(group["params"]):
        where = f"param_groups[{index}]['params'][{j}]"
        if not p.is_floating_point():
            raise ValueError(f"{where} has dtype {p.dtype}; AdaBelief accepts real floating-point parameters only")
        if group["fused"] and p.device.type == "mps":
            raise ValueError(
                f"fused={group['fused']!r} keeps float64 step counts and hyper-parameters on the parameters' "
                f"device, but {where} is on {p.device}, which has no float64; use foreach=True on this device"
            )


def _zeros_like_param(p: torch.Tensor) -> torch.Tensor:
    return torch.zeros_like(p, dtype=state_dtype(p), memory_format=torch.preserve_format)


def _restored_state(p: torch.Tensor, saved: dict[str, Any]) -> dict[str, Any]:
    """A copy of one parameter's saved state: float64 step, tensors in ``p``'s layout and state dtype."""
    restored: dict[str, Any] = {}
    for key, value in saved.items():
        if key == "step":
            restored[key] = torch.tensor(float(value), dtype=torch.float64)
        elif isinstance(value, torch.Tensor):
            restored[key] = _zeros_like_param(p).copy_(value.detach())
        else:
            restored[key] = value
    return restored


# ---- the update, three ways -------------------------------------------------------------------------
class _Hyper:
    """A group's hyper-parameters as Python floats, plus the weight-decay mode."""

    __slots__ = ("lr", "beta1", "beta2", "eps", "wd", "wd_mode", "amsgrad")

    @classmethod
    def of(cls, group: dict[str, Any]) -> "_Hyper":
        h = cls()
        h.lr = float(group["lr"])
        h.beta1, h.beta2 = (float(b) for b in group["betas"])
        h.eps = float(group["eps"])
        h.wd = float(group["weight_decay"])
        h.wd_mode = _WD_NONE if h.wd == 0 else (_WD_DECOUPLED if group["decoupled_weight_decay"] else _WD_COUPLED)
        h.amsgrad = bool(group["amsgrad"])
        return h

    def step_scalars(self, t: float) -> tuple[float, float]:
        """(α/(1 − β1^t), 1/√(1 − β2^t)) — the bias corrections folded into two scalars."""
        return self.lr / (1.0 - self.beta1**t), 1.0 / math.sqrt(1.0 - self.beta2**t)


def _first_nonfinite(grads: list[torch.Tensor]) -> int | None:
    """Index of the first gradient holding inf or NaN, or None. On the CPU from each tensor's
    (min, max) — one read, NaN propagates; elsewhere from the multi-tensor max-norm."""
    present = [i for i, g in enumerate(grads) if g.numel()]
    if not present:
        return None
    if all(grads[i].device.type == "cpu" for i in present):
        extremes = torch.stack([torch.stack(torch.aminmax(grads[i])).double() for i in present])
    else:
        extremes = _max_norms([grads[i] for i in present])
    bad = (~torch.isfinite(extremes.reshape(len(present), -1)).all(dim=1)).nonzero()
    return present[int(bad[0, 0])] if bad.numel() else None


def _max_norms(grads: list[torch.Tensor]) -> torch.Tensor:
    """max|g| of each tensor (inf or NaN when g holds one) as a float64 CPU vector, computed with
    the multi-tensor norm and one transfer per device."""
    peaks = [x.double() for x in torch._foreach_norm(grads, math.inf)]
    if len({x.device for x in peaks}) == 1:
        return torch.stack(peaks).cpu()
    return torch.stack([x.cpu() for x in peaks])


def _working_copy(x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``x`` itself when it already has the compute dtype, else an upcast copy."""
    return x if x.dtype == dtype else x.to(dtype)


def _loop_update(params, grads, states, h: _Hyper) -> None:
    """The for-loop path: Algorithm 2 one tensor at a time."""
    for p, g, state in zip(params, grads, states):
        m, s = state["exp_avg"], state["exp_avg_var"]
        state["step"] += 1
        step_size, inv_sqrt_bc2 = h.step_scalars(state["step"].item())
        theta = _working_copy(p, m.dtype)  # p itself unless p is float16/bfloat16
        grad = _working_copy(g, m.dtype)
        if h.wd_mode == _WD_COUPLED:
            grad = grad.add(theta, alpha=h.wd)  # a new tensor: p.grad stays as it was
        elif h.wd_mode == _WD_DECOUPLED:
            theta.mul_(1.0 - h.lr * h.wd)
        m.mul_(h.beta1).add_(grad, alpha=1.0 - h.beta1)
        prediction_error = grad - m
        s.mul_(h.beta2).addcmul_(prediction_error, prediction_error, value=1.0 - h.beta2).add_(h.eps)
        s_used = s
        if h.amsgrad:
            s_used = torch.maximum(state["max_exp_avg_var"], s, out=state["max_exp_avg_var"])
        denom = s_used.sqrt().mul_(inv_sqrt_bc2).add_(h.eps)
        theta.addcdiv_(m, denom, value=-step_size)
        if theta is not p:
            p.copy_(theta)


def _foreach_update(params, grads, states, h: _Hyper) -> None:
    """The multi-tensor path: the same operations as :func:`_loop_update` with ``torch._foreach_*``
    on each (device, dtype) bucket."""
    buckets: dict[tuple[torch.device, torch.dtype], list[int]] = {}
    for i, p in enumerate(params):
        buckets.setdefault((p.device, p.dtype), []).append(i)
    for members in buckets.values():
        ps = [params[i] for i in members]
        st = [states[i] for i in members]
        ms = [x["exp_avg"] for x in st]
        ss = [x["exp_avg_var"] for x in st]
        steps = [x["step"] for x in st]
        dtype = ms[0].dtype
        thetas = [_working_copy(p, dtype) for p in ps]
        gs = [_working_copy(grads[i], dtype) for i in members]
        torch._foreach_add_(steps, 1.0)
        scalars = [h.step_scalars(t) for t in torch.stack(steps).tolist()]
        if h.wd_mode == _WD_COUPLED:
            gs = torch._foreach_add(gs, thetas, alpha=h.wd)
        elif h.wd_mode == _WD_DECOUPLED:
            torch._foreach_mul_(thetas, 1.0 - h.lr * h.wd)
        torch._foreach_mul_(ms, h.beta1)
        torch._foreach_add_(ms, gs, alpha=1.0 - h.beta1)
        prediction_errors = torch._foreach_sub(gs, ms)
        torch._foreach_mul_(ss, h.beta2)
        torch._foreach_addcmul_(ss, prediction_errors, prediction_errors, value=1.0 - h.beta2)
        torch._foreach_add_(ss, h.eps)
        s_used = ss
        if h.amsgrad:
            s_used = [x["max_exp_avg_var"] for x in st]
            torch._foreach_maximum_(s_used, ss)
        denoms = torch._foreach_sqrt(s_used)
        torch._foreach_mul_(denoms, [c[1] for c in scalars])
        torch._foreach_add_(denoms, h.eps)
        torch._foreach_addcdiv_(thetas, ms, denoms, [-c[0] for c in scalars])
        if thetas[0] is not ps[0]:
            torch._foreach_copy_(ps, thetas)


def _fusable(p: torch.Tensor, g: torch.Tensor, state: dict[str, Any], amsgrad: bool) -> bool:
    """Whether the kernel can take this tensor: a supported dtype shared by θ and g, and θ, g and
    every state tensor contiguous (the kernel walks them as flat arrays in step)."""
    return (
        p.dtype in _FUSED_DTYPES
        and g.dtype == p.dtype
        and p.is_contiguous()
        and g.is_contiguous()
        and state["exp_avg"].is_contiguous()
        and state["exp_avg_var"].is_contiguous()
        and (not amsgrad or state["max_exp_avg_var"].is_contiguous())
    )


def _fused_update(params, grads, states, h: _Hyper) -> int | None:
    """The single-pass path: one kernel call per dtype, which for a single-dtype group also does
    the non-finite check; tensors the kernel cannot take go through :func:`_loop_update`.
    Returns the index of the first non-finite gradient (then nothing was written), or None."""
    from . import _fused_cpu

    by_dtype: dict[torch.dtype, list[int]] = {}
    rest = []
    for i, (p, g, state) in enumerate(zip(params, grads, states)):
        (by_dtype.setdefault(p.dtype, []) if _fusable(p, g, state, h.amsgrad) else rest).append(i)
    threads = torch.get_num_threads()
    numels = {d: np.fromiter((params[i].numel() for i in m), dtype=np.int64, count=len(m)) for d, m in by_dtype.items()}
    one_call = len(by_dtype) == 1 and not rest
    if not one_call:  # check the whole group before any tensor is written
        found = []
        for dtype, members in by_dtype.items():
            pointers = [grads[i].data_ptr() for i in members]
            k = _fused_cpu.first_nonfinite(_FUSED_DTYPES[dtype], pointers, numels[dtype], threads)
            if k >= 0:
                found.append(members[k])
        k = _first_nonfinite([grads[i] for i in rest]) if rest else None
        if k is not None:
            found.append(rest[k])
        if found:
            return min(found)
    for dtype, members in by_dtype.items():
        st = [states[i] for i in members]
        k = _fused_cpu.step(
            _FUSED_DTYPES[dtype],
            amsgrad=h.amsgrad,
            wd_mode=h.wd_mode,
            params=[params[i].data_ptr() for i in members],
            grads=[grads[i].data_ptr() for i in members],
            exp_avgs=[x["exp_avg"].data_ptr() for x in st],
            exp_avg_vars=[x["exp_avg_var"].data_ptr() for x in st],
            max_exp_avg_vars=[x["max_exp_avg_var"].data_ptr() for x in st] if h.amsgrad else None,
            steps=[x["step"].data_ptr() for x in st],
            numels=numels[dtype],
            lr=h.lr,
            beta1=h.beta1,
            beta2=h.beta2,
            eps=h.eps,
            weight_decay=h.wd,
            nthreads=threads,
            check=one_call,
        )
        if k >= 0:
            return members[k]
    if rest:
        _loop_update([params[i] for i in rest], [grads[i] for i in rest], [states[i] for i in rest], h)
    return None
