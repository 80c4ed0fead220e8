r"""A single-pass, multi-tensor AdaBelief step for contiguous CPU tensors (the ``fused=True`` path
of :class:`adabelief_ref.torch_optim.AdaBelief`).

One call updates every tensor of a parameter group: each element of θ, g, m, s (and s_max) is read
once and θ, m, s (s_max) are written once, which is the minimum memory traffic of Algorithm 2
(THEORY §1.1)::

    g'  = g + λ θ                                   (coupled weight decay, λ = weight_decay)
    θ'  = θ (1 − α λ)                               (decoupled weight decay, AdamW style)
    m_t = β1 m_{t−1} + (1 − β1) g'
    s_t = β2 s_{t−1} + (1 − β2)(g' − m_t)² + ε
    s_max,t = max(s_max,t−1, s_t)                   (amsgrad; the step then uses s_max,t)
    θ_t = θ' − (α / (1 − β1^t)) · m_t / (√s_t · (1 − β2^t)^{−1/2} + ε)

The step count t is kept per tensor (a float64 0-d tensor the kernel increments), so tensors of one
group may have taken different numbers of steps. float16 and bfloat16 parameters and gradients
are read into float32, the state is float32 and θ is written back rounded to nearest even; float32
computes in float32 and float64 in float64.

The same call first scans the gradients for inf/NaN (exponent bits all ones) and writes nothing
if it finds one; each thread then updates its share of the elements backwards, so the gradients it
scanned last are still in cache and the scan adds little memory traffic. The caller passes the
thread count (``torch.get_num_threads()``); the OpenMP runtime is the ``libgomp.so.1`` that torch
has already loaded, so no second thread pool competes with torch's.

The kernel is C code compiled on first use with the system C compiler (``$CC`` or ``cc``) and
OpenMP into a shared object, cached under ``$ADABELIEF_REF_CACHE`` (default
``~/.cache/adabelief_ref``) by the hash of its source and flags, and called through ctypes. On
x86-64 the inner loops are built for AVX-512, AVX2 and baseline x86-64 (``target_clones``) and the
loader picks the best for the running CPU. Floating-point contraction is off, so results do not
depend on which clone runs. Nothing here imports torch: the caller passes raw data pointers.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

# Element types understood by the kernel (index = the ``dtype`` argument of the C entry points).
DTYPES = ("float32", "float64", "float16", "bfloat16")
# Below this many elements in a call the kernel runs on one thread (a parallel region costs more).
_SERIAL_BELOW = 1 << 16

_C_SOURCE = r"""
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ABR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define ABR_CLONES
#endif

/* ---- element conversions: storage type <-> compute type ------------------------------------ */
static inline float abr_bf16_to_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}
static inline uint16_t abr_f32_to_bf16(float f) {  /* round to nearest, ties to even */
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x0040u); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

#define LOAD_f32(x) (x)
#define STORE_f32(x) (x)
#define LOAD_f64(x) (x)
#define STORE_f64(x) (x)
#define LOAD_f16(x) ((float)(x))
#define STORE_f16(x) ((_Float16)(x))
#define LOAD_bf16(x) abr_bf16_to_f32(x)
#define STORE_bf16(x) abr_f32_to_bf16(x)

