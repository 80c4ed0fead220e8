r"""Drive B batched runs for T steps: streamed metrics at checkpoints, or the full trajectory.

* :func:`run` — the scaled path: the problem's data are generated on the device, per-run
  statistics (regret, ‖∇f‖², the assumption audits of :mod:`.streaming`) are accumulated there and
  read at checkpoint steps, memory is O(B·d) whatever T is. A progress bar is shown in a terminal
  and never inside a notebook (``progress=None`` decides; True/False forces).
* :func:`run_reference_equivalent` — a drop-in for :func:`adabelief_ref.run`: takes the numpy
  reference optimizer object(s) and any problem, returns a :class:`~adabelief_ref.Trace` with the
  same arrays, computed by the engine (B runs at once when θ_0 is (B, d));
  :func:`run_reference_shaped` — the same for θ_0 of any shape (..., d) (e.g. grid × seeds × d),
  the back end of ``backend="engine"`` in :mod:`adabelief_ref.theory`.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import torch

from ..optimizers import Optimizer
from ..runner import RECORDABLE, Trace, gradient_oracle
from .batched import BatchedConfig, BatchedRun, BatchedState, check_finite, n_steps, schedule_rows
from .devices import RunRecord, make_record
from .problems import DeviceProblem, HostProblem
from .streaming import init_audit, summarize_audit, update_audit

BLOCK = 512  # steps per host-tabulated schedule block, progress update and finiteness check


@dataclass(frozen=True)
class EngineResult:
    """What a batched run produced.

    Attributes:
        T: number of steps.
        t: (K,) checkpoint steps.
        metrics: name → (K, B) float64 array, the problem's and the audit's metrics at each checkpoint.
        theta, m, s, s_max: final state θ_T, m_T, s_T, s_max,T as (B, d) float64 arrays (None if absent).
        theta_at: (K, B, d) iterates at the checkpoints if ``record_theta`` else None.
        record: device, dtype, torch version, seed (:class:`~.devices.RunRecord`).
        seeds: (B,) run seeds (None for deterministic problems).
        config: the :class:`~.batched.BatchedConfig` run.
        elapsed_s: wall time of the stepping loop in seconds (not deterministic; never print it in a
            checked notebook cell).
    """

    T: int
    t: np.ndarray
    metrics: dict[str, np.ndarray]
    theta: np.ndarray
    m: np.ndarray
    s: np.ndarray | None
    s_max: np.ndarray | None
    theta_at: np.ndarray | None
    record: RunRecord
    seeds: np.ndarray | None
    config: BatchedConfig = field(repr=False)
    elapsed_s: float = 0.0

    @property
    def B(self) -> int:
        return int(self.theta.shape[0])

    @property
    def run_steps_per_s(self) -> float:
        """Throughput: B·T / elapsed seconds (optimizer steps of single runs per second)."""
        return self.B * self.T / self.elapsed_s if self.elapsed_s > 0 else float("inf")


# -- helpers -----------------------------------------------------------------------------------------
def in_notebook() -> bool:
    """Whether we run inside a Jupyter kernel (then progress bars stay quiet)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = getattr(ipython, "get_ipython", lambda: None)()
    return shell is not None and type(shell).__name__ != "TerminalInteractiveShell"


def show_progress(progress: Any) -> bool:
    """``None``: show when stderr is a terminal and we are not in a notebook; else ``bool(progress)``."""
    if progress is None:
        return bool(getattr(sys.stderr, "isatty", lambda: False)()) and not in_notebook()
    if not isinstance(progress, (bool, np.bool_)):
        raise ValueError(f"progress must be True, False or None (auto); got {progress!r}")
    return bool(progress)


def _progress_bar(show: bool, total: int, desc: str):
    if not show:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="step", file=sys.stderr, mininterval=0.5, leave=False)


def checkpoint_steps(T: int, checkpoints: Any) -> np.ndarray:
    """The sorted checkpoint steps: ``None`` → [T]; an int k → k, 2k, ..., and T; an array → itself."""
    if checkpoints is None:
        return np.array([T], dtype=np.int64)
    if isinstance(checkpoints, (int, np.integer)) and not isinstance(checkpoints, bool):
        if checkpoints < 1:
            raise ValueError(f"checkpoints must be an integer >= 1 (a spacing) or an array of steps; got {checkpoints!r}")
        return np.unique(np.append(np.arange(checkpoints, T + 1, checkpoints, dtype=np.int64), T))
    arr = np.asarray(checkpoints)
    if arr.ndim != 1 or arr.size == 0 or arr.dtype.kind not in "iu" or arr.min() < 1 or arr.max() > T:
        raise ValueError(f"checkpoints must be a 1-d array of integer steps in [1, T={T}]; got {checkpoints!r}")
    return np.unique(arr.astype(np.int64))


