"""``backend="engine"`` against ``backend="numpy"`` for the theory functions the notebooks run.

The torch engine must give the numpy reference's traces — and hence the same regrets, bounds,
audits, rates and phase-diagram cells — to ≤ 1e-10 in float64 (issue 7). Problems, seeds and
hyper-parameters here differ from notebooks 03–05's. Each back end is compared on the CPU, and on
CUDA too where this machine has a GPU. Negative controls show that a changed hyper-parameter or a
transposed grid is caught by the same comparison.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import adabelief_ref as ar
from adabelief_ref.engine.driver import run_reference_shaped
from adabelief_ref.engine.problems import StochasticNonconvex
from adabelief_ref.problems.online_convex import (
    OnlineLeastSquaresSimplex,
    OnlineLogisticL2Ball,
    OnlineQuadraticBox,
    ReddiProblem,
)
from adabelief_ref.problems.stochastic import GemanMcClureRegression, NonconvexLogistic, Replicated
from adabelief_ref.theory import nonconvex as nc
from adabelief_ref.theory.backends import BACKENDS, check_backend, run_trace
from adabelief_ref.theory.convex import convex_report, reddi_phase_diagram, run_online

TOL = 1e-10
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
SEEDS = [101, 202, 303]


def max_diff(a, b) -> float:
    """max |a − b| over arrays that must have the same shape (NaN = NaN)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape
    assert np.array_equal(np.isnan(a), np.isnan(b))
    both = ~np.isnan(a)
    return float(np.max(np.abs(a[both] - b[both]), initial=0.0))


def trace_diff(a, b) -> float:
    worst = 0.0
    for key in ("theta", "g", "m", "s", "s_max"):
        x, y = getattr(a, key), getattr(b, key)
        assert (x is None) == (y is None), key
        if x is not None:
            worst = max(worst, max_diff(x, y))
    assert a.optimizer == b.optimizer
    np.testing.assert_array_equal(a.alpha, b.alpha)
    np.testing.assert_array_equal(a.beta1, b.beta1)
    return worst


# -- online convex (notebook 03) ---------------------------------------------------------------------
PROBLEMS = {
    "quadratic/box": lambda T: OnlineQuadraticBox(d=3, T=T, seed=SEEDS, noise=0.7),
    "logistic/l2-ball": lambda T: OnlineLogisticL2Ball(d=3, T=T, seed=SEEDS),
    "least-squares/simplex": lambda T: OnlineLeastSquaresSimplex(d=3, T=T, seed=SEEDS),
    "Reddi P=4/box": lambda T: ReddiProblem.random_phases(P=4, T=T, d=3, seed=SEEDS),
}
METHODS = {
    "analysis": lambda F: ar.AdaBelief(0.2, (0.8, 0.99), 1e-6, form="analysis", lr_schedule="inv_sqrt", feasible_set=F),
    "analysis-max-decay": lambda F: ar.AdaBelief(0.2, (0.8, 0.99), 1e-6, form="analysis", lr_schedule="inv_sqrt",
                                                 amsgrad=True, beta1_decay=0.7, feasible_set=F),
    "algorithm": lambda F: ar.AdaBelief(0.2, (0.8, 0.99), 1e-6, form="algorithm", lr_schedule="inv_sqrt", feasible_set=F),
    "adam": lambda F: ar.Adam(0.2, (0.8, 0.99), 1e-6, form="analysis", lr_schedule="inv_sqrt", feasible_set=F),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("method", list(METHODS))
@pytest.mark.parametrize("pname", list(PROBLEMS))
def test_run_online_engine_reproduces_numpy(pname, method, device):
    T = 60
    pb = PROBLEMS[pname](T)
    opt = METHODS[method](pb.feasible_set)
    ref = run_online(opt, pb, T)
    eng = run_online(opt, pb, T, backend="engine", device=device)
    assert trace_diff(ref, eng) <= TOL
    horizons = np.array([5, 20, 60])
    a, b = convex_report(pb, ref, opt, horizons), convex_report(pb, eng, opt, horizons)
    scale = float(np.max(np.abs(a.bound)))
    assert max_diff(a.regret, b.regret) <= TOL
    assert max_diff(a.linearized_regret, b.linearized_regret) <= TOL
    assert max_diff(a.bound, b.bound) <= TOL * scale
    for link in ("lhs", "after_l8", "after_l9", "after_l10", "rhs"):
        x, y = getattr(a.chain, link), getattr(b.chain, link)
        assert max_diff(x, y) <= TOL * max(1.0, float(np.max(np.abs(x))))
    for field in ("decrease_share", "gamma_negative_share", "l7_failure_share", "grad_bound_share",
                  "residual_bound_share", "diameter_held", "assumptions_held"):
        np.testing.assert_array_equal(getattr(a.audit, field), getattr(b.audit, field), err_msg=field)
    assert max_diff(a.audit.c_observed, b.audit.c_observed) <= TOL * float(np.max(a.audit.c_observed))
    np.testing.assert_array_equal(a.bound_held, b.bound_held)
    assert a.covered == b.covered


def test_numpy_backend_is_the_plain_reference_run():
    """The default back end is adabelief_ref.run itself: bit-identical (the stored notebooks' outputs)."""
    pb = OnlineQuadraticBox(d=2, T=40, seed=[7, 8])
    opt = METHODS["analysis"](pb.feasible_set)
    a, b = run_online(opt, pb, 40), ar.run(opt, pb, pb.initial_point(), 40)
    for key in ("theta", "g", "m", "s"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key))