/* ---- the element-wise update on one contiguous segment ------------------------------------- */
/* WD: 0 none, 1 coupled (g' = g + wd*theta), 2 decoupled (theta' = theta*decay). AMS: amsgrad. */
#define ABR_SEGMENT(NAME, T, A, TAG, AMS, WD)                                                      \
ABR_CLONES static void NAME(int64_t n, T *restrict p, const T *restrict g, A *restrict m,        \
                            A *restrict s, A *restrict smax, A step_size, A inv_sqrt_bc2,        \
                            A b1, A omb1, A b2, A omb2, A eps, A wd, A decay) {                  \
    for (int64_t j = 0; j < n; ++j) {                                                            \
        A theta = LOAD_##TAG(p[j]);                                                              \
        A grad = LOAD_##TAG(g[j]);                                                               \
        if (WD == 1) grad = grad + wd * theta;                                                   \
        if (WD == 2) theta = theta * decay;                                                      \
        A m_t = b1 * m[j] + omb1 * grad;                                                         \
        A prediction_error = grad - m_t;                                                         \
        A s_t = b2 * s[j] + omb2 * (prediction_error * prediction_error) + eps;                 \
        m[j] = m_t;                                                                              \
        s[j] = s_t;                                                                              \
        if (AMS) {                                                                               \
            A prev = smax[j];                                                                    \
            s_t = s_t > prev ? s_t : prev;                                                       \
            smax[j] = s_t;                                                                       \
        }                                                                                        \
        A denom = sqrtf_or_sqrt_##A(s_t) * inv_sqrt_bc2 + eps;                                   \
        theta = theta - step_size * m_t / denom;                                                 \
        p[j] = STORE_##TAG(theta);                                                               \
    }                                                                                            \
}

#define sqrtf_or_sqrt_float(x) sqrtf(x)
#define sqrtf_or_sqrt_double(x) sqrt(x)

typedef void (*abr_seg_fn)(int64_t, void *, const void *, void *, void *, void *, double, double,
                           double, double, double, double, double, double, double);

/* A segment function per (dtype, amsgrad, weight-decay mode), wrapped to take doubles. */
#define ABR_VARIANT(TAG, T, A, AMS, WD)                                                            \
ABR_SEGMENT(seg_##TAG##_##AMS##_##WD, T, A, TAG, AMS, WD)                                        \
static void call_##TAG##_##AMS##_##WD(int64_t n, void *p, const void *g, void *m, void *s,       \
                                      void *smax, double step_size, double isb2, double b1,      \
                                      double omb1, double b2, double omb2, double eps, double wd, \
                                      double decay) {                                            \
    seg_##TAG##_##AMS##_##WD(n, (T *)p, (const T *)g, (A *)m, (A *)s, (A *)smax, (A)step_size,   \
                             (A)isb2, (A)b1, (A)omb1, (A)b2, (A)omb2, (A)eps, (A)wd, (A)decay);   \
}

#define ABR_ALL_MODES(TAG, T, A)                                                                   \
ABR_VARIANT(TAG, T, A, 0, 0) ABR_VARIANT(TAG, T, A, 0, 1) ABR_VARIANT(TAG, T, A, 0, 2)           \
ABR_VARIANT(TAG, T, A, 1, 0) ABR_VARIANT(TAG, T, A, 1, 1) ABR_VARIANT(TAG, T, A, 1, 2)

ABR_ALL_MODES(f32, float, float)
ABR_ALL_MODES(f64, double, double)
ABR_ALL_MODES(f16, _Float16, float)
ABR_ALL_MODES(bf16, uint16_t, float)

#define ABR_ROW(TAG) {call_##TAG##_0_0, call_##TAG##_0_1, call_##TAG##_0_2,                       \
                      call_##TAG##_1_0, call_##TAG##_1_1, call_##TAG##_1_2}
static const abr_seg_fn ABR_TABLE[4][6] = {ABR_ROW(f32), ABR_ROW(f64), ABR_ROW(f16), ABR_ROW(bf16)};
static const int ABR_SIZE[4] = {4, 8, 2, 2};
static const int ABR_STATE_SIZE[4] = {4, 8, 4, 4};

