"""Benchmark: exact weighted projections (adabelief_ref.sets) against a cvxpy solve of the same problem.

For each set (ℓ2 ball, simplex, ℓ1 ball, box) and d in {10^3, 10^5} it times our projection and a
cvxpy/CLARABEL solve of min Σ w_i (x_i − y_i)² over the set, both measured in this run, and prints

* ``ratio_total``: cvxpy wall time (problem build + canonicalisation + solve) / ours;
* ``ratio_solver``: CLARABEL's own solve time (``solver_stats.solve_time``) / ours — the figure
  most favourable to cvxpy;
* the deviation max|x − x_cvx| / max|x| and the weighted one ‖x − x_cvx‖_w / ‖y‖_w, and which of
  the two points has the lower objective (the exact minimiser can only be lower or equal, up to
  cvxpy's feasibility slack) and by how much each point violates the constraints.

Then the issue's two targets: the ℓ2-ball ratio at d = 2000 (target ≥ 100x), and 10^4 rows of
d = 100 in one batched call (numpy and torch) against a Python loop over the rows.

Usage: ``python benchmarks/bench_projections.py [--reps N] [--span K] [--seed S] [--sizes 1000 100000]``
(weights w = 10^U(−K, K)). Nothing is asserted: this is a measurement script. When CLARABEL fails
(it does at K = 6 for some sets), the row says so and carries NaN figures.
"""

from __future__ import annotations

import argparse
import time
import warnings

import cvxpy as cp
import numpy as np

from adabelief_ref.sets import Box, L1Ball, L2Ball, Simplex, weighted_norm

TIGHT = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10, "max_iter": 500}


def cvxpy_solve(kind: str, y: np.ndarray, w: np.ndarray, size: float) -> tuple[np.ndarray, float, float, str]:
    """(x, wall seconds, CLARABEL seconds, status) of min ‖√w ⊙ (x − y)‖² over the set."""
    t0 = time.perf_counter()
    x = cp.Variable(y.size)
    cons = {
        "l2": [cp.norm(x, 2) <= size],
        "simplex": [x >= 0, cp.sum(x) == size],
        "l1": [cp.norm1(x) <= size],
        "box": [x >= -size, x <= size],
    }[kind]
    prob = cp.Problem(cp.Minimize(cp.sum_squares(cp.multiply(np.sqrt(w), x - y))), cons)
    status = "solver error"
    for opts in (TIGHT, {}):  # tight tolerances, then CLARABEL's defaults
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                prob.solve(solver="CLARABEL", **opts)
            status = prob.status
            break
        except cp.error.SolverError:
            continue
    wall = time.perf_counter() - t0
    if x.value is None or status == "solver error":  # reported as a row with NaN figures
        return np.full(y.size, np.nan), wall, np.nan, status
    return np.asarray(x.value, dtype=np.float64), wall, float(prob.solver_stats.solve_time or np.nan), status


def best_time(fn, reps: int) -> float:
    """Minimum wall time over ``reps`` calls (the least noisy estimate on a shared machine)."""
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


SETS = {"l2": L2Ball, "simplex": Simplex, "l1": L1Ball, "box": lambda s: Box(-s, s)}


def instance(rng: np.random.Generator, d: int, span: float) -> tuple[np.ndarray, np.ndarray]:
    return rng.normal(size=d) * 3.0, 10.0 ** rng.uniform(-span, span, d)


def compare(kind: str, d: int, span: float, reps: int, rng: np.random.Generator) -> dict:
    y, w = instance(rng, d, span)
    size = 1.0
    S = SETS[kind](size)
    ours = best_time(lambda: S.project(y, w), reps)
    x = S.project(y, w)
    xc, wall, solver, status = cvxpy_solve(kind, y, w, size)
    obj, obj_c = float(np.sum(w * (x - y) ** 2)), float(np.sum(w * (xc - y) ** 2))
    violation = {  # how far cvxpy's point is outside the set (a lower objective can come from this)
        "l2": lambda v: np.linalg.norm(v) - size,
        "simplex": lambda v: max(-np.min(v), abs(np.sum(v) - size)),
        "l1": lambda v: np.sum(np.abs(v)) - size,
        "box": lambda v: np.max(np.abs(v)) - size,
    }[kind]
    w_dev = float(weighted_norm(x - xc, w) / weighted_norm(y, w)) if np.all(np.isfinite(xc)) else np.nan
    return {
        "set": kind,
        "d": d,
        "ours_s": ours,
        "cvxpy_s": wall,
        "ratio_total": wall / ours,
        "ratio_solver": solver / ours,
        "max_dev_rel": float(np.max(np.abs(x - xc)) / np.max(np.abs(x))),
        "w_dev_rel": w_dev,
        "obj_ours_minus_cvxpy_rel": (obj - obj_c) / obj_c,
        "cvxpy_violation": float(max(violation(xc), 0.0)),
        "our_violation": float(max(violation(x), 0.0)),
        "status": status,
    }


def batched(rng: np.random.Generator, reps: int) -> list[dict]:
    import torch

    Y = rng.normal(size=(10_000, 100)) * 3.0
    W = 10.0 ** rng.uniform(-6, 6, (10_000, 100))
    Yt, Wt = torch.from_numpy(Y), torch.from_numpy(W)
    rows = []
    for name, S in [("l2", L2Ball(1.0)), ("simplex", Simplex(1.0)), ("l1", L1Ball(1.0)), ("box", Box(-1.0, 1.0))]:
        vec = best_time(lambda: S.project(Y, W), reps)
        vec_t = best_time(lambda: S.project(Yt, Wt), reps)
        loop = best_time(lambda: [S.project(Y[i], W[i]) for i in range(Y.shape[0])], 1)
        dev = float(np.max(np.abs(S.project(Yt, Wt).numpy() - S.project(Y, W))))
        rows.append({"set": name, "numpy_batch_s": vec, "torch_batch_s": vec_t, "row_loop_s": loop,
                     "loop/numpy": loop / vec, "loop/torch": loop / vec_t, "torch_vs_numpy_maxdev": dev})
    return rows


def show(rows: list[dict]) -> None:
    keys = list(rows[0])
    print(" | ".join(keys))
    for r in rows:
        print(" | ".join(f"{r[k]:.3g}" if isinstance(r[k], float) else str(r[k]) for k in keys))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--span", type=float, default=2.0, help="weights w = 10^U(-span, span)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)

    print(f"# exact projection vs cvxpy/CLARABEL, weights 10^U(-{args.span:g}, {args.span:g})")
    show([compare(k, d, args.span, args.reps, rng) for d in args.sizes for k in SETS])

    print("\n# target: exact l2-ball projection >= 100x faster than cvxpy at d = 2000")
    rows = [compare("l2", 2000, args.span, args.reps, rng) for _ in range(3)]
    show(rows)
    print(f"l2 d=2000: min ratio_total = {min(r['ratio_total'] for r in rows):.3g}, "
          f"min ratio_solver = {min(r['ratio_solver'] for r in rows):.3g}")

    print("\n# target: 10^4 rows x d = 100 (weights 10^U(-6, 6)) in one call vs a Python loop over rows")
    show(batched(rng, args.reps))


if __name__ == "__main__":
    main()