def test_engine_comparison_detects_a_changed_hyper_parameter():
    """Negative control: the same comparison sees β2 = 0.99 vs 0.9899 and ε = 1e-6 vs 1e-5."""
    pb = PROBLEMS["logistic/l2-ball"](60)
    ref = run_online(METHODS["analysis"](pb.feasible_set), pb, 60)
    for other in (ar.AdaBelief(0.2, (0.8, 0.9899), 1e-6, form="analysis", lr_schedule="inv_sqrt", feasible_set=pb.feasible_set),
                  ar.AdaBelief(0.2, (0.8, 0.99), 1e-5, form="analysis", lr_schedule="inv_sqrt", feasible_set=pb.feasible_set)):
        eng = run_online(other, pb, 60, backend="engine", device="cpu")
        assert max_diff(ref.theta, eng.theta) > 1e3 * TOL


# -- Reddi phase diagram (notebook 04) ---------------------------------------------------------------
REDDI_METHODS = {
    "raw": lambda b, F: ar.AdaBelief(0.4, b, 1e-7, form="analysis", lr_schedule="inv_sqrt", feasible_set=F),
    "alg2-max": lambda b, F: ar.AdaBelief(0.4, b, 1e-7, form="algorithm", lr_schedule="inv_sqrt", amsgrad=True,
                                          feasible_set=F),
    "adam": lambda b, F: ar.Adam(0.4, b, 1e-7, form="analysis", lr_schedule="inv_sqrt", feasible_set=F),
}


def assert_same_outcome(a, b):
    for field in ("x_end", "avg_regret", "tail_slope", "late_share"):
        assert max_diff(getattr(a, field), getattr(b, field)) <= TOL, field
    np.testing.assert_array_equal(a.worst, b.worst)
    np.testing.assert_array_equal(a.converged, b.converged)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("method", list(REDDI_METHODS))
def test_reddi_phase_diagram_engine_reproduces_numpy(method, device):
    """A non-square grid (2 × 3): a transposed or mis-ordered batch could not match cell by cell."""
    T = 240
    pb = ReddiProblem(P=np.array([3, 7]), T=T)
    b1s, b2s = (0.2, 0.7), (0.05, 0.3, 0.95)
    a = reddi_phase_diagram(REDDI_METHODS[method], b1s, b2s, pb, T)
    b = reddi_phase_diagram(REDDI_METHODS[method], b1s, b2s, pb, T, backend="engine", device=device)
    assert a.x_end.shape == b.x_end.shape == (2, 3, 2)
    assert_same_outcome(a, b)
    assert np.unique(b.x_end[..., 0]).size == 6  # every cell ran with its own (β1, β2)


def test_reddi_phase_diagram_engine_with_a_batched_problem():
    """A problem with its own batch axis (random phases per seed): fields (β1, β2, seeds, d)."""
    T = 120
    pb = ReddiProblem.random_phases(P=np.array([3, 5, 6]), T=T, d=3, seed=[11, 12])
    a = reddi_phase_diagram(REDDI_METHODS["raw"], (0.0, 0.5), (0.2, 0.9), pb, T)
    b = reddi_phase_diagram(REDDI_METHODS["raw"], (0.0, 0.5), (0.2, 0.9), pb, T, backend="engine", device="cpu")
    assert b.x_end.shape == (2, 2, 2, 3)
    assert_same_outcome(a, b)


