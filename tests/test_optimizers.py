"""The numpy float64 reference: hand-computed values, an independent scalar twin, external
references (the official adabelief-pytorch 0.2.1, torch.optim), invariants and bad input."""

from __future__ import annotations

import contextlib
import io
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import adabelief_ref as ar


class Clip:
    """Minimal box projection (clipping is exact for a box, whatever the weights)."""

    def __init__(self, lo, hi):
        self.lo, self.hi, self.calls = lo, hi, []

    def project(self, y, weights=None):
        self.calls.append(None if weights is None else np.array(weights))
        return np.clip(y, self.lo, self.hi)


# -- an independent scalar twin of Algorithm 2 / the analysis form (THEORY §1.1, §1.2) -----------
def adabelief_scalar(grads, lr, b1, b2, eps, form, schedule="constant", lam=None, amsgrad=False, theta0=0.0):
    """Plain-Python per-coordinate loop, written without reusing any library code."""
    theta, m, s, smax, out = theta0, 0.0, 0.0, 0.0, []
    for t, g in enumerate(grads, start=1):
        b1t = b1 * lam ** (t - 1) if lam is not None else b1
        m = b1t * m + (1 - b1t) * g
        s = b2 * s + (1 - b2) * (g - m) ** 2 + eps
        smax = max(smax, s)
        v = smax if amsgrad else s
        a = lr / math.sqrt(t) if schedule == "inv_sqrt" else lr
        if form == "algorithm":
            theta = theta - a * (m / (1 - b1**t)) / (math.sqrt(v / (1 - b2**t)) + eps)
        else:
            theta = theta - a * m / math.sqrt(v)
        out.append(theta)
    return np.array(out)


def run_stream(opt, grads, theta0):
    return ar.run(opt, lambda t, th: grads[t - 1], theta0, len(grads))


# -- hand-computed values -------------------------------------------------------------------------
def test_first_step_algorithm_by_hand():
    # m1 = (1−β1)g, s1 = (1−β2)(β1 g)² + ε, m̂1 = g, ŝ1 = β1² g² + ε/(1−β2).
    g, lr, b1, b2, eps = 2.0, 0.1, 0.9, 0.999, 1e-8
    st1 = ar.AdaBelief(lr, (b1, b2), eps).step(ar.AdaBelief(lr, (b1, b2), eps).init([1.0]), [g])
    s_hat = b1**2 * g**2 + eps / (1 - b2)
    assert st1.m[0] == pytest.approx((1 - b1) * g, rel=1e-15)
    assert st1.s[0] == pytest.approx((1 - b2) * (b1 * g) ** 2 + eps, rel=1e-15)
    assert st1.theta[0] == pytest.approx(1.0 - lr * g / (math.sqrt(s_hat) + eps), rel=1e-15)
    # The step is ≈ α/β1 in magnitude: larger than Adam's first step α (the "belief" effect).
    assert abs(st1.theta[0] - 1.0) == pytest.approx(lr / b1, rel=1e-5)


def test_first_step_analysis_by_hand():
    g, lr, b1, b2, eps = -3.0, 0.5, 0.8, 0.99, 1e-6
    opt = ar.AdaBelief(lr, (b1, b2), eps, form="analysis", lr_schedule="inv_sqrt")
    st1 = opt.step(opt.init([0.0]), [g])
    s1 = (1 - b2) * (b1 * g) ** 2 + eps
    assert st1.theta[0] == pytest.approx(-lr * (1 - b1) * g / math.sqrt(s1), rel=1e-15)


def test_second_step_uses_new_m_in_residual():
    # A residual g_t − m_{t−1} (optax's historical bug) gives a different s_2.
    b1, b2, eps = 0.9, 0.99, 0.0
    opt = ar.AdaBelief(0.1, (b1, b2), eps)
    s = opt.step(opt.step(opt.init([0.0]), [1.0]), [-1.0])
    m1 = 0.1
    m2 = b1 * m1 - 0.1
    s1 = (1 - b2) * (1 - m1) ** 2
    assert s.s[0] == pytest.approx(b2 * s1 + (1 - b2) * (-1 - m2) ** 2, rel=1e-14)
    assert s.s[0] != pytest.approx(b2 * s1 + (1 - b2) * (-1 - m1) ** 2, rel=1e-3)