/* ---- non-finite detection on raw bits (exponent all ones = inf or NaN) --------------------- */
#define ABR_ANY_NONFINITE(NAME, U, MASK)                                                           \
ABR_CLONES static int NAME(int64_t n, const U *restrict x) {                                    \
    U bad = 0;                                                                                   \
    for (int64_t j = 0; j < n; ++j) bad |= (U)((x[j] & (U)(MASK)) == (U)(MASK));                 \
    return bad != 0;                                                                             \
}
ABR_ANY_NONFINITE(nonfinite_u32, uint32_t, 0x7f800000u)
ABR_ANY_NONFINITE(nonfinite_u64, uint64_t, 0x7ff0000000000000ull)
ABR_ANY_NONFINITE(nonfinite_f16, uint16_t, 0x7c00u)
ABR_ANY_NONFINITE(nonfinite_bf16, uint16_t, 0x7f80u)

static int abr_segment_nonfinite(int dtype, int64_t n, const char *x) {
    switch (dtype) {
        case 0: return nonfinite_u32(n, (const uint32_t *)x);
        case 1: return nonfinite_u64(n, (const uint64_t *)x);
        case 2: return nonfinite_f16(n, (const uint16_t *)x);
        default: return nonfinite_bf16(n, (const uint16_t *)x);
    }
}

/* The tensors are laid end to end; thread k of nt owns elements [k*total/nt, (k+1)*total/nt). */
static void abr_range(int64_t total, int k, int nt, int64_t *lo, int64_t *hi) {
    *lo = total / nt * k + total % nt * k / nt;
    *hi = total / nt * (k + 1) + total % nt * (k + 1) / nt;
}

/* First tensor (lowest index) with a non-finite element in this thread's range, or -1. */
static int64_t abr_scan(int dtype, int64_t n_tensors, char *const *x, const int64_t *numel,
                        int64_t lo, int64_t hi) {
    int64_t start = 0;
    for (int64_t i = 0; i < n_tensors && start < hi; start += numel[i], ++i) {
        int64_t a = lo > start ? lo : start, b = hi < start + numel[i] ? hi : start + numel[i];
        if (a < b && abr_segment_nonfinite(dtype, b - a, x[i] + (a - start) * ABR_SIZE[dtype])) return i;
    }
    return -1;
}

static int64_t abr_min_index(const int64_t *found, int n) {
    int64_t first = -1;
    for (int k = 0; k < n; ++k)
        if (found[k] >= 0 && (first < 0 || found[k] < first)) first = found[k];
    return first;
}

static int abr_threads(const int64_t *numel, int64_t n_tensors, int nthreads, int64_t *total) {
    *total = 0;
    for (int64_t i = 0; i < n_tensors; ++i) *total += numel[i];
    return (*total < SERIAL_BELOW || nthreads < 1) ? 1 : nthreads;
}

/* Index of the first tensor whose elements contain inf or NaN, or -1. */
int64_t abr_first_nonfinite(int dtype, int64_t n_tensors, char *const *x, const int64_t *numel,
                            int nthreads) {
    int64_t total;
    int nt = abr_threads(numel, n_tensors, nthreads, &total);
    int64_t *found = (int64_t *)malloc(sizeof(int64_t) * (size_t)nt);
    int used = 1;
    for (int k = 0; k < nt; ++k) found[k] = -1;
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        int k = omp_get_thread_num(), nk = omp_get_num_threads();
        int64_t lo, hi;
        abr_range(total, k, nk, &lo, &hi);
        found[k] = abr_scan(dtype, n_tensors, x, numel, lo, hi);
        if (k == 0) used = nk;
    }
    int64_t first = abr_min_index(found, used);
    free(found);
    return first;
}

#define ABR_CHUNK 4096

/* One AdaBelief step on every tensor. With check != 0 the gradients are first scanned; if one
   holds inf or NaN nothing at all is written and its index is returned. Otherwise steps[i] is
   incremented and used for the bias corrections, every element is updated, and -1 is returned.
   Each thread updates its share backwards, so the gradients it scanned last are still cached. */
