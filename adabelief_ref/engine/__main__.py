"""Command line: a seeds × learning-rate sweep on one process, or sharded under torchrun::

    python -m adabelief_ref.engine --single --problem nonconvex --seeds 64 --lr 0.1,0.03 --dim 10 --steps 10000
    torchrun --nproc_per_node=2 -m adabelief_ref.engine --problem online_quadratic --seeds 256 --out sweep.npz

(Option names avoid prefixes of torchrun's own options, which torchrun's parser would claim.)
"""

from __future__ import annotations

import argparse
import os
from typing import Sequence

from .distributed import run_sharded
from .driver import run
from .sweeps import PROBLEMS, save_result, sweep


def main(argv: Sequence[str] | None = None) -> int:
    """Run a sweep and (rank 0) write it with :func:`~.sweeps.save_result`."""
    p = argparse.ArgumentParser(prog="python -m adabelief_ref.engine", description=__doc__.splitlines()[0])
    p.add_argument("--problem", choices=PROBLEMS, default="online_quadratic")
    p.add_argument("--algorithm", default="adabelief")
    p.add_argument("--form", default="analysis")
    p.add_argument("--lr-schedule", default="inv_sqrt")
    p.add_argument("--amsgrad", action="store_true")
    p.add_argument("--seeds", type=int, default=8, help="number of seeds (runs per learning rate)")
    p.add_argument("--lr", default="0.1", help="comma-separated learning rates")
    p.add_argument("--dim", type=int, default=10)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--checkpoints", type=int, default=None, help="spacing of checkpoint steps")
    p.add_argument("--audit", action="store_true")
    p.add_argument("--device", default="auto")
    p.add_argument("--dtype", default="float64")
    p.add_argument("--single", action="store_true", help="one process, no torch.distributed")
    p.add_argument("--out", default=None, help=".npz written by rank 0")
    a = p.parse_args(argv)
    config, prob = sweep(a.problem, a.seeds, a.lr.split(","), a.dim, algorithm=a.algorithm, form=a.form,
                         lr_schedule=a.lr_schedule, amsgrad=a.amsgrad)
    kwargs = dict(checkpoints=a.checkpoints, audit=a.audit, dtype=a.dtype, device=a.device)
    if a.single:
        result, rank = run(config, prob, a.steps, **kwargs), 0
    else:
        rank = int(os.environ.get("RANK", "0"))
        result = run_sharded(config, prob, a.steps, progress=False, **kwargs)
    if rank == 0 and a.out:
        save_result(a.out, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
