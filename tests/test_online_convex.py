"""Tests for adabelief_ref.problems.online_convex: losses, gradients, constants, comparators, regret."""

import warnings

import cvxpy as cp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adabelief_ref import AdaBelief, Adam, run
from adabelief_ref.problems.online_convex import (
    OnlineLeastSquaresSimplex,
    OnlineLogisticL2Ball,
    OnlineQuadraticBox,
    ReddiProblem,
    logistic_ball_argmin,
    simplex_qp_argmin,
)

SEEDS = [101, 202, 303]  # the notebooks use seeds 0..15: tests run on other streams


def cvxpy_solve(problem, T, k=()):
    """An independent comparator: cvxpy on the problem's own data at horizon T (run k)."""
    x = cp.Variable(problem.d)
    if isinstance(problem, OnlineQuadraticBox):
        a, b = problem.a[(slice(0, T),) + k], problem.b[(slice(0, T),) + k]
        obj = 0.5 * cp.sum(cp.multiply(a, cp.square(np.ones((T, 1)) @ cp.reshape(x, (1, problem.d), order="C") - b)))
        cons = [x >= -problem.radius, x <= problem.radius]
    elif isinstance(problem, OnlineLogisticL2Ball):
        X, y = problem.x[(slice(0, T),) + k], problem.y[(slice(0, T),) + k]
        obj = cp.sum(cp.logistic(cp.multiply(-y, X @ x)))
        cons = [cp.norm(x, 2) <= problem.radius]
    elif isinstance(problem, OnlineLeastSquaresSimplex):
        X, y = problem.x[(slice(0, T),) + k], problem.y[(slice(0, T),) + k]
        obj = 0.5 * cp.sum_squares(X @ x - y)
        cons = [x >= 0, cp.sum(x) == 1]
    else:
        c = problem.coefficients(T)[(slice(None),) + k].sum(axis=0)
        obj, cons = c @ x, [x >= -1, x <= 1]
    prob = cp.Problem(cp.Minimize(obj), cons)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prob.solve(solver="CLARABEL")
    assert prob.status in ("optimal", "optimal_inaccurate")
    return np.asarray(x.value), prob.value


PROBLEMS = {
    "quadratic": lambda seed, T=60: OnlineQuadraticBox(d=4, T=T, seed=seed),
    "logistic": lambda seed, T=60: OnlineLogisticL2Ball(d=4, T=T, seed=seed),
    "simplex": lambda seed, T=60: OnlineLeastSquaresSimplex(d=4, T=T, seed=seed),
    "reddi": lambda seed, T=60: ReddiProblem.random_phases(P=[2, 3, 5, 7], T=T, d=4, seed=seed),
}


# -- comparators against cvxpy ---------------------------------------------------------------------
@pytest.mark.parametrize("name", PROBLEMS)
@pytest.mark.parametrize("T", [1, 3, 17, 60])
def test_comparator_matches_cvxpy(name, T):
    pb = PROBLEMS[name](SEEDS)
    star = pb.comparator(T)
    assert np.all(pb.feasible_set.contains(star, tol=1e-10))
    best = pb.best_loss([T])[0]
    for k in np.ndindex(*pb.batch_shape):
        x_cvx, v_cvx = cvxpy_solve(pb, T, k)
        mine = pb.cumulative_loss(T, star)[k]
        assert best[k] == pytest.approx(mine, rel=1e-12, abs=1e-12)
        # never worse than cvxpy (up to its tolerance), and certified optimal by the FW gap
        assert mine <= v_cvx + 1e-6 * (1 + abs(v_cvx))
        assert v_cvx <= mine + 1e-6 * (1 + abs(v_cvx))
    gap = pb.fw_gap(T, star)
    assert np.all(gap <= 1e-7 * (1 + np.abs(best)))


@settings(deadline=None, max_examples=15)
@given(seed=st.integers(1000, 10**6), T=st.integers(1, 80), R=st.floats(0.1, 5.0))
def test_logistic_solver_is_optimal(seed, T, R):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, 3)) * rng.uniform(0.1, 3)
    y = np.where(rng.uniform(size=T) < 0.5, 1.0, -1.0)
    th = logistic_ball_argmin(x, y, R)
    assert np.linalg.norm(th) <= R * (1 + 1e-12)
    p = 1 / (1 + np.exp(y * (x @ th)))
    g = -(y * p) @ x
    F = np.sum(np.logaddexp(0, -y * (x @ th)))
    gap = g @ th + R * np.linalg.norm(g)  # ≥ F(θ) − F*
    assert gap <= 1e-10 * (1 + F)


