"""Validation helpers shared by every module: each raises a ``ValueError`` that names the
offending parameter, the value received and what is accepted."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def positive(name: str, value: Any) -> float:
    """Return ``value`` as a float, requiring a finite number > 0."""
    v = _as_float(name, value)
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a finite number > 0; got {value!r}")
    return v


def non_negative(name: str, value: Any) -> float:
    """Return ``value`` as a float, requiring a finite number >= 0."""
    v = _as_float(name, value)
    if not (math.isfinite(v) and v >= 0):
        raise ValueError(f"{name} must be a finite number >= 0; got {value!r}")
    return v


def in_unit_interval(name: str, value: Any) -> float:
    """Return ``value`` as a float, requiring 0 <= value < 1 (the range of β1, β2)."""
    v = _as_float(name, value)
    if not (0.0 <= v < 1.0):
        raise ValueError(f"{name} must lie in [0, 1); got {value!r}")
    return v


def betas_pair(value: Any) -> tuple[float, float]:
    """Validate ``betas=(β1, β2)``: a pair of numbers, each in [0, 1)."""
    try:
        b1, b2 = value
    except (TypeError, ValueError):
        raise ValueError(f"betas must be a pair (beta1, beta2), each in [0, 1); got {value!r}") from None
    return in_unit_interval("betas[0] (beta1)", b1), in_unit_interval("betas[1] (beta2)", b2)


def decay_factor(name: str, value: Any) -> float:
    """Validate a decay factor λ in (0, 1] (λ = 1 means no decay)."""
    v = _as_float(name, value)
    if not (0.0 < v <= 1.0):
        raise ValueError(f"{name} must lie in (0, 1]; got {value!r}")
    return v


def choice(name: str, value: Any, accepted: tuple[str, ...]) -> str:
    """Require ``value`` to be one of the strings in ``accepted``."""
    if value not in accepted:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, accepted))}; got {value!r}")
    return value


def finite_array(name: str, value: Any, *, step: int | None = None) -> np.ndarray:
    """Return ``value`` as a float64 array, refusing NaN or inf entries (with the step number)."""
    arr = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        bad = np.flatnonzero(~np.isfinite(arr.reshape(-1)))
        where = f" at step t={step}" if step is not None else ""
        raise ValueError(
            f"{name}{where} contains non-finite values (NaN or inf) at flat index {bad[:5].tolist()}"
            f"{' ...' if bad.size > 5 else ''}; only finite values are accepted"
        )
    return arr


def same_shape(name: str, arr: np.ndarray, expected: tuple[int, ...]) -> None:
    """Require ``arr.shape == expected``."""
    if arr.shape != tuple(expected):
        raise ValueError(f"{name} has shape {arr.shape}, but the optimizer state has shape {tuple(expected)}")


def _as_float(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number; got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number; got {value!r}") from None
