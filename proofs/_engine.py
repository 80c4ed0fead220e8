r"""The machinery every proof step shares: the record a check returns, the error a statement that
cannot be established raises, and three ways of establishing a statement.

* :func:`identity` — an equality, by ``simplify(lhs − rhs) == 0``.
* :func:`certificate` — an inequality ``gap ≥ 0``, by exhibiting ``gap`` as a sum of terms that
  sympy's assumption system recognises as non-negative (squares, products of non-negative
  symbols, ...) and checking the identity ``gap − Σ terms == 0``.
* :func:`nonneg` — an inequality ``expr ≥ 0`` found automatically: ``expr`` is 0, or sympy's
  assumptions decide its sign, or (after ``cancel``) numerator and denominator are polynomials
  whose every monomial is non-negative (non-negative coefficient times non-negative symbols),
  with at least one positive monomial in the denominator.
  The hypotheses of a lemma enter through substitutions that make them true by construction,
  e.g. s ≥ c written s = (√c + r)² with r ≥ 0, or β ∈ [0, 1) written β = b/(1 + b) with b ≥ 0.

All three are sound (as far as sympy's simplification and assumptions are) and incomplete: they
accept only what they can certify, and may fail to prove a true statement — a checker then raises
:class:`ProofError` rather than guess. Facts a checker uses without certifying them (an optimality
condition, a re-indexing of a finite sum) are named in its docstring and in ``Check.detail``. Each symbolic check is
paired with :func:`falsify`, a vectorised numeric search of the stated domain that turns a false
statement into a concrete witness (and cross-checks the proof engine on the true one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

import numpy as np
import sympy as sp

METHODS = ("symbolic", "numeric", "counterexample")


class ProofError(AssertionError):
    """A checker could not establish the statement it was given.

    Attributes:
        step: the step id (``"L12"``).
        reason: what failed (the identity, the sign, the numeric search, the counterexample).
        witness: a concrete violating point when the numeric search found one, else ``None``.
    """

    def __init__(self, step: str, reason: str, witness: Mapping[str, Any] | None = None):
        self.step, self.reason, self.witness = step, reason, dict(witness) if witness else None
        extra = f"; witness: {self.witness}" if self.witness else ""
        super().__init__(f"[{step}] not established: {reason}{extra}")


@dataclass(frozen=True)
class Check:
    """How one step of THEORY §4 (or §1.3) was established.

    Attributes:
        id: the step id (``"L6.b"``); the part before the dot is the THEORY row.
        statement: the statement checked, with the claimed constant/expression filled in.
        method: ``"symbolic"`` (proved by sympy for the whole stated domain), ``"numeric"``
            (verified by exact or sampled evaluation only) or ``"counterexample"`` (the step does
            not hold as used; ``figures`` carry the instance).
        detail: how exactly: the identities, certificates, sample sizes and tolerances.
        used_in: where the paper's proof uses the step.
        holds_as_used: False when the step fails where the paper uses it.
        figures: the numbers behind the outcome (counterexample values, numeric margins).
    """

    id: str
    statement: str
    method: str
    detail: str
    used_in: str
    holds_as_used: bool = True
    figures: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}; got {self.method!r}")


# -- statements as data ---------------------------------------------------------------------------
def parse(value: Any, symbols: Mapping[str, sp.Basic], *, name: str) -> sp.Expr:
    """Turn a claimed expression (a string or a sympy expression) into sympy over ``symbols``.

    Raises ``ValueError`` naming ``name`` when the text does not parse or uses a name that is not
    one of ``symbols`` (a typo would otherwise become a fresh, unconstrained symbol).
    """
    if isinstance(value, sp.Basic):
        expr = value
    elif isinstance(value, str):
        try:
            expr = sp.parse_expr(value, local_dict=dict(symbols))
        except Exception as err:  # noqa: BLE001 - any parse failure is a bad input
            raise ValueError(
                f"{name} must be a sympy expression or its text; could not parse {value!r} ({err})"
            ) from None
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        expr = sp.nsimplify(value)
    else:
        raise ValueError(f"{name} must be a sympy expression or its text; got {type(value).__name__} {value!r}")
    allowed = set(symbols)
    for v in symbols.values():
        if isinstance(v, sp.Basic):
            allowed |= {str(s) for s in v.free_symbols}
    unknown = {str(s) for s in expr.free_symbols} - allowed
    if unknown:
        raise ValueError(
            f"{name} uses unknown symbol(s) {sorted(unknown)}; accepted symbols: {', '.join(sorted(symbols))}"
        )
    return expr


def text(expr: sp.Basic) -> str:
    """Compact one-line text of a sympy expression for statements and tables."""
    return sp.sstr(expr)


def shown(value: Any, expr: sp.Basic) -> str:
    """The claim as the caller wrote it (a string stays verbatim), else sympy's text of it."""
    return value if isinstance(value, str) else text(expr)


# -- symbolic establishment -----------------------------------------------------------------------
def is_zero(expr: sp.Expr) -> bool:
    """True when ``expr`` simplifies to 0 (cheap canonical forms first, then ``simplify``)."""
    for simplifier in (sp.expand, lambda e: sp.cancel(sp.together(e)), sp.simplify):
        if simplifier(expr) == 0:
            return True
    return False


def identity(step: str, lhs: sp.Expr, rhs: sp.Expr, what: str) -> None:
    """Assert the identity ``lhs == rhs`` by ``simplify(lhs − rhs) == 0``."""
    if not is_zero(lhs - rhs):
        raise ProofError(step, f"{what}: lhs − rhs = {text(sp.simplify(lhs - rhs))} does not simplify to 0")