def test_reddi_engine_grid_order_is_checked_by_the_comparison():
    """Negative control: the numpy diagram of the reversed β2 grid does not match the engine's."""
    T = 240
    pb = ReddiProblem(P=np.array([3, 7]), T=T)
    eng = reddi_phase_diagram(REDDI_METHODS["raw"], (0.2, 0.7), (0.05, 0.3, 0.95), pb, T, backend="engine", device="cpu")
    rev = reddi_phase_diagram(REDDI_METHODS["raw"], (0.2, 0.7), (0.95, 0.3, 0.05), pb, T)
    assert max_diff(eng.x_end, rev.x_end) > 0.1
    assert max_diff(eng.x_end, rev.x_end[:, ::-1]) <= TOL


@settings(deadline=None, max_examples=6)
@given(
    b1s=st.lists(st.sampled_from([0.0, 0.1, 0.5, 0.85]), min_size=1, max_size=3),
    b2s=st.lists(st.sampled_from([0.01, 0.2, 0.6, 0.999]), min_size=1, max_size=3),
    P=st.integers(2, 9),
)
def test_reddi_phase_diagram_engine_any_grid(b1s, b2s, P):
    T = 64
    pb = ReddiProblem(P=np.array([P, P + 1]), T=T)
    a = reddi_phase_diagram(REDDI_METHODS["raw"], b1s, b2s, pb, T)
    b = reddi_phase_diagram(REDDI_METHODS["raw"], b1s, b2s, pb, T, backend="engine", device="cpu")
    assert_same_outcome(a, b)


