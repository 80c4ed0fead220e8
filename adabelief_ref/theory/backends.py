r"""Which back end steps the runs the theory checks read: the numpy reference or the torch engine.

* ``backend="numpy"`` (default) — :func:`adabelief_ref.run`, the float64 reference. CI and the
  stored notebooks use it.
* ``backend="engine"`` — :func:`adabelief_ref.engine.driver.run_reference_shaped`: the same
  recursion (THEORY §1.1/§1.2, whichever form the optimizer has) stepped for every run of the
  batch at once as (B, d) float64 torch tensors on ``device`` (``"auto"``: CUDA when present, else
  the CPU), B = the product of θ_0's leading axes. It returns the same :class:`~adabelief_ref.Trace`,
  equal to the reference's to rounding (``tests/test_backends.py`` requires ≤ 1e-10), so every
  a posteriori bound and audit computed from it is the same.

The problems the theory notebooks use (:mod:`adabelief_ref.problems.online_convex`,
:mod:`adabelief_ref.problems.stochastic`) have no on-device twin: with the engine their gradients
g_t = ∇f_t(θ_{t−1}) are still computed by numpy on the host, one round trip per step
(:class:`~adabelief_ref.engine.HostProblem`). What the engine buys is one set of tensor operations per
step for a whole batch (seeds × hyper-parameter grid), on a GPU where there is one; torch is only
imported when the engine is asked for.
"""

from __future__ import annotations

from typing import Any

from .. import _checks
from ..runner import RECORDABLE, Trace, run

BACKENDS = ("numpy", "engine")

__all__ = ["BACKENDS", "check_backend", "run_trace"]


def check_backend(backend: Any, device: Any) -> tuple[str, Any]:
    """Validate a (``backend``, ``device``) pair; returns the backend and the resolved device.

    ``device`` applies to the engine only: with ``backend="numpy"`` it must stay ``"auto"``.

    Raises:
        ValueError: an unknown backend; a device other than ``"auto"`` with the numpy backend; with
            the engine, a device that is unknown or absent on this machine (``resolve_device``).
    """
    backend = _checks.choice("backend", backend, BACKENDS)
    if backend == "numpy":
        if not (isinstance(device, str) and device == "auto"):
            raise ValueError(
                f"device applies to backend='engine' only; got device={device!r} with backend='numpy' "
                "(leave device='auto', or pass backend='engine')"
            )
        return backend, device
    from ..engine.devices import resolve_device

    return backend, resolve_device(device)


def run_trace(
    opt: Any,
    problem: Any,
    theta0: Any,
    T: int,
    *,
    backend: str = "numpy",
    device: Any = "auto",
    record: tuple[str, ...] = RECORDABLE,
) -> Trace:
    """``run(opt, problem, theta0, T)`` on the chosen back end; θ_0 may carry batch axes (..., d).

    Args:
        opt: the reference optimizer (with the engine also a list of one per run, in the row-major
            order of θ_0's leading axes).
        problem: ``grad(t, theta)`` callable or object with that method (numpy).
        theta0: θ_0, shape (..., d). T: number of steps.
        backend: ``"numpy"`` or ``"engine"``. device: the engine's device (``"auto"``, ``"cpu"``, ``"cuda[:k]"``).
        record: which of ``theta, g, m, s, s_max`` to keep.
    """
    backend, dev = check_backend(backend, device)
    if backend == "numpy":
        return run(opt, problem, theta0, T, record=record)
    from ..engine.driver import run_reference_shaped

    return run_reference_shaped(opt, problem, theta0, T, device=dev, record=record)
