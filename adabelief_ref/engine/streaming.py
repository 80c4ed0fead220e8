r"""Streamed assumption audits and the a-posteriori bound of Theorem 2.1, in O(B·d) memory.

A long run (T up to 10^6) cannot keep its trajectory, so the quantities Theorems 2.1/2.2 need are
accumulated per run while it goes (float64, on the device), from the s that enters the step
(s_max with AMSGrad, else s_t), the gradients g_t and the schedule (THEORY §2, §4):

=====================  ===========================================================================
``c``                  min_{τ≤t, i} s_{τ,i} — the c of "s_{t,i} ≥ c > 0"
``s_decrease_share``   share of (τ, i), 2 ≤ τ ≤ t, with s_{τ,i} < s_{τ−1,i} (the theorems assume 0)
``gamma_neg_share``    share of (τ, i), 2 ≤ τ ≤ t, with Γ_{τ,i} = √s_{τ,i}/α_τ − √s_{τ−1,i}/α_{τ−1} < 0 (L6)
``g_inf_max``          max_τ ‖g_τ‖_∞ (Theorem 2.1 needs ≤ G∞/2)
``g_l2_max``           max_τ ‖g_τ‖₂ (Theorem 2.2 needs ≤ H)
``g4_norm_sum``        Σ_i ‖g²_{1:t,i}‖₂ = Σ_i (Σ_τ g_{τ,i}⁴)^{1/2}
``sqrt_s_sum``         Σ_i s_{t,i}^{1/2} (at the checkpoint)
``beta1_term``         Σ_τ Σ_i β1τ s_{τ,i}^{1/2} / α_τ (the third term of Theorem 2.1)
=====================  ===========================================================================
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from .. import _checks

AUDIT_METRICS = (
    "c", "s_decrease_share", "gamma_neg_share", "g_inf_max", "g_l2_max", "g4_norm_sum", "sqrt_s_sum", "beta1_term",
)


def init_audit(B: int, d: int, device: torch.device) -> dict[str, Any]:
    """Empty accumulators for B runs of dimension d."""
    z = lambda *shape: torch.zeros(shape, dtype=torch.float64, device=device)  # noqa: E731
    return {
        "c": z(B) + math.inf, "s_dec": z(B), "gamma_neg": z(B), "g_inf": z(B), "g_l2": z(B),
        "g4": z(B, d), "beta1_term": z(B), "prev_s": None, "prev_ratio": None, "sqrt_s": None, "pairs": 0,
    }


def update_audit(acc: dict[str, Any], s_used: torch.Tensor, g: torch.Tensor, alpha_t: torch.Tensor,
                 b1t: torch.Tensor) -> dict[str, Any]:
    """Add step t: s_used = the s of the step (B, d), g = g_t (B, d), α_t and β1t as (B, 1)."""
    s = s_used.to(torch.float64)
    g64 = g.to(torch.float64)
    a = alpha_t.to(torch.float64)
    sqrt_s = torch.sqrt(s)
    ratio = sqrt_s / a
    g2 = g64 * g64
    out = dict(acc)
    out["c"] = torch.minimum(acc["c"], s.amin(dim=1))
    out["g_inf"] = torch.maximum(acc["g_inf"], g64.abs().amax(dim=1))
    out["g_l2"] = torch.maximum(acc["g_l2"], torch.sqrt(g2.sum(dim=1)))
    out["g4"] = acc["g4"] + g2 * g2
    out["beta1_term"] = acc["beta1_term"] + (b1t.to(torch.float64) * ratio).sum(dim=1)
    if acc["prev_s"] is not None:
        out["s_dec"] = acc["s_dec"] + (s < acc["prev_s"]).sum(dim=1)
        out["gamma_neg"] = acc["gamma_neg"] + (ratio < acc["prev_ratio"]).sum(dim=1)
        out["pairs"] = acc["pairs"] + 1
    out["prev_s"], out["prev_ratio"], out["sqrt_s"] = s, ratio, sqrt_s
    return out


def summarize_audit(acc: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The metrics of the table above, each (B,), at the current step."""
    d = acc["g4"].shape[1]
    pairs = max(acc["pairs"] * d, 1)
    prev = acc["sqrt_s"]
    return {
        "c": acc["c"],
        "s_decrease_share": acc["s_dec"] / pairs,
        "gamma_neg_share": acc["gamma_neg"] / pairs,
        "g_inf_max": acc["g_inf"],
        "g_l2_max": acc["g_l2"],
        "g4_norm_sum": torch.sqrt(acc["g4"]).sum(dim=1),
        "sqrt_s_sum": prev.sum(dim=1) if prev is not None else torch.zeros_like(acc["c"]),
        "beta1_term": acc["beta1_term"],
    }


def theorem21_rhs(T: Any, *, lr: Any, beta1: Any, D_inf: float, c: Any, sqrt_s_sum: Any, g4_norm_sum: Any,
                  beta1_term: Any) -> dict[str, np.ndarray]:
    r"""The right-hand side of Theorem 2.1 (THEORY §2) from streamed quantities, per run::

        R(T) ≤ D∞² √T / (2α(1 − β1)) · Σ_i s_{T,i}^{1/2}
             + (1 + β1) α √(1 + log T) / (2√c (1 − β1)³) · Σ_i ‖g²_{1:T,i}‖₂
             + D∞² / (2(1 − β1)) · Σ_t Σ_i β1t s_{t,i}^{1/2} / α_t

    Args:
        T: horizon(s), broadcastable against the per-run arrays (e.g. (K, 1) against (K, B)).
        lr: α of α_t = α/√t; beta1: β1 = β11 (per run or scalar); D_inf: D∞ of F.
        c, sqrt_s_sum, g4_norm_sum, beta1_term: the streamed metrics of the same name.

    Returns:
        dict with ``term1``, ``term2``, ``term3`` and ``total`` (numpy arrays).
    """
    D = _checks.non_negative("D_inf", D_inf)
    T = np.asarray(T, dtype=np.float64)
    if np.any(T < 1):
        raise ValueError(f"T must be >= 1; got min {T.min()}")
    alpha = np.asarray(lr, dtype=np.float64)
    b1 = np.asarray(beta1, dtype=np.float64)
    c = np.asarray(c, dtype=np.float64)
    if np.any(c <= 0):
        raise ValueError("c must be > 0 (Theorem 2.1 assumes s_{t,i} >= c > 0); got a non-positive value")
    term1 = D * D * np.sqrt(T) / (2.0 * alpha * (1.0 - b1)) * np.asarray(sqrt_s_sum, dtype=np.float64)
    term2 = ((1.0 + b1) * alpha * np.sqrt(1.0 + np.log(T)) / (2.0 * np.sqrt(c) * (1.0 - b1) ** 3)
             * np.asarray(g4_norm_sum, dtype=np.float64))
    term3 = D * D / (2.0 * (1.0 - b1)) * np.asarray(beta1_term, dtype=np.float64)
    return {"term1": term1, "term2": term2, "term3": term3, "total": term1 + term2 + term3}