def test_simplex_qp_against_cvxpy_and_kkt():
    rng = np.random.default_rng(5)
    for _ in range(5):
        X = rng.standard_normal((8, 6))
        A, b = X.T @ X, X.T @ rng.standard_normal(8) * 3
        th = simplex_qp_argmin(A, b)
        grad = A @ th - b
        # KKT: on the support the gradient is constant and minimal
        support = th > 1e-9
        assert np.ptp(grad[support]) <= 1e-8 * (1 + np.abs(grad).max())
        assert grad.min() >= grad[support].min() - 1e-8 * (1 + np.abs(grad).max())
        assert th.sum() == pytest.approx(1.0, abs=1e-12) and th.min() >= 0


# -- constants -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", PROBLEMS)
def test_gradient_bound_is_valid_and_tight(name):
    pb = PROBLEMS[name](SEEDS[0], T=40)
    rng = np.random.default_rng(9)
    pts = pb.feasible_set.project(rng.standard_normal((400, pb.d)) * 3)
    gmax = max(np.abs(pb.grad(t, pts)).max() for t in range(1, pb.T + 1))
    assert gmax <= pb.G_inf / 2 * (1 + 1e-12)
    # the supremum is attained on F: at a vertex/boundary point built from the data
    if name == "quadratic":
        i = np.unravel_index(np.argmax(pb.a * (pb.radius + np.abs(pb.b))), pb.a.shape)
        corner = np.where(pb.b[i[0]] > 0, -pb.radius, pb.radius)
        attained = np.abs(pb.grad(i[0] + 1, corner)).max()
    elif name == "logistic":
        t = int(np.argmax(np.max(np.abs(pb.x), -1) / (1 + np.exp(-pb.radius * np.linalg.norm(pb.x, axis=-1)))))
        worst = -pb.y[t] * pb.radius * pb.x[t] / np.linalg.norm(pb.x[t])
        attained = np.abs(pb.grad(t + 1, worst)).max()
    elif name == "simplex":
        vertices = np.eye(pb.d)
        attained = max(np.abs(pb.grad(t, vertices)).max() for t in range(1, pb.T + 1))
    else:
        attained = max(np.abs(pb.grad(t, np.zeros(pb.d))).max() for t in range(1, pb.T + 1))
    assert attained == pytest.approx(pb.G_inf / 2, rel=1e-12)


def test_diameters():
    assert OnlineQuadraticBox(d=3, T=5, radius=0.7).D_inf == pytest.approx(1.4)
    assert OnlineLogisticL2Ball(d=3, T=5, radius=2.0).D_inf == 4.0
    assert OnlineLeastSquaresSimplex(d=3, T=5).D_inf == 1.0
    assert ReddiProblem(P=3, T=5).D_inf == 2.0


# -- gradients and losses ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["quadratic", "logistic", "simplex"])
def test_gradient_matches_finite_differences(name):
    pb = PROBLEMS[name](SEEDS[1], T=5)
    rng = np.random.default_rng(3)
    th = pb.feasible_set.project(rng.standard_normal(pb.d))
    h = 1e-6
    for t in (1, 5):
        fd = np.array([(pb.loss(t, th + h * e) - pb.loss(t, th - h * e)) / (2 * h) for e in np.eye(pb.d)])
        assert np.allclose(pb.grad(t, th), fd, rtol=1e-6, atol=1e-8)


def test_reddi_one_dimensional_formula():
    for P in (2, 3, 5):
        pb = ReddiProblem(P=P, T=20)
        for t in range(1, 21):
            expected = P if t % P == 1 else -1.0
            assert pb.grad(t, np.array([0.3]))[0] == expected
            assert pb.loss(t, np.array([0.3])) == pytest.approx(0.3 * expected)
        K = np.cumsum([P if t % P == 1 else -1 for t in range(1, 21)])
        assert np.allclose(pb.best_loss(np.arange(1, 21)), -np.abs(K))
        # x* = −1 whenever the cumulative coefficient is positive (every full period adds C − (P − 1) = 1)
        assert np.all(pb.comparator(20) == (-1.0 if K[-1] > 0 else 1.0))