int64_t abr_step(int dtype, int amsgrad, int wd_mode, int check, int64_t n_tensors, char *const *p,
                 char *const *g, char *const *m, char *const *s, char *const *smax,
                 double *const *steps, const int64_t *numel, double lr, double b1, double b2,
                 double eps, double wd, int nthreads) {
    int64_t total;
    int nt = abr_threads(numel, n_tensors, nthreads, &total);
    int64_t *found = (int64_t *)malloc(sizeof(int64_t) * (size_t)nt);
    double *coef = (double *)malloc(sizeof(double) * 2 * (size_t)(n_tensors > 0 ? n_tensors : 1));
    abr_seg_fn fn = ABR_TABLE[dtype][3 * (amsgrad ? 1 : 0) + wd_mode];
    int es = ABR_SIZE[dtype], ss = ABR_STATE_SIZE[dtype];
    double decay = 1.0 - lr * wd;
    int64_t bad = -1;
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        int k = omp_get_thread_num(), nk = omp_get_num_threads();
        int64_t lo, hi;
        abr_range(total, k, nk, &lo, &hi);
        if (check) found[k] = abr_scan(dtype, n_tensors, g, numel, lo, hi);
#pragma omp barrier
#pragma omp single
        {
            if (check) bad = abr_min_index(found, nk);
            if (bad < 0) {
                for (int64_t i = 0; i < n_tensors; ++i) {
                    double t = *steps[i] + 1.0;
                    *steps[i] = t;
                    coef[2 * i] = lr / (1.0 - pow(b1, t));          /* alpha / (1 - beta1^t) */
                    coef[2 * i + 1] = 1.0 / sqrt(1.0 - pow(b2, t)); /* (1 - beta2^t)^(-1/2) */
                }
            }
        } /* implicit barrier: bad, coef and the steps are visible to every thread */
        if (bad < 0) {
            int64_t start = total;
            for (int64_t i = n_tensors - 1; i >= 0 && start > lo; --i) {
                start -= numel[i];
                int64_t a = lo > start ? lo : start, b = hi < start + numel[i] ? hi : start + numel[i];
                for (int64_t end = b; end > a; end -= ABR_CHUNK) {
                    int64_t first = end - ABR_CHUNK > a ? end - ABR_CHUNK : a, off = first - start;
                    fn(end - first, p[i] + off * es, g[i] + off * es, m[i] + off * ss, s[i] + off * ss,
                       amsgrad ? smax[i] + off * ss : NULL, coef[2 * i], coef[2 * i + 1], b1, 1.0 - b1,
                       b2, 1.0 - b2, eps, wd, decay);
                }
            }
        }
    }
    free(found);
    free(coef);
    return bad;
}
"""

_CFLAGS = ("-O3", "-fno-math-errno", "-ffp-contract=off", "-fopenmp", "-shared", "-fPIC", "-std=gnu11")

_lib: ctypes.CDLL | None = None


def _cache_dir() -> Path:
    """``$ADABELIEF_REF_CACHE``, else ``~/.cache/adabelief_ref`` if writable, else a temp folder."""
    root = os.environ.get("ADABELIEF_REF_CACHE")
    if root:
        return Path(root)
    home = Path.home() / ".cache" / "adabelief_ref"
    try:
        home.mkdir(parents=True, exist_ok=True)
        if os.access(home, os.W_OK):
            return home
    except OSError:
        pass
    return Path(tempfile.gettempdir()) / f"adabelief_ref-{os.getuid() if hasattr(os, 'getuid') else 'user'}"


def _compiler() -> str:
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise RuntimeError(
            "fused=True needs a C compiler with OpenMP to build its CPU kernel, and none was found "
            "(set $CC or install gcc); use foreach=True instead"
        )
    return cc


def build(target: Path, cc: str | None = None) -> None:
    """Compile the kernel into the shared object ``target`` (written under a temporary name, then
    renamed, so concurrent builds never expose a partial file). ``cc`` defaults to ``$CC``/``cc``."""
    target = Path(target)
    cc = cc or _compiler()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        src = Path(tmp) / "adabelief_fused.c"
        src.write_text(_C_SOURCE.replace("SERIAL_BELOW", str(_SERIAL_BELOW)))
        out = Path(tmp) / target.name
        proc = subprocess.run([cc, *_CFLAGS, str(src), "-o", str(out), "-lm"], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(
                f"building the fused AdaBelief CPU kernel with {cc!r} failed "
                f"(use foreach=True instead):\n{proc.stderr.strip()}"
            )
        os.replace(out, target)


def load() -> ctypes.CDLL:
    """Return the kernel library, compiling it on the first call of the process if not cached."""
    global _lib
    if _lib is not None:
        return _lib
    cc = _compiler()
    key = hashlib.sha256(
        "\0".join([_C_SOURCE, str(_SERIAL_BELOW), cc, *_CFLAGS, sys.platform, platform.machine()]).encode()
    ).hexdigest()[:16]
    target = _cache_dir() / f"adabelief_fused_{key}.so"
    if not target.exists():
        build(target, cc)
    lib = ctypes.CDLL(str(target))
    ptrs = ctypes.c_void_p
    lib.abr_first_nonfinite.restype = ctypes.c_int64
    lib.abr_first_nonfinite.argtypes = [ctypes.c_int, ctypes.c_int64, ptrs, ptrs, ctypes.c_int]
    lib.abr_step.restype = ctypes.c_int64
    lib.abr_step.argtypes = [
        ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int64,
        ptrs, ptrs, ptrs, ptrs, ptrs, ptrs, ptrs,
        ctypes.c_double, ctypes.c_double, ctypes.c_double, ctypes.c_double, ctypes.c_double,
        ctypes.c_int,
    ]
    _lib = lib
    return lib


def _pointer_array(addresses: list[int]) -> np.ndarray:
    return np.asarray(addresses, dtype=np.uintp)


def first_nonfinite(dtype: str, grad_ptrs: list[int], numels: np.ndarray, nthreads: int) -> int:
    """Index of the first gradient (in list order) holding inf or NaN, or −1 if all are finite."""
    ptrs = _pointer_array(grad_ptrs)
    return int(
        load().abr_first_nonfinite(DTYPES.index(dtype), len(grad_ptrs), ptrs.ctypes.data, numels.ctypes.data, nthreads)
    )


def step(
    dtype: str,
    *,
    amsgrad: bool,
    wd_mode: int,
    params: list[int],
    grads: list[int],
    exp_avgs: list[int],
    exp_avg_vars: list[int],
    max_exp_avg_vars: list[int] | None,
    steps: list[int],
    numels: np.ndarray,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    nthreads: int,
    check: bool = True,
) -> int:
    """Run one fused step over tensors given by data pointers (see the module docstring).

    ``wd_mode``: 0 no weight decay, 1 coupled, 2 decoupled. ``steps`` point to float64 scalars
    holding t − 1; they are incremented in place. ``numels`` is an int64 array.

    With ``check=True`` the gradients are scanned first (in the same call, each thread then
    updating its share in reverse order so that the gradients it just read are still in cache):
    if any holds inf or NaN, nothing is written and the index of the first such tensor is
    returned. Otherwise (and always with ``check=False``) the step is taken and −1 is returned.
    """
    n = len(params)
    arrays = [_pointer_array(a) for a in (params, grads, exp_avgs, exp_avg_vars)]
    smax = _pointer_array(max_exp_avg_vars) if amsgrad else np.zeros(n, dtype=np.uintp)
    steps_arr = _pointer_array(steps)
    return load().abr_step(
        DTYPES.index(dtype), int(amsgrad), wd_mode, int(check), n,
        *(a.ctypes.data for a in arrays), smax.ctypes.data, steps_arr.ctypes.data, numels.ctypes.data,
        lr, beta1, beta2, eps, weight_decay, nthreads,
    )