def _bind(problem: Any, B: int, d: int | None, device: torch.device, dtype: torch.dtype) -> DeviceProblem:
    if not isinstance(problem, DeviceProblem):
        if d is None:
            raise ValueError("a numpy problem needs theta0 to know d; pass theta0")
        problem = HostProblem(problem, B, d)
    if problem.B != B:
        raise ValueError(f"the problem has B={problem.B} runs but the config has B={B}")
    return problem.to(device, dtype)


def _numpy(x: torch.Tensor | None) -> np.ndarray | None:
    return None if x is None else x.detach().to(torch.float64).cpu().numpy()


# -- the scaled path -----------------------------------------------------------------------------------
def run(
    config: BatchedConfig,
    problem: Any,
    T: int,
    *,
    theta0: Any = None,
    device: Any = "auto",
    dtype: Any = torch.float64,
    checkpoints: Any = None,
    audit: bool = False,
    stats: bool = True,
    record_theta: bool = False,
    progress: Any = None,
    world_size: int = 1,
) -> EngineResult:
    """Run the B runs of ``config`` on ``problem`` for ``T`` steps on one device.

    Step t (1..T) reads g_t = ``problem.grad(t, θ_{t−1})`` and produces θ_t, for all runs at once.

    Args:
        config: the :class:`~.batched.BatchedConfig` (B runs).
        problem: a :class:`~.problems.DeviceProblem` with B runs (data generated on the device), or a
            numpy problem / list of B per-run problems (host round trip per step: the slow path).
        T: number of steps.
        theta0: θ_0, (d,) or (B, d); default zeros.
        device: ``"auto"``, ``"cpu"``, ``"cuda[:k]"``. dtype: torch.float64 or torch.float32.
        checkpoints: ``None`` (only T), a spacing k, or an array of steps at which metrics are read.
        audit: also stream the assumption audits of :mod:`.streaming` (not for SGD).
        stats: stream the problem's own statistics (regret, ‖∇f‖², ...).
        record_theta: keep θ at every checkpoint ((K, B, d) memory).
        progress: progress bar: None (auto: terminal yes, notebook no), True, False.
        world_size: recorded in the result (set by the distributed driver).
    """
    T = n_steps("T", T)
    if not isinstance(config, BatchedConfig):
        raise ValueError(f"config must be a BatchedConfig; got {type(config).__name__}")
    if audit and config.algorithm == "sgd":
        raise ValueError("audit=True needs an adaptive method with s_t; got algorithm='sgd'")
    d = getattr(problem, "d", None)
    if theta0 is not None and d is None:
        d = int(np.shape(theta0)[-1])
    if d is None:
        raise ValueError("the problem has no attribute d; pass theta0")
    runner = BatchedRun(config, d, device=device, dtype=dtype)
    prob = _bind(problem, config.B, d, runner.device, runner.dtype)
    state = runner.init(np.zeros(d) if theta0 is None else theta0)
    cps = checkpoint_steps(T, checkpoints)
    acc_stats = prob.init_stats(state.theta) if stats else None
    acc_audit = init_audit(config.B, d, runner.device) if audit else None
    recorded: dict[str, list[torch.Tensor]] = {}
    thetas: list[torch.Tensor] = []
    bar = _progress_bar(show_progress(progress), T, f"{config.algorithm} B={config.B}")
    ci, t = 0, 0
    start = time.perf_counter()
    try:
        while t < T:
            K = min(BLOCK, T - t)
            table = runner.table(t + 1, K)
            for k in range(K):
                tt = t + k + 1
                data = prob.sample(tt)
                g = prob.grad(tt, state.theta, data)
                if acc_stats is not None:
                    acc_stats = prob.observe(acc_stats, tt, state.theta, g, data)
                row = schedule_rows(table, k)
                state = runner.step(state, g, row)
                if acc_audit is not None:
                    acc_audit = update_audit(acc_audit, state.s_used, g, row["alpha"], row["b1t"])
                if tt == cps[ci]:
                    summary = dict(prob.summarize(acc_stats, tt)) if acc_stats is not None else {}
                    if acc_audit is not None:
                        summary.update(summarize_audit(acc_audit))
                    for name, value in summary.items():
                        recorded.setdefault(name, []).append(torch.as_tensor(value).to(torch.float64).clone())
                    if record_theta:
                        thetas.append(state.theta.clone())
                    ci = min(ci + 1, cps.size - 1)
            check_finite(state, t + 1, t + K)
            t += K
            if bar is not None:
                bar.update(K)
    finally:
        if bar is not None:
            bar.close()
    if runner.device.type == "cuda":
        torch.cuda.synchronize(runner.device)
    elapsed = time.perf_counter() - start
    metrics = {name: torch.stack(vals).cpu().numpy() for name, vals in recorded.items()}
    return EngineResult(
        T=T, t=cps, metrics=metrics, theta=_numpy(state.theta), m=_numpy(state.m), s=_numpy(state.s),
        s_max=_numpy(state.s_max), theta_at=torch.stack(thetas).to(torch.float64).cpu().numpy() if thetas else None,
        record=make_record(runner.device, runner.dtype, None if prob.seeds is None else int(prob.seeds[0]), world_size),
        seeds=None if prob.seeds is None else prob.seeds.copy(), config=config, elapsed_s=elapsed,
    )


