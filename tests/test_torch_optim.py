"""adabelief_ref.torch_optim.AdaBelief: every path (for-loop, foreach, fused C kernel, compiled)
against the float64 numpy reference (Algorithm 2, THEORY §1.1) and the official adabelief-pytorch
0.2.1, plus mixed precision, state-dict round trips, input validation and non-finite gradients.

The compiled path (``fused="compiled"``; what ``fused=True`` runs off the CPU) is traced by
``torch.compile`` in every test that includes it, but — to keep this file fast — run with the
``aot_eager`` backend (the same traced, functionalised graph executed by eager kernels) everywhere
except ``test_compiled_path_with_inductor_matches_reference_and_compiles_once_per_group``, which
uses the real default backend, inductor."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import io
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from adabelief_ref import AdaBelief as Reference
from adabelief_ref import torch_optim
from adabelief_ref.torch_optim import AdaBelief

PATHS = {"loop": {"foreach": False}, "foreach": {"foreach": True}, "fused": {"fused": True}}
# ... and the compiled path, in every test below except the hypothesis sweep (which it would slow
# down tenfold); the compiled path's own reference tests follow that one.
ALL_PATHS = {**PATHS, "compiled": {"fused": "compiled"}}
T = 1000


@pytest.fixture(scope="module", autouse=True)
def fused_kernel():
    """Build (or load from the cache) the fused kernel once for the whole module, and run the
    compiled path with the ``aot_eager`` backend unless a test asks for inductor."""
    from adabelief_ref import _fused_cpu

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(AdaBelief, "_compile_backend", "aot_eager")
        yield _fused_cpu.load()


def assert_close(actual: np.ndarray, expected: np.ndarray, what: str, rtol: float = 1e-12) -> None:
    """|a − e| ≤ rtol·(|e| + max|e|): relative per element, floored at the array's own scale."""
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale, err_msg=what)


def as_numpy(x: torch.Tensor) -> np.ndarray:
    return x.detach().to(torch.float64).cpu().numpy()


# ---- gradient streams -----------------------------------------------------------------------------
def stream(kind: str, shape: tuple[int, ...], rng: np.random.Generator, steps: int = T) -> np.ndarray:
    """(steps, *shape) gradients: ``normal``; ``zeros``; ``constant`` (one draw repeated);
    ``intermittent`` (normal with about half the steps exactly zero); ``scaled`` (normal times a
    per-step scale 10^U(−3, 3))."""
    size = (steps, *shape)
    if kind == "zeros":
        return np.zeros(size)
    if kind == "constant":
        return np.broadcast_to(rng.normal(size=shape), size).copy()
    g = rng.normal(size=size)
    if kind == "intermittent":
        g[rng.random(steps) < 0.5] = 0.0
    elif kind == "scaled":
        g *= 10.0 ** rng.uniform(-3, 3, size=(steps,) + (1,) * len(shape))
    return g


# Parameter layout: group 0 holds a (2, 3) tensor and a non-contiguous (3, 4) one, group 1 a (7,)
# tensor, group 2 a 0-d tensor and a (5,) tensor whose gradient is None on some steps.
LAYOUT = [[(2, 3), (3, 4)], [(7,)], [(), (5,)]]
NONCONTIGUOUS = (0, 1)
INTERMITTENT = (2, 1)


def make_param(theta0: np.ndarray, noncontiguous: bool, dtype=torch.float64) -> torch.nn.Parameter:
    if noncontiguous:
        p = torch.nn.Parameter(torch.tensor(theta0.T.copy(), dtype=dtype).t())
        assert not p.is_contiguous()
        return p
    return torch.nn.Parameter(torch.tensor(theta0, dtype=dtype))


