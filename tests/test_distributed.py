"""Sharded sweeps (issue 7): 2 CPU processes under torchrun (gloo on 127.0.0.1) must produce the
single-process result exactly, and the sharding arithmetic must cover every run once."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import numpy as np
import pytest
import torch.distributed as dist
from hypothesis import given, settings
from hypothesis import strategies as st

from adabelief_ref.engine import load_result, run, run_sharded, save_result, shard_rows, sweep
from adabelief_ref.engine.distributed import merge_results

ARGS = ["--problem", "online_quadratic", "--seeds", "5", "--lr", "0.3,0.05", "--dim", "4", "--steps", "400",
        "--checkpoints", "100", "--audit", "--device", "cpu"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@settings(deadline=None, max_examples=50)
@given(B=st.integers(1, 300), world=st.integers(1, 16))
def test_shards_partition_the_runs(B, world):
    if B < world:
        with pytest.raises(ValueError, match="cannot shard"):
            shard_rows(B, world, 0)
        return
    parts = [shard_rows(B, world, r) for r in range(world)]
    assert np.array_equal(np.concatenate(parts), np.arange(B))  # every run once, in order
    sizes = [p.size for p in parts]
    assert max(sizes) - min(sizes) <= 1 and min(sizes) >= 1


@pytest.mark.parametrize("args, match", [((4, 0, 0), "world_size"), ((4, 2, 2), "rank"), ((0, 1, 0), "B must")])
def test_shard_rows_rejects_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        shard_rows(*args)


def test_run_sharded_needs_a_torchrun_environment(monkeypatch):
    for key in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(key, raising=False)
    config, prob = sweep("nonconvex", 2, [0.1], 3)
    with pytest.raises(ValueError, match="torchrun"):
        run_sharded(config, prob, 5, device="cpu")


def test_merge_restores_row_order():
    config, prob = sweep("nonconvex", 3, [0.1, 0.01], 3)
    whole = run(config, prob, 50, device="cpu", checkpoints=25, audit=True, record_theta=True, progress=False)
    parts = []
    for rows in (np.arange(0, 4), np.arange(4, 6)):
        r = run(config.select(rows), prob.select(rows), 50, device="cpu", checkpoints=25, audit=True,
                record_theta=True, progress=False)
        parts.append({"metrics": r.metrics, "theta": r.theta, "m": r.m, "s": r.s, "s_max": r.s_max,
                      "theta_at": r.theta_at, "seeds": r.seeds, "elapsed_s": r.elapsed_s})
    merged = merge_results(parts, whole, 2)
    assert merged.record.world_size == 2
    for key in ("theta", "m", "s", "theta_at", "seeds"):
        assert np.array_equal(getattr(merged, key), getattr(whole, key)), key
    for name, value in whole.metrics.items():
        assert np.array_equal(merged.metrics[name], value), name


def test_one_process_group_in_process_equals_run(monkeypatch):
    """run_sharded inside an (in-process, world size 1) gloo group: the same numbers as run()."""
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "1")
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    monkeypatch.setenv("MASTER_PORT", str(_free_port()))
    config, prob = sweep("reddi", 2, [0.1, 0.5], 2, algorithm="adam", form="algorithm", lr_schedule="constant", eps=1e-8)
    single = run(config, prob, 60, device="cpu", checkpoints=20, progress=False)
    sharded = run_sharded(config, prob, 60, device="cpu", checkpoints=20, progress=False)
    assert not dist.is_initialized()  # the group it created is torn down
    assert sharded.record.world_size == 1 and np.array_equal(sharded.theta, single.theta)
    assert np.array_equal(sharded.metrics["regret"], single.metrics["regret"])


def test_two_cpu_processes_match_single_process(tmp_path):
    """torchrun --nproc_per_node=2 (gloo, 127.0.0.1) vs one process: identical arrays."""
    out2, out1 = tmp_path / "two.npz", tmp_path / "one.npz"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    launch = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_addr=127.0.0.1",
              f"--master_port={_free_port()}", "-m", "adabelief_ref.engine", *ARGS, "--out", str(out2)]
    proc = subprocess.run(launch, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    proc = subprocess.run([sys.executable, "-m", "adabelief_ref.engine", "--single", *ARGS, "--out", str(out1)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    two, one = load_result(str(out2)), load_result(str(out1))
    assert two["record"]["world_size"] == 2 and one["record"]["world_size"] == 1
    assert {k: v for k, v in two["record"].items() if k != "world_size"} == \
        {k: v for k, v in one["record"].items() if k != "world_size"}
    assert two["theta"].shape == (10, 4) and two["metrics"]["regret"].shape == (4, 10)
    for key in ("t", "theta", "seeds", "lr"):
        assert np.array_equal(two[key], one[key]), key
    assert set(two["metrics"]) == set(one["metrics"])
    for name in one["metrics"]:
        assert np.array_equal(two["metrics"][name], one["metrics"][name]), name


def test_save_and_load_roundtrip(tmp_path):
    config, prob = sweep("online_quadratic", 2, [0.1], 3)
    res = run(config, prob, 30, device="cpu", checkpoints=10, progress=False)
    save_result(str(tmp_path / "r.npz"), res, note={"source": "test"}, grid=np.arange(3))
    back = load_result(str(tmp_path / "r.npz"))
    assert back["record"] == res.record.as_dict() and int(back["T"]) == 30
    assert np.array_equal(back["metrics"]["regret"], res.metrics["regret"])
    assert back["extra"]["note"] == {"source": "test"} and back["extra"]["grid"].tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="problem must be"):
        sweep("rosenbrock", 1, [0.1], 2)
    with pytest.raises(ValueError, match="lrs"):
        sweep("reddi", 1, [], 2)


def test_recorded_gpu_results_lists_only_cuda_records(tmp_path):
    from dataclasses import replace

    from adabelief_ref.engine import recorded_gpu_results

    config, prob = sweep("reddi", 1, [0.1], 2)
    res = run(config, prob, 10, device="cpu", progress=False)
    save_result(str(tmp_path / "cpu_run.npz"), res)
    assert recorded_gpu_results(tmp_path) == []  # a CPU record is never listed as a GPU result
    gpu_like = replace(res, record=replace(res.record, device="cuda:0", device_name="NVIDIA H100"))
    save_result(str(tmp_path / "gpu_run.npz"), gpu_like)
    listed = recorded_gpu_results(tmp_path)
    assert [r["file"] for r in listed] == ["gpu_run.npz"] and listed[0]["record"]["device_name"] == "NVIDIA H100"
    assert recorded_gpu_results(tmp_path / "absent") == []
