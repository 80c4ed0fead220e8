"""Benchmark: one optimizer step of ``adabelief_ref.torch_optim.AdaBelief`` (for-loop, foreach and
fused paths) against ``torch.optim.Adam(fused=True)``, ``torch.optim.Adam(foreach=True)`` and the
official ``adabelief_pytorch.AdaBelief`` (rectify=False, weight_decouple=False), all measured in
this run on the same model: ``--params`` float32 parameters split into ``--tensors`` tensors of
mixed sizes (default 5M parameters in 200 tensors).

Timing: after ``--warmup`` steps of each optimizer, ``--repeats`` rounds; in each round every
optimizer takes one step, in an order shuffled per round (seeded), so a change of machine load
hits all of them alike and none always inherits the same predecessor's dirty cache lines.
Reported: the median step time, its ratio to Adam(fused=True) (the baseline), and the achieved
bandwidth against the minimum traffic of an fp32 AdaBelief (or Adam) step: read θ, g, m, s and write
θ, m, s — 7 × 4 = 28 bytes per parameter. The fused path's first step (which loads, and on a cold
cache compiles, its C kernel) and a cold compile into an empty directory are timed separately.

Targets (CPU): fused ≤ 1.2 × Adam(fused=True); fused ≥ 3 × faster than the official package.

Usage: ``python benchmarks/bench_torch_step.py [--device cpu|cuda] [--params N] [--tensors K]
[--repeats R] [--warmup W] [--seed S]``. Nothing is asserted: this is a measurement script.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from adabelief_ref import _fused_cpu
from adabelief_ref.torch_optim import AdaBelief

BYTES_PER_PARAM = 28  # fp32: read θ, g, m, s; write θ, m, s


def tensor_sizes(total: int, count: int, seed: int) -> list[int]:
    """``count`` sizes summing to ``total``, log-uniform over three decades (biases to matrices)."""
    rng = np.random.default_rng(seed)
    weights = 10.0 ** rng.uniform(0.0, 3.0, size=count)
    sizes = np.maximum(1, np.floor(weights / weights.sum() * total)).astype(np.int64)
    sizes[np.argmax(sizes)] += total - int(sizes.sum())
    return sizes.tolist()


def make_params(sizes: list[int], device: torch.device, seed: int) -> list[torch.nn.Parameter]:
    gen = torch.Generator().manual_seed(seed)
    params = []
    for n in sizes:
        p = torch.nn.Parameter(torch.randn(n, generator=gen).to(device))
        p.grad = torch.randn(n, generator=gen).to(device)
        params.append(p)
    return params


def official(params):
    from adabelief_pytorch import AdaBelief as OfficialAdaBelief

    with contextlib.redirect_stdout(io.StringIO()):  # it prints its settings on construction
        return OfficialAdaBelief(
            params, lr=1e-3, eps=1e-16, betas=(0.9, 0.999), weight_decouple=False, rectify=False,
            print_change_log=False,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--params", type=int, default=5_000_000)
    parser.add_argument("--tensors", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.device not in ("cpu", "cuda"):
        parser.error(f"--device must be 'cpu' or 'cuda'; got {args.device!r}")
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda requested, but torch.cuda.is_available() is False on this machine")
    if args.params < args.tensors or args.tensors < 1:
        parser.error(f"need --params >= --tensors >= 1; got {args.params} and {args.tensors}")
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sizes = tensor_sizes(args.params, args.tensors, args.seed)

    factories = {
        "Adam(fused=True)": lambda ps: torch.optim.Adam(ps, lr=1e-3, fused=True),
        "Adam(foreach=True)": lambda ps: torch.optim.Adam(ps, lr=1e-3, foreach=True),
        "official adabelief-pytorch": official,
        "ours for-loop": lambda ps: AdaBelief(ps, lr=1e-3, foreach=False),
        "ours foreach": lambda ps: AdaBelief(ps, lr=1e-3, foreach=True),
    }
    first_step = None
    # fused=True: the C kernel on CPU tensors, a torch.compile'd multi-tensor update elsewhere
    factories["ours fused"] = lambda ps: AdaBelief(ps, lr=1e-3, fused=True)
    cold_build = None
    if device.type == "cpu":
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            _fused_cpu.build(Path(tmp) / "kernel.so")
            cold_build = time.perf_counter() - t0

    optimizers = {}
    for name, factory in factories.items():
        params = make_params(sizes, device, args.seed)
        t0 = time.perf_counter()
        opt = factory(params)
        opt.step()
        sync()
        if name == "ours fused":
            first_step = time.perf_counter() - t0
        optimizers[name] = opt
    for opt in optimizers.values():
        for _ in range(args.warmup):
            opt.step()
    sync()

    times: dict[str, list[float]] = {name: [] for name in optimizers}
    order_rng = np.random.default_rng(args.seed)
    names = list(optimizers)
    for _ in range(args.repeats):
        for name in order_rng.permutation(names):
            opt = optimizers[name]
            sync()
            t0 = time.perf_counter()
            opt.step()
            sync()
            times[name].append(time.perf_counter() - t0)

    medians = {name: statistics.median(ts) for name, ts in times.items()}
    base = medians["Adam(fused=True)"]
    print(
        f"device={args.device} torch={torch.__version__} threads={torch.get_num_threads()} "
        f"params={sum(sizes):,} tensors={len(sizes)} (sizes {min(sizes)}..{max(sizes)}) "
        f"repeats={args.repeats} (median)"
    )
    print(f"{'optimizer':<28}{'ms/step':>10}{'vs Adam(fused)':>16}{'GB/s @28 B/param':>18}")
    for name, med in medians.items():
        gbs = BYTES_PER_PARAM * sum(sizes) / med / 1e9
        print(f"{name:<28}{med * 1e3:>10.2f}{med / base:>15.2f}x{gbs:>18.1f}")
    fused = medians["ours fused"]
    if cold_build is not None:
        print(f"fused C kernel: cold compile {cold_build:.2f} s")
    print(f"first fused step in this run (includes any compile): {first_step:.3f} s")
    print(f"target fused <= 1.2 x Adam(fused=True): measured {fused / base:.2f}x")
    speedup = medians["official adabelief-pytorch"] / fused
    print(f"target fused >= 3 x faster than official: measured {speedup:.1f}x")


if __name__ == "__main__":
    main()
