"""The stochastic non-convex problems: exact gradients (finite differences), the noise model
(unbiased, exact variance, bounded), the known constants L, H, σ² (valid, and tight where they
can be), determinism, the replicated family, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adabelief_ref.problems import stochastic
from adabelief_ref.problems.stochastic import (
    GemanMcClureRegression,
    NonconvexLogistic,
    Replicated,
    TanhMLP,
)


def small_problems(seed: int = 0, **kw):
    return [
        NonconvexLogistic(n=40, d=4, lam=0.3, batch_size=3, data_seed=seed, seed=seed, **kw),
        GemanMcClureRegression(n=40, d=4, delta=0.7, batch_size=3, data_seed=seed, seed=seed, **kw),
        TanhMLP(n=30, inputs=3, hidden=2, batch_size=3, data_seed=seed, seed=seed, **kw),
        Replicated(NonconvexLogistic(n=30, d=2, batch_size=2, data_seed=seed, seed=seed, **kw), 3),
    ]


def central_difference(fun, theta, h=1e-6):
    eye = np.eye(theta.shape[-1])
    return np.stack([(fun(theta + h * e) - fun(theta - h * e)) / (2 * h) for e in eye], axis=-1)


# -- gradients --------------------------------------------------------------------------------------
@settings(deadline=None, max_examples=15)
@given(seed=st.integers(0, 10_000), scale=st.floats(0.1, 3.0))
def test_full_grad_matches_finite_differences(seed, scale):
    rng = np.random.default_rng(seed)
    for prob in small_problems(seed % 7):
        theta = scale * rng.standard_normal((2, prob.dim))
        fd = central_difference(prob.loss, theta)
        np.testing.assert_allclose(prob.full_grad(theta), fd, rtol=1e-6, atol=1e-7)


def test_minibatch_gradient_is_the_mean_of_per_sample_gradients_and_unbiased():
    rng = np.random.default_rng(1)
    for prob in small_problems(3)[:3]:
        theta = rng.standard_normal((2, prob.dim))
        singletons = np.broadcast_to(np.arange(prob.n)[:, None], (2, prob.n, 1)).transpose(1, 0, 2)
        per_sample = np.stack([prob._data_grad(theta, singletons[j]) for j in range(prob.n)])  # (n, 2, d)
        data_part = prob._data_grad(theta, None)
        np.testing.assert_allclose(per_sample.mean(axis=0), data_part, rtol=1e-12, atol=1e-14)
        # the per-sample squared norms behind noise_variance
        np.testing.assert_allclose(
            prob._per_sample_sq_norms(theta), np.sum(per_sample**2, axis=-1).T, rtol=1e-10, atol=1e-14
        )
        # exact minibatch variance (with replacement) from the per-sample gradients
        spread = np.mean(np.sum((per_sample - data_part) ** 2, axis=-1), axis=0)
        np.testing.assert_allclose(prob.noise_variance(theta), spread / prob.batch_size, rtol=1e-9)


def test_monte_carlo_mean_and_variance_match_full_grad_and_noise_variance():
    for prob in small_problems(5, noise_scale=0.4)[:3]:
        theta = np.random.default_rng(2).standard_normal((3, prob.dim))
        draws = np.stack([prob.grad(t, theta) for t in range(1, 3001)])  # (N, 3, d)
        exact, var = prob.full_grad(theta), prob.noise_variance(theta)
        noise = draws - exact
        # mean within 5 standard errors per coordinate; variance within 10 %
        se = np.sqrt(np.var(noise, axis=0) / draws.shape[0])
        assert np.all(np.abs(noise.mean(axis=0)) <= 5 * se + 1e-12)
        np.testing.assert_allclose(np.mean(np.sum(noise**2, axis=-1), axis=0), var, rtol=0.1)


def test_minibatches_reach_every_sample():
    prob = GemanMcClureRegression(n=12, d=3, batch_size=1, seed=6)
    theta = np.full((1, 3), 0.3)
    draws = np.stack([prob.grad(t, theta)[0] for t in range(1, 1001)])
    assert len({tuple(np.round(g, 12)) for g in draws}) == prob.n


def test_additive_noise_has_norm_exactly_noise_scale_and_zero_mean_signs():
    prob = NonconvexLogistic(n=30, d=6, batch_size=None, noise_scale=0.25, seed=4)
    theta = np.random.default_rng(0).standard_normal((5, 6))
    zeta = np.stack([prob.grad(t, theta) - prob.full_grad(theta) for t in range(1, 501)])
    np.testing.assert_allclose(np.linalg.norm(zeta, axis=-1), 0.25, rtol=1e-12)
    np.testing.assert_allclose(prob.noise_variance(theta), 0.25**2)
    assert abs(np.mean(np.sign(zeta))) < 0.05


# -- constants -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: NonconvexLogistic(n=60, d=5, lam=0.5, batch_size=2, noise_scale=0.3, seed=1, data_seed=2),
    lambda: GemanMcClureRegression(n=60, d=5, delta=0.5, batch_size=2, noise_scale=0.3, seed=1, data_seed=2),
])
def test_known_H_bounds_every_stochastic_and_true_gradient(make):
    prob = make()
    rng = np.random.default_rng(3)
    # random points at several scales, including where the regulariser / loss slope peaks
    theta = np.concatenate([s * rng.standard_normal((200, prob.dim)) for s in (0.1, 0.577, 1.0, 5.0, 50.0)])
    for t in range(1, 30):
        assert np.linalg.norm(prob.grad(t, theta), axis=-1).max() <= prob.H
    assert np.linalg.norm(prob.full_grad(theta), axis=-1).max() <= prob.H
    assert np.max(prob.noise_variance(theta)) <= prob.sigma2


@pytest.mark.parametrize("make", [
    lambda: NonconvexLogistic(n=60, d=5, lam=0.5, seed=1, data_seed=2),
    lambda: GemanMcClureRegression(n=60, d=5, delta=0.5, seed=1, data_seed=2),
])
def test_known_L_bounds_every_secant(make):
    prob = make()
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2000, prob.dim)) * rng.choice([0.1, 1.0, 3.0], size=(2000, 1))
    y = x + rng.standard_normal(x.shape) * rng.choice([1e-3, 0.1, 1.0], size=(2000, 1))
    ratio = np.linalg.norm(prob.full_grad(x) - prob.full_grad(y), axis=-1) / np.linalg.norm(x - y, axis=-1)
    assert ratio.max() <= prob.L * (1 + 1e-9)


def test_logistic_L_is_attained_at_zero():
    """At x = 0 the Hessian is AᵀA/(4n) + 2λI exactly, so L is tight (a missing 1/4 or 2λ fails)."""
    prob = NonconvexLogistic(n=80, d=6, lam=0.2, seed=0, data_seed=5)
    top = np.linalg.eigh(prob.A.T @ prob.A)[1][:, -1]
    h = 1e-5
    hess_v = (prob.full_grad(h * top) - prob.full_grad(-h * top)) / (2 * h)
    assert float(top @ hess_v) == pytest.approx(prob.L, rel=1e-6)


def test_geman_mcclure_slope_constant_is_the_maximum_of_rho_prime():
    prob = GemanMcClureRegression(n=10, d=2, delta=1.7, seed=0)
    r = np.linspace(-20, 20, 400_001)
    assert np.max(np.abs(prob._rho_prime(r))) == pytest.approx(9 * 1.7 / (16 * math.sqrt(3)), rel=1e-9)
    assert stochastic._GM_SLOPE_MAX * 1.7 == pytest.approx(np.max(np.abs(prob._rho_prime(r))), rel=1e-9)
    # and ρ'' = d/dr ρ' never exceeds 1 in absolute value, reached at r = 0
    second = np.gradient(prob._rho_prime(r), r)
    assert np.max(np.abs(second)) == pytest.approx(1.0, rel=1e-6)


def test_logistic_regulariser_constants():
    """max |d/dx x²/(1+x²)| = 9/(8√3) and max |d²/dx²| = 2: the pieces of H and L."""
    prob = NonconvexLogistic(n=5, d=1, lam=1.0, seed=0)
    x = np.linspace(-10, 10, 400_001)[:, None]
    slope = prob._reg_grad(x)[:, 0]
    assert np.max(np.abs(slope)) == pytest.approx(9 / (8 * math.sqrt(3)), rel=1e-9)
    assert stochastic._REG_SLOPE_MAX == pytest.approx(np.max(np.abs(slope)), rel=1e-9)
    assert np.max(np.abs(np.gradient(slope, x[:, 0]))) == pytest.approx(2.0, rel=1e-6)


def test_problems_are_non_convex():
    """Each problem has a point where the Hessian (finite differences) has a negative eigenvalue."""
    rng = np.random.default_rng(0)
    for prob in [NonconvexLogistic(n=40, d=3, lam=1.0, seed=0), GemanMcClureRegression(n=40, d=3, seed=0),
                 TanhMLP(n=30, inputs=2, hidden=2, seed=0)]:
        found = False
        for _ in range(50):
            theta = 2.0 * rng.standard_normal(prob.dim)
            hess = central_difference(prob.full_grad, theta, h=1e-5)
            if np.linalg.eigvalsh(0.5 * (hess + hess.T))[0] < -1e-6:
                found = True
                break
        assert found, prob


def test_mlp_constants_are_marked_measured():
    prob = TanhMLP(n=10, inputs=2, hidden=3)
    assert prob.dim == 9 and prob.L is None and prob.H is None and prob.sigma2 is None
    assert set(prob.constants.values()) == {"measured"}


# -- determinism and batching ----------------------------------------------------------------------
def test_grad_is_a_pure_function_of_t_and_theta_and_rows_are_independent():
    prob = NonconvexLogistic(n=50, d=3, batch_size=4, noise_scale=0.1, seed=9)
    theta = np.zeros((4, 3))
    g1, g1_again, g2 = prob.grad(1, theta), prob.grad(1, theta), prob.grad(2, theta)
    np.testing.assert_array_equal(g1, g1_again)
    assert not np.allclose(g1, g2)
    assert len({tuple(np.round(row, 12)) for row in g1}) == 4  # same θ, different noise per seed
    other = NonconvexLogistic(n=50, d=3, batch_size=4, noise_scale=0.1, seed=10)
    assert not np.allclose(other.grad(1, theta), g1)


def test_batched_evaluation_equals_row_by_row():
    for prob in small_problems(2):
        theta = np.random.default_rng(1).standard_normal((3, 2, prob.dim))
        flat = theta.reshape(-1, prob.dim)
        np.testing.assert_allclose(
            prob.full_grad(theta).reshape(-1, prob.dim), np.stack([prob.full_grad(r) for r in flat]), rtol=1e-13
        )
        np.testing.assert_allclose(prob.loss(theta).ravel(), [prob.loss(r) for r in flat], rtol=1e-13)


def test_replicated_is_k_independent_copies():
    base = GemanMcClureRegression(n=30, d=3, batch_size=2, noise_scale=0.2, seed=3)
    rep = Replicated(base, 4)
    assert rep.dim == 12 and rep.L == base.L
    assert rep.H == pytest.approx(2 * base.H) and rep.sigma2 == pytest.approx(4 * base.sigma2)
    theta = np.random.default_rng(0).standard_normal((5, 12))
    blocks = theta.reshape(5, 4, 3)
    np.testing.assert_allclose(rep.loss(theta), base.loss(blocks).sum(-1))
    np.testing.assert_allclose(rep.full_grad(theta), base.full_grad(blocks).reshape(5, 12))
    np.testing.assert_allclose(rep.grad(7, theta), base.grad(7, blocks).reshape(5, 12))
    np.testing.assert_allclose(rep.noise_variance(theta), base.noise_variance(blocks).sum(-1))
    g = rep.grad(1, np.zeros((1, 12))).reshape(4, 3)
    assert len({tuple(np.round(row, 12)) for row in g}) == 4  # each copy draws its own noise


def test_construction_is_quiet_and_deterministic(capsys):
    a, b = NonconvexLogistic(data_seed=3), NonconvexLogistic(data_seed=3)
    np.testing.assert_array_equal(a.A, b.A)
    TanhMLP(), GemanMcClureRegression()
    assert capsys.readouterr().out == ""
    np.testing.assert_array_equal(a.initial_points(4, seed=2), b.initial_points(4, seed=2))


# -- bad input -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("build, match", [
    (lambda: NonconvexLogistic(batch_size=0), "batch_size"),
    (lambda: NonconvexLogistic(noise_scale=-1.0), "noise_scale"),
    (lambda: NonconvexLogistic(batch_size=None), "noiseless"),
    (lambda: NonconvexLogistic(d=0), "d must"),
    (lambda: NonconvexLogistic(lam=-0.1), "lam"),
    (lambda: GemanMcClureRegression(delta=0.0), "delta"),
    (lambda: GemanMcClureRegression(outlier_fraction=1.5), "outlier_fraction"),
    (lambda: TanhMLP(hidden=0), "hidden"),
    (lambda: NonconvexLogistic(seed=-1), "seed"),
    (lambda: Replicated(NonconvexLogistic(), 0), "copies"),
    (lambda: Replicated(object(), 2), "base"),
])
def test_bad_construction(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_bad_calls_name_the_parameter():
    prob = NonconvexLogistic(n=10, d=3)
    with pytest.raises(ValueError, match=r"theta must have shape \(\.\.\., 3\)"):
        prob.full_grad(np.zeros(4))
    with pytest.raises(ValueError, match="theta"):
        prob.loss(np.array([np.nan, 0.0, 0.0]))
    with pytest.raises(ValueError, match="t must be an integer >= 1"):
        prob.grad(0, np.zeros(3))
    with pytest.raises(ValueError, match="seeds"):
        prob.initial_points(0)