def as_grad(g: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    if like.is_contiguous():
        return torch.tensor(g, dtype=like.dtype)
    return torch.tensor(g.T.copy(), dtype=like.dtype).t()


group_options = st.fixed_dictionaries(
    {
        "lr": st.sampled_from([1e-3, 1e-2, 1e-1]),
        "betas": st.tuples(st.sampled_from([0.0, 0.5, 0.9]), st.sampled_from([0.9, 0.99, 0.999])),
        "eps": st.sampled_from([1e-16, 1e-8, 1e-3]),
        "weight_decay": st.sampled_from([0.0, 1e-2]),
        "amsgrad": st.booleans(),
    }
)
STREAM_KINDS = ["normal", "zeros", "constant", "intermittent", "scaled"]
stream_kinds = st.lists(st.sampled_from(STREAM_KINDS), min_size=5, max_size=5)

BETA1_ZERO = {"lr": 1e-2, "betas": (0.0, 0.999), "eps": 1e-16, "weight_decay": 0.0, "amsgrad": False}
BETA1_ZERO_AMS = {**BETA1_ZERO, "amsgrad": True, "eps": 1e-8}
COUPLED = {"lr": 1e-1, "betas": (0.9, 0.99), "eps": 1e-8, "weight_decay": 1e-2, "amsgrad": True}


@settings(deadline=None, max_examples=10)
@given(
    seed=st.integers(0, 2**32 - 1),
    groups=st.lists(group_options, min_size=3, max_size=3),
    kinds=stream_kinds,
    none_rate=st.sampled_from([0.3, 0.7]),
)
@example(
    seed=1, groups=[BETA1_ZERO, COUPLED, BETA1_ZERO_AMS],
    kinds=["zeros", "constant", "normal", "constant", "intermittent"], none_rate=0.3,
)
@example(
    seed=2, groups=[COUPLED, BETA1_ZERO, COUPLED],
    kinds=["constant", "zeros", "scaled", "zeros", "constant"], none_rate=0.7,
)
def test_every_path_matches_the_float64_reference(seed, groups, kinds, none_rate):
    """Each path, 1000 steps in float64, three groups with different hyper-parameters and step
    counts: θ, m, s, s_max and the step count equal the numpy reference to 1e-12 (relative).
    Coupled weight decay λ is fed to the reference as the gradient g_t + λ θ_{t−1}."""
    # With β1 = 0 the step is SGD with rate ≈ α·√((1 − β2)/ε) (THEORY §1.3), and coupled decay
    # λθ then makes θ blow up within ~100 steps at ε = 1e-16: no path can be compared on that.
    groups = [{**o, "weight_decay": 0.0} if o["betas"][0] == 0.0 else o for o in groups]
    rng = np.random.default_rng(seed)
    shapes = [s for group in LAYOUT for s in group]
    theta0 = [rng.normal(size=s) for s in shapes]
    grads = [stream(k, s, rng) for k, s in zip(kinds, shapes)]
    index = {(gi, j): k for k, (gi, j) in enumerate((gi, j) for gi, g in enumerate(LAYOUT) for j in range(len(g)))}
    present = np.ones((len(shapes), T), dtype=bool)
    present[index[INTERMITTENT]] = rng.random(T) >= none_rate
    group_of = [gi for gi, g in enumerate(LAYOUT) for _ in g]

    expected = []
    for k, gi in enumerate(group_of):
        o = groups[gi]
        ref = Reference(o["lr"], o["betas"], o["eps"], amsgrad=o["amsgrad"])
        state = ref.init(theta0[k])
        for t in range(T):
            if present[k, t]:
                state = ref.step(state, grads[k][t] + o["weight_decay"] * state.theta)
        expected.append(state)

    for path, flags in PATHS.items():
        params = [make_param(theta0[k], (gi, j) == NONCONTIGUOUS) for (gi, j), k in index.items()]
        param_groups = [
            {"params": [params[index[(gi, j)]] for j in range(len(g))], **groups[gi]} for gi, g in enumerate(LAYOUT)
        ]
        opt = AdaBelief(param_groups, **flags)
        for t in range(T):
            for k, p in enumerate(params):
                p.grad = as_grad(grads[k][t], p) if present[k, t] else None
            opt.step()
        for k, (p, ref_state) in enumerate(zip(params, expected)):
            what = f"{path}: parameter {k} (group {group_of[k]}, stream {kinds[k]})"
            state = opt.state[p]
            assert int(state["step"].item()) == ref_state.t == present[k].sum(), what
            assert_close(as_numpy(p), ref_state.theta, f"{what}: theta")
            assert_close(as_numpy(state["exp_avg"]), ref_state.m, f"{what}: m")
            assert_close(as_numpy(state["exp_avg_var"]), ref_state.s, f"{what}: s")
            if groups[group_of[k]]["amsgrad"]:
                assert_close(as_numpy(state["max_exp_avg_var"]), ref_state.s_max, f"{what}: s_max")
            else:
                assert "max_exp_avg_var" not in state


def test_fused_kernel_splits_work_across_threads_and_tensors():
    """More than 2^16 elements switch the fused kernel to its multi-threaded partition, whose
    thread boundaries fall inside tensors; with 1, 2 and 3 threads it matches the reference."""
    rng = np.random.default_rng(7)
    sizes = [30_001, 40_003, 17]
    theta0 = [rng.normal(size=n) for n in sizes]
    grads = [rng.normal(size=(25, n)) for n in sizes]
    expected = []
    for th, g in zip(theta0, grads):
        ref = Reference(1e-2, (0.9, 0.999), 1e-16, amsgrad=True)
        state = ref.init(th)
        for t in range(25):
            state = ref.step(state, g[t])
        expected.append(state)
    saved = torch.get_num_threads()
    try:
        for threads in (1, 2, 3):
            torch.set_num_threads(threads)
            params = [torch.nn.Parameter(torch.tensor(th)) for th in theta0]
            opt = AdaBelief(params, lr=1e-2, amsgrad=True, fused=True)
            for t in range(25):
                for p, g in zip(params, grads):
                    p.grad = torch.tensor(g[t])
                opt.step()
            for p, ref_state in zip(params, expected):
                assert_close(as_numpy(p), ref_state.theta, f"threads={threads}: theta")
                assert_close(as_numpy(opt.state[p]["max_exp_avg_var"]), ref_state.s_max, f"threads={threads}: s_max")
            # a NaN deep inside the second tensor (in the second thread's share) is found
            params[1].grad = torch.zeros(sizes[1], dtype=torch.float64)
            params[1].grad[35_000] = float("nan")
            with pytest.raises(ValueError, match=r"param_groups\[0\]\['params'\]\[1\].*step t=26"):
                opt.step()
    finally:
        torch.set_num_threads(saved)


# ---- the compiled path (fused="compiled"; what fused=True runs off the CPU) ---------------------------
def reference_run(theta0, grads, present, options, lrs):
    """The numpy reference for one tensor of a group with ``options``: coupled weight decay λ as the
    gradient g_t + λ θ_{t−1}, decoupled as the shrink θ ← (1 − α_t λ) θ before the reference step;
    ``lrs[t]`` is the learning rate at step t, ``present[t]`` whether the tensor has a gradient."""
    o = options
    state = Reference(lrs[0], o["betas"], o["eps"], amsgrad=o["amsgrad"]).init(theta0)
    for t, g in enumerate(grads):
        if not present[t]:
            continue
        if o["weight_decay"] and o["decoupled_weight_decay"]:
            state = dataclasses.replace(state, theta=(1.0 - lrs[t] * o["weight_decay"]) * state.theta)
        elif o["weight_decay"]:
            g = g + o["weight_decay"] * state.theta
        state = Reference(lrs[t], o["betas"], o["eps"], amsgrad=o["amsgrad"]).step(state, g)
    return state


def assert_matches_reference(opt, params, expected, what):
    for k, (p, ref_state) in enumerate(zip(params, expected)):
        state, name = opt.state[p], f"{what}: parameter {k}"
        assert int(state["step"].item()) == ref_state.t, name
        assert_close(as_numpy(p), ref_state.theta, f"{name}: theta")
        assert_close(as_numpy(state["exp_avg"]), ref_state.m, f"{name}: m")
        assert_close(as_numpy(state["exp_avg_var"]), ref_state.s, f"{name}: s")
        if ref_state.s_max is not None:
            assert_close(as_numpy(state["max_exp_avg_var"]), ref_state.s_max, f"{name}: s_max")
        else:
            assert "max_exp_avg_var" not in state, name


# amsgrad off/on × coupled/decoupled weight decay, one group each
COMPILED_GROUPS = [
    {"lr": 1e-2, "betas": (0.9, 0.999), "eps": 1e-16, "weight_decay": 1e-2, "decoupled_weight_decay": False, "amsgrad": False},
    {"lr": 3e-2, "betas": (0.8, 0.99), "eps": 1e-8, "weight_decay": 1e-2, "decoupled_weight_decay": False, "amsgrad": True},
    {"lr": 1e-2, "betas": (0.9, 0.999), "eps": 1e-16, "weight_decay": 0.5, "decoupled_weight_decay": True, "amsgrad": False},
    {"lr": 1e-1, "betas": (0.5, 0.9), "eps": 1e-3, "weight_decay": 0.1, "decoupled_weight_decay": True, "amsgrad": True},
]
COMPILED_SHAPES = [[(2, 3), ()], [(5,), (2, 2)], [(3,), (1, 4)], [(4,), ()]]  # (2, 3) is non-contiguous


def test_compiled_path_with_inductor_matches_reference_and_compiles_once_per_group(monkeypatch):
    """The compiled path with the default inductor backend, float64, four groups (amsgrad off/on ×
    coupled/decoupled weight decay) of two small tensors, 1000 steps with every learning rate
    halved at step 500: θ, m, s, s_max and t equal the numpy reference to 1e-12 (relative), and
    dynamo compiles at most one graph per group — all on the first step; the 999 others (the
    learning-rate change included) run with ``error_on_recompile``."""
    from torch._dynamo.utils import counters

    monkeypatch.setattr(AdaBelief, "_compile_backend", "inductor")
    rng = np.random.default_rng(21)
    shapes = [s for group in COMPILED_SHAPES for s in group]
    theta0 = [rng.normal(size=s) for s in shapes]
    grads = [rng.normal(size=(T, *s)) * 10.0 ** rng.uniform(-2, 1, size=(T,) + (1,) * len(s)) for s in shapes]
    params = [make_param(th, k == 0) for k, th in enumerate(theta0)]
    opt = AdaBelief(
        [{"params": params[2 * i:2 * i + 2], **o} for i, o in enumerate(COMPILED_GROUPS)], fused="compiled"
    )
    graphs = counters["stats"]["unique_graphs"]
    for t in range(T):
        if t == T // 2:
            for group in opt.param_groups:
                group["lr"] *= 0.5
        for k, p in enumerate(params):
            p.grad = as_grad(grads[k][t], p)
        if t == 0:
            opt.step()
            first = counters["stats"]["unique_graphs"] - graphs
            assert first <= len(COMPILED_GROUPS), f"{first} graphs compiled for {len(COMPILED_GROUPS)} groups"
        else:
            with torch._dynamo.config.patch(error_on_recompile=True):
                opt.step()
    assert counters["stats"]["unique_graphs"] - graphs == first
    expected = []
    for k in range(len(shapes)):
        o = COMPILED_GROUPS[k // 2]
        lrs = [o["lr"] * (0.5 if t >= T // 2 else 1.0) for t in range(T)]
        expected.append(reference_run(theta0[k], grads[k], np.ones(T, dtype=bool), o, lrs))
    assert_matches_reference(opt, params, expected, "compiled (inductor)")


def test_compiled_path_with_missing_gradients_matches_reference():
    """A parameter whose gradient is None on about half of the 1000 steps (so the group's tensors
    have different step counts t): the compiled path still equals the reference to 1e-12, and the
    group compiles one graph per set of parameters with gradients — two here."""
    from torch._dynamo.utils import counters

    rng = np.random.default_rng(8)
    shapes = [(3, 2), (4,)]
    theta0 = [rng.normal(size=s) for s in shapes]
    grads = [rng.normal(size=(T, *s)) for s in shapes]
    present = np.ones((2, T), dtype=bool)
    present[1] = rng.random(T) < 0.5
    o = COMPILED_GROUPS[1]
    params = [make_param(th, False) for th in theta0]
    opt = AdaBelief([{"params": params, **o}], fused="compiled")
    graphs = counters["stats"]["unique_graphs"]
    for t in range(T):
        for k, p in enumerate(params):
            p.grad = torch.tensor(grads[k][t]) if present[k, t] else None
        opt.step()
    assert counters["stats"]["unique_graphs"] - graphs <= 2
    expected = [reference_run(theta0[k], grads[k], present[k], o, [o["lr"]] * T) for k in range(2)]
    assert_matches_reference(opt, params, expected, "compiled, missing gradients")


def test_fused_routes_cpu_tensors_to_the_kernel_and_other_devices_to_the_compiled_path(monkeypatch):
    """Without a GPU, routing is checked with a "meta" tensor: ``fused=True`` sends the CPU
    parameter through the C kernel (equal to the for-loop path to 1e-12) and the other device to
    the compiled update, once per step; ``fused="compiled"`` sends both to the compiled update."""
    calls = []
    monkeypatch.setattr(AdaBelief, "_compiled_update", lambda self, *args: calls.append((args[1], len(args[3]))))
    monkeypatch.setattr(torch_optim, "_first_nonfinite", lambda grads: None)  # meta tensors hold no values
    rng = np.random.default_rng(4)
    theta0, grads = rng.normal(size=5), rng.normal(size=(3, 5))
    cpu, meta = torch.nn.Parameter(torch.tensor(theta0)), torch.nn.Parameter(torch.zeros(4, device="meta"))
    loop = torch.nn.Parameter(torch.tensor(theta0))
    opt, ref = AdaBelief([cpu, meta], fused=True), AdaBelief([loop], foreach=False)
    for g in grads:
        cpu.grad, meta.grad, loop.grad = torch.tensor(g), torch.zeros(4, device="meta"), torch.tensor(g)
        opt.step()
        ref.step()
    assert calls == [(torch.device("meta"), 1)] * 3
    assert_close(as_numpy(cpu), as_numpy(loop), "C kernel part of a mixed-device group")
    calls.clear()
    AdaBelief([cpu, meta], fused="compiled").step()
    assert calls == [(torch.device("cpu"), 1), (torch.device("meta"), 1)]


def test_compiled_path_reports_a_backend_that_cannot_compile(monkeypatch):
    """A backend failure surfaces as a RuntimeError that says to use foreach=True, and the
    parameters are untouched."""

    def broken_backend(graph, example_inputs):
        raise OSError("no compiler on this machine")

    monkeypatch.setattr(AdaBelief, "_compile_backend", staticmethod(broken_backend))
    p = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    p.grad = torch.tensor([0.5, 0.5])
    with pytest.raises(RuntimeError, match=r"(?s)could not build the fused AdaBelief step.*no compiler.*use foreach=True"):
        AdaBelief([p], fused="compiled").step()
    assert torch.equal(p.detach(), torch.tensor([1.0, -2.0]))


def test_decoupled_weight_decay_is_a_shrink_before_the_reference_step():
    """With a θ-independent gradient stream, m_t and s_t do not depend on θ, so decoupled weight
    decay must give θ_t = (1 − αλ) θ_{t−1} − Δ_t, with Δ_t = θ^ref_{t−1} − θ^ref_t of the plain
    reference."""
    rng = np.random.default_rng(3)
    lr, wd, steps = 1e-2, 0.5, 1000
    theta0, g = rng.normal(size=6), rng.normal(size=(steps, 6))
    ref = Reference(lr, (0.9, 0.999), 1e-16)
    state, deltas = ref.init(theta0), []
    for t in range(steps):
        new = ref.step(state, g[t])
        deltas.append(state.theta - new.theta)
        state = new
    expected = theta0.copy()
    for delta in deltas:
        expected = (1.0 - lr * wd) * expected - delta
    for path, flags in ALL_PATHS.items():
        p = torch.nn.Parameter(torch.tensor(theta0))
        opt = AdaBelief([p], lr=lr, weight_decay=wd, decoupled_weight_decay=True, **flags)
        for t in range(steps):
            p.grad = torch.tensor(g[t])
            opt.step()
        assert_close(as_numpy(p), expected, f"{path}: decoupled weight decay")
        assert_close(as_numpy(opt.state[p]["exp_avg_var"]), state.s, f"{path}: s")


# ---- the official package ----------------------------------------------------------------------------
def official_optimizer(params, **kwargs):
    from adabelief_pytorch import AdaBelief as Official

    with contextlib.redirect_stdout(io.StringIO()):  # it prints "... enabled" lines on construction
        return Official(params, rectify=False, print_change_log=False, **kwargs)


@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("weight_decay,decoupled", [(0.0, False), (1e-2, False), (1e-1, True)])
def test_every_path_matches_the_official_package(amsgrad, weight_decay, decoupled):
    """float64, 1000 steps, two tensors: θ, m, s (and the max buffer) equal adabelief-pytorch
    0.2.1 (rectify=False; weight_decouple=``decoupled``) to 1e-12 on every path."""
    rng = np.random.default_rng(11)
    shapes = [(4, 5), (9,)]
    theta0 = [rng.normal(size=s) for s in shapes]
    grads = [rng.normal(size=(T, *s)) * 10.0 ** rng.uniform(-2, 2, size=(T,) + (1,) * len(s)) for s in shapes]
    hyper = dict(lr=3e-3, betas=(0.9, 0.999), eps=1e-16, weight_decay=weight_decay, amsgrad=amsgrad)

    official_params = [torch.nn.Parameter(torch.tensor(th)) for th in theta0]
    official = official_optimizer(official_params, weight_decouple=decoupled, **hyper)
    runs = {}
    for path, flags in ALL_PATHS.items():
        params = [torch.nn.Parameter(torch.tensor(th)) for th in theta0]
        runs[path] = (params, AdaBelief(params, decoupled_weight_decay=decoupled, **hyper, **flags))
    for t in range(T):
        for k, p in enumerate(official_params):
            p.grad = torch.tensor(grads[k][t])
        official.step()
        for params, opt in runs.values():
            for k, p in enumerate(params):
                p.grad = torch.tensor(grads[k][t])
            opt.step()
    keys = ["exp_avg", "exp_avg_var"] + (["max_exp_avg_var"] if amsgrad else [])
    for path, (params, opt) in runs.items():
        for k, (p, q) in enumerate(zip(params, official_params)):
            assert_close(as_numpy(p), as_numpy(q), f"{path}: theta {k}")
            for key in keys:
                assert_close(as_numpy(opt.state[p][key]), as_numpy(official.state[q][key]), f"{path}: {key} {k}")
            assert int(opt.state[p]["step"].item()) == official.state[q]["step"] == T


@pytest.mark.parametrize("path", ALL_PATHS)
def test_grad_is_never_modified_while_the_official_package_modifies_it(path):
    """Finding: with coupled weight decay the official package adds λθ to ``p.grad`` in place
    (``grad.add_(p.data, alpha=weight_decay)``). Ours leaves ``p.grad`` bit-identical, for every
    path, for coupled and decoupled decay and for float16 parameters."""
    g = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    q = torch.nn.Parameter(torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))
    q.grad = g.clone()
    official_optimizer([q], lr=1e-2, weight_decay=0.1, weight_decouple=False).step()
    assert not torch.equal(q.grad, g), "the official package no longer modifies p.grad"

    for dtype in (torch.float64, torch.float16):
        for decoupled in (False, True):
            p = torch.nn.Parameter(torch.tensor([1.0, 2.0, 3.0], dtype=dtype))
            p.grad = g.to(dtype).clone()
            before = p.grad.clone()
            opt = AdaBelief([p], lr=1e-2, weight_decay=0.1, decoupled_weight_decay=decoupled, **ALL_PATHS[path])
            for _ in range(3):
                opt.step()
            assert torch.equal(p.grad, before), f"{path}, {dtype}, decoupled={decoupled}: p.grad changed"


# ---- mixed precision -----------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ALL_PATHS)
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_low_precision_params_keep_float32_state_and_round_once(path, dtype):
    """float16/bfloat16 parameters: the state is float32 and each step equals the float32 step of
    the same path taken from the up-cast parameter and the same state, rounded to ``dtype`` —
    bit for bit (θ, m, s, s_max)."""
    rng = np.random.default_rng(5)
    theta0 = rng.normal(size=(3, 8))
    grads = rng.normal(size=(12, 3, 8)) * 10.0 ** rng.uniform(-3, 1, size=(12, 1, 1))
    grads[4] = 0.0
    p = torch.nn.Parameter(torch.tensor(theta0, dtype=dtype))
    opt = AdaBelief([p], lr=1e-2, amsgrad=True, weight_decay=1e-2, **ALL_PATHS[path])
    for t in range(12):
        shadow_p = torch.nn.Parameter(p.detach().float().clone())
        shadow = AdaBelief([shadow_p], lr=1e-2, amsgrad=True, weight_decay=1e-2, **ALL_PATHS[path])
        if t:
            shadow.load_state_dict(copy.deepcopy(opt.state_dict()))
        p.grad = torch.tensor(grads[t], dtype=dtype)
        shadow_p.grad = p.grad.float()
        opt.step()
        shadow.step()
        assert p.dtype == dtype
        for key in ("exp_avg", "exp_avg_var", "max_exp_avg_var"):
            assert opt.state[p][key].dtype == torch.float32, key
            assert torch.equal(opt.state[p][key], shadow.state[shadow_p][key]), f"step {t + 1}: {key}"
        assert torch.equal(p.detach(), shadow_p.detach().to(dtype)), f"step {t + 1}: theta"
    # ε = 1e-16 would underflow to 0 in float16; in float32 state s stays ≥ ε after zero gradients
    p.grad = torch.zeros_like(p)
    for _ in range(50):
        opt.step()
    assert float(opt.state[p]["exp_avg_var"].min()) >= 1e-16


# ---- state dict -----------------------------------------------------------------------------------------
def _mixed_model(seed: int):
    rng = np.random.default_rng(seed)
    return [
        torch.nn.Parameter(torch.tensor(rng.normal(size=(4, 3)), dtype=torch.float64)),
        torch.nn.Parameter(torch.tensor(rng.normal(size=6), dtype=torch.float32)),
        torch.nn.Parameter(torch.tensor(rng.normal(size=5), dtype=torch.float16)),
    ]


def _grouped(params, flags):
    return AdaBelief(
        [
            {"params": params[:1], "amsgrad": True, "weight_decay": 1e-2},
            {
                "params": params[1:], "lr": 3e-2, "betas": (0.5, 0.99), "weight_decay": 0.1,
                "decoupled_weight_decay": True,
            },
        ],
        lr=1e-2,
        **flags,
    )


@pytest.mark.parametrize("path", ALL_PATHS)
def test_state_dict_round_trip_is_bit_identical(path):
    """Save at step 7 (through torch.save), load into a fresh optimizer over copies of the
    parameters, continue 9 steps: parameters and state equal the uninterrupted run bit for bit.
    The float16 parameter's state stays float32 across the load."""
    rng = np.random.default_rng(2)
    params = _mixed_model(0)
    grads = [[torch.tensor(rng.normal(size=p.shape), dtype=p.dtype) for p in params] for _ in range(16)]
    grads[3][1] = None  # different step counts inside group 1
    opt = _grouped(params, ALL_PATHS[path])

    def advance(ps, o, ts):
        for t in ts:
            for p, g in zip(ps, grads[t]):
                p.grad = None if g is None else g.clone()
            o.step()

    advance(params, opt, range(7))
    buffer = io.BytesIO()
    torch.save(opt.state_dict(), buffer)
    resumed_params = [torch.nn.Parameter(p.detach().clone()) for p in params]
    resumed = _grouped(resumed_params, ALL_PATHS[path])
    buffer.seek(0)
    resumed.load_state_dict(torch.load(buffer))
    assert resumed.state[resumed_params[2]]["exp_avg"].dtype == torch.float32
    advance(params, opt, range(7, 16))
    advance(resumed_params, resumed, range(7, 16))
    for p, q in zip(params, resumed_params):
        assert torch.equal(p.detach(), q.detach())
        assert opt.state[p].keys() == resumed.state[q].keys()
        for key, value in opt.state[p].items():
            assert torch.equal(value, resumed.state[q][key]), key
    assert int(opt.state[params[1]]["step"].item()) == 15 and int(opt.state[params[2]]["step"].item()) == 16


def test_loaded_state_is_a_copy_not_shared():
    """Loading a live state dict copies it: stepping the loaded optimizer leaves the source alone."""
    params = _mixed_model(1)
    for p in params:
        p.grad = torch.ones_like(p)
    opt = _grouped(params, {})
    opt.step()
    before = copy.deepcopy(opt.state_dict())
    other_params = [torch.nn.Parameter(p.detach().clone()) for p in params]
    other = _grouped(other_params, {})
    other.load_state_dict(opt.state_dict())
    for p in other_params:
        p.grad = torch.ones_like(p)
    other.step()
    for pid, saved in before["state"].items():
        for key, value in saved.items():
            assert torch.equal(opt.state_dict()["state"][pid][key], value), key


def test_official_state_dict_loads():
    """A state dict of the official package (integer step) continues exactly as the official run."""
    theta0 = torch.tensor([0.3, -1.2, 2.0], dtype=torch.float64)
    q = torch.nn.Parameter(theta0.clone())
    official = official_optimizer([q], lr=1e-2, eps=1e-16, weight_decouple=False)
    for k in range(10):
        q.grad = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64) * (k + 1)
        official.step()
    p = torch.nn.Parameter(q.detach().clone())
    opt = AdaBelief([p], lr=1e-2)
    opt.load_state_dict(official.state_dict())
    assert opt.state[p]["step"].dtype == torch.float64
    for k in range(10, 20):
        q.grad = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64) * (k + 1)
        p.grad = q.grad.clone()
        official.step()
        opt.step()
    assert_close(as_numpy(p), as_numpy(q), "theta after resuming from the official state")


# ---- validation -------------------------------------------------------------------------------------------
def _p():
    return [torch.nn.Parameter(torch.zeros(2))]


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"lr": 0.0}, r"^lr must be a finite number > 0; got 0\.0"),
        ({"lr": -1e-3}, r"^lr must be a finite number > 0"),
        ({"lr": float("nan")}, r"^lr must be a finite number > 0"),
        ({"betas": (1.0, 0.999)}, r"beta1\) must lie in \[0, 1\); got 1\.0"),
        ({"betas": (-0.1, 0.999)}, r"beta1\) must lie in \[0, 1\)"),
        ({"betas": (0.9, 1.0)}, r"beta2\) must lie in \[0, 1\); got 1\.0"),
        ({"betas": 0.9}, r"^betas must be a pair"),
        ({"eps": -1e-16}, r"^eps must be a finite number > 0"),
        ({"eps": 0.0}, r"^eps must be a finite number > 0"),
        ({"weight_decay": -0.1}, r"^weight_decay must be a finite number >= 0"),
        ({"amsgrad": "yes"}, r"^amsgrad must be True or False"),
        ({"decoupled_weight_decay": 1}, r"^decoupled_weight_decay must be True or False"),
        ({"skip_nonfinite": None}, r"^skip_nonfinite must be True or False"),
        ({"foreach": "auto"}, r"^foreach must be True, False or None"),
        ({"fused": True, "foreach": True}, r"^fused=True and foreach=True conflict"),
        ({"fused": "compiled", "foreach": True}, r"^fused='compiled' and foreach=True conflict"),
        ({"fused": "yes"}, r"^fused must be True, False, None or 'compiled'; got 'yes'"),
        ({"fused": 1}, r"^fused must be True, False, None or 'compiled'; got 1"),
    ],
)
def test_bad_hyper_parameters_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AdaBelief(_p(), **kwargs)