def test_reddi_vector_of_periods_equals_separate_runs():
    T = 200
    multi = ReddiProblem(P=np.array([3, 5]), T=T, phase=np.array([1, 4]))
    opt = AdaBelief(0.5, (0.5, 0.3), 1e-8, form="analysis", lr_schedule="inv_sqrt", feasible_set=multi.feasible_set)
    tr = run(opt, multi, multi.initial_point(), T)
    per = multi.regret_per_coordinate(tr, [T // 2, T])
    for i, (P, ph) in enumerate([(3, 1), (5, 4)]):
        one = ReddiProblem(P=P, T=T, phase=np.array([ph]))
        tr1 = run(opt, one, one.initial_point(), T)
        assert np.array_equal(tr1.theta[:, 0], tr.theta[:, i])
        assert np.allclose(one.regret(tr1, [T // 2, T]), per[:, i], rtol=1e-12, atol=1e-12)
    assert np.allclose(per.sum(-1), multi.regret(tr, [T // 2, T]), rtol=1e-12)


# -- regret ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", PROBLEMS)
def test_regret_against_brute_force_and_linearisation(name):
    T = 30
    pb = PROBLEMS[name](SEEDS, T=T)
    opt = Adam(0.3, (0.9, 0.99), 1e-8, form="analysis", lr_schedule="inv_sqrt", feasible_set=pb.feasible_set)
    tr = run(opt, pb, pb.initial_point(), T)
    h = np.array([1, 2, 7, 30])
    R = pb.regret(tr, h)
    for j, H in enumerate(h):
        star = pb.comparator(int(H))
        brute = sum(pb.loss(t, tr.theta[t - 1]) for t in range(1, H + 1))
        brute = brute - sum(pb.loss(t, star) for t in range(1, H + 1))
        assert np.allclose(R[j], brute, rtol=1e-10, atol=1e-10)
    assert np.all(pb.linearized_regret(tr, h) >= R - 1e-9)  # L0: convexity


@pytest.mark.parametrize("name", PROBLEMS)
def test_playing_the_comparator_has_zero_regret_and_others_do_not_beat_it(name):
    T = 25
    pb = PROBLEMS[name](SEEDS, T=T)
    star = pb.comparator(T)
    played = np.broadcast_to(star, (T + 1,) + star.shape)

    class Fixed:
        theta = played

    assert np.allclose(pb.regret(Fixed, [T]), 0.0, atol=1e-7 * (1 + np.abs(pb.best_loss([T])).max()))
    rng = np.random.default_rng(0)
    other = pb.feasible_set.project(star + 0.3 * rng.standard_normal(star.shape))
    Fixed.theta = np.broadcast_to(other, played.shape)
    assert np.all(pb.regret(Fixed, [T]) >= -1e-9)


@pytest.mark.parametrize("name", PROBLEMS)
def test_batch_equals_single_seed_runs(name):
    T = 40
    pb = PROBLEMS[name](SEEDS, T=T)
    opt = AdaBelief(0.2, (0.9, 0.99), 1e-8, form="algorithm", lr_schedule="inv_sqrt", feasible_set=pb.feasible_set)
    tr = run(opt, pb, pb.initial_point(), T)
    R = pb.regret(tr, [10, T])
    for k, seed in enumerate(SEEDS):
        one = PROBLEMS[name](seed, T=T)
        tr1 = run(opt, one, one.initial_point(), T)
        assert np.allclose(tr1.theta, tr.theta[:, k], rtol=0, atol=1e-12)
        assert np.allclose(one.regret(tr1, [10, T]), R[:, k], rtol=1e-10, atol=1e-9)


def test_streams_are_deterministic_and_seed_dependent():
    a = OnlineLogisticL2Ball(d=3, T=10, seed=4)
    b = OnlineLogisticL2Ball(d=3, T=10, seed=np.random.default_rng(4))
    c = OnlineLogisticL2Ball(d=3, T=10, seed=5)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.x, c.x)


# -- bad input -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: OnlineQuadraticBox(d=0), "d must be an integer >= 1"),
        (lambda: OnlineQuadraticBox(T=2.5), "T must be an integer"),
        (lambda: OnlineQuadraticBox(seed=-1), "seed must be >= 0"),
        (lambda: OnlineQuadraticBox(seed="x"), "seed must be an integer"),
        (lambda: OnlineQuadraticBox(curvature=(2.0, 1.0)), "curvature"),
        (lambda: OnlineLogisticL2Ball(radius=0), "radius"),
        (lambda: OnlineLeastSquaresSimplex(d=1), "d must be an integer >= 2"),
        (lambda: ReddiProblem(P=1), "P must be an integer >= 2"),
        (lambda: ReddiProblem(P=3, phase=3), "phase must satisfy"),
        (lambda: ReddiProblem(P=[3, 4], C=[1.0, 2.0, 3.0]), "disagree on the dimension"),
        (lambda: ReddiProblem(P=3, C=-1.0), "C must be a number > 0"),
    ],
)
def test_bad_construction(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_calls():
    pb = OnlineQuadraticBox(d=3, T=10, seed=[1, 2])
    with pytest.raises(ValueError, match=r"t must be an integer in \[1, T=10\]"):
        pb.grad(0, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="theta must have shape"):
        pb.grad(1, np.zeros(3))
    with pytest.raises(ValueError, match="horizons"):
        pb.regret(run(Adam(0.1), pb, np.zeros((2, 3)), 5), [0, 3])
    with pytest.raises(ValueError, match="record theta"):
        pb.regret(run(Adam(0.1), pb, np.zeros((2, 3)), 5, record=("g",)))
