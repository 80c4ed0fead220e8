"""Seeds × learning-rate sweeps on the device-native problems, and their results on disk.

:func:`sweep` builds the (config, problem) pair of a sweep; :func:`save_result` / :func:`load_result`
write and read an :class:`~.driver.EngineResult` summary as ``.npz`` (metrics, final θ, seeds and
the provenance record as JSON) — the format of the recorded GPU results under ``reports/gpu/``.
The command line (``python -m adabelief_ref.engine`` or ``torchrun ... -m adabelief_ref.engine``)
is in ``__main__``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .batched import BatchedConfig
from .driver import EngineResult
from .problems import OnlineQuadratic, ReddiOnline, StochasticNonconvex

PROBLEMS = ("reddi", "online_quadratic", "nonconvex")


def sweep(problem: str, n_seeds: int, lrs: Sequence[float], d: int, *, algorithm: str = "adabelief",
          form: str = "analysis", lr_schedule: str = "inv_sqrt", amsgrad: bool = False, beta1: float = 0.9,
          beta2: float = 0.999, eps: float = 1e-8, base_seed: int = 0, **problem_kwargs: Any):
    """A seeds × learning-rates sweep: run b has seed ``base_seed + b // len(lrs)`` and α = lrs[b % len(lrs)].

    Args:
        problem: ``"reddi"`` (:class:`~.problems.ReddiOnline`, deterministic), ``"online_quadratic"``
            or ``"nonconvex"``; ``problem_kwargs`` go to its constructor.
        n_seeds: seeds per learning rate; lrs: the α values; d: dimension.
        algorithm, form, lr_schedule, amsgrad, beta1, beta2, eps: shared by all runs (see
            :meth:`~.batched.BatchedConfig.make`); the projection is the problem's own F.

    Returns:
        ``(config, problem)`` with B = n_seeds·len(lrs) runs.
    """
    if problem not in PROBLEMS:
        raise ValueError(f"problem must be one of {PROBLEMS}; got {problem!r}")
    try:
        lrs = [float(x) for x in lrs]
    except (TypeError, ValueError):
        raise ValueError(f"lrs must be a sequence of numbers; got {lrs!r}") from None
    if not lrs:
        raise ValueError("lrs must contain at least one learning rate; got an empty sequence")
    if isinstance(n_seeds, bool) or not isinstance(n_seeds, (int, np.integer)) or n_seeds < 1:
        raise ValueError(f"n_seeds must be an integer >= 1; got {n_seeds!r}")
    B = int(n_seeds) * len(lrs)
    seeds = int(base_seed) + np.arange(B) // len(lrs)
    if problem == "reddi":
        prob = ReddiOnline(B=B, d=d, **problem_kwargs)
    elif problem == "online_quadratic":
        prob = OnlineQuadratic(seeds, d, **problem_kwargs)
    else:
        prob = StochasticNonconvex(seeds, d, **problem_kwargs)
    config = BatchedConfig.make(
        algorithm, B, lr=np.tile(lrs, n_seeds), beta1=beta1, beta2=beta2, eps=eps, form=form,
        lr_schedule=lr_schedule, amsgrad=amsgrad, feasible_set=prob.feasible_set(),
    )
    return config, prob


def save_result(path: str, result: EngineResult, **extra: Any) -> None:
    """Write ``result`` as .npz: ``t``, ``T``, ``theta``, ``seeds``, ``lr``, ``metric_<name>`` (K, B), the
    record as JSON, ``elapsed_s``, and any ``extra`` arrays or JSON-able values (``extra_<name>``)."""
    arrays: dict[str, Any] = {
        "t": result.t, "T": np.array(result.T), "theta": result.theta, "lr": result.config.lr,
        "record": np.array(json.dumps(result.record.as_dict())), "elapsed_s": np.array(result.elapsed_s),
    }
    if result.seeds is not None:
        arrays["seeds"] = result.seeds
    arrays.update({f"metric_{k}": v for k, v in result.metrics.items()})
    for k, v in extra.items():
        arrays[f"extra_{k}"] = v if isinstance(v, np.ndarray) else np.array(json.dumps(v))
    np.savez(path, **arrays)


def load_result(path: str) -> dict[str, Any]:
    """Read a file of :func:`save_result`: a dict with ``record`` (dict), ``metrics`` (name → (K, B)),
    ``extra`` (name → value) and the arrays ``t``, ``T``, ``theta``, ``lr``, ``seeds``, ``elapsed_s``."""
    with np.load(path, allow_pickle=False) as f:
        out: dict[str, Any] = {"metrics": {}, "extra": {}}
        for key in f.files:
            v = f[key]
            if key == "record":
                out["record"] = json.loads(str(v))
            elif key.startswith("metric_"):
                out["metrics"][key[len("metric_"):]] = v
            elif key.startswith("extra_"):
                out["extra"][key[len("extra_"):]] = json.loads(str(v)) if v.dtype.kind == "U" else v
            else:
                out[key] = v
    return out


def gpu_reports_dir() -> Path:
    """``reports/gpu/`` of the repository: where results produced on a GPU machine are recorded."""
    return Path(__file__).resolve().parents[2] / "reports" / "gpu"


def recorded_gpu_results(folder: str | Path | None = None) -> list[dict[str, Any]]:
    """The recorded results (``*.npz`` of :func:`save_result`) whose record says they ran on CUDA.

    Files whose record names another device are left out, so a CPU result can never be shown as a
    GPU one. Each entry is :func:`load_result`'s dict plus ``file`` (the file name). Sorted by name;
    an absent folder gives an empty list.
    """
    folder = gpu_reports_dir() if folder is None else Path(folder)
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("*.npz")):
        res = load_result(str(path))
        if str(res.get("record", {}).get("device", "")).startswith("cuda"):
            out.append({**res, "file": path.name})
    return out