def test_beta1_zero_is_sgd_with_epsilon_step():
    # β1 = 0: g − m ≡ 0, s_t = ε(1−β2^t)/(1−β2), ŝ_t = ε/(1−β2) exactly (THEORY §1.3).
    eps, b2, lr = 1e-8, 0.999, 1e-3
    opt = ar.AdaBelief(lr, (0.0, b2), eps)
    g = np.array([0.3, -2.0])
    tr = run_stream(opt, [g] * 5, np.zeros(2))
    t = np.arange(1, 6)[:, None]
    np.testing.assert_allclose(tr.s, eps * (1 - b2**t) / (1 - b2) * np.ones((1, 2)), rtol=1e-12)
    step = lr / (math.sqrt(eps / (1 - b2)) + eps)
    np.testing.assert_allclose(np.diff(tr.theta, axis=0), -step * np.tile(g, (5, 1)), rtol=1e-9)


@settings(deadline=None, max_examples=40)
@given(
    st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=60),
    st.sampled_from([0.0, 0.5, 0.9]),
    st.sampled_from([0.0, 0.9, 0.999]),
    st.sampled_from([1e-16, 1e-8, 1e-2]),
)
def test_epsilon_floor(grads, b1, b2, eps):
    # s_t ≥ ε and ŝ_t ≥ ε/(1−β2)·... i.e. s_t ≥ ε(1−β2^t)/(1−β2) (THEORY §1.3).
    tr = run_stream(ar.AdaBelief(1e-3, (b1, b2), eps), np.array(grads)[:, None], np.zeros(1))
    t = np.arange(1, len(grads) + 1)[:, None]
    floor = eps * (1 - b2**t) / (1 - b2)
    assert np.all(tr.s >= floor * (1 - 1e-12))
    assert np.all(tr.s >= eps * (1 - 1e-12))


# -- the independent twin on generated streams -----------------------------------------------------
stream = st.lists(
    st.one_of(st.floats(-50, 50), st.just(0.0), st.just(1.0)), min_size=1, max_size=80
)


@settings(deadline=None, max_examples=60)
@given(
    grads=stream,
    b1=st.sampled_from([0.0, 0.5, 0.9]),
    b2=st.sampled_from([0.5, 0.99, 0.999]),
    eps=st.sampled_from([1e-16, 1e-8, 1e-3]),
    form=st.sampled_from(["algorithm", "analysis"]),
    schedule=st.sampled_from(["constant", "inv_sqrt"]),
    lam=st.sampled_from([None, 0.9, 1.0]),
    amsgrad=st.booleans(),
)
def test_matches_scalar_twin(grads, b1, b2, eps, form, schedule, lam, amsgrad):
    opt = ar.AdaBelief(0.01, (b1, b2), eps, form=form, lr_schedule=schedule, beta1_decay=lam, amsgrad=amsgrad)
    tr = run_stream(opt, np.array(grads)[:, None], np.full(1, 0.25))
    twin = adabelief_scalar(grads, 0.01, b1, b2, eps, form, schedule, lam, amsgrad, theta0=0.25)
    np.testing.assert_allclose(tr.theta[1:, 0], twin, rtol=1e-12, atol=1e-12)


def test_long_stream_matches_twin_1000_steps():
    rng = np.random.default_rng(123)
    grads = rng.standard_t(3, size=1000) * np.exp(rng.normal(size=1000))
    for form in ("algorithm", "analysis"):
        opt = ar.AdaBelief(1e-3, (0.9, 0.999), 1e-12, form=form, lr_schedule="inv_sqrt", amsgrad=form == "analysis")
        tr = run_stream(opt, grads[:, None], np.zeros(1))
        twin = adabelief_scalar(grads, 1e-3, 0.9, 0.999, 1e-12, form, "inv_sqrt", None, form == "analysis")
        np.testing.assert_allclose(tr.theta[1:, 0], twin, rtol=1e-12, atol=1e-13)


# -- external references -----------------------------------------------------------------------------
def _official(params, **kw):
    from adabelief_pytorch import AdaBelief as Official

    with contextlib.redirect_stdout(io.StringIO()):
        return Official(params, rectify=False, weight_decouple=False, print_change_log=False, **kw)


