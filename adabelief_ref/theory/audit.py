"""Assumption audits shared by Theorems 2.1 and 2.2: measured on a run, never assumed.

All functions take arrays shaped (T, *shape) with time first (as in :class:`~adabelief_ref.Trace`).
"""

from __future__ import annotations

import numpy as np


def decrease_share(s: np.ndarray) -> float:
    """Share of pairs (t, i), t = 2..T, with s_{t,i} < s_{t−1,i}.

    Theorems 2.1 and 2.2 assume s_t ≤ s_{t+1} (element-wise); 0 means the assumption held on
    the whole run. Raw AdaBelief typically violates it on many steps (THEORY §4).
    """
    s = np.asarray(s, dtype=np.float64)
    if s.shape[0] < 2:
        return 0.0
    return float(np.mean(s[1:] < s[:-1]))


def observed_c(s: np.ndarray) -> float:
    """c = min_{t,i} s_{t,i}: the largest constant with s_{t,i} ≥ c > 0 on the run."""
    return float(np.min(s))


def within_bound_share(g: np.ndarray, bound: float, *, ord: float = np.inf) -> float:
    """Share of steps t with ‖g_t‖_ord ≤ ``bound`` (norm over all non-time axes).

    Theorem 2.1 needs ‖g_t‖_∞ ≤ G∞/2 (``bound=G_inf/2``); Theorem 2.2 needs ‖g_t‖_2 ≤ H.
    """
    g = np.asarray(g, dtype=np.float64)
    flat = g.reshape(g.shape[0], -1)
    norms = np.linalg.norm(flat, ord=ord, axis=1)
    return float(np.mean(norms <= bound))


def gamma(s: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Γ_{t,i} = √s_{t,i}/α_t − √s_{t−1,i}/α_{t−1} for t = 2..T; shape (T−1, *shape).

    Step L6 of Theorem 2.1's proof telescopes Σ_t Γ_{t,i}(θ_{t,i} − θ*_i)² ≤ D∞² Σ_t Γ_{t,i}, which
    needs Γ_{t,i} ≥ 0. Γ ≥ 0 is also the condition "α_t/√s_t non-increasing" of Theorem 2.2's
    proof (THEORY N1). ``alpha`` is the (T,) step-size sequence α_1..α_T.
    """
    s = np.asarray(s, dtype=np.float64)
    a = np.asarray(alpha, dtype=np.float64).reshape((-1,) + (1,) * (s.ndim - 1))
    ratio = np.sqrt(s) / a
    return ratio[1:] - ratio[:-1]


def negative_gamma_share(s: np.ndarray, alpha: np.ndarray) -> float:
    """Share of pairs (t, i), t = 2..T, with Γ_{t,i} < 0 (where step L6 fails; see :func:`gamma`)."""
    s = np.asarray(s, dtype=np.float64)
    if s.shape[0] < 2:
        return 0.0
    return float(np.mean(gamma(s, alpha) < 0))
