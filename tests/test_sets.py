"""Tests of adabelief_ref.sets: the weighted projections Π_{F, diag(w)} of Algorithm 2 (THEORY §1.1).

Three kinds of evidence, each able to fail:
* agreement with independent exact references — rational arithmetic (``fractions``) for the
  simplex and the ℓ1 ball, a 50-digit bisection (mpmath) for the ℓ2 secular equation, closed forms
  for boxes and half-spaces — to ≤ 1e-9 relative, with weights spanning 1e-6..1e6;
* agreement with a cvxpy solve (CLARABEL, tight tolerances) of the same weighted problem, at the
  accuracy cvxpy itself reaches (its ℓ2-ball answers are only ~1e-7 accurate), plus the certificate
  that ours is never worse in objective;
* the optimality conditions: feasibility, idempotence, the variational inequality and weighted
  non-expansiveness (THEORY L1), and tests that a Euclidean projection is caught.
"""

from __future__ import annotations

import warnings
from fractions import Fraction

import cvxpy as cp
import mpmath
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from adabelief_ref import AdaBelief, run, sets
from adabelief_ref.sets import Box, L1Ball, L2Ball, Polyhedron, Simplex

EXACT_RTOL = 1e-9  # the criterion against independent exact solutions


# ------------------------------------------------------------------------------------------------
# independent references (not the algorithms under test)
# ------------------------------------------------------------------------------------------------
def _fractions(a):
    return [Fraction(float(v)) for v in np.asarray(a, dtype=np.float64).ravel()]


def exact_simplex(y, w, total):
    """Exact rational solution of min Σ w (x − y)² s.t. x ≥ 0, Σ x = total.

    Brute force over the breakpoints b_i = w_i y_i: the largest breakpoint β with g(β) ≥ total,
    g(τ) = Σ max(0, y_i − τ/w_i), fixes the active set {b_i > β}; τ solves the linear piece.
    O(d²) exact arithmetic — a different route from the sorted prefix search under test.
    """
    Y, W, T = _fractions(y), _fractions(w), Fraction(float(total))

    def g(tau):
        return sum(max(Fraction(0), yi - tau / wi) for yi, wi in zip(Y, W))

    bps = sorted({wi * yi for yi, wi in zip(Y, W)})
    below = [b for b in bps if g(b) >= T]
    beta = max(below) if below else None
    act = [i for i in range(len(Y)) if beta is None or W[i] * Y[i] > beta]
    tau = (sum(Y[i] for i in act) - T) / sum(1 / W[i] for i in act)
    return np.array([float(max(Fraction(0), yi - tau / wi)) for yi, wi in zip(Y, W)])


def exact_l1(y, w, radius):
    y = np.asarray(y, dtype=np.float64)
    if sum(_fractions(np.abs(y))) <= Fraction(float(radius)):
        return y.copy()
    return np.sign(y) * exact_simplex(np.abs(y), w, radius)


def exact_l2(y, w, radius, center=None):
    """x = c + w z/(w + μ) with μ from 240 bisections of the secular equation at 50 digits."""
    with mpmath.workdps(50):
        c = np.zeros_like(y) if center is None else np.broadcast_to(center, y.shape)
        z = [mpmath.mpf(float(a)) - mpmath.mpf(float(b)) for a, b in zip(y, c)]
        ww = [mpmath.mpf(float(a)) for a in w]
        R = mpmath.mpf(float(radius))
        nz = mpmath.sqrt(sum(a * a for a in z))
        if nz <= R:
            return np.asarray(y, dtype=np.float64).copy()

        def excess(mu):
            return mpmath.sqrt(sum((wi * zi / (wi + mu)) ** 2 for wi, zi in zip(ww, z))) - R

        lo, hi = mpmath.mpf(0), max(ww) * (nz / R - 1)
        for _ in range(240):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if excess(mid) > 0 else (lo, mid)
        mu = (lo + hi) / 2
        return np.array([float(ci + wi * zi / (wi + mu)) for ci, wi, zi in zip(c, ww, z)])


def rel_err(x, ref):
    return float(np.max(np.abs(x - ref)) / max(float(np.max(np.abs(ref))), 1e-300))