@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("eps", [1e-16, 1e-8])
def test_matches_official_package(amsgrad, eps):
    rng = np.random.default_rng(7 + int(amsgrad))
    grads = rng.normal(size=(1000, 5)) * rng.lognormal(size=(1000, 1))
    theta0 = rng.normal(size=5)
    tr = run_stream(ar.AdaBelief(3e-3, (0.9, 0.99), eps, amsgrad=amsgrad), grads, theta0)
    p = torch.nn.Parameter(torch.tensor(theta0))
    opt = _official([p], lr=3e-3, betas=(0.9, 0.99), eps=eps, amsgrad=amsgrad, weight_decay=0)
    for t in range(1000):
        p.grad = torch.tensor(grads[t])
        opt.step()
        if t in (0, 9, 999):
            np.testing.assert_allclose(p.detach().numpy(), tr.theta[t + 1], rtol=1e-12, atol=1e-12)
            st_ = opt.state[p]
            np.testing.assert_allclose(st_["exp_avg"].numpy(), tr.m[t], rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose(st_["exp_avg_var"].numpy(), tr.s[t], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_matches_torch(amsgrad):
    rng = np.random.default_rng(3)
    grads = rng.normal(size=(300, 4))
    tr = run_stream(ar.Adam(1e-2, (0.8, 0.95), 1e-8, amsgrad=amsgrad), grads, np.ones(4))
    p = torch.nn.Parameter(torch.ones(4, dtype=torch.float64))
    opt = torch.optim.Adam([p], lr=1e-2, betas=(0.8, 0.95), eps=1e-8, amsgrad=amsgrad, foreach=False)
    for g in grads:
        p.grad = torch.tensor(g)
        opt.step()
    np.testing.assert_allclose(p.detach().numpy(), tr.theta[-1], rtol=1e-12, atol=1e-14)
    assert isinstance(ar.AMSGrad(), ar.Adam) and ar.AMSGrad().amsgrad


def test_sgd_and_adagrad_match_torch():
    rng = np.random.default_rng(4)
    grads = rng.normal(size=(200, 3))
    tr = run_stream(ar.SGD(0.05, momentum=0.9), grads, np.zeros(3))
    p = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
    opt = torch.optim.SGD([p], lr=0.05, momentum=0.9)
    for g in grads:
        p.grad = torch.tensor(g)
        opt.step()
    np.testing.assert_allclose(p.detach().numpy(), tr.theta[-1], rtol=1e-12, atol=1e-14)

    tr = run_stream(ar.AdaGrad(0.1, eps=1e-10), grads, np.zeros(3))
    p = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
    opt = torch.optim.Adagrad([p], lr=0.1, eps=1e-10)
    for g in grads:
        p.grad = torch.tensor(g)
        opt.step()
    np.testing.assert_allclose(p.detach().numpy(), tr.theta[-1], rtol=1e-12, atol=1e-14)


# -- interface invariants -------------------------------------------------------------------------
def test_step_is_pure():
    opt = ar.AdaBelief(0.1, amsgrad=True)
    s0 = opt.init(np.array([1.0, 2.0]))
    g = np.array([0.5, -0.5])
    copies = [x.copy() for x in (s0.theta, s0.m, s0.s, s0.s_max, g)]
    s1 = opt.step(s0, g)
    for before, after in zip(copies, (s0.theta, s0.m, s0.s, s0.s_max, g)):
        np.testing.assert_array_equal(before, after)
    assert s1.t == 1 and s0.t == 0 and s1.theta is not s0.theta


def test_batch_rows_equal_single_runs():
    rng = np.random.default_rng(5)
    grads = rng.normal(size=(50, 3, 4))  # (T, seeds, d)
    opt = ar.AdaBelief(0.01, (0.9, 0.99), 1e-8, form="analysis", lr_schedule="inv_sqrt")
    batch = run_stream(opt, grads, np.zeros((3, 4)))
    for r in range(3):
        single = run_stream(opt, grads[:, r], np.zeros(4))
        np.testing.assert_array_equal(batch.theta[:, r], single.theta)


def test_trace_indexing_and_recording():
    seen = []

    def grad(t, theta):
        seen.append((t, theta.copy()))
        return theta - 3.0

    opt = ar.SGD(0.5)
    tr = ar.run(opt, grad, np.zeros(2), 4, record=("theta", "g"))
    assert tr.theta.shape == (5, 2) and tr.g.shape == (4, 2) and tr.m is None and tr.s is None
    for k, (t, th) in enumerate(seen):
        assert t == k + 1
        np.testing.assert_array_equal(th, tr.played[k])
        np.testing.assert_array_equal(tr.g[k], th - 3.0)
    np.testing.assert_allclose(tr.alpha, 0.5)


def test_schedules_and_beta1_decay_recorded():
    opt = ar.AdaBelief(0.2, (0.9, 0.999), lr_schedule="inv_sqrt", beta1_decay=0.5)
    tr = ar.run(opt, lambda t, th: np.ones(1), np.zeros(1), 4)
    np.testing.assert_allclose(tr.alpha, 0.2 / np.sqrt([1, 2, 3, 4]))
    np.testing.assert_allclose(tr.beta1, 0.9 * 0.5 ** np.arange(4))


def test_projection_weights_follow_the_form():
    box = Clip(-0.5, 0.5)
    opt = ar.AdaBelief(1.0, (0.9, 0.99), 1e-8, feasible_set=box)
    st1 = opt.step(opt.init([0.0, 0.0]), [1.0, -3.0])
    assert np.all(np.abs(st1.theta) <= 0.5)
    np.testing.assert_allclose(box.calls[-1], np.sqrt(st1.s / (1 - 0.99)), rtol=1e-15)
    opt = ar.AdaBelief(1.0, (0.9, 0.99), 1e-8, form="analysis", feasible_set=box)
    st1 = opt.step(opt.init([0.0, 0.0]), [1.0, -3.0])
    np.testing.assert_allclose(box.calls[-1], np.sqrt(st1.s), rtol=1e-15)
    opt = ar.AdaBelief(1.0, (0.9, 0.99), 1e-8, form="analysis", amsgrad=True, feasible_set=box)
    s = opt.step(opt.init([0.0]), [5.0])
    s = opt.step(s, [0.5])  # g_2 = m_1: zero residual, s_2 = β2 s_1 < s_1; the max keeps s_1
    assert s.s[0] < s.s_max[0]
    np.testing.assert_allclose(box.calls[-1], np.sqrt(s.s_max), rtol=1e-15)


def test_nothing_printed(capsys):
    import importlib

    importlib.reload(ar)
    ar.AdaBelief(), ar.Adam(), ar.AMSGrad(), ar.SGD(), ar.AdaGrad()
    assert capsys.readouterr() == ("", "")


# -- bad input ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"lr": 0.0}, "lr must be a finite number > 0"),
        ({"lr": -1}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"betas": (1.0, 0.9)}, r"beta1\) must lie in \[0, 1\)"),
        ({"betas": (0.9, -0.1)}, r"beta2\) must lie in \[0, 1\)"),
        ({"betas": 0.9}, "betas must be a pair"),
        ({"eps": -1e-8}, "eps must be a finite number >= 0"),
        ({"beta1_decay": 0.0}, r"lambda\) must lie in \(0, 1\]"),
        ({"beta1_decay": 1.5}, "lambda"),
        ({"form": "paper"}, "form must be one of 'algorithm', 'analysis'"),
        ({"lr_schedule": "cosine"}, "lr_schedule must be one of 'constant', 'inv_sqrt'"),
        ({"amsgrad": "yes"}, "amsgrad must be True or False"),
        ({"feasible_set": object()}, "feasible_set must have a method project"),
    ],
)
def test_bad_hyperparameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ar.AdaBelief(**kwargs)