def test_bad_group_options_and_parameters_are_refused():
    with pytest.raises(ValueError, match=r"param_groups\[1\]\['lr'\] must be a finite number > 0; got -1"):
        AdaBelief([{"params": _p()}, {"params": _p(), "lr": -1}])
    with pytest.raises(ValueError, match=r"param_groups\[0\]\['betas'\]\[1\] \(beta2\) must lie in \[0, 1\)"):
        AdaBelief([{"params": _p(), "betas": (0.9, 1.5)}])
    with pytest.raises(ValueError, match=r"param_groups\[0\]\['params'\]\[0\] has dtype torch.complex64"):
        AdaBelief([torch.nn.Parameter(torch.zeros(2, dtype=torch.complex64))])
    opt = AdaBelief(_p())
    with pytest.raises(ValueError, match=r"param_groups\[1\]\['eps'\]"):
        opt.add_param_group({"params": _p(), "eps": -1.0})
    assert len(opt.param_groups) == 1  # a refused group is not kept


# ---- non-finite gradients -------------------------------------------------------------------------------
def _snapshot(opt):
    return [
        (p.detach().clone(), {k: v.clone() for k, v in opt.state[p].items()})
        for g in opt.param_groups
        for p in g["params"]
    ]


def _same(a, b):
    return all(
        torch.equal(pa, pb) and sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
        for (pa, sa), (pb, sb) in zip(a, b)
    )


