"""The batched torch engine: B independent runs of the reference optimizers as (B, d) tensors.

Modules (one concept each):

* ``devices`` — ``device="auto"``/``"cpu"``/``"cuda[:k]"`` and dtype resolution, the provenance record;
* ``counter_rng`` — counter-based random numbers u(seed, stream, t, i), identical on every device;
* ``batched`` — :class:`BatchedConfig` (per-run hyper-parameters) and :class:`BatchedRun` (the step);
* ``problems`` — online/stochastic problems generating their data on the device;
* ``streaming`` — assumption audits accumulated during the run, Theorem 2.1's bound from them;
* ``driver`` — :func:`run` (streamed metrics) and :func:`run_reference_equivalent` (a full Trace,
  a drop-in for :func:`adabelief_ref.run`);
* ``distributed`` — :func:`run_sharded`: the runs split over processes/GPUs with torch.distributed;
* ``sweeps`` — seeds × learning-rate sweeps and their ``.npz`` files (``python -m adabelief_ref.engine``).

Importing this package needs torch; nothing prints on import.
"""

from .batched import ALGORITHMS, BatchedConfig, BatchedRun, BatchedState
from .devices import RunRecord, resolve_device, resolve_dtype
from .distributed import run_sharded, shard_rows
from .driver import EngineResult, run, run_reference_equivalent, run_reference_shaped
from .problems import DeviceProblem, HostProblem, OnlineQuadratic, ReddiOnline, StochasticNonconvex
from .streaming import AUDIT_METRICS, theorem21_rhs
from .sweeps import load_result, recorded_gpu_results, save_result, sweep

__all__ = [
    "ALGORITHMS",
    "AUDIT_METRICS",
    "BatchedConfig",
    "BatchedRun",
    "BatchedState",
    "DeviceProblem",
    "EngineResult",
    "HostProblem",
    "load_result",
    "OnlineQuadratic",
    "ReddiOnline",
    "recorded_gpu_results",
    "RunRecord",
    "StochasticNonconvex",
    "resolve_device",
    "resolve_dtype",
    "run",
    "run_reference_equivalent",
    "run_reference_shaped",
    "run_sharded",
    "save_result",
    "shard_rows",
    "sweep",
    "theorem21_rhs",
]