def test_bad_gradients_and_shapes():
    opt = ar.AdaBelief()
    state = opt.step(opt.init(np.zeros(3)), np.ones(3))
    with pytest.raises(ValueError, match=r"grad at step t=2 contains non-finite"):
        opt.step(state, [1.0, np.nan, 0.0])
    with pytest.raises(ValueError, match=r"step t=2.*inf|non-finite"):
        opt.step(state, [np.inf, 0.0, 0.0])
    with pytest.raises(ValueError, match=r"grad has shape \(2,\), but the optimizer state has shape \(3,\)"):
        opt.step(state, np.ones(2))
    with pytest.raises(ValueError, match="theta0"):
        opt.init([np.nan])
    with pytest.raises(ValueError, match="T must be an integer >= 1"):
        ar.run(opt, lambda t, th: th, np.zeros(1), 0)
    with pytest.raises(ValueError, match="record accepts"):
        ar.run(opt, lambda t, th: th, np.zeros(1), 2, record=("v",))
    with pytest.raises(ValueError, match="problem must be callable"):
        ar.run(opt, 3, np.zeros(1), 2)
    with pytest.raises(ValueError, match=r"grad at step t=3 contains non-finite"):
        ar.run(opt, lambda t, th: np.full(1, np.nan if t == 3 else 1.0), np.zeros(1), 5)


def test_vanishing_denominator_is_an_error_not_nan():
    opt = ar.AdaBelief(0.1, (0.9, 0.99), eps=0.0, form="analysis")
    with pytest.raises(ValueError, match="non-finite iterate at step t=1"):
        opt.step(opt.init([0.0]), [0.0])