@pytest.mark.parametrize("path", ALL_PATHS)
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_nonfinite_gradient_raises_naming_parameter_and_step(path, bad):
    """An inf/NaN gradient raises ValueError naming the group, the parameter and the step, and
    leaves that group's parameters and state unchanged (including the float16 parameter's)."""
    params = _mixed_model(3)
    opt = _grouped(params, ALL_PATHS[path])
    for _ in range(2):
        for p in params:
            p.grad = torch.ones_like(p)
        opt.step()
    group1 = _snapshot(opt)[1:]
    for p in params:
        p.grad = torch.ones_like(p)
    params[2].grad[3] = bad
    with pytest.raises(ValueError, match=r"param_groups\[1\]\['params'\]\[1\] \(parameter 2, shape \(5,\)\).*step t=3"):
        opt.step()
    assert _same(_snapshot(opt)[1:], group1)


@pytest.mark.parametrize("path", ALL_PATHS)
def test_skip_nonfinite_skips_the_whole_group_only(path):
    """skip_nonfinite=True: the group with the NaN keeps parameters, state and step counts;
    the other group steps; the next finite step continues as if the bad step never happened."""
    params = _mixed_model(4)
    clean = [torch.nn.Parameter(p.detach().clone()) for p in params]
    opt = _grouped(params, {**ALL_PATHS[path], "skip_nonfinite": True})
    ref = _grouped(clean, {**ALL_PATHS[path], "skip_nonfinite": True})
    for p, q in zip(params, clean):
        p.grad, q.grad = torch.ones_like(p), torch.ones_like(q)
    opt.step()
    ref.step()
    before = _snapshot(opt)
    params[1].grad = torch.full_like(params[1], float("nan"))
    opt.step()  # group 0 steps, group 1 is skipped
    after = _snapshot(opt)
    assert not _same(after[:1], before[:1]) and _same(after[1:], before[1:])
    params[1].grad = torch.ones_like(params[1])
    clean[1].grad = clean[2].grad = None  # the reference: group 0 steps once more, group 1 does not
    ref.step()
    for q in clean:
        q.grad = torch.ones_like(q)
    opt.step()
    ref.step()
    assert _same(_snapshot(opt), _snapshot(ref))


