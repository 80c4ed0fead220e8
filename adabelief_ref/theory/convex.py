r"""Theorem 2.1 and Corollary 2.1.1 (online convex regret) evaluated a posteriori from a run.

Theorem 2.1 (THEORY §2) bounds the regret of the analysed recursion
θ_{t+1} = Π_{F,√s_t}(θ_t − α_t m_t/√s_t) by three terms::

    R(T) ≤ D∞² √T /(2α(1−β1)) Σ_i s_{T,i}^{1/2}                                   (term 1, L6–L7)
         + (1+β1) α √(1+log T) /(2√c (1−β1)³) Σ_i ‖g²_{1:T,i}‖₂                   (term 2, L8–L11)
         + D∞² /(2(1−β1)) Σ_{t≤T} Σ_i β1t s_{t,i}^{1/2} / α_t                      (term 3, L4)

Everything on the right is realised by the run, so the bound can be evaluated at every T and
compared with the measured regret. Indexing: the runner's ``trace.theta[t-1]`` is the paper's θ_t
(the point where f_t is played), ``trace.s[t-1]``, ``trace.m[t-1]``, ``trace.g[t-1]`` are s_t, m_t, g_t.

**Which s enters the bound** (:func:`effective_s`). The proof uses s_t only through the update
above, so the bound holds for any positive sequence s̃_t with which the run *is* that update
(and for which the assumptions hold):

* ``AdaBelief(form="analysis")``: s̃_t = s_t, or the running maximum s_max,t with ``amsgrad=True``
  (exactly the theorem's setting).
* ``AdaBelief(form="algorithm")`` (Algorithm 2 as printed): the step α_t m̂_t/(√ŝ_t + ε) equals
  α_t m_t/√s̃_t with s̃_t = (1 − β1^t)² (√ŝ_t + ε)², ŝ_t = s_t/(1 − β2^t) (ŝ from s_max with
  amsgrad). The projection metric of Algorithm 2 is √ŝ_t, not √s̃_t: a constant factor does not
  change a projection, but the outer ε does, so the reparametrisation is exact only when F is a box
  (the projection is clipping, whatever the metric) or F = R^d. Otherwise Algorithm 2 is *not
  covered* by the theorem, and the bound is reported with ``covered=False``.
* ``Adam``/``AMSGrad``: s̃_t = (√v_t + ε)² (analysis form) or (1 − β1^t)²(√v̂_t + ε)² (algorithm
  form); their projection uses exactly that denominator, so the same a posteriori bound applies
  (it is the AMSGrad-type bound of Reddi et al.); for Adam the monotonicity assumption is what
  typically fails.

**c**: the a posteriori bound at horizon T needs s_{t,i} ≥ c only for t ≤ T, so
c_T = min_{t≤T, i} s̃_{t,i} (per run) is used; it is never below the global min.

**Back ends.** :func:`run_online` and :func:`reddi_phase_diagram` step the runs with the numpy
reference (``backend="numpy"``, default) or the batched torch engine (``backend="engine"``, on
``device``; :mod:`.backends`), which gives the same traces to rounding — the way to larger T and
more seeds. The problems' gradients stay numpy (one host round trip per step).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.signal import lfilter

from .. import _checks
from ..optimizers import AdaBelief, Adam
from ..runner import RECORDABLE, Trace
from ..sets import Box
from .audit import gamma
from .backends import check_backend, run_trace

__all__ = [
    "EffectiveS",
    "effective_s",
    "Theorem21Terms",
    "theorem_21_terms",
    "corollary_211_constants",
    "L8L11Chain",
    "l8_l11_chain",
    "ConvexAudit",
    "audit_theorem_21",
    "ConvexReport",
    "convex_report",
    "run_online",
    "running_c",
    "ReddiOutcome",
    "reddi_outcome",
    "reddi_phase_diagram",
    "RegretGrowth",
    "regret_growth",
]


# ------------------------------------------------------------------------------------------------
# which s the theorem sees
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EffectiveS:
    """The s̃_t (shape (T, ..., d)) with which the run is θ_{t+1} = Π_{F,√s̃_t}(θ_t − α_t m_t/√s̃_t).

    ``covered`` says whether that identity is exact (projection metric included), i.e. whether
    Theorem 2.1 speaks about this run at all; ``note`` says why.
    """

    s: np.ndarray
    covered: bool
    note: str


def effective_s(trace: Any, opt: Any) -> EffectiveS:
    """s̃_t for a trace of ``AdaBelief`` (both forms, with or without amsgrad), ``Adam`` or ``AMSGrad``.

    See the module docstring for the formulas and the coverage rule.

    Raises:
        ValueError: another optimizer (SGD and AdaGrad are not of this form), or a trace without s.
    """
    if not isinstance(opt, (AdaBelief, Adam)):
        raise ValueError(
            f"opt must be an AdaBelief, Adam or AMSGrad instance (the form Theorem 2.1 analyses); got {type(opt).__name__}"
        )
    s_raw = trace.s_max if opt.amsgrad else trace.s
    if s_raw is None:
        raise ValueError("trace must record " + ("s_max (amsgrad=True)" if opt.amsgrad else "s"))
    s_raw = np.asarray(s_raw, dtype=np.float64)
    T = s_raw.shape[0]
    t = np.arange(1, T + 1, dtype=np.float64).reshape((T,) + (1,) * (s_raw.ndim - 1))
    is_adam = isinstance(opt, Adam)
    if opt.form == "analysis":
        if not is_adam:
            return EffectiveS(s_raw, True, "analysis form: s_t itself" + (" (running max, amsgrad)" if opt.amsgrad else ""))
        return EffectiveS((np.sqrt(s_raw) + opt.eps) ** 2, True, "Adam analysis form: (sqrt(v_t) + eps)^2")
    denom = np.sqrt(s_raw / (1.0 - opt.beta2**t)) + opt.eps
    s_tilde = ((1.0 - opt.beta1**t) * denom) ** 2
    if is_adam:
        return EffectiveS(s_tilde, True, "Adam algorithm form: (1-beta1^t)^2 (sqrt(v_hat_t) + eps)^2")
    box = opt.feasible_set is None or isinstance(opt.feasible_set, Box)
    if box:
        return EffectiveS(s_tilde, True, "Algorithm 2 reparametrised: (1-beta1^t)^2 (sqrt(s_hat_t) + eps)^2 (box/unconstrained: exact)")
    return EffectiveS(
        s_tilde, opt.eps == 0.0,
        "Algorithm 2 reparametrised; its projection metric sqrt(s_hat_t) differs from sqrt(s_tilde_t) by the outer eps, "
        "so on a non-box set it is not the analysed update (not covered by Theorem 2.1)",
    )


# ------------------------------------------------------------------------------------------------
# the three terms
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Theorem21Terms:
    """Right-hand side of Theorem 2.1 at every horizon T = 1..len; arrays of shape (T, ...)."""

    term1: np.ndarray
    term2: np.ndarray
    term3: np.ndarray
    c: np.ndarray

    @property
    def total(self) -> np.ndarray:
        return self.term1 + self.term2 + self.term3


def _series_inputs(s, g, alpha, beta1):
    s = _checks.finite_array("s", s)
    g = _checks.finite_array("g", g)
    alpha = _checks.finite_array("alpha", alpha)
    beta1 = _checks.finite_array("beta1", beta1)
    if s.shape != g.shape or s.ndim < 2:
        raise ValueError(f"s and g must share a shape (T, ..., d); got {s.shape} and {g.shape}")
    T = s.shape[0]
    if alpha.shape != (T,) or beta1.shape != (T,):
        raise ValueError(f"alpha and beta1 must have shape (T,) = ({T},); got {alpha.shape} and {beta1.shape}")
    if np.any(s <= 0):
        raise ValueError("s must be > 0 everywhere (Theorem 2.1 assumes s_{t,i} >= c > 0); got a non-positive entry")
    if np.any(alpha <= 0):
        raise ValueError("alpha must be > 0 at every step")
    if not (0.0 <= beta1[0] < 1.0):
        raise ValueError(f"beta1[0] (beta_11 = beta1) must lie in [0, 1); got {beta1[0]!r}")
    return s, g, alpha, beta1


def _col(v: np.ndarray, ndim: int) -> np.ndarray:
    return v.reshape((-1,) + (1,) * (ndim - 1))


def running_c(s: np.ndarray) -> np.ndarray:
    """c_T = min_{t≤T, i} s_{t,i} per run; shape (T, ...) (coordinates are the last axis)."""
    return np.minimum.accumulate(np.min(np.asarray(s, dtype=np.float64), axis=-1), axis=0)


def theorem_21_terms(s: Any, g: Any, alpha: Any, beta1: Any, D_inf: float, *, c: Any = None) -> Theorem21Terms:
    r"""The three terms of Theorem 2.1 at every T = 1..len(s).

    Args:
        s: (T, ..., d) the s̃_t of the run (:func:`effective_s`), > 0.
        g: (T, ..., d) gradients g_t.
        alpha: (T,) step sizes; α = ``alpha[0]`` is the theorem's α (α_t = α/√t assumed; the
            audit checks it). Term 3 uses the realised α_t.
        beta1: (T,) β1t; β1 = ``beta1[0]`` (β11 = β1).
        D_inf: D∞ of the feasible set.
        c: the constant c > 0; default the running minimum c_T (module note).
    Returns:
        :class:`Theorem21Terms` with arrays of shape (T, ...).
    """
    s, g, alpha, beta1 = _series_inputs(s, g, alpha, beta1)
    D = _checks.positive("D_inf", D_inf)
    T = s.shape[0]
    nd = s.ndim - 1  # dims of the per-run result (..., ) plus the time axis
    a, b1 = float(alpha[0]), float(beta1[0])
    Tcol = _col(np.arange(1, T + 1, dtype=np.float64), nd)
    c_T = running_c(s) if c is None else np.broadcast_to(np.asarray(c, dtype=np.float64), s.shape[:-1])
    if np.any(c_T <= 0):
        raise ValueError(f"c must be > 0; got min {np.min(c_T)!r}")
    sqrt_s = np.sqrt(s)
    term1 = D**2 * np.sqrt(Tcol) / (2 * a * (1 - b1)) * np.sum(sqrt_s, axis=-1)
    g4 = np.sqrt(np.cumsum(g**4, axis=0))  # ‖g²_{1:T,i}‖₂
    term2 = (1 + b1) * a * np.sqrt(1 + np.log(Tcol)) / (2 * np.sqrt(c_T) * (1 - b1) ** 3) * np.sum(g4, axis=-1)
    per_step = _col(beta1 / alpha, nd) * np.sum(sqrt_s, axis=-1)
    term3 = D**2 / (2 * (1 - b1)) * np.cumsum(per_step, axis=0)
    return Theorem21Terms(term1=term1, term2=term2, term3=term3, c=c_T)


def corollary_211_constants(
    D_inf: float, G_inf: float, alpha: float, beta1: float, lam: float, *, d: int = 1, eps: float = 0.0, beta2: float = 0.0
) -> dict[str, float]:
    r"""Corollary 2.1.1's bound on term 3 for β1t = β1 λ^{t−1}, three ways.

    * ``printed``:  D∞² β1 G∞ / (2(1−β1)(1−λ)² α)                       (as in the paper)
    * ``with_d``:   d · printed — term 3 sums over i = 1..d, and each √s_{t,i} ≤ G∞ (THEORY (?))
    * ``with_d_and_eps``: d D∞² β1 √(G∞² + ε/(1−β2)) / (2(1−β1)(1−λ)² α) — with ε inside s_t,
      s_{t,i} ≤ (1−β2^t)(G∞² + ε/(1−β2)) (L15), so √s_{t,i} ≤ G∞ needs ε = 0.

    The derivation: Σ_t β1 λ^{t−1} √s_{t,i} √t/α ≤ (β1 S/α) Σ_t t λ^{t−1} ≤ β1 S/(α(1−λ)²) (L14),
    S = max √s_{t,i}.
    """
    D = _checks.positive("D_inf", D_inf)
    G = _checks.positive("G_inf", G_inf)
    a = _checks.positive("alpha", alpha)
    b1 = _checks.in_unit_interval("beta1", beta1)
    lam = _checks.decay_factor("lam", lam)
    if lam >= 1.0:
        raise ValueError(f"lam must lie in (0, 1) for Corollary 2.1.1; got {lam!r}")
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
        raise ValueError(f"d must be an integer >= 1; got {d!r}")
    eps = _checks.non_negative("eps", eps)
    b2 = _checks.in_unit_interval("beta2", beta2)
    k = D**2 * b1 / (2 * (1 - b1) * (1 - lam) ** 2 * a)
    return {
        "printed": k * G,
        "with_d": d * k * G,
        "with_d_and_eps": d * k * math.sqrt(G**2 + eps / (1 - b2)),
    }


# ------------------------------------------------------------------------------------------------
# L8–L11
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class L8L11Chain:
    r"""The chain of inequalities behind term 2, at every T (arrays (T, ...)):

    ``lhs`` = Σ_{t≤T} α_t Σ_i m_{t,i}²/√s_{t,i}
      ≤ ``after_l8``  = Σ_{t≤T} α_t Σ_i m_{t,i}²/√c_T                               (L8: s ≥ c)
      ≤ ``after_l9``  = Σ_{t≤T} α_t/√c_T · (1/(1−β1)) Σ_i Σ_{j≤t} β1^{t−j} g_{j,i}²  (L9)
      ≤ ``after_l10`` = α/(√c_T (1−β1)²) Σ_i Σ_{j≤T} g_{j,i}²/√j                  (L10, α_t = α/√t)
      ≤ ``rhs``       = α √(1+log T)/(√c_T (1−β1)²) Σ_i ‖g²_{1:T,i}‖₂              (L11, L12)
    """

    lhs: np.ndarray
    after_l8: np.ndarray
    after_l9: np.ndarray
    after_l10: np.ndarray
    rhs: np.ndarray

    def steps(self) -> dict[str, np.ndarray]:
        """Each link as a ratio left/right (≤ 1 where the step holds)."""
        chain = [self.lhs, self.after_l8, self.after_l9, self.after_l10, self.rhs]
        names = ["L8", "L9", "L10", "L11"]
        return {n: chain[k] / chain[k + 1] for k, n in enumerate(names)}


def l8_l11_chain(m: Any, s: Any, g: Any, alpha: Any, beta1: Any, *, c: Any = None) -> L8L11Chain:
    """Both sides (and the intermediate quantities) of L8–L11 at every T; see :class:`L8L11Chain`.

    Args: m, s, g of shape (T, ..., d) (m_t, s̃_t, g_t of the run); alpha, beta1 of shape (T,);
    c as in :func:`theorem_21_terms`.
    """
    s, g, alpha, beta1 = _series_inputs(s, g, alpha, beta1)
    m = _checks.finite_array("m", m)
    if m.shape != s.shape:
        raise ValueError(f"m must have the shape of s {s.shape}; got {m.shape}")
    T = s.shape[0]
    nd = s.ndim - 1
    a, b1 = float(alpha[0]), float(beta1[0])
    c_T = running_c(s) if c is None else np.broadcast_to(np.asarray(c, dtype=np.float64), s.shape[:-1])
    al = _col(alpha, nd)
    Tcol = _col(np.arange(1, T + 1, dtype=np.float64), nd)
    lhs = np.cumsum(al * np.sum(m * m / np.sqrt(s), axis=-1), axis=0)
    after_l8 = np.cumsum(al * np.sum(m * m, axis=-1), axis=0) / np.sqrt(c_T)
    ema = lfilter([1.0], [1.0, -b1], g * g, axis=0)  # Σ_{j≤t} β1^{t−j} g_j²
    after_l9 = np.cumsum(al * np.sum(ema, axis=-1), axis=0) / (np.sqrt(c_T) * (1 - b1))
    tj = _col(np.arange(1, T + 1, dtype=np.float64), s.ndim)
    after_l10 = a / (np.sqrt(c_T) * (1 - b1) ** 2) * np.sum(np.cumsum(g * g / np.sqrt(tj), axis=0), axis=-1)
    rhs = a * np.sqrt(1 + np.log(Tcol)) / (np.sqrt(c_T) * (1 - b1) ** 2) * np.sum(np.sqrt(np.cumsum(g**4, axis=0)), axis=-1)
    return L8L11Chain(lhs=lhs, after_l8=after_l8, after_l9=after_l9, after_l10=after_l10, rhs=rhs)


# ------------------------------------------------------------------------------------------------
# the assumption audit
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConvexAudit:
    """What held on the run; every array field has the per-run shape (...) of the batch.

    Attributes:
        decrease_share: share of (t, i), t ≥ 2, with s̃_{t,i} < s̃_{t−1,i} (assumption s_t ≤ s_{t+1}).
        gamma_negative_share: share of (t, i) with Γ_{t,i} < 0 (where L6 fails).
        l7_failure_share: share of t with δ_t < 0 and β1t < β1, δ_t = ‖s_t^{1/4}(θ_t − θ*)‖² −
            ‖s_t^{1/4}(θ_{t+1} − θ*)‖² (replacing 1/(1−β1t) by 1/(1−β1) multiplies a negative
            number by a larger factor: the step goes the wrong way there — Tran & Phong 2019).
        l7_excess: Σ_t (1/(1−β1t) − 1/(1−β1)) δ_t/(2α_t); > 0 means L7 fails in aggregate on the run.
        grad_bound_share: share of t with ‖g_t‖_∞ ≤ G∞/2.
        residual_bound_share: share of t with ‖g_t − m_t‖_∞ ≤ G∞.
        diameter_held: max_t ‖θ_t − θ*‖_∞ ≤ D∞ (with rounding slack 1e-12·D∞).
        c_observed: min_{t,i} s̃_{t,i}.
        schedule_ok: α_t = α/√t at every t (rtol 1e-12).
        beta1_ok: 0 ≤ β1t ≤ β1 < 1 at every t.
        assumptions_held: all of the theorem's assumptions (monotone s̃, schedule, β1t, ‖g‖ bound,
            D∞, c > 0) held on the run. L6/L7 are proof steps, reported separately.
    """

    decrease_share: np.ndarray
    gamma_negative_share: np.ndarray
    l7_failure_share: np.ndarray
    l7_excess: np.ndarray
    grad_bound_share: np.ndarray
    residual_bound_share: np.ndarray
    diameter_held: np.ndarray
    c_observed: np.ndarray
    schedule_ok: bool
    beta1_ok: bool
    assumptions_held: np.ndarray = field(repr=False)


def _share_t_i(mask: np.ndarray) -> np.ndarray:
    """Mean over time (axis 0) and coordinates (last axis): one share per run."""
    return np.mean(mask, axis=(0, -1)) if mask.shape[0] else np.zeros(mask.shape[1:-1])


def audit_theorem_21(
    trace: Any, s: Any, *, D_inf: float, G_inf: float, theta_star: Any
) -> ConvexAudit:
    """Audit Theorem 2.1's assumptions (and proof steps L6, L7) on a run.

    Args:
        trace: the run (θ, g, m, alpha, beta1 are read).
        s: (T, ..., d) the s̃_t of the run (:func:`effective_s`).
        D_inf, G_inf: the problem's constants.
        theta_star: (..., d) the comparator θ*_T at the run's horizon.
    """
    s = _checks.finite_array("s", s)
    D = _checks.positive("D_inf", D_inf)
    G = _checks.positive("G_inf", G_inf)
    theta = np.asarray(trace.theta, dtype=np.float64)
    g = np.asarray(trace.g, dtype=np.float64)
    m = np.asarray(trace.m, dtype=np.float64)
    alpha = np.asarray(trace.alpha, dtype=np.float64)
    beta1 = np.asarray(trace.beta1, dtype=np.float64)
    star = _checks.finite_array("theta_star", theta_star)
    T = s.shape[0]
    nd = s.ndim - 1
    b1 = float(beta1[0])

    decrease = _share_t_i(s[1:] < s[:-1])
    gam = _share_t_i(gamma(s, alpha) < 0)
    played, nxt = theta[:-1], theta[1:]
    sqrt_s = np.sqrt(s)
    delta = np.sum(sqrt_s * ((played - star) ** 2 - (nxt - star) ** 2), axis=-1)  # δ_t, (T, ...)
    decayed = _col(beta1 < b1, nd)
    l7_fail = np.mean((delta < 0) & decayed, axis=0)
    weight = _col((1.0 / (1.0 - beta1) - 1.0 / (1.0 - b1)) / (2.0 * alpha), nd)
    l7_excess = np.sum(weight * delta, axis=0)
    g_norm = np.max(np.abs(g), axis=-1)
    grad_share = np.mean(g_norm <= G / 2, axis=0)
    res_share = np.mean(np.max(np.abs(g - m), axis=-1) <= G, axis=0)
    diam = np.max(np.abs(played - star), axis=(0, -1)) <= D * (1 + 1e-12)
    c_obs = np.min(s, axis=(0, -1))
    t = np.arange(1, T + 1)
    schedule_ok = bool(np.allclose(alpha, alpha[0] / np.sqrt(t), rtol=1e-12, atol=0))
    beta1_ok = bool(np.all(beta1 >= 0) and np.all(beta1 <= b1) and b1 < 1)
    held = (decrease == 0) & (grad_share == 1) & diam & (c_obs > 0) & schedule_ok & beta1_ok
    return ConvexAudit(
        decrease_share=decrease, gamma_negative_share=gam, l7_failure_share=l7_fail, l7_excess=l7_excess,
        grad_bound_share=grad_share, residual_bound_share=res_share, diameter_held=diam, c_observed=c_obs,
        schedule_ok=schedule_ok, beta1_ok=beta1_ok, assumptions_held=held,
    )


# ------------------------------------------------------------------------------------------------
# everything for one run
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConvexReport:
    """Measured regret next to Theorem 2.1's bound at the requested horizons, for one trace.

    Arrays have shape (H, ...) over horizons (or (...) per run for the audit). ``ratio`` =
    regret/bound (≤ 1 where the bound holds); ``covered`` as in :class:`EffectiveS`.
    """

    horizons: np.ndarray
    regret: np.ndarray
    linearized_regret: np.ndarray
    terms: Theorem21Terms
    chain: L8L11Chain
    audit: ConvexAudit
    covered: bool
    note: str

    @property
    def bound(self) -> np.ndarray:
        return self.terms.total

    @property
    def ratio(self) -> np.ndarray:
        return self.regret / self.bound

    @property
    def bound_held(self) -> np.ndarray:
        """Per run: R(T) ≤ bound(T) at every horizon."""
        return np.all(self.regret <= self.bound, axis=0)


def run_online(
    opt: Any, problem: Any, T: int, *, backend: str = "numpy", device: Any = "auto", record: tuple[str, ...] = RECORDABLE
) -> Trace:
    """Play ``opt`` on an online problem for ``T`` steps from θ_0 = ``problem.initial_point()``.

    Step t plays θ_{t−1} (the paper's θ_t), reads g_t = ∇f_t(θ_{t−1}) and updates; every seed of
    the problem's batch runs at once. With ``backend="engine"`` the batch is stepped by the torch
    engine on ``device`` (the problem's gradients stay numpy: one host round trip per step); the
    :class:`~adabelief_ref.Trace` is the reference's to rounding.

    Args:
        opt: the optimizer. problem: an :mod:`adabelief_ref.problems.online_convex` problem.
        T: steps (≤ the problem's generated horizon). backend: ``"numpy"`` or ``"engine"``.
        device: the engine's device (``"auto"``: CUDA if present). record: arrays to keep.
    """
    return run_trace(opt, problem, problem.initial_point(), T, backend=backend, device=device, record=record)


def convex_report(problem: Any, trace: Any, opt: Any, horizons: Any = None) -> ConvexReport:
    """Regret, Theorem 2.1's terms, the L8–L11 chain and the audit of one (batched) run.

    Args:
        problem: an :mod:`adabelief_ref.problems.online_convex` problem (``regret``, ``D_inf``,
            ``G_inf``, ``comparator``).
        trace: ``run(opt, problem, theta0, T)`` with everything recorded.
        opt: the optimizer that produced the trace (for :func:`effective_s`).
        horizons: increasing horizons in [1, T] (default every T).
    """
    eff = effective_s(trace, opt)
    T = trace.T
    h = problem._check_horizons(horizons, T)
    regret = problem.regret(trace, h)
    lin = problem.linearized_regret(trace, h)
    full = theorem_21_terms(eff.s, trace.g, trace.alpha, trace.beta1, problem.D_inf)
    terms = Theorem21Terms(term1=full.term1[h - 1], term2=full.term2[h - 1], term3=full.term3[h - 1], c=full.c[h - 1])
    ch = l8_l11_chain(trace.m, eff.s, trace.g, trace.alpha, trace.beta1)
    chain = L8L11Chain(*(getattr(ch, k)[h - 1] for k in ("lhs", "after_l8", "after_l9", "after_l10", "rhs")))
    audit = audit_theorem_21(trace, eff.s, D_inf=problem.D_inf, G_inf=problem.G_inf, theta_star=problem.comparator(T))
    return ConvexReport(
        horizons=h, regret=regret, linearized_regret=lin, terms=terms, chain=chain, audit=audit,
        covered=eff.covered, note=eff.note,
    )


# ------------------------------------------------------------------------------------------------
# Reddi's family (THEORY §5): where does a run end?
# ------------------------------------------------------------------------------------------------
WORST_X = 0.9  # x̄ ≥ 0.9: the run sits at the worst point +1
BEST_X = -0.9  # x̄ ≤ −0.9: the run sits at the best point x* = −1


@dataclass(frozen=True)
class ReddiOutcome:
    """Where runs on :class:`~adabelief_ref.problems.online_convex.ReddiProblem` end, per coordinate.

    Attributes (shape (..., d), one entry per instance/coordinate):
        x_end: mean of θ_{t,i} over the last ``tail`` share of the steps.
        avg_regret: R_i(T)/T.
        tail_slope: log(R_i(T)/R_i(T/4))/log 4, the local growth exponent of the regret (≈ 1 for
            linear regret, ≤ 0.5 for O(√T)); NaN where R_i(T/4) ≤ 0 or R_i(T) ≤ 0.
        late_share: regret accrued over the second half, R_i(T) − R_i(T/2), as a share of what the
            worst point +1 accrues there, 2 Σ_{T/2<t≤T} c_{t,i} (when x* = −1 at both horizons this
            is Σ c_t (x_t + 1) / (2 Σ c_t)): 1 = at +1 throughout, 0 = at x* = −1; it can exceed 1
            (c_t has both signs: sitting at +1 on the large gradients only is worse); NaN if Σ c_t ≤ 0.
    """

    x_end: np.ndarray
    avg_regret: np.ndarray
    tail_slope: np.ndarray
    late_share: np.ndarray

    @property
    def worst(self) -> np.ndarray:
        """Ends at the worst point: x̄ ≥ 0.9."""
        return self.x_end >= WORST_X

    @property
    def converged(self) -> np.ndarray:
        """Ends at x* = −1: x̄ ≤ −0.9."""
        return self.x_end <= BEST_X


def reddi_outcome(problem: Any, trace: Any, *, tail: float = 0.1) -> ReddiOutcome:
    """Summarise a run on Reddi's family: end point, average regret and tail growth exponent.

    Args:
        problem: a ``ReddiProblem`` (x* = −1 on every coordinate when C − (P − 1) > 0).
        trace: its run (θ recorded), T ≥ 8.
        tail: share of the last steps averaged for ``x_end``, in (0, 1].
    """
    tail = _checks.positive("tail", tail)
    if tail > 1:
        raise ValueError(f"tail must lie in (0, 1]; got {tail!r}")
    T = trace.T
    if T < 8:
        raise ValueError(f"the trace must have T >= 8 steps; got {T}")
    k = max(1, int(round(tail * T)))
    x_end = np.mean(np.asarray(trace.theta)[T + 1 - k:], axis=0)
    R = problem.regret_per_coordinate(trace, np.array([T // 4, T // 2, T]))
    worst_gain = 2.0 * np.sum(problem.coefficients(T)[T // 2:], axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where((R[0] > 0) & (R[2] > 0), np.log(R[2] / R[0]) / np.log(T / (T // 4)), np.nan)
        late = np.where(worst_gain > 0, (R[2] - R[1]) / worst_gain, np.nan)
    return ReddiOutcome(x_end=x_end, avg_regret=R[2] / T, tail_slope=slope, late_share=late)


def reddi_phase_diagram(
    make_opt: Any, beta1s: Any, beta2s: Any, problem: Any, T: int, *, backend: str = "numpy", device: Any = "auto"
) -> ReddiOutcome:
    """:func:`reddi_outcome` over a grid of (β1, β2): fields of shape (len(beta1s), len(beta2s), ..., d).

    Args:
        make_opt: ``make_opt((β1, β2), feasible_set)`` → an optimizer.
        beta1s, beta2s: the grid.
        problem: a ``ReddiProblem`` (a vector of periods P runs several instances at once).
        T: steps per run; θ_0 = ``problem.initial_point()``.
        backend: ``"numpy"`` — one reference run per grid cell; ``"engine"`` — the whole grid (cells ×
            the problem's batch) steps as ONE batch of the torch engine, each run with its own β1, β2
            as (B, 1) tensors (the cells must share the optimizer class, form, schedule and
            ``amsgrad``; the gradients c_t come from the numpy problem once per step).
        device: the engine's device (``"auto"``: CUDA if present).
    """
    backend, device = check_backend(backend, device)
    b1s = [_checks.in_unit_interval("beta1s[k]", b) for b in np.atleast_1d(beta1s)]
    b2s = [_checks.in_unit_interval("beta2s[k]", b) for b in np.atleast_1d(beta2s)]
    x0 = problem.initial_point()
    if backend == "engine":
        opts = [make_opt((b1, b2), problem.feasible_set) for b1 in b1s for b2 in b2s]
        per_cell = int(np.prod(x0.shape[:-1], dtype=np.int64))  # runs of the problem's own batch
        theta0 = np.broadcast_to(x0, (len(opts),) + x0.shape)
        trace = run_trace([o for o in opts for _ in range(per_cell)], problem, theta0, T, backend=backend,
                          device=device, record=("theta",))
        out = reddi_outcome(problem, trace)
        grid = lambda a: a.reshape((len(b1s), len(b2s)) + a.shape[1:])  # noqa: E731
        return ReddiOutcome(x_end=grid(out.x_end), avg_regret=grid(out.avg_regret), tail_slope=grid(out.tail_slope),
                            late_share=grid(out.late_share))
    rows = []
    for b1 in b1s:
        row = []
        for b2 in b2s:
            opt = make_opt((b1, b2), problem.feasible_set)
            row.append(reddi_outcome(problem, run_trace(opt, problem, x0, T, record=("theta",))))
        rows.append(row)
    stack = lambda key: np.array([[getattr(o, key) for o in row] for row in rows])  # noqa: E731
    return ReddiOutcome(
        x_end=stack("x_end"), avg_regret=stack("avg_regret"), tail_slope=stack("tail_slope"), late_share=stack("late_share")
    )


# ------------------------------------------------------------------------------------------------
# growth rate of the regret
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RegretGrowth:
    """Fitted exponent p of R(T) ≈ C T^p on the last part of the run, against the rate √(T log T).

    Attributes:
        fit: slope and confidence interval over runs (:func:`~adabelief_ref.stats.fit_loglog_slope`).
        tolerance: 1/(2 ln T_min): the local log-log slope of √(T log T) at T is 1/2 + 1/(2 ln T),
            so an O(√(T log T)) regret may show a slope up to 1/2 + tolerance on [T_min, T].
        excluded: runs left out because R(T) ≤ 0 somewhere in the window (such a regret does not
            grow; the log-log fit is undefined for it).
        T_min: the first horizon of the window.
    """

    fit: Any
    tolerance: float
    excluded: int
    T_min: int

    @property
    def holds(self) -> bool:
        """Upper end of the interval ≤ 1/2 + tolerance (vacuously true when every run was excluded)."""
        return self.fit is None or self.fit.ci_high <= 0.5 + self.tolerance


def regret_growth(horizons: Any, regret: Any, *, tail: float = 0.1, level: float = 0.95) -> RegretGrowth:
    """Fit the growth exponent of R(T) on the horizons T ≥ tail·T_max (default: the last decade).

    Args:
        horizons: (H,) increasing horizons (a log grid is best).
        regret: (H, ...) regrets (one column per run, as returned by ``problem.regret``).
        tail: the window is T ≥ tail·T_max (default the last decade, T ≥ T_max/10).
        level: confidence level of the interval.
    """
    from ..stats import fit_loglog_slope

    h = np.asarray(horizons)
    R = _checks.finite_array("regret", regret).reshape(h.shape[0], -1)
    tail = _checks.positive("tail", tail)
    if tail >= 1:
        raise ValueError(f"tail must lie in (0, 1); got {tail!r}")
    window = h >= tail * h[-1]
    if np.count_nonzero(window) < 3:
        raise ValueError(f"the window T >= {tail}·T_max holds {np.count_nonzero(window)} horizons; need at least 3")
    T_min = int(h[window][0])
    if T_min < 2:
        raise ValueError("the window must start at T >= 2 (the tolerance 1/(2 ln T_min) needs ln T_min > 0)")
    Rw = R[window]
    keep = np.all(Rw > 0, axis=0)
    fit = fit_loglog_slope(h[window].astype(np.float64), Rw[:, keep].T, level=level) if np.any(keep) else None
    return RegretGrowth(fit=fit, tolerance=1.0 / (2.0 * math.log(T_min)), excluded=int(np.count_nonzero(~keep)), T_min=T_min)