# -- the drop-in for adabelief_ref.run ------------------------------------------------------------------
def run_reference_equivalent(
    opt: Optimizer | Sequence[Optimizer] | BatchedConfig,
    problem: Any,
    theta0: Any,
    T: int,
    *,
    device: Any = "auto",
    dtype: Any = torch.float64,
    record: tuple[str, ...] = RECORDABLE,
    progress: Any = None,
) -> Trace:
    """:func:`adabelief_ref.run` computed by the engine: same arguments, same :class:`Trace`.

    Args:
        opt: a reference optimizer (repeated for every run), a list of B of them (one per run, they
            may differ in α, β1, β2, ε, λ), or a :class:`~.batched.BatchedConfig`.
        problem: a numpy problem ``grad(t, theta)`` accepting θ of the shape of ``theta0`` (as for
            :func:`adabelief_ref.run`; one host round trip per step), a list of B per-run numpy
            problems, or a :class:`~.problems.DeviceProblem`.
        theta0: (d,) for one run, or (B, d) for B runs.
        T: number of steps. device, dtype, progress: as in :func:`run`.
        record: which of ``theta, g, m, s, s_max`` to keep.

    Returns:
        a :class:`Trace` shaped as the reference's: theta (T+1, [B,] d), g/m/s/s_max (T, [B,] d),
        alpha and beta1 (T,) when all runs share them, else (T, B).
    """
    T = n_steps("T", T)
    unknown = set(record) - set(RECORDABLE)
    if unknown:
        raise ValueError(f"record accepts {', '.join(RECORDABLE)}; got unknown {sorted(unknown)}")
    if isinstance(theta0, torch.Tensor):
        theta0 = theta0.detach().cpu().numpy()
    th0 = np.asarray(theta0, dtype=np.float64)
    if th0.ndim not in (1, 2):
        raise ValueError(f"theta0 must have shape (d,) or (B, d); got {th0.shape}")
    single = th0.ndim == 1
    B, d = (1, th0.shape[0]) if single else th0.shape
    if isinstance(opt, BatchedConfig):
        config = opt
    elif isinstance(opt, Optimizer):
        config = BatchedConfig.from_optimizers(opt, B)
    else:
        config = BatchedConfig.from_optimizers(list(opt))
    if config.B != B:
        raise ValueError(f"got {config.B} optimizer setting(s) for theta0 of shape {th0.shape} (B={B})")
    runner = BatchedRun(config, d, device=device, dtype=dtype)
    if single and not isinstance(problem, DeviceProblem) and not isinstance(problem, (list, tuple)):
        problem = [problem]
    prob = _bind(problem, B, d, runner.device, runner.dtype)
    state = runner.init(th0)
    keep = {k: k in record for k in RECORDABLE}
    if state.s is None:
        keep["s"] = False
    if state.s_max is None:
        keep["s_max"] = False
    buf = {k: torch.empty((T + (k == "theta"), B, d), dtype=runner.dtype, device=runner.device) for k, v in keep.items() if v}
    if "theta" in buf:
        buf["theta"][0] = state.theta
    bar = _progress_bar(show_progress(progress), T, f"{config.algorithm} B={B}")
    t = 0
    try:
        while t < T:
            K = min(BLOCK, T - t)
            table = runner.table(t + 1, K)
            for k in range(K):
                tt = t + k + 1
                g = prob.grad(tt, state.theta, prob.sample(tt))
                state = runner.step(state, g, schedule_rows(table, k))
                _store(buf, tt, state, g)
            check_finite(state, t + 1, t + K)
            t += K
            if bar is not None:
                bar.update(K)
    finally:
        if bar is not None:
            bar.close()
    arrays = {k: v.to(torch.float64).cpu().numpy() for k, v in buf.items()}
    if single:
        arrays = {k: v[:, 0] for k, v in arrays.items()}
    host = config.schedule_table(1, T)
    alpha, beta1 = host["alpha"], host["b1t"]
    if np.all(alpha == alpha[:, :1]) and np.all(beta1 == beta1[:, :1]):
        alpha, beta1 = alpha[:, 0], beta1[:, 0]
    names = repr(opt) if isinstance(opt, (Optimizer, BatchedConfig)) else "[" + ", ".join(map(repr, opt)) + "]"
    return Trace(
        theta=arrays.get("theta"), g=arrays.get("g"), m=arrays.get("m"), s=arrays.get("s"), s_max=arrays.get("s_max"),
        alpha=alpha, beta1=beta1, optimizer=names,
    )


