r"""Counter-based random numbers: the value of stream ``k`` for run seed ``σ_b``, step ``t`` and
coordinate ``i`` is a fixed function u(σ_b, k, t, i) — computed on any device, in any batch layout.

Why not a ``torch.Generator``: a generator's stream depends on how many numbers were drawn before
and on the device (CPU and CUDA use different algorithms), so the noise of run b would change
when the batch is split across processes or moved to a GPU. A counter-based value depends only on
(σ_b, k, t, i): a sharded run, a single-process run and the per-seed numpy reference see the
same data, bit for bit, and nothing is transferred from the host per step.

Construction (32-bit words, all arithmetic exact in int64/uint64)::

    mix(x)   = x ⊕ (x ≫ 16); x ← x·0x21f0aaad mod 2³²; x ⊕= x ≫ 15; x ← x·0x735a2d97 mod 2³²; x ⊕= x ≫ 15
    key      = mix( mix( mix(k) ⊕ σ_b ) ⊕ i )                    (per run and coordinate, once)
    h(t)     = mix( (mix(key ⊕ mix(t)) + key) mod 2³² )
    u        = (h(t) + ½) / 2³²  ∈ (0, 1)

Both multipliers are < 2³¹, so every product of a 32-bit word fits in a signed int64 (no overflow
on any device). ``mix`` is the "lowbias32" integer hash (C. Wellons' hash-prospector); this is a
simulation generator, not a cryptographic one. ``uniform_torch`` and ``uniform_numpy`` are two
independent implementations of the same function; the tests require them to agree exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

MASK32 = 0xFFFFFFFF
_M1 = 0x21F0AAAD
_M2 = 0x735A2D97
TWO_POW_M32 = 2.0**-32
MAX_SEED = 2**32 - 1
MAX_T = 2**32 - 1


def check_seeds(seeds: Any) -> np.ndarray:
    """Return ``seeds`` as a (B,) int64 array of integers in [0, 2³² − 1]."""
    arr = np.asarray(seeds)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1 or arr.size == 0 or arr.dtype.kind not in "iu":
        raise ValueError(f"seeds must be a non-empty 1-d sequence of integers in [0, 2**32 - 1]; got {seeds!r}")
    if arr.min() < 0 or arr.max() > MAX_SEED:
        raise ValueError(f"seeds must lie in [0, 2**32 - 1]; got min {arr.min()}, max {arr.max()}")
    return arr.astype(np.int64)


def mix_int(x: int) -> int:
    """The 32-bit mixing function on a Python int (used for the per-step counter)."""
    x &= MASK32
    x ^= x >> 16
    x = (x * _M1) & MASK32
    x ^= x >> 15
    x = (x * _M2) & MASK32
    x ^= x >> 15
    return x


def _check_t(t: int) -> int:
    if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or not (0 <= t <= MAX_T):
        raise ValueError(f"t must be an integer in [0, 2**32 - 1]; got {t!r}")
    return int(t)


# -- torch ---------------------------------------------------------------------------------------
def _mix_torch(x: torch.Tensor) -> torch.Tensor:
    x = x ^ (x >> 16)
    x = (x * _M1) & MASK32
    x = x ^ (x >> 15)
    x = (x * _M2) & MASK32
    return x ^ (x >> 15)


def keys_torch(seeds: Any, stream: int, d: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """(B, d) int64 keys mix(mix(mix(k) ⊕ σ_b) ⊕ i) for seeds σ (B,), stream k, coordinates i < d."""
    sigma = torch.as_tensor(check_seeds(seeds), device=device).reshape(-1, 1)
    i = torch.arange(d, dtype=torch.int64, device=device).reshape(1, -1)
    k = mix_int(int(stream))
    return _mix_torch(_mix_torch(k ^ sigma) ^ i)


def uniform_torch(keys: torch.Tensor, t: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """u(σ_b, k, t, i) ∈ (0, 1) for every entry of ``keys`` (from :func:`keys_torch`), in ``dtype``."""
    tk = mix_int(_check_t(t))
    h = _mix_torch(((_mix_torch(keys ^ tk) + keys) & MASK32))
    return (h.to(torch.float64) + 0.5).mul_(TWO_POW_M32).to(dtype)


# -- numpy (the reference) -----------------------------------------------------------------------
def _mix_numpy(x: np.ndarray) -> np.ndarray:
    m = np.uint64(MASK32)
    x = x ^ (x >> np.uint64(16))
    x = (x * np.uint64(_M1)) & m
    x = x ^ (x >> np.uint64(15))
    x = (x * np.uint64(_M2)) & m
    return x ^ (x >> np.uint64(15))


def keys_numpy(seeds: Any, stream: int, d: int) -> np.ndarray:
    """numpy twin of :func:`keys_torch`: (B, d) uint64 keys."""
    sigma = check_seeds(seeds).astype(np.uint64).reshape(-1, 1)
    i = np.arange(d, dtype=np.uint64).reshape(1, -1)
    k = np.uint64(mix_int(int(stream)))
    return _mix_numpy(_mix_numpy(k ^ sigma) ^ i)


def uniform_numpy(keys: np.ndarray, t: int) -> np.ndarray:
    """numpy twin of :func:`uniform_torch` (float64)."""
    tk = np.uint64(mix_int(_check_t(t)))
    h = _mix_numpy((_mix_numpy(keys ^ tk) + keys) & np.uint64(MASK32))
    return (h.astype(np.float64) + 0.5) * TWO_POW_M32