@pytest.mark.parametrize("path", ALL_PATHS)
def test_nonfinite_first_step_creates_no_state(path):
    """A NaN on a group's very first step leaves no state behind; the next finite step is t = 1,
    bit-identical to a fresh optimizer's (an empty parameter rides along). ``step`` returns the
    closure's loss."""
    params = [torch.nn.Parameter(torch.tensor([1.0, -2.0, 3.0])), torch.nn.Parameter(torch.zeros(0))]
    fresh = [torch.nn.Parameter(p.detach().clone()) for p in params]
    opt, ref = AdaBelief(params, **ALL_PATHS[path]), AdaBelief(fresh, **ALL_PATHS[path])
    params[0].grad, params[1].grad = torch.tensor([0.5, float("nan"), 1.0]), torch.zeros(0)
    with pytest.raises(ValueError, match=r"param_groups\[0\]\['params'\]\[0\].*step t=1;"):
        opt.step()
    assert not any(opt.state.get(p) for p in params)
    for p, q in zip(params, fresh):
        p.grad = torch.full_like(p, 0.25)
        q.grad = torch.full_like(q, 0.25)
    assert opt.step(lambda: 42.0) == 42.0
    ref.step()
    assert int(opt.state[params[0]]["step"].item()) == 1
    assert _same(_snapshot(opt), _snapshot(ref))


