r"""Sweeps beyond one device: the B runs split over processes with ``torch.distributed``.

Runs are independent, so sharding is exact: process r steps the rows ``shard_rows(B, W, r)`` with
the same per-run hyper-parameters and — because problem data are counter-based functions of
(seed, step, coordinate) — the same data as in a single-process run. The shards' results are then
gathered (``all_gather_object``) and concatenated in row order, so every process ends with the
result of the whole sweep, identical to the single-process run.

Back-end: gloo on CPU, NCCL on CUDA (process r uses ``cuda:LOCAL_RANK``). Launch with torchrun::

    torchrun --nproc_per_node=2 -m adabelief_ref.engine \
        --problem online_quadratic --seeds 256 --lr 0.1,0.03 --dim 10 --steps 10000 --out sweep.npz

Nothing is initialised on import; :func:`run_sharded` initialises the process group from the
torchrun environment when needed and tears it down again if it created it.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any, Sequence

import numpy as np
import torch
import torch.distributed as dist

from .batched import BatchedConfig
from .devices import resolve_device
from .driver import EngineResult, run

BACKENDS = ("gloo", "nccl")


def shard_rows(B: int, world_size: int, rank: int) -> np.ndarray:
    """The run indices of process ``rank``: contiguous, sizes differing by at most one."""
    for name, v in (("B", B), ("world_size", world_size)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be an integer >= 1; got {v!r}")
    if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or not (0 <= rank < world_size):
        raise ValueError(f"rank must be an integer in [0, {world_size - 1}]; got {rank!r}")
    if B < world_size:
        raise ValueError(f"cannot shard B={B} runs over world_size={world_size} processes; use B >= world_size")
    return np.array_split(np.arange(B), world_size)[rank]


def _local_device(device: Any, local_rank: int) -> torch.device:
    dev = resolve_device(device)
    if dev.type == "cuda" and (device in (None, "auto", "cuda") or dev.index is None):
        dev = resolve_device(f"cuda:{local_rank}")
    return dev


def merge_results(parts: Sequence[dict[str, Any]], template: EngineResult, world_size: int) -> EngineResult:
    """Concatenate per-shard payloads (in rank order) into one :class:`EngineResult`."""
    cat0 = lambda key: None if parts[0][key] is None else np.concatenate([p[key] for p in parts], axis=0)  # noqa: E731
    metrics = {k: np.concatenate([p["metrics"][k] for p in parts], axis=1) for k in parts[0]["metrics"]}
    theta_at = None if parts[0]["theta_at"] is None else np.concatenate([p["theta_at"] for p in parts], axis=1)
    return replace(
        template,
        metrics=metrics, theta=cat0("theta"), m=cat0("m"), s=cat0("s"), s_max=cat0("s_max"), theta_at=theta_at,
        seeds=cat0("seeds"), record=replace(template.record, world_size=world_size),
        elapsed_s=max(p["elapsed_s"] for p in parts),
    )


def run_sharded(
    config: BatchedConfig,
    problem: Any,
    T: int,
    *,
    theta0: Any = None,
    device: Any = "auto",
    dtype: Any = torch.float64,
    backend: str | None = None,
    **kwargs: Any,
) -> EngineResult:
    """Run ``config`` × ``problem`` with the B runs split across the processes of a torchrun job.

    Args:
        config, problem, T, theta0, dtype, and ``kwargs`` (checkpoints, audit, stats, record_theta,
            progress): as in :func:`adabelief_ref.engine.run`. ``problem`` must support
            ``select(rows)`` (every device-native problem does).
        device: ``"auto"`` → ``cuda:LOCAL_RANK`` when CUDA is present, else CPU.
        backend: ``None`` (gloo on CPU, NCCL on CUDA), ``"gloo"`` or ``"nccl"``.

    Returns:
        the merged result on every process (identical to ``run`` on one process).
    """
    created = False
    if not dist.is_available():
        raise ValueError("torch.distributed is not available in this torch build")
    if not dist.is_initialized():
        missing = [k for k in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT") if k not in os.environ]
        if missing:
            raise ValueError(
                f"run_sharded needs a torchrun environment (missing {', '.join(missing)}); launch with "
                "`torchrun --nproc_per_node=N ...` or call adabelief_ref.engine.run for one process"
            )
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    dev = _local_device(device, local_rank)
    if backend is None:
        backend = "nccl" if dev.type == "cuda" else "gloo"
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS} or None; got {backend!r}")
    if backend == "nccl" and dev.type != "cuda":
        raise ValueError(f"backend='nccl' needs CUDA devices; got device={str(dev)!r}")
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
        created = True
    try:
        rank, world = dist.get_rank(), dist.get_world_size()
        rows = shard_rows(config.B, world, rank)
        th0 = theta0
        if theta0 is not None and np.ndim(theta0) == 2:
            th0 = np.asarray(theta0)[rows]
        local = run(config.select(rows), problem.select(rows), T, theta0=th0, device=dev, dtype=dtype,
                    world_size=world, **kwargs)
        payload = {
            "metrics": local.metrics, "theta": local.theta, "m": local.m, "s": local.s, "s_max": local.s_max,
            "theta_at": local.theta_at, "seeds": local.seeds, "elapsed_s": local.elapsed_s,
        }
        parts: list[Any] = [None] * world
        dist.all_gather_object(parts, payload)
        template = replace(local, config=config)
        return merge_results(parts, template, world)
    finally:
        if created:
            dist.destroy_process_group()