def run_reference_shaped(
    opt: Optimizer | Sequence[Optimizer] | BatchedConfig,
    problem: Any,
    theta0: Any,
    T: int,
    *,
    device: Any = "auto",
    dtype: Any = torch.float64,
    record: tuple[str, ...] = RECORDABLE,
    progress: Any = None,
) -> Trace:
    """:func:`run_reference_equivalent` for θ_0 of any shape (..., d), as :func:`adabelief_ref.run` takes it.

    The leading axes of θ_0 are flattened into B = ∏(...) runs stepped as one (B, d) batch (row-major:
    run b is the b-th entry of the leading axes); the numpy ``problem`` is called with θ_{t−1} in the
    original shape (..., d), so a problem whose data carry batch axes (one stream per seed, e.g.
    :mod:`adabelief_ref.problems.online_convex`) sees what :func:`adabelief_ref.run` passes it. Its
    gradient comes back from the host once per step (:class:`~.problems.HostProblem`).

    Args:
        opt: a reference optimizer (all runs), or B of them / a :class:`~.batched.BatchedConfig` with
            B runs in that row-major order (α, β1, β2, ε, λ per run).
        problem: a numpy problem ``grad(t, theta)`` (or an object with that method).
        theta0: θ_0 of shape (..., d). T, device, dtype, record, progress: as in :func:`run_reference_equivalent`.

    Returns:
        a :class:`Trace` with the reference's shapes: theta (T+1, ..., d), g/m/s/s_max (T, ..., d);
        alpha and beta1 (T,) when all runs share them, else (T, ...).
    """
    if isinstance(problem, DeviceProblem):
        raise ValueError("run_reference_shaped takes a numpy problem; pass a DeviceProblem to run_reference_equivalent")
    if isinstance(theta0, torch.Tensor):
        theta0 = theta0.detach().cpu().numpy()
    th0 = np.asarray(theta0, dtype=np.float64)
    if th0.ndim < 1 or th0.shape[-1] < 1 or 0 in th0.shape:
        raise ValueError(f"theta0 must have shape (..., d) with d >= 1 and no empty axis; got {th0.shape}")
    lead, d = th0.shape[:-1], th0.shape[-1]
    B = int(np.prod(lead, dtype=np.int64))
    oracle = gradient_oracle(problem)

    def flat_grad(t: int, theta: np.ndarray) -> np.ndarray:
        return np.asarray(oracle(t, theta.reshape(th0.shape)), dtype=np.float64).reshape(B, d)

    trace = run_reference_equivalent(opt, flat_grad, th0.reshape(B, d), T, device=device, dtype=dtype,
                                     record=record, progress=progress)
    shaped = lambda a: None if a is None else a.reshape(a.shape[:1] + th0.shape)  # noqa: E731
    per_run = lambda a: a if a.ndim == 1 else a.reshape(a.shape[:1] + lead)  # noqa: E731
    return Trace(
        theta=shaped(trace.theta), g=shaped(trace.g), m=shaped(trace.m), s=shaped(trace.s),
        s_max=shaped(trace.s_max), alpha=per_run(trace.alpha), beta1=per_run(trace.beta1),
        optimizer=trace.optimizer,
    )


def _store(buf: dict[str, torch.Tensor], t: int, state: BatchedState, g: torch.Tensor) -> None:
    for key, arr in buf.items():
        if key == "theta":
            arr[t] = state.theta
        elif key == "g":
            arr[t - 1] = g
        else:
            arr[t - 1] = getattr(state, key)
