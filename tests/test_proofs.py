"""Tests of proofs/: every step of THEORY §4 holds as registered, every false twin is rejected,
the proof engine is sound on random inputs, and bad input raises a clear ValueError."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import proofs
from proofs import _engine as E
from proofs import (
    cor211_third_term, eps_identities, l01_projection, l06_telescoping, l07_beta1_replacement, l09_momentum,
    l11_second_term, l12_harmonic, l14_weighted_geometric,
)

TWINS = [(s, tw) for s in proofs.STEPS for tw in s.twins]


def test_registry_covers_every_theory_row_with_a_twin():
    assert {s.row for s in proofs.STEPS} == set(proofs.THEORY_ROWS)
    assert len({s.id for s in proofs.STEPS}) == len(proofs.STEPS)
    assert all(s.twins for s in proofs.STEPS)


@pytest.mark.parametrize("step", proofs.STEPS, ids=lambda s: s.id)
def test_step_holds_as_registered(step):
    record = step.run()
    assert record.id == step.id
    assert record.method in proofs.METHODS
    assert record.holds_as_used == (record.method != "counterexample")
    assert record.statement and record.detail and record.used_in


@pytest.mark.parametrize("step,twin", TWINS, ids=lambda x: x.id if isinstance(x, proofs.Step) else x.label)
def test_false_twin_is_rejected(step, twin):
    err = step.reject(twin)
    assert isinstance(err, proofs.ProofError)
    assert err.step and err.reason


def test_classification_is_pinned():
    """Which steps are proved, only numeric, or fail as used: a change here must be deliberate."""
    records = {c.id: c for c in proofs.run_all()}
    methods = {k: c.method for k, c in records.items()}
    assert {k for k, m in methods.items() if m == "counterexample"} == {"L6.b", "L7.a", "L7.b", "N1.ii.b", "C2.1.1.b"}
    assert {k for k, m in methods.items() if m == "numeric"} == {"§1.3c"}
    table = proofs.markdown_table(tuple(records.values()))
    assert all(f"| {k} |" in table for k in records)


def test_reject_raises_when_a_twin_is_accepted():
    step = proofs.step("L12")
    vacuous = proofs.Twin("the true statement again", {"bound": "1 + log(T)"})
    with pytest.raises(AssertionError, match="accepted its false twin"):
        step.reject(vacuous)


def test_counterexamples_are_deterministic():
    a, b = l06_telescoping.check_l6_as_used(), l06_telescoping.check_l6_as_used()
    assert a.figures == b.figures
    assert a.figures["min_gamma"] < 0 and a.figures["t"] > 1000  # needs t > 1/(1 − β2)


def test_findings_beyond_the_printed_statements():
    # L9 holds already with constant 1 (the paper's 1/(1−β1) is loose) ...
    assert l09_momentum.check_l9_momentum("1").method == "symbolic"
    # ... while anything below 1 is false (β1t = 0 at t = 2 gives m_2 = g_2)
    with pytest.raises(proofs.ProofError):
        l09_momentum.check_l9_momentum("1 - beta1/2")
    # the corrected Corollary 2.1.1 constant bounds the same run that breaks the printed one
    run = cor211_third_term.check_cor211_missing_d()
    assert run.figures["ratio"] > 1 > run.figures["ratio"] / run.figures["d"]


# -- the engine -----------------------------------------------------------------------------------
X, Y = sp.symbols("x y", nonnegative=True)


@settings(deadline=None, max_examples=40)
@given(st.lists(st.integers(0, 5), min_size=6, max_size=6), st.integers(1, 5))
def test_sign_proof_accepts_nonneg_polynomials_and_refuses_negative_ones(coefs, shift):
    monomials = [1, X, Y, X * Y, X**2, Y**3]
    poly = sum(c * m for c, m in zip(coefs, monomials))
    assert E.sign_proof(poly) is not None
    assert E.sign_proof(poly / (1 + X)) is not None
    # negative at x = y = 0 unless the constant coefficient makes up for the shift: never proved then
    shifted = poly - (coefs[0] + shift)
    assert E.sign_proof(shifted) is None
    assert E.sign_proof(-poly - 1) is None


def test_certificate_and_identity_reject_wrong_algebra():
    a, b = sp.symbols("a b", real=True)
    E.certificate("t", a**2 + b**2 - 2 * a * b, [(a - b) ** 2], "square")
    with pytest.raises(proofs.ProofError, match="not the sum"):
        E.certificate("t", a**2 + b**2 - a * b, [(a - b) ** 2], "square")
    with pytest.raises(proofs.ProofError, match="not manifestly non-negative"):
        E.certificate("t", a - b, [a - b], "difference")
    with pytest.raises(proofs.ProofError, match="does not simplify"):
        E.identity("t", (a + b) ** 2, a**2 + b**2, "missing cross term")


def test_falsify_reports_the_worst_point():
    lhs, rhs = np.array([0.0, 2.0, 1.0]), np.array([1.0, 1.0, 1.0])
    with pytest.raises(proofs.ProofError) as info:
        E.falsify("t", lhs, rhs, {"x": np.array([10, 20, 30])}, what="w")
    assert info.value.witness == {"x": 20, "lhs": 2.0, "rhs": 1.0}
    assert E.falsify("t", rhs, rhs + 1e-18, {}, what="w")["points"] == 3


@settings(deadline=None, max_examples=30)
@given(st.floats(0.0, 0.999), st.integers(0, 400))
def test_l14_closed_form_matches_the_direct_sum(lam, T):
    closed = sp.parse_expr(l14_weighted_geometric.PAPER_CLOSED, local_dict=l14_weighted_geometric.SYMBOLS)
    value = float(closed.subs({l14_weighted_geometric.T_: T, l14_weighted_geometric.LAM: sp.Float(lam, 30)}))
    direct = sum(t * lam ** (t - 1) for t in range(1, T + 1))
    assert value == pytest.approx(direct, rel=1e-9, abs=1e-12)
    assert direct <= 1 / (1 - lam) ** 2 * (1 + 1e-12)


@settings(deadline=None, max_examples=30)
@given(st.integers(0, 2**32 - 1))
def test_weighted_ball_projection_is_feasible_and_optimal(seed):
    rng = np.random.default_rng(seed)
    q = E.log_uniform(rng, 1e-3, 1e3, (5, 3))
    z = rng.normal(0, 2, (5, 3))
    x = l01_projection.project_ball(z, q)
    assert np.all(np.linalg.norm(x, axis=1) <= 1 + 1e-12)
    inside = np.linalg.norm(z, axis=1) <= 1
    np.testing.assert_array_equal(x[inside], z[inside])
    # optimality: no random feasible point is closer in the q-weighted norm
    cand = rng.normal(size=(200, 5, 3))
    cand /= np.maximum(1, np.linalg.norm(cand, axis=-1, keepdims=True))
    assert np.all(np.sum(q * (cand - z) ** 2, axis=-1) >= np.sum(q * (x - z) ** 2, axis=-1) * (1 - 1e-9))


def test_l11_constant_is_the_product_of_the_lemma_factors():
    product = sp.Mul(*(sp.parse_expr(f, local_dict=l11_second_term.SYMBOLS) for f, _ in l11_second_term.FACTORS))
    paper = sp.parse_expr(l11_second_term.PAPER_CONSTANT, local_dict=l11_second_term.SYMBOLS)
    assert sp.simplify(paper - product * sp.sqrt(1 + sp.log(l11_second_term.T_))) == 0
    assert l12_harmonic.harmonic_upper_bound("t") == 1 + sp.log(l12_harmonic.T_)


# -- bad input --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: l12_harmonic.check_l12_harmonic("1 + log(Tmax)"), r"bound uses unknown symbol\(s\) \[.Tmax.\]"),
        (lambda: l12_harmonic.check_l12_harmonic("1 + log(T"), "bound must be a sympy expression"),
        (lambda: l12_harmonic.check_l12_harmonic([1]), "bound must be a sympy expression or its text; got list"),
        (lambda: eps_identities.check_eps_fp16(dtype="int32"), "dtype must name a numpy floating dtype"),
        (lambda: eps_identities.check_eps_fp16(dtype="nope"), "dtype must name a numpy floating dtype"),
        (lambda: l01_projection.check_l1_projection(weights="sqrt"), "weights must be one of"),
        (lambda: l01_projection.check_l1_projection(lipschitz="L"), "lipschitz must be a number"),
        (lambda: l06_telescoping.check_l6_as_used(T=1), "T must be an integer >= 2"),
        (lambda: l06_telescoping.check_l6_gamma_sign(s_nondecreasing=1), "s_nondecreasing must be True or False"),
        (lambda: l07_beta1_replacement.check_l7_replacement(T=51), "T must be an even integer"),
        (lambda: l07_beta1_replacement.check_l7_replacement(lam=1.5), r"lam must lie in \(0, 1\]"),
        (lambda: l07_beta1_replacement.check_l7_monotone_fix(beta1="x"), "beta1 must be a number or its text"),
        (lambda: l07_beta1_replacement.check_l7_monotone_fix(beta1=1), r"beta1 must lie in \(0, 1\)"),
        (lambda: cor211_third_term.check_cor211_missing_d(d=0), "d must be an integer >= 1"),
        (lambda: E.seeded(-1), "seed must be a non-negative int"),
        (lambda: proofs.step("L99"), "step_id must be one of"),
        (lambda: proofs.Check("x", "s", "proved", "d", "u"), "method must be one of"),
    ],
)
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()
