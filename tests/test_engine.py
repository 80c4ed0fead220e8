"""The batched torch engine against the numpy float64 reference, run by run (issue 7).

Each batch mixes hyper-parameters per run ((B, 1) tensors); every row must reproduce the
reference ``adabelief_ref.run`` of its own optimizer and data to ≤ 1e-10 in float64. Mutation
tests show the comparison catches a swapped ε, a wrong β, and a flipped gradient sign.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from adabelief_ref import SGD, AdaBelief, AdaGrad, Adam, AMSGrad, run
from adabelief_ref.engine import (
    BatchedConfig,
    BatchedRun,
    HostProblem,
    OnlineQuadratic,
    ReddiOnline,
    StochasticNonconvex,
    counter_rng,
    resolve_device,
    resolve_dtype,
    run_reference_equivalent,
    theorem21_rhs,
)
from adabelief_ref.engine import run as engine_run
from adabelief_ref.engine.batched import exact_sqrt
from adabelief_ref.engine.driver import checkpoint_steps, in_notebook, show_progress
from adabelief_ref.sets import Box, L1Ball, L2Ball, Polyhedron, Simplex
from adabelief_ref.theory.audit import decrease_share, observed_c

TOL = 1e-10


def rows_error(trace, opts, problem, theta0, T):
    """max over runs b and recorded arrays of |engine row b − reference run b|."""
    worst = 0.0
    for b, opt in enumerate(opts):
        ref = run(opt, problem.select([b]).reference(), theta0[b], T)
        for key in ("theta", "g", "m", "s", "s_max"):
            r, e = getattr(ref, key), getattr(trace, key)
            assert (r is None) == (e is None), key
            if r is not None:
                worst = max(worst, float(np.max(np.abs(r - e[:, b]))))
    return worst


def adabelief_batch(B, fs, rng, **kw):
    return [
        AdaBelief(lr=float(rng.uniform(0.01, 0.3)), betas=(float(rng.uniform(0.5, 0.95)), float(rng.uniform(0.9, 0.9999))),
                  eps=float(rng.choice([1e-16, 1e-8, 1e-4])), feasible_set=fs, **kw)
        for _ in range(B)
    ]


SETTINGS = [
    dict(form="algorithm"),
    dict(form="algorithm", amsgrad=True),
    dict(form="analysis", lr_schedule="inv_sqrt"),
    dict(form="analysis", lr_schedule="inv_sqrt", amsgrad=True, beta1_decay=0.9),
    dict(form="algorithm", lr_schedule="inv_sqrt", beta1_decay=0.99),
]
SETS = [None, Box(-1.0, 1.0), L2Ball(1.0), Simplex(1.0), L1Ball(1.5)]


@pytest.mark.parametrize("kw", SETTINGS, ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()))
@pytest.mark.parametrize("fs", SETS, ids=lambda s: type(s).__name__)
def test_adabelief_rows_match_reference(kw, fs):
    B, d, T = 4, 6, 120
    rng = np.random.default_rng(zlib.crc32(f"{sorted(kw.items())}{type(fs).__name__}".encode()))
    opts = adabelief_batch(B, fs, rng, **kw)
    problem = OnlineQuadratic(rng.integers(0, 2**32, B), d, radius=1.0)
    theta0 = rng.uniform(-0.5, 0.5, (B, d)) if not isinstance(fs, Simplex) else np.full((B, d), 1.0 / d)
    trace = run_reference_equivalent(opts, problem, theta0, T, device="cpu")
    assert trace.theta.shape == (T + 1, B, d) and trace.alpha.shape == (T, B)
    assert rows_error(trace, opts, problem, theta0, T) <= TOL


@pytest.mark.parametrize(
    "make",
    [
        lambda b, fs: Adam(lr=0.05 * (b + 1), betas=(0.9 - 0.05 * b, 0.99 + 0.002 * b), eps=10.0 ** -(6 + b), feasible_set=fs),
        lambda b, fs: AMSGrad(lr=0.05 * (b + 1), betas=(0.8, 0.99 - 0.01 * b), form="analysis", lr_schedule="inv_sqrt",
                              beta1_decay=0.95, feasible_set=fs),
        lambda b, fs: SGD(lr=0.02 * (b + 1), momentum=0.3 * b, feasible_set=fs),
        lambda b, fs: SGD(lr=0.1, momentum=0.5, lr_schedule="inv_sqrt", feasible_set=fs),
        lambda b, fs: AdaGrad(lr=0.1 * (b + 1), eps=1e-10, feasible_set=fs),
    ],
    ids=["adam", "amsgrad-analysis-decay", "sgd-momentum", "sgd-inv-sqrt", "adagrad"],
)
@pytest.mark.parametrize("fs", [None, Box(-1.0, 1.0), L2Ball(1.0)], ids=lambda s: type(s).__name__)
def test_baselines_rows_match_reference(make, fs):
    B, d, T = 3, 5, 150
    opts = [make(b, fs) for b in range(B)]
    problem = StochasticNonconvex([11, 12, 13], d, sigma=0.5)
    theta0 = np.linspace(-0.4, 0.4, B * d).reshape(B, d)
    trace = run_reference_equivalent(opts, problem, theta0, T, device="cpu")
    assert rows_error(trace, opts, problem, theta0, T) <= TOL


@settings(deadline=None, max_examples=12)
@given(
    seed=st.integers(0, 2**32 - 1),
    B=st.integers(1, 5),
    d=st.integers(1, 7),
    amsgrad=st.booleans(),
    form=st.sampled_from(["algorithm", "analysis"]),
)
def test_random_batches_match_reference(seed, B, d, amsgrad, form):
    rng = np.random.default_rng(seed)
    opts = adabelief_batch(B, Box(-2.0, 2.0), rng, amsgrad=amsgrad, form=form,
                           beta1_decay=float(rng.uniform(0.8, 1.0)), lr_schedule="inv_sqrt")
    problem = StochasticNonconvex(rng.integers(0, 2**32, B), d, sigma=float(rng.uniform(0, 2)))
    theta0 = rng.uniform(-1, 1, (B, d))
    trace = run_reference_equivalent(opts, problem, theta0, 60, device="cpu")
    assert rows_error(trace, opts, problem, theta0, 60) <= TOL


def test_unconstrained_rows_are_bit_identical():
    """Without a projection every operation is IEEE-exact, so rows equal the reference bit for bit,
    even on a run that blows up to 1e12 (where a one-ulp drift would show as a large difference)."""
    B, d, T = 4, 5, 300
    problem = OnlineQuadratic(np.arange(B), d)
    opts = [AdaBelief(lr=0.05 * (b + 1), betas=(0.9 - 0.1 * b, 0.999 - 0.01 * b), eps=1e-8, beta1_decay=0.9) for b in range(B)]
    theta0 = np.zeros((B, d))
    trace = run_reference_equivalent(opts, problem, theta0, T, device="cpu")
    assert np.max(np.abs(trace.theta)) > 1e6  # the divergent regime (β1t → 0 makes s_t ≈ ε)
    assert rows_error(trace, opts, problem, theta0, T) == 0.0


def test_exact_sqrt_is_correctly_rounded():
    x = torch.rand(20000, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    assert np.array_equal(exact_sqrt(x).numpy(), np.sqrt(x.numpy()))


# -- mutations: the comparison must be able to fail ----------------------------------------------------
def _trace_for(opts, problem, theta0, T):
    return run_reference_equivalent(opts, problem, theta0, T, device="cpu")


def test_comparison_catches_swapped_eps_and_beta():
    B, d, T = 2, 4, 80
    problem = OnlineQuadratic([1, 2], d)
    theta0 = np.zeros((B, d))
    good = [AdaBelief(lr=0.1, betas=(0.9, 0.999), eps=1e-8) for _ in range(B)]
    eps_swapped = [AdaBelief(lr=0.1, betas=(0.9, 0.999), eps=1e-4) for _ in range(B)]
    beta_swapped = [AdaBelief(lr=0.1, betas=(0.8, 0.999), eps=1e-8) for _ in range(B)]
    assert rows_error(_trace_for(good, problem, theta0, T), good, problem, theta0, T) <= TOL
    assert rows_error(_trace_for(eps_swapped, problem, theta0, T), good, problem, theta0, T) > 1e-6
    assert rows_error(_trace_for(beta_swapped, problem, theta0, T), good, problem, theta0, T) > 1e-6


def test_comparison_catches_flipped_gradient_sign():
    d, T = 3, 50
    problem = StochasticNonconvex([4], d, sigma=0.3)
    ref = problem.reference()
    opt = AdaBelief(lr=0.05)
    good = run_reference_equivalent(opt, ref, np.full(d, 0.5), T, device="cpu")
    flipped = run_reference_equivalent(opt, lambda t, th: -ref.grad(t, th), np.full(d, 0.5), T, device="cpu")
    expected = run(opt, ref, np.full(d, 0.5), T)
    assert np.max(np.abs(good.theta - expected.theta)) <= TOL
    assert np.max(np.abs(flipped.theta - expected.theta)) > 1e-3


# -- the drop-in hook for notebooks 03-05 -------------------------------------------------------------
def test_reference_equivalent_single_run_numpy_problem():
    from adabelief_ref.problems.online_convex import OnlineQuadraticBox

    problem = OnlineQuadraticBox(d=4, T=200, seed=3)
    opt = AdaBelief(lr=0.1, form="analysis", lr_schedule="inv_sqrt", amsgrad=True, feasible_set=problem.feasible_set)
    theta0 = np.zeros(4)
    ref = run(opt, problem, theta0, 200)
    eng = run_reference_equivalent(opt, problem, theta0, 200, device="cpu")
    for key in ("theta", "g", "m", "s", "s_max", "alpha", "beta1"):
        assert getattr(eng, key).shape == getattr(ref, key).shape, key
        assert np.max(np.abs(getattr(eng, key) - getattr(ref, key))) <= TOL, key
    assert eng.optimizer == ref.optimizer


def test_reference_equivalent_batched_numpy_problem():
    from adabelief_ref.problems.online_convex import ReddiProblem

    problem = ReddiProblem.random_phases(P=3, T=150, d=4, seed=[0, 1, 2])
    opt = Adam(lr=0.1, betas=(0.9, 0.99), feasible_set=problem.feasible_set)
    theta0 = np.zeros((3, 4))
    ref = run(opt, problem, theta0, 150)  # the reference steps the batch with leading dims
    eng = run_reference_equivalent(opt, problem, theta0, 150, device="cpu", record=("theta", "s"))
    assert eng.g is None and eng.m is None
    assert np.max(np.abs(eng.theta - ref.theta)) <= TOL and np.max(np.abs(eng.s - ref.s)) <= TOL


def test_reference_equivalent_stochastic_numpy_problem():
    """The hook for notebook 05: a batched numpy stochastic problem, stepped by the engine."""
    from adabelief_ref.problems.stochastic import NonconvexLogistic

    problem = NonconvexLogistic()
    opt = AdaBelief(lr=0.05, eps=1e-8, form="analysis", lr_schedule="inv_sqrt", amsgrad=True)
    theta0 = problem.initial_points(4, seed=1)
    ref = run(opt, problem, theta0, 100)
    eng = run_reference_equivalent(opt, problem, theta0, 100, device="cpu")
    for key in ("theta", "g", "m", "s", "s_max"):
        assert np.max(np.abs(getattr(eng, key) - getattr(ref, key))) <= TOL, key


def test_polyhedron_uses_the_host_projection():
    A = np.array([[1.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    fs = Polyhedron(A, np.array([1.0, 0.0, 0.0]))
    opts = [AdaBelief(lr=0.1, eps=1e-8, feasible_set=fs), AdaBelief(lr=0.2, eps=1e-8, feasible_set=fs)]
    problem = StochasticNonconvex([5, 6], 2, sigma=0.2, spread=2.0)
    theta0 = np.full((2, 2), 0.25)
    trace = run_reference_equivalent(opts, problem, theta0, 12, device="cpu")
    assert rows_error(trace, opts, problem, theta0, 12) <= 1e-8  # cvxpy + exact polish


# -- config and errors ---------------------------------------------------------------------------------
def test_config_from_optimizers_and_reference_roundtrip():
    opts = [AdaBelief(lr=0.1, betas=(0.9, 0.99), eps=1e-8, beta1_decay=0.9), AdaBelief(lr=0.2, betas=(0.8, 0.999), eps=1e-16)]
    cfg = BatchedConfig.from_optimizers(opts)
    assert cfg.B == 2 and cfg.beta1_decay.tolist() == [0.9, 1.0]
    assert [repr(cfg.reference(b)) for b in range(2)] == [repr(o) for o in opts]
    sub = cfg.select([1])
    assert sub.B == 1 and sub.lr.tolist() == [0.2]


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: BatchedConfig.make("adamw", 2), "algorithm"),
        (lambda: BatchedConfig.make("adabelief", 0), "B must be"),
        (lambda: BatchedConfig.make("adabelief", 2, lr=[0.1, -1.0]), r"lr\[1\]"),
        (lambda: BatchedConfig.make("adabelief", 2, beta1=[0.9]), "length B=2"),
        (lambda: BatchedConfig.make("sgd", 2, amsgrad=True), "amsgrad"),
        (lambda: BatchedConfig.make("adabelief", 2, feasible_set=object()), "feasible_set"),
        (lambda: BatchedConfig.from_optimizers([AdaBelief(), Adam()]), "one class"),
        (lambda: BatchedConfig.from_optimizers([AdaBelief(form="analysis"), AdaBelief()]), "share form"),
        (lambda: BatchedConfig.make("adabelief", 2).reference(2), "b must be"),
        (lambda: BatchedConfig.make("adabelief", 2).select([5]), "rows"),
        (lambda: BatchedRun(BatchedConfig.make("adabelief", 2), 3, device="cpu").init(np.zeros(4)), "theta0"),
        (lambda: run_reference_equivalent(AdaBelief(), lambda t, x: x, np.zeros((2, 3, 4)), 5), "theta0"),
        (lambda: run_reference_equivalent([AdaBelief()] * 3, lambda t, x: x, np.zeros((2, 3)), 5), "B=2"),
        (lambda: run_reference_equivalent(AdaBelief(), lambda t, x: x, np.zeros(3), 0), "T must be"),
        (lambda: run_reference_equivalent(AdaBelief(), lambda t, x: x, np.zeros(3), 5, record=("v",)), "record"),
        (lambda: engine_run(BatchedConfig.make("sgd", 1), StochasticNonconvex([0], 2), 5, audit=True), "audit"),
        (lambda: engine_run(BatchedConfig.make("adam", 3), StochasticNonconvex([0], 2), 5), "B=1"),
        (lambda: checkpoint_steps(10, [0, 3]), "checkpoints"),
        (lambda: checkpoint_steps(10, 0), "checkpoints"),
        (lambda: show_progress("yes"), "progress"),
        (lambda: OnlineQuadratic([0, -1], 3), "seeds"),
        (lambda: OnlineQuadratic([0], 3, curvature=(2.0, 1.0)), "curvature"),
        (lambda: ReddiOnline(P=1), "P must"),
        (lambda: StochasticNonconvex([0], 2).grad(1, np.zeros((1, 2))), "not bound"),
        (lambda: StochasticNonconvex([0, 1], 2).reference().grad(1, np.zeros(2)), "B = 1"),
        (lambda: StochasticNonconvex([0, 1], 2).reference().grad(1, np.zeros((2, 3))), "shape"),
        (lambda: HostProblem(lambda t, x: x, 2, 3).select([0]), "cannot be split"),
        (lambda: HostProblem([lambda t, x: x], 2, 3), "B=2"),
        (lambda: counter_rng.uniform_numpy(counter_rng.keys_numpy([0], 0, 2), -1), "t must"),
    ],
)
def test_bad_input_raises_clear_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_vanished_denominator_names_the_run():
    """ε = 0 in the analysis form with β1 = 0: s_t = 0 and m_t/√s_t = 0/0 (the reference raises too)."""
    cfg = BatchedConfig.make("adabelief", 2, lr=0.1, beta1=[0.9, 0.0], eps=0.0, form="analysis")
    with pytest.raises(ValueError, match=r"run\(s\) \[1\]"):
        engine_run(cfg, StochasticNonconvex([1, 2], 3, sigma=0.0), 10, device="cpu", progress=False)
    with pytest.raises(ValueError, match="non-finite"):
        run(cfg.reference(1), StochasticNonconvex([2], 3, sigma=0.0).reference(), np.zeros(3), 10)


# -- devices and provenance -----------------------------------------------------------------------------
def test_device_resolution():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device("cpu") == torch.device("cpu")
    for bad in ("tpu", "gpu0", 3, "mps"):
        with pytest.raises(ValueError, match="device"):
            resolve_device(bad)
    if torch.cuda.is_available():
        assert resolve_device("cuda").type == "cuda"
        with pytest.raises(ValueError, match="does not exist"):
            resolve_device(f"cuda:{torch.cuda.device_count()}")
    else:
        for dev in ("cuda", "cuda:0"):
            with pytest.raises(ValueError, match="CUDA is not available"):
                resolve_device(dev)
    assert resolve_dtype("float32") is torch.float32 and resolve_dtype(torch.float64) is torch.float64
    with pytest.raises(ValueError, match="dtype"):
        resolve_dtype(torch.float16)


def test_result_records_device_dtype_version_seed():
    cfg = BatchedConfig.make("adabelief", 2, lr=0.1)
    res = engine_run(cfg, StochasticNonconvex([7, 8], 3), 20, device="cpu", dtype="float32", progress=False)
    rec = res.record
    assert (rec.device, rec.dtype, rec.torch_version, rec.seed, rec.world_size) == ("cpu", "float32", torch.__version__, 7, 1)
    assert res.seeds.tolist() == [7, 8] and res.run_steps_per_s > 0


def test_float32_tracks_float64():
    cfg = BatchedConfig.make("adabelief", 3, lr=0.05, eps=1e-8)
    prob = StochasticNonconvex([1, 2, 3], 4, sigma=0.5)
    r64 = engine_run(cfg, prob, 100, device="cpu", progress=False, stats=False)
    r32 = engine_run(cfg, prob, 100, device="cpu", dtype=torch.float32, progress=False, stats=False)
    err = np.max(np.abs(r64.theta - r32.theta))
    assert 0 < err < 1e-3


# -- problems: data, gradients, streamed statistics ------------------------------------------------------
@settings(deadline=None, max_examples=25)
@given(seeds=st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=4), stream=st.integers(0, 2**20),
       t=st.integers(0, 2**32 - 1), d=st.integers(1, 9))
def test_counter_rng_torch_equals_numpy(seeds, stream, t, d):
    kt, kn = counter_rng.keys_torch(seeds, stream, d), counter_rng.keys_numpy(seeds, stream, d)
    assert np.array_equal(kt.numpy().astype(np.uint64), kn)
    ut, un = counter_rng.uniform_torch(kt, t), counter_rng.uniform_numpy(kn, t)
    assert np.array_equal(ut.numpy(), un)
    assert np.all((un > 0) & (un < 1))


def test_counter_rng_is_uniform_and_decorrelated():
    keys = counter_rng.keys_numpy(np.arange(200), 5, 500)
    u = np.stack([counter_rng.uniform_numpy(keys, t) for t in (1, 2)])
    n = u[0].size
    assert abs(u.mean() - 0.5) < 5 * np.sqrt(1 / 12 / (2 * n))
    assert abs(u.var() - 1 / 12) < 0.002
    assert abs(np.corrcoef(u[0].ravel(), u[1].ravel())[0, 1]) < 5 / np.sqrt(n)
    assert abs(np.corrcoef(u[0][:, :-1].ravel(), u[0][:, 1:].ravel())[0, 1]) < 5 / np.sqrt(n)
    hist = np.histogram(u, bins=20, range=(0, 1))[0]
    expected = u.size / 20
    assert np.sum((hist - expected) ** 2 / expected) < 50  # chi-square, 19 dof (p ≈ 1e-4)


def test_rows_keep_their_data_when_selected():
    prob = OnlineQuadratic([10, 20, 30, 40], 5)
    full = prob.to("cpu")
    part = prob.select([3, 1]).to("cpu")
    for t in (1, 7, 1000):
        a, b = full.sample(t)
        a2, b2 = part.sample(t)
        assert torch.equal(a[[3, 1]], a2) and torch.equal(b[[3, 1]], b2)


@pytest.mark.parametrize("make", [
    lambda: OnlineQuadratic([3, 4], 5, noise=0.7),
    lambda: StochasticNonconvex([3, 4], 5, sigma=0.0),
    lambda: ReddiOnline(P=4, B=2, d=5),
])
def test_gradients_match_autograd(make):
    prob = make().to("cpu")
    theta = torch.linspace(-1.5, 1.5, 10, dtype=torch.float64).reshape(2, 5).requires_grad_(True)
    t = 5 if not isinstance(prob, ReddiOnline) else 9  # 9 mod 4 = 1: the large coefficient
    f = prob.value(theta) if isinstance(prob, StochasticNonconvex) else prob.loss(t, theta)
    (auto,) = torch.autograd.grad(f.sum(), theta)
    got = prob.true_grad(theta.detach()) if isinstance(prob, StochasticNonconvex) else prob.grad(t, theta.detach())
    assert torch.allclose(auto, got, rtol=1e-12, atol=1e-14)


def test_nonconvex_noise_is_centred_with_variance_sigma2():
    prob = StochasticNonconvex(np.arange(400), 50, sigma=0.8).to("cpu")
    theta = torch.zeros(400, 50, dtype=torch.float64)
    noise = prob.grad(3, theta) - prob.true_grad(theta)
    assert abs(noise.mean().item()) < 0.01 and abs(noise.var().item() - 0.64) < 0.02
    assert noise.abs().max().item() <= np.sqrt(3) * 0.8


def test_streamed_regret_matches_trace_regret():
    """R(T) streamed on the device = Σ_t f_t(θ_{t−1}) − min_F Σ_t f_t from the full reference trace."""
    B, d, T = 3, 4, 200
    prob = OnlineQuadratic([5, 6, 7], d, radius=1.0)
    cfg = BatchedConfig.make("adabelief", B, lr=[0.05, 0.1, 0.3], eps=1e-8, form="analysis", lr_schedule="inv_sqrt",
                             feasible_set=prob.feasible_set())
    res = engine_run(cfg, prob, T, device="cpu", checkpoints=50, progress=False)
    assert res.t.tolist() == [50, 100, 150, 200]
    from scipy.optimize import minimize

    for b in range(B):
        ref_prob = prob.select([b]).reference()
        tr = run(cfg.reference(b), ref_prob, np.zeros(d), T)
        losses = np.array([ref_prob.loss(t, tr.theta[t - 1]) for t in range(1, T + 1)])
        for k, Tk in enumerate(res.t):
            total = lambda x: sum(ref_prob.loss(t, x) for t in range(1, Tk + 1))  # noqa: E731
            best = minimize(total, np.zeros(d), bounds=[(-1, 1)] * d, method="L-BFGS-B", options={"ftol": 1e-14, "gtol": 1e-10})
            regret = losses[:Tk].sum() - best.fun
            assert abs(res.metrics["regret"][k, b] - regret) <= 1e-6 * max(1.0, abs(regret))
        assert np.array_equal(res.theta[b], tr.theta[-1])


def test_reddi_regret_and_nonconvex_stats_match_trace():
    cfg = BatchedConfig.make("adam", 2, lr=[0.1, 0.5], beta1=0.9, beta2=0.99, eps=1e-8, lr_schedule="inv_sqrt",
                             feasible_set=Box(-1.0, 1.0))
    prob = ReddiOnline(P=3, B=2, d=2)
    T = 90
    res = engine_run(cfg, prob, T, device="cpu", progress=False)
    for b in range(2):
        tr = run(cfg.reference(b), prob.select([b]).reference(), np.zeros(2), T)
        c = np.array([prob.coefficient(t) for t in range(1, T + 1)])
        regret = np.sum(c[:, None] * tr.theta[:-1]) - (-2 * c.sum())
        assert abs(res.metrics["regret"][0, b] - regret) <= 1e-9

    prob = StochasticNonconvex([1, 2], 3, sigma=0.5)
    cfg = BatchedConfig.make("adabelief", 2, lr=0.1, eps=1e-8)
    res = engine_run(cfg, prob, 100, device="cpu", checkpoints=[10, 100], progress=False)
    for b in range(2):
        ref = prob.select([b]).reference()
        tr = run(cfg.reference(b), ref, np.zeros(3), 100)
        gsq = np.array([np.sum(ref.true_grad(x) ** 2) for x in tr.theta[:-1]])
        np.testing.assert_allclose(res.metrics["grad_sq_min"][:, b], [gsq[:10].min(), gsq.min()], rtol=1e-12)
        np.testing.assert_allclose(res.metrics["grad_sq_mean"][:, b], [gsq[:10].mean(), gsq.mean()], rtol=1e-12)
        np.testing.assert_allclose(res.metrics["grad_sq"][:, b], [gsq[9], gsq[99]], rtol=1e-12)


def test_streamed_audit_matches_trace_audit_and_theorem21():
    B, d, T = 2, 3, 150
    prob = OnlineQuadratic([8, 9], d)
    cfg = BatchedConfig.make("adabelief", B, lr=[0.1, 0.2], beta1=[0.9, 0.8], eps=1e-8, form="analysis",
                             lr_schedule="inv_sqrt", beta1_decay=0.99, feasible_set=prob.feasible_set())
    res = engine_run(cfg, prob, T, device="cpu", audit=True, progress=False)
    for b in range(B):
        tr = run(cfg.reference(b), prob.select([b]).reference(), np.zeros(d), T)
        m = {k: v[0, b] for k, v in res.metrics.items()}
        assert m["c"] == observed_c(tr.s)
        assert m["s_decrease_share"] == pytest.approx(decrease_share(tr.s), abs=1e-15)
        assert m["g_inf_max"] == np.max(np.abs(tr.g))
        assert m["g_l2_max"] == pytest.approx(np.max(np.linalg.norm(tr.g, axis=1)), rel=1e-14)
        assert m["g4_norm_sum"] == pytest.approx(np.sum(np.sqrt(np.sum(tr.g**4, axis=0))), rel=1e-13)
        assert m["sqrt_s_sum"] == pytest.approx(np.sum(np.sqrt(tr.s[-1])), rel=1e-14)
        ratio = np.sqrt(tr.s) / tr.alpha[:, None]
        assert m["gamma_neg_share"] == pytest.approx(np.mean(ratio[1:] < ratio[:-1]), abs=1e-15)
        assert m["beta1_term"] == pytest.approx(np.sum(tr.beta1[:, None] * ratio), rel=1e-13)
        rhs = theorem21_rhs(T, lr=cfg.lr[b], beta1=cfg.beta1[b], D_inf=prob.D_inf, c=m["c"], sqrt_s_sum=m["sqrt_s_sum"],
                            g4_norm_sum=m["g4_norm_sum"], beta1_term=m["beta1_term"])
        a, b1, D = cfg.lr[b], cfg.beta1[b], prob.D_inf
        term1 = D**2 * np.sqrt(T) / (2 * a * (1 - b1)) * np.sum(np.sqrt(tr.s[-1]))
        term2 = (1 + b1) * a * np.sqrt(1 + np.log(T)) / (2 * np.sqrt(tr.s.min()) * (1 - b1) ** 3) * np.sum(np.sqrt(np.sum(tr.g**4, 0)))
        term3 = D**2 / (2 * (1 - b1)) * np.sum(tr.beta1[:, None] * ratio)
        assert rhs["total"] == pytest.approx(term1 + term2 + term3, rel=1e-12)
        assert rhs["total"] > res.metrics["regret"][0, b]  # the bound holds on this run
    with pytest.raises(ValueError, match="c must be > 0"):
        theorem21_rhs(10, lr=0.1, beta1=0.9, D_inf=2.0, c=0.0, sqrt_s_sum=1.0, g4_norm_sum=1.0, beta1_term=1.0)


# -- progress ------------------------------------------------------------------------------------------
def test_progress_bar_quiet_by_default_and_on_request(capsys):
    assert not in_notebook()
    assert show_progress(None) is False  # pytest's stderr is not a terminal
    cfg = BatchedConfig.make("adam", 2, lr=0.1)
    engine_run(cfg, StochasticNonconvex([0, 1], 2), 30, device="cpu")
    assert capsys.readouterr().err == ""
    engine_run(cfg, StochasticNonconvex([0, 1], 2), 30, device="cpu", progress=True)
    err = capsys.readouterr().err
    assert "adam B=2" in err and "/30" in err