# ------------------------------------------------------------------------------------------------
# random instances: d, a weight span 10^±k, and where y lies (inside, boundary, outside, far, ties)
# ------------------------------------------------------------------------------------------------
REGIMES = ("inside", "boundary", "outside", "far", "ties")


def make_instance(kind, seed, d, span, regime):
    rng = np.random.default_rng(seed)
    w = 10.0 ** rng.uniform(-span, span, d)
    size = 10.0 ** rng.uniform(-1, 1)  # radius / total
    y = rng.normal(size=d)
    if regime == "ties":
        y = rng.choice([-1.0, 0.5, 2.0], size=d) * size
        w = rng.choice([10.0**-span, 1.0, 10.0**span], size=d)
    elif kind == "simplex":
        if regime in ("inside", "boundary"):
            y = rng.uniform(0.1, 1.0, d)
            if regime == "boundary" and d > 1:
                y[rng.integers(d)] = 0.0
            y = y / y.sum() * size
        else:
            y = y * size * (3.0 if regime == "outside" else 1e4)
    else:
        norm = np.linalg.norm(y) if kind == "l2" else np.abs(y).sum()
        factor = {"inside": 0.5, "boundary": 1.0, "outside": 3.0, "far": 1e5}[regime]
        y = y / max(norm, 1e-300) * size * factor
    return y, w, size


instances = st.tuples(
    st.integers(0, 2**32 - 1),  # seed
    st.integers(1, 60),  # d
    st.sampled_from([0, 1, 3, 6]),  # weights span 10^-k .. 10^k
    st.sampled_from(REGIMES),
)


# ------------------------------------------------------------------------------------------------
# exactness against the independent references
# ------------------------------------------------------------------------------------------------
@settings(deadline=None, derandomize=True, max_examples=60)
@given(instances)
def test_simplex_matches_exact_rational_solution(inst):
    y, w, total = make_instance("simplex", *inst)
    x = Simplex(total).project(y, w)
    assert rel_err(x, exact_simplex(y, w, total)) <= EXACT_RTOL


@settings(deadline=None, derandomize=True, max_examples=60)
@given(instances)
def test_l1_ball_matches_exact_rational_solution(inst):
    y, w, radius = make_instance("l1", *inst)
    x = L1Ball(radius).project(y, w)
    assert rel_err(x, exact_l1(y, w, radius)) <= EXACT_RTOL


@settings(deadline=None, derandomize=True, max_examples=40)
@given(instances, st.booleans())
def test_l2_ball_matches_50_digit_secular_root(inst, shifted):
    y, w, radius = make_instance("l2", *inst)
    center = np.linspace(-1.0, 1.0, y.size) if shifted else None
    if shifted:
        y = y + center
    x = L2Ball(radius, center=center).project(y, w)
    assert rel_err(x, exact_l2(y, w, radius, center)) <= EXACT_RTOL


@settings(deadline=None, derandomize=True, max_examples=30)
@given(instances)
def test_box_is_clipping_for_any_weights(inst):
    y, w, size = make_instance("l2", *inst)
    lo = -size * np.linspace(0.1, 1.0, y.size)
    x = Box(lo, size).project(y, w)
    np.testing.assert_array_equal(x, np.minimum(np.maximum(y, lo), size))


# ------------------------------------------------------------------------------------------------
# agreement with cvxpy (CLARABEL, tight tolerances) on the same weighted problem
# ------------------------------------------------------------------------------------------------
def cvxpy_projection(kind, y, w, size):
    """Solve the weighted problem with cvxpy/CLARABEL at tight tolerances.

    First as min ‖v‖² with x = y + v/√w (better conditioned for extreme w), then as
    min ‖√w ⊙ (x − y)‖², then with looser tolerances: the first formulation CLARABEL finishes.
    """
    sw = np.sqrt(w)
    for form, tol in [("v", 1e-12), ("x", 1e-12), ("v", 1e-10), ("x", 1e-10)]:
        var = cp.Variable(y.size)
        x = y + cp.multiply(1.0 / sw, var) if form == "v" else var
        objective = cp.sum_squares(var) if form == "v" else cp.sum_squares(cp.multiply(sw, var - y))
        cons = {
            "l2": [cp.norm(x, 2) <= size],
            "simplex": [x >= 0, cp.sum(x) == size],
            "l1": [cp.norm1(x) <= size],
            "box": [x >= -size, x <= size],
        }[kind]
        prob = cp.Problem(cp.Minimize(objective), cons)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "may be inaccurate": measured below instead
                prob.solve(solver="CLARABEL", tol_gap_abs=tol, tol_gap_rel=tol, tol_feas=tol, max_iter=500)
        except cp.error.SolverError:
            continue
        if prob.status in ("optimal", "optimal_inaccurate"):
            return np.asarray(x.value if form == "v" else var.value, dtype=np.float64)
    raise AssertionError(f"cvxpy could not solve the {kind} instance")