# ---- quiet ------------------------------------------------------------------------------------------------
def test_import_and_construction_print_nothing():
    code = (
        "import torch, adabelief_ref.torch_optim as m\n"
        "p = torch.nn.Parameter(torch.zeros(3))\n"
        "for kw in ({}, {'foreach': False}, {'fused': True}, {'fused': 'compiled'}, {'amsgrad': True, 'weight_decay': 0.1}):\n"
        "    m.AdaBelief([p], **kw)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "" and out.stderr == ""


def test_nonfinite_detectors_flag_exactly_inf_and_nan():
    """Both detectors (per-tensor (min, max) on the CPU; the multi-tensor max-norm used off it)
    flag inf, −inf and NaN and nothing else — not the largest finite values of any dtype."""
    from adabelief_ref.torch_optim import _first_nonfinite, _max_norms

    finite = [
        torch.tensor([torch.finfo(d).max, -torch.finfo(d).max, 0.0], dtype=d)
        for d in (torch.float64, torch.float32, torch.float16, torch.bfloat16)
    ] + [torch.zeros(0), torch.tensor(3.0)]
    assert _first_nonfinite(finite) is None
    assert bool(torch.isfinite(_max_norms(finite[:4] + finite[5:])).all())  # its caller drops empties
    for bad in (float("nan"), float("inf"), -float("inf")):
        for k in (0, 2, 5):
            grads = [g.clone() for g in finite]
            grads[k].view(-1)[0] = bad
            assert _first_nonfinite(grads) == k
            norms = _max_norms(grads[:4] + grads[5:])
            assert int((~torch.isfinite(norms)).nonzero()[0, 0]) == min(k, 4)