def certificate(step: str, gap: sp.Expr, terms: Iterable[sp.Expr], what: str) -> None:
    """Assert ``gap ≥ 0`` by ``gap == Σ terms`` with every term manifestly non-negative."""
    terms = list(terms)
    for term in terms:
        if term.is_nonnegative is not True:
            raise ProofError(step, f"{what}: certificate term {text(term)} is not manifestly non-negative")
    if not is_zero(gap - sp.Add(*terms)):
        raise ProofError(step, f"{what}: the gap is not the sum of the certificate's non-negative terms")


def _monomials_nonneg(poly: sp.Expr) -> bool:
    return all(term.is_nonnegative is True for term in sp.Add.make_args(sp.expand(poly)))


def _some_monomial_positive(poly: sp.Expr) -> bool:
    return any(term.is_positive is True for term in sp.Add.make_args(sp.expand(poly)))


def sign_proof(expr: sp.Expr) -> str | None:
    """Return how ``expr ≥ 0`` was established, or ``None`` if no certificate was found."""
    if is_zero(expr):
        return "identically 0"
    if expr.is_nonnegative is True:
        return "sign from the symbols' assumptions"
    reduced = sp.cancel(sp.together(expr))
    if reduced.is_nonnegative is True:
        return "sign from the symbols' assumptions after cancelling"
    num, den = sp.fraction(reduced)
    for n, d in ((num, den), (-num, -den)):
        if _monomials_nonneg(n) and _monomials_nonneg(d) and _some_monomial_positive(d):
            return "numerator and denominator are sums of non-negative monomials"
    factored = sp.factor(reduced)
    if factored.is_nonnegative is True:
        return "sign of the factored form"
    return None


def nonneg(step: str, expr: sp.Expr, what: str) -> str:
    """Assert ``expr ≥ 0`` on the domain encoded by the symbols' assumptions; return the method."""
    how = sign_proof(expr)
    if how is None:
        raise ProofError(step, f"{what}: could not show {text(sp.factor(sp.cancel(sp.together(expr))))} ≥ 0")
    return how


def non_increasing(step: str, func: sp.Expr, var: sp.Symbol, what: str) -> str:
    """Assert that ``func`` is non-increasing in ``var`` by the sign of −∂func/∂var (mean value theorem)."""
    return nonneg(step, -sp.diff(func, var), f"{what} (−d/d{var})")


# -- numeric search ---------------------------------------------------------------------------------
def lambdify(symbols: Iterable[sp.Symbol], expr: sp.Expr) -> Callable[..., np.ndarray]:
    """``sympy.lambdify`` onto numpy, vectorised over the arguments."""
    return sp.lambdify(list(symbols), expr, modules="numpy")


def falsify(
    step: str,
    lhs: np.ndarray,
    rhs: np.ndarray,
    points: Mapping[str, np.ndarray],
    *,
    what: str,
    rtol: float = 1e-9,
) -> dict[str, Any]:
    """Search evaluated points for a violation of ``lhs ≤ rhs`` (element-wise arrays).

    A point violates the statement when ``lhs − rhs > rtol·(|lhs| + |rhs|) + 1e-300``: the tolerance
    only absorbs float64 rounding of the two evaluations. Raises :class:`ProofError` with the worst
    point as witness; otherwise returns ``{"points": n, "min_margin": min (rhs − lhs)/(|lhs|+|rhs|)}``.
    """
    lhs = np.broadcast_to(np.asarray(lhs, dtype=np.float64), np.broadcast_shapes(np.shape(lhs), np.shape(rhs)))
    rhs = np.broadcast_to(np.asarray(rhs, dtype=np.float64), lhs.shape)
    scale = np.abs(lhs) + np.abs(rhs) + 1e-300
    margin = (rhs - lhs) / scale
    if not np.all(np.isfinite(margin)):
        raise ProofError(step, f"{what}: non-finite values in the numeric evaluation")
    worst = int(np.argmin(margin))
    if margin.flat[worst] < -rtol:
        index = np.unravel_index(worst, lhs.shape)
        witness = {k: _pick(v, index, lhs.shape) for k, v in points.items()}
        witness.update(lhs=_scalar(lhs.flat[worst]), rhs=_scalar(rhs.flat[worst]))
        raise ProofError(step, f"{what}: violated numerically", witness)
    return {"points": int(lhs.size), "min_margin": float(margin.flat[worst])}


def _pick(values: Any, index: tuple[int, ...], shape: tuple[int, ...]) -> Any:
    """The entry of ``values`` at the violating ``index``: a point array shaped like the
    evaluation (possibly with trailing coordinate axes), or one value shared by all points."""
    v = np.asarray(values)
    if v.ndim == 0:
        return _scalar(v)
    if v.shape[: len(shape)] == shape:
        return _scalar(v[index])
    return _scalar(np.broadcast_to(v, shape)[index])


def _scalar(x: Any) -> Any:
    x = np.asarray(x)
    return x.item() if x.ndim == 0 else x.tolist()


def seeded(seed: Any) -> np.random.Generator:
    """A ``numpy.random.Generator`` from an int seed or an existing generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int or a numpy.random.Generator; got {seed!r}")
    return np.random.default_rng(int(seed))


def log_uniform(rng: np.random.Generator, low: float, high: float, size: Any) -> np.ndarray:
    """Samples spread evenly in log scale over [low, high] (to probe many orders of magnitude)."""
    return np.exp(rng.uniform(np.log(low), np.log(high), size))