SET_OF = {"l2": L2Ball, "simplex": Simplex, "l1": L1Ball, "box": lambda s: Box(-s, s)}
# cvxpy's own accuracy on these problems (measured in benchmarks/bench_projections.py): its ℓ2-ball
# and box answers are off by up to ~1e-5 in the weighted metric at extreme weights.
CVX_WRTOL = {"l2": 1e-4, "box": 1e-4, "simplex": 1e-7, "l1": 1e-7}


@pytest.mark.parametrize("kind", ["l2", "simplex", "l1", "box"])
@pytest.mark.parametrize(("d", "span", "seed"), [(1, 0, 11), (7, 6, 12), (100, 3, 13), (1000, 6, 14)])
def test_agrees_with_cvxpy_and_is_never_worse(kind, d, span, seed):
    y, w, size = make_instance(kind, seed, d, span, "outside")
    x = SET_OF[kind](size).project(y, w)
    xc = cvxpy_projection(kind, y, w, size)

    def objective(p):
        return float(np.sum(w * (p - y) ** 2))

    # agreement in the projection's own metric relative to the problem's scale ‖y‖_w, at cvxpy's
    # accuracy (an interior-point solve fixes tiny-weight coordinates only loosely)
    werr = sets.weighted_norm(x - xc, w) / sets.weighted_norm(y, w)
    assert werr <= CVX_WRTOL[kind]
    # ours is exactly feasible and its objective is never above cvxpy's (it is the minimiser)
    assert SET_OF[kind](size).contains(x, tol=1e-12)
    assert objective(x) <= objective(xc) * (1 + 1e-9)


# ------------------------------------------------------------------------------------------------
# optimality conditions (THEORY §1.1 and L1) on batches
# ------------------------------------------------------------------------------------------------
ALL_SETS = [L2Ball(1.5), L2Ball(0.5, center=[0.2, -0.1, 0.3, 0.0]), Simplex(2.0), L1Ball(1.0), Box(-0.5, [1, 2, 3, 4])]


@settings(deadline=None, derandomize=True, max_examples=25)
@given(st.integers(0, 2**32 - 1), st.sampled_from([0, 2, 6]), st.sampled_from(range(len(ALL_SETS))))
def test_optimality_conditions(seed, span, which):
    S = ALL_SETS[which]
    rng = np.random.default_rng(seed)
    B, d = 64, 4
    w = 10.0 ** rng.uniform(-span, span, (B, d))
    y = rng.normal(size=(B, d)) * 10.0 ** rng.uniform(-1, 2, (B, 1))
    p = S.project(y, w)
    # feasibility and idempotence
    assert np.all(S.contains(p, tol=1e-12))
    scale = np.max(np.abs(p), axis=-1, keepdims=True)
    assert np.all(np.abs(S.project(p, w) - p) <= 1e-12 * np.maximum(scale, 1.0))
    # variational inequality Σ w (y − p)(x − p) ≤ 0 for feasible x (random feasible points)
    x = S.project(rng.normal(size=(B, d)) * 3, 10.0 ** rng.uniform(-span, span, (B, d)))
    # (rounding in p enters the normalised cosine as ~ε·‖y‖_w/‖y − p‖_w, hence 1e-7, not 0)
    assert np.max(sets.variational_inequality(S, y, x, w)) <= 1e-7
    # weighted non-expansiveness (L1)
    y2 = y + rng.normal(size=(B, d)) * 10.0 ** rng.uniform(-3, 1, (B, 1))
    assert np.max(sets.nonexpansiveness_ratio(S, y, y2, w)) <= 1 + 1e-9


def _euclidean_projection(S, y):
    return S.project(y, None)