# -- stochastic non-convex (notebook 05) -------------------------------------------------------------
STOCHASTIC = {
    "logistic": lambda: NonconvexLogistic(n=96, d=4, lam=0.2, batch_size=4, data_seed=5, seed=23),
    "geman-mcclure+noise": lambda: GemanMcClureRegression(n=64, d=3, batch_size=4, noise_scale=0.3, data_seed=6, seed=29),
    "replicated": lambda: Replicated(NonconvexLogistic(n=64, d=3, batch_size=4, data_seed=7, seed=31), 2),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("pname", list(STOCHASTIC))
def test_run_stationarity_engine_reproduces_numpy(pname, amsgrad, device):
    problem = STOCHASTIC[pname]()
    theta0 = problem.initial_points(6, seed=9)
    opt = ar.AdaBelief(0.15, (0.85, 0.995), 1e-7, form="analysis", lr_schedule="inv_sqrt", amsgrad=amsgrad)
    T = 256
    a = nc.run_stationarity(opt, problem, theta0, T)
    b = nc.run_stationarity(opt, problem, theta0, T, backend="engine", device=device)
    assert trace_diff(a.trace, b.trace) <= TOL
    assert max_diff(a.full_grads, b.full_grads) <= TOL
    assert max_diff(a.grad_sq, b.grad_sq) <= TOL
    ra = nc.stationarity_rate(a.grad_sq, n_boot=50, seed=4)
    rb = nc.stationarity_rate(b.grad_sq, n_boot=50, seed=4)
    for field in ("slope", "ci_low", "ci_high", "reference_slope"):
        assert abs(getattr(ra, field) - getattr(rb, field)) <= 1e-8, field
    assert ra.consistent == rb.consistent
    H = 10.0
    aa, ab = nc.assumption_audit(a, H), nc.assumption_audit(b, H)
    for field in aa._fields:
        assert abs(getattr(aa, field) - getattr(ab, field)) <= TOL * max(1.0, abs(getattr(aa, field))), field
    pa, pb_ = nc.n1_pieces(a, H=H, sigma2=1.0).worst_ratios(), nc.n1_pieces(b, H=H, sigma2=1.0).worst_ratios()
    for k in pa:
        assert abs(pa[k] - pb_[k]) <= TOL * max(1.0, pa[k]), k


def test_run_stationarity_engine_one_run_and_algorithm_form():
    """θ_0 of shape (d,) (one run) and Algorithm 2 with a constant α (notebook 05's third variant)."""
    problem = STOCHASTIC["logistic"]()
    theta0 = problem.initial_points(1, seed=2)[0]
    opt = ar.AdaBelief(0.05, (0.9, 0.999), 1e-8)
    a = nc.run_stationarity(opt, problem, theta0, 128)
    b = nc.run_stationarity(opt, problem, theta0, 128, backend="engine", device="cpu")
    assert b.trace.theta.shape == (129, 4)
    assert trace_diff(a.trace, b.trace) <= TOL
    assert max_diff(a.grad_sq, b.grad_sq) <= TOL


# -- run_trace / run_reference_shaped -------------------------------------------------------------------
def test_run_reference_shaped_keeps_leading_axes():
    """θ_0 of shape (2, 3, d): the problem sees that shape; per-run optimizers in row-major order."""
    rng = np.random.default_rng(5)
    target = rng.standard_normal((2, 3, 4))

    def grad(t, theta):
        assert theta.shape == (2, 3, 4)
        return theta - target + np.sin(t * target)

    opts = [ar.AdaBelief(lr, (0.9, b2), 1e-8) for lr in (0.01, 0.05) for b2 in (0.9, 0.99, 0.999)]
    theta0 = rng.standard_normal((2, 3, 4))
    eng = run_reference_shaped(opts, grad, theta0, 50, device="cpu")
    assert eng.theta.shape == (51, 2, 3, 4) and eng.s.shape == (50, 2, 3, 4)
    for k, opt in enumerate(opts):
        i, j = divmod(k, 3)
        ref = ar.run(opt, lambda t, x: x - target[i, j] + np.sin(t * target[i, j]), theta0[i, j], 50)
        assert max_diff(ref.theta, eng.theta[:, i, j]) <= TOL
        assert max_diff(ref.s, eng.s[:, i, j]) <= TOL
        np.testing.assert_array_equal(ref.alpha, eng.alpha if eng.alpha.ndim == 1 else eng.alpha[:, i, j])


def test_run_trace_engine_matches_for_a_callable_problem():
    opt = ar.AdaBelief(0.1, (0.9, 0.999), 1e-8, form="analysis", lr_schedule="inv_sqrt", amsgrad=True)
    problem = lambda t, x: 2.0 * (x - 1.0) + 0.5 * np.cos(3.0 * t + x)  # noqa: E731
    theta0 = np.linspace(-1.0, 1.0, 10).reshape(2, 5)
    assert trace_diff(run_trace(opt, problem, theta0, 80), run_trace(opt, problem, theta0, 80, backend="engine", device="cpu")) <= TOL


# -- bad input -------------------------------------------------------------------------------------------
def _calls(backend, device):
    pb = ReddiProblem(P=3, T=16)
    opt = METHODS["analysis"](pb.feasible_set)
    sp = STOCHASTIC["logistic"]()
    return [
        lambda: run_online(opt, pb, 16, backend=backend, device=device),
        lambda: reddi_phase_diagram(REDDI_METHODS["raw"], (0.5,), (0.5,), pb, 16, backend=backend, device=device),
        lambda: nc.run_stationarity(opt, sp, sp.initial_points(2), 16, backend=backend, device=device),
        lambda: run_trace(opt, pb, pb.initial_point(), 16, backend=backend, device=device),
    ]


@pytest.mark.parametrize(
    "backend, device, match",
    [
        ("jax", "auto", r"backend must be one of 'numpy', 'engine'; got 'jax'"),
        ("Engine", "auto", r"backend must be one of .*got 'Engine'"),
        (None, "auto", r"backend must be one of .*got None"),
        ("numpy", "cpu", r"device applies to backend='engine' only; got device='cpu' with backend='numpy'"),
        ("engine", "tpu", r"device .*got 'tpu'"),
        ("engine", 3, r"device must be 'auto', 'cpu', 'cuda'.*got 3"),
        ("engine", f"cuda:{torch.cuda.device_count() if torch.cuda.is_available() else 0}", r"device="),
    ],
)
def test_bad_backend_or_device_is_a_clear_value_error(backend, device, match):
    for call in _calls(backend, device):
        with pytest.raises(ValueError, match=match):
            call()


def test_check_backend_resolves_the_device():
    assert BACKENDS == ("numpy", "engine")
    assert check_backend("numpy", "auto") == ("numpy", "auto")
    backend, dev = check_backend("engine", "cpu")
    assert backend == "engine" and dev == torch.device("cpu")
    assert check_backend("engine", "auto")[1].type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_run_reference_shaped_refuses_bad_input():
    with pytest.raises(ValueError, match="theta0 must have shape"):
        run_reference_shaped(ar.AdaBelief(), lambda t, x: x, np.float64(1.0), 5, device="cpu")
    with pytest.raises(ValueError, match="theta0 must have shape"):
        run_reference_shaped(ar.AdaBelief(), lambda t, x: x, np.zeros((0, 3)), 5, device="cpu")
    with pytest.raises(ValueError, match="DeviceProblem"):
        run_reference_shaped(ar.AdaBelief(), StochasticNonconvex([1, 2], 3), np.zeros((2, 3)), 5, device="cpu")
    with pytest.raises(ValueError, match="2 optimizer setting"):
        run_reference_shaped([ar.AdaBelief()] * 2, lambda t, x: x, np.zeros((3, 4)), 5, device="cpu")