@pytest.mark.parametrize(
    ("S", "y", "w"),
    [
        (L2Ball(1.0), [2.0, 2.0], [1.0, 100.0]),
        (Simplex(1.0), [0.6, 0.6], [1.0, 10.0]),
        (L1Ball(1.0), [0.9, -0.9], [1.0, 10.0]),
    ],
)
def test_weighted_differs_from_euclidean_and_is_better_in_the_metric(S, y, w):
    y, w = np.array(y), np.array(w)
    pw, pe = S.project(y, w), _euclidean_projection(S, y)
    assert np.max(np.abs(pw - pe)) > 1e-2
    assert np.sum(w * (pw - y) ** 2) < np.sum(w * (pe - y) ** 2) * (1 - 1e-3)
    # the check the optimality tests rely on catches a Euclidean projection: it violates the
    # variational inequality in the weighted metric at the feasible point pw
    inner = np.sum(w * (y - pe) * (pw - pe))
    assert inner > 1e-3
    assert sets.variational_inequality(S, y, pe, w) <= 1e-12


def test_simplex_closed_form_two_coordinates():
    # x_i = y_i − τ/w_i with 1.2 − τ(1 + 1/10) = 1  ⇒  τ = 2/11
    x = Simplex(1.0).project(np.array([0.6, 0.6]), np.array([1.0, 10.0]))
    np.testing.assert_allclose(x, [0.6 - 2 / 11, 0.6 - 2 / 110], rtol=1e-15)


def test_l2_closed_form_equal_weights_and_inside_points():
    y = np.array([[3.0, 4.0], [0.3, 0.4]])
    np.testing.assert_allclose(L2Ball(1.0).project(y, 7.0), [[0.6, 0.8], [0.3, 0.4]], rtol=1e-15)
    np.testing.assert_allclose(L2Ball(1.0, center=[1.0, 1.0]).project([4.0, 5.0]), [1.6, 1.8], rtol=1e-15)


def test_box_weights_do_not_change_clipping_but_are_validated():
    S = Box(-1.0, 1.0)
    np.testing.assert_array_equal(S.project([-3.0, 0.2, 5.0], [1e-6, 1.0, 1e6]), [-1.0, 0.2, 1.0])
    with pytest.raises(ValueError, match="weights"):
        S.project([0.0, 1.0, 2.0], [1.0, 0.0, 1.0])


# ------------------------------------------------------------------------------------------------
# D∞ (Theorem 2.1) and contains
# ------------------------------------------------------------------------------------------------
def test_diameter_inf_values_have_witnesses():
    for S, a, b, D in [
        (L2Ball(3.0, center=[1.0, 2.0]), [4.0, 2.0], [-2.0, 2.0], 6.0),
        (L1Ball(2.0), [2.0, 0.0, 0.0], [-2.0, 0.0, 0.0], 4.0),
        (Simplex(5.0), [5.0, 0.0], [0.0, 5.0], 5.0),
        (Box([-1.0, 0.0], [1.0, 3.0]), [-1.0, 0.0], [1.0, 3.0], 3.0),
    ]:
        assert S.diameter_inf(len(a)) == D
        assert S.contains(a) and S.contains(b)
        assert np.max(np.abs(np.subtract(a, b))) == D
    assert Simplex(5.0).diameter_inf(1) == 0.0
    assert Box(0.0, np.inf).diameter_inf() == np.inf


def test_contains_batches_and_tolerance():
    S = L2Ball(1.0)
    got = S.contains(np.array([[1.0, 0.0], [1.0 + 1e-6, 0.0], [0.0, 0.0]]))
    np.testing.assert_array_equal(got, [True, False, True])
    assert S.contains([1.0 + 1e-6, 0.0], tol=1e-5)
    assert not Simplex(1.0).contains([0.5, 0.6]) and not Simplex(1.0).contains([1.1, -0.1])
    assert L1Ball(1.0).contains([0.5, -0.5]) and not L1Ball(1.0).contains([0.5, -0.6])


# ------------------------------------------------------------------------------------------------
# batches and torch
# ------------------------------------------------------------------------------------------------
TORCH_SETS = [L2Ball(1.0), L2Ball(0.7, center=np.linspace(-1, 1, 30)), Simplex(1.0), L1Ball(2.0), Box(-1.0, 0.5)]


@pytest.mark.parametrize("S", TORCH_SETS, ids=repr)
def test_torch_float64_matches_numpy_and_batch_matches_rows(S):
    rng = np.random.default_rng(3)
    Y = rng.normal(size=(200, 30)) * 10.0 ** rng.uniform(-1, 2, (200, 1))
    W = 10.0 ** rng.uniform(-6, 6, (200, 30))
    ref = S.project(Y, W)
    for i in range(0, 200, 37):  # batched result equals the one-row projection
        np.testing.assert_allclose(ref[i], S.project(Y[i], W[i]), rtol=1e-14, atol=0)
    out = S.project(torch.from_numpy(Y), torch.from_numpy(W))
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float64
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-12, atol=1e-15)
    # mixed inputs and the Euclidean case
    np.testing.assert_allclose(S.project(torch.from_numpy(Y), W).numpy(), ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(S.project(torch.from_numpy(Y)).numpy(), S.project(Y), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("S", TORCH_SETS, ids=repr)
def test_torch_float32_stays_float32_and_close(S):
    rng = np.random.default_rng(4)
    Y = rng.normal(size=(100, 30)) * 3
    W = 10.0 ** rng.uniform(-2, 2, (100, 30))
    out = S.project(torch.tensor(Y, dtype=torch.float32), torch.tensor(W, dtype=torch.float32))
    assert out.dtype == torch.float32 and out.device.type == "cpu"
    ref = S.project(Y.astype(np.float32).astype(np.float64), W.astype(np.float32).astype(np.float64))
    assert np.max(np.abs(out.double().numpy() - ref)) <= 1e-4 * max(1.0, np.max(np.abs(ref)))


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_ten_thousand_rows_in_one_vectorised_call(backend, monkeypatch):
    """10^4 rows × d = 100: the ℓ2 root and the simplex/ℓ1 sort each run once for the whole batch."""
    calls = {"mu": 0, "tau": 0}
    mu_fn, tau_fn = sets._secular_mu, sets._simplex_tau

    def spy_mu(*a):
        calls["mu"] += 1
        return mu_fn(*a)

    def spy_tau(*a):
        calls["tau"] += 1
        return tau_fn(*a)

    monkeypatch.setattr(sets, "_secular_mu", spy_mu)
    monkeypatch.setattr(sets, "_simplex_tau", spy_tau)
    rng = np.random.default_rng(5)
    Y = rng.normal(size=(10_000, 100)) * 3
    W = 10.0 ** rng.uniform(-6, 6, (10_000, 100))
    if backend == "torch":
        Y, W = torch.from_numpy(Y), torch.from_numpy(W)
    for S in (L2Ball(1.0), Simplex(1.0), L1Ball(1.0)):
        out = S.project(Y, W)
        assert tuple(out.shape) == (10_000, 100)
        assert np.all(S.contains(out, tol=1e-10))
    assert calls == {"mu": 1, "tau": 2}


# ------------------------------------------------------------------------------------------------
# projection_audit: the measurement the notebook reports
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("S", [L2Ball(1.0), L1Ball(1.0), Simplex(1.0), Box(-1.0, 1.0)], ids=repr)
def test_projection_audit_l1_holds_and_euclidean_control(S):
    a = sets.projection_audit(S, 8, n=2000, weight_span=6, rng=np.random.default_rng(7))
    assert a.n == 2000 and a.infeasible == 0
    assert a.max_ratio <= 1 + 1e-9 and a.max_vi_cos <= 1e-7
    if isinstance(S, Box):  # clipping is the weighted projection: the control coincides
        assert a.euclid_max_ratio <= 1 + 1e-12 and a.euclid_median_excess == 0.0
    else:  # a projection in the wrong metric is expansive in the w-metric and suboptimal
        assert a.euclid_max_ratio > 1.5 and a.euclid_median_excess > 1e-3


def test_projection_audit_validates_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="d must be"):
        sets.projection_audit(Simplex(), 0, n=5, weight_span=1, rng=rng)
    with pytest.raises(ValueError, match="n must be"):
        sets.projection_audit(Simplex(), 3, n=2.5, weight_span=1, rng=rng)
    with pytest.raises(ValueError, match="weight_span"):
        sets.projection_audit(Simplex(), 3, n=5, weight_span=-1, rng=rng)
    with pytest.raises(ValueError, match="rng"):
        sets.projection_audit(Simplex(), 3, n=5, weight_span=1, rng=0)


# ------------------------------------------------------------------------------------------------
# Polyhedron
# ------------------------------------------------------------------------------------------------
def test_random_polyhedron_optimality_conditions():
    rng = np.random.default_rng(8)
    P = Polyhedron(rng.normal(size=(12, 5)), rng.uniform(0.5, 1.0, 12))
    a = sets.projection_audit(P, 5, n=60, weight_span=3, rng=rng)
    assert a.infeasible == 0 and a.max_ratio <= 1 + 1e-9 and a.max_vi_cos <= 1e-7


def test_polyhedron_matches_closed_forms_with_extreme_weights():
    rng = np.random.default_rng(6)
    d = 40
    y = rng.normal(size=(3, d)) * 3
    w = 10.0 ** rng.uniform(-6, 6, (3, d))
    box = Polyhedron(np.vstack([np.eye(d), -np.eye(d)]), np.ones(2 * d))
    assert rel_err(box.project(y, w), np.clip(y, -1, 1)) <= EXACT_RTOL
    simplex = Polyhedron(np.vstack([np.ones(d), -np.ones(d), -np.eye(d)]), np.r_[1.0, -1.0, np.zeros(d)])
    assert rel_err(simplex.project(y[0], w[0]), exact_simplex(y[0], w[0], 1.0)) <= EXACT_RTOL
    # half-space a·x ≤ β: x = y − max(0, a·y − β)/(a·W⁻¹a) W⁻¹a
    a = rng.normal(size=d)
    half = Polyhedron(a[None, :], np.array([0.5]))
    lam = max(0.0, (a @ y[1] - 0.5) / (a @ (a / w[1])))
    assert rel_err(half.project(y[1], w[1]), y[1] - lam * a / w[1]) <= EXACT_RTOL


def test_polyhedron_is_compiled_once_and_reused():
    P = Polyhedron(np.array([[1.0, 1.0], [-1.0, 0.0]]), np.array([1.0, 0.0]))
    assert P._problem.is_dpp()
    problem = P._problem
    P.project([2.0, 2.0], [1.0, 3.0])
    prog = P._problem._cache.param_prog
    P.project([3.0, -1.0], [2.0, 1.0])
    assert P._problem is problem and P._problem._cache.param_prog is prog
    np.testing.assert_allclose(P.project([0.2, 0.3]), [0.2, 0.3])


def test_polyhedron_diameter_and_contains():
    d = 3
    assert Polyhedron(np.vstack([np.eye(d), -np.eye(d)]), np.r_[np.ones(d), np.zeros(d)]).diameter_inf() == pytest.approx(1.0)
    assert Polyhedron(np.array([[1.0, 0.0]]), np.array([1.0])).diameter_inf() == np.inf
    P = Polyhedron(np.array([[1.0, 1.0]]), np.array([1.0]))
    np.testing.assert_array_equal(P.contains(np.array([[0.5, 0.5], [0.6, 0.5]])), [True, False])


# ------------------------------------------------------------------------------------------------
# bad input: clear ValueErrors naming the parameter
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: L2Ball(0.0), "radius"),
        (lambda: L2Ball(-1.0), "radius"),
        (lambda: L2Ball(float("nan")), "radius"),
        (lambda: L2Ball(1.0, center=[np.nan, 0.0]), "center"),
        (lambda: L1Ball(0.0), "radius"),
        (lambda: Simplex(0.0), "total"),
        (lambda: Simplex(-2.0), "total"),
        (lambda: Box(1.0, 0.0), "lo must be <= hi"),
        (lambda: Box([0.0, 2.0], [1.0, 1.0]), "lo must be <= hi"),
        (lambda: Box(np.nan, 1.0), "lo"),
        (lambda: Box(0.0, -np.inf), "hi"),
        (lambda: Box([0.0, 0.0], [1.0, 1.0, 1.0]), "broadcast"),
        (lambda: Polyhedron(np.array([[1.0], [-1.0]]), np.array([0.0, -1.0])), "infeasible.*status 'infeasible'"),
        (lambda: Polyhedron(np.ones(3), np.ones(1)), "A must be"),
        (lambda: Polyhedron(np.ones((2, 3)), np.ones(3)), "b must have shape"),
        (lambda: Polyhedron(np.array([[np.inf]]), np.ones(1)), "A contains non-finite"),
    ],
)
def test_bad_construction(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("S", [L2Ball(1.0), Simplex(), L1Ball(1.0), Box(-1, 1), Polyhedron(np.eye(3), np.ones(3))], ids=repr)
@pytest.mark.parametrize(
    ("y", "w", "match"),
    [
        ([1.0, 2.0, 3.0], [1.0, 0.0, 1.0], "weights must be finite and > 0"),
        ([1.0, 2.0, 3.0], [1.0, -1.0, 1.0], "weights must be finite and > 0"),
        ([1.0, 2.0, 3.0], [1.0, np.nan, 1.0], "weights must be finite and > 0"),
        ([1.0, 2.0, 3.0], [1.0, np.inf, 1.0], "weights must be finite and > 0"),
        ([1.0, np.nan, 3.0], None, "y contains non-finite"),
        ([1.0, 2.0, 3.0], [1.0, 2.0], r"weights of shape \(2,\) do not broadcast"),
    ],
)
def test_bad_projection_input(S, y, w, match):
    with pytest.raises(ValueError, match=match):
        S.project(np.array(y), None if w is None else np.array(w))


def test_bad_input_shapes_torch_and_tol():
    with pytest.raises(ValueError, match="center"):
        L2Ball(1.0, center=[0.0, 0.0]).project([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="Box bounds"):
        Box([0.0, 0.0], [1.0, 1.0]).project([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="d=3"):
        Polyhedron(np.eye(3), np.ones(3)).project([1.0, 2.0])
    with pytest.raises(ValueError, match="numpy arrays only"):
        Polyhedron(np.eye(2), np.ones(2)).project(torch.zeros(2))
    with pytest.raises(ValueError, match="at least 1 dimension"):
        L2Ball(1.0).project(3.0)
    with pytest.raises(ValueError, match="weights must be finite and > 0"):
        Simplex().project(torch.ones(4), torch.tensor([1.0, 0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="y contains non-finite"):
        L1Ball(1.0).project(torch.tensor([1.0, float("nan")]))
    with pytest.raises(ValueError, match="tol"):
        L2Ball(1.0).contains([0.0], tol=-1.0)


# ------------------------------------------------------------------------------------------------
# the optimizer uses the weighted projection with w = √ŝ_t
# ------------------------------------------------------------------------------------------------
def test_adabelief_iterates_stay_in_the_ball():
    F = L2Ball(0.5)
    opt = AdaBelief(0.1, (0.9, 0.999), 1e-8, feasible_set=F)
    c = np.array([1.0, -2.0, 0.5])
    trace = run(opt, lambda t, theta: theta - c + 0.1 * np.sin(t), np.zeros((4, 3)), 50)
    assert np.all(F.contains(trace.theta, tol=1e-12))
    assert np.all(np.abs(np.linalg.norm(trace.theta[-1], axis=-1) - 0.5) < 1e-12)


def test_polyhedron_uncertified_projection_is_an_error_not_a_guess(monkeypatch):
    """If the solver fails and the KKT polish finds no certificate, project raises RuntimeError."""
    import cvxpy as cp

    from adabelief_ref.sets import Polyhedron

    P = Polyhedron(np.array([[1.0, 1.0]]), np.array([1.0]))
    y = np.array([2.0, 2.0])

    def failing_solve(*args, **kwargs):
        raise cp.error.SolverError("forced failure")

    monkeypatch.setattr(P._problem, "solve", failing_solve)
    monkeypatch.setattr(P, "_polish", lambda y, w, x0: (x0, False))
    with pytest.raises(RuntimeError, match="projection onto the polyhedron failed"):
        P.project(y, np.array([1.0, 2.0]))
    # with the polish working, the same failed solve still gives the exact answer (certified)
    monkeypatch.undo()
    monkeypatch.setattr(P._problem, "solve", failing_solve)
    x = P.project(y, np.array([1.0, 2.0]))
    # min (x1−2)² + 2(x2−2)² s.t. x1 + x2 ≤ 1 (active): 2(x1−2) = 4(x2−2), x1 + x2 = 1 → x = (0, 1)
    np.testing.assert_allclose(x, [0.0, 1.0], atol=1e-12)
