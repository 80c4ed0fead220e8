"""Lock-step tests of adabelief_ref.variants against the real packages (THEORY §6).

Every variant that installs from the registry here is run beside its numpy reproduction on the
same gradients for >= 1000 steps in float64, comparing θ and the whole optimizer state at every
step (rectify, amsgrad and weight-decay branches included). The packages live in separate folders
made by ``scripts/install_variant_packages.sh`` and are loaded by path under their own names; a
missing one fails with the install command instead of being skipped. optax needs jax, so its two
versions run in subprocesses. adabelief-tf needs TensorFlow and is only reproduced from source:
its tests check the reproduction's own properties, and say so.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import io
import json
import os
import subprocess
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import adabelief_ref as ar
from adabelief_ref import variants as V

ROOT = Path(__file__).resolve().parents[1]
VARIANTS_DIR = Path(os.environ.get("ADABELIEF_VARIANTS_DIR", ROOT / ".venv" / "variants"))
INSTALL = "bash scripts/install_variant_packages.sh .venv/bin/python   (make install runs it)"
TOL = 1e-12
T_LOCK = 1000


# ------------------------------------------------------------------------------------------------
# loading the real packages by path
# ------------------------------------------------------------------------------------------------
def _installed(folder: str, dist: str, version: str) -> Path:
    path = VARIANTS_DIR / folder
    if not (path / f"{dist}-{version}.dist-info").is_dir():
        pytest.fail(f"{dist}=={version} is not installed in {path}; install it with: {INSTALL}", pytrace=False)
    return path


@functools.cache
def adabelief_pytorch(version: str) -> type:
    """``AdaBelief`` class of adabelief-pytorch==version, imported as ``adabelief_pytorch_<v>``."""
    folder = "adabelief_pytorch_" + version.replace(".", "_")
    pkg = _installed(folder, "adabelief_pytorch", version) / "adabelief_pytorch"
    alias = folder
    spec = importlib.util.spec_from_file_location(alias, pkg / "__init__.py", submodule_search_locations=[str(pkg)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[alias] = module
    spec.loader.exec_module(module)
    return module.AdaBelief


@functools.cache
def timm_adabelief() -> type:
    """``timm.optim.adabelief.AdaBelief`` of timm==1.0.31, loaded from its file alone (no torchvision)."""
    optim = _installed("timm_1_0_31", "timm", "1.0.31") / "timm" / "optim"
    alias = "timm_optim_1_0_31"
    package = types.ModuleType(alias)
    package.__path__ = [str(optim)]
    sys.modules[alias] = package
    return importlib.import_module(alias + ".adabelief").AdaBelief


def quiet(fn, *args, **kwargs):
    """Call ``fn`` with stdout swallowed (the packages print change logs) and the deprecation
    warnings of 0.0.5's ``add_(Number, Tensor)`` calls silenced — only those."""
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"This overload of \w+_? is deprecated", category=UserWarning)
        return fn(*args, **kwargs)


# ------------------------------------------------------------------------------------------------
# the lock-step driver
# ------------------------------------------------------------------------------------------------
def noisy_quadratic(d: int, seed: int):
    """g_t = h ⊙ (θ − θ*) + σ ⊙ ξ_t with curvatures and noise scales spread over decades, so that
    some coordinates sit below the ε floor and others far above it."""
    rng = np.random.default_rng(seed)
    h = np.logspace(-2, 1, d)
    sigma = np.logspace(-9, 0, d)
    target = rng.normal(size=d)
    xi = rng.standard_normal((100_000, d))
    return lambda t, theta: h * (theta - target) + sigma * xi[t - 1]


STATE_KEYS = {"exp_avg": "m", "exp_avg_var": "s", "max_exp_avg_var": "s_max"}


def rel_err(ours: np.ndarray, theirs: np.ndarray) -> float:
    scale = float(np.max(np.abs(theirs)))
    return float(np.max(np.abs(ours - theirs))) / (scale if scale > 0 else 1.0)


def lockstep(package_cls, package_kwargs, step, hyper, *, T=T_LOCK, d=6, seed=0, amsgrad=False):
    """Run the package and the reproduction on the same g_t (computed at the package's θ_{t−1})
    and return the worst relative error of θ and of each state buffer over all T steps."""
    problem = noisy_quadratic(d, seed)
    theta0 = np.random.default_rng(seed + 1).normal(size=d)
    p = torch.nn.Parameter(torch.tensor(theta0, dtype=torch.float64))
    opt = quiet(package_cls, [p], **package_kwargs)
    state = V.init(theta0, amsgrad=amsgrad)
    worst = {"theta": 0.0}
    for t in range(1, T + 1):
        g = problem(t, p.detach().numpy().copy())
        p.grad = torch.tensor(g, dtype=torch.float64)
        quiet(opt.step)
        state = step(state, g, **hyper)
        worst["theta"] = max(worst["theta"], rel_err(state.theta, p.detach().numpy()))
        for theirs, ours in STATE_KEYS.items():
            if theirs in opt.state[p]:
                err = rel_err(getattr(state, ours), opt.state[p][theirs].numpy())
                worst[ours] = max(worst.get(ours, 0.0), err)
    assert state.t == T
    return worst


# configurations: (package kwargs, extra reproduction kwargs); lr/betas/eps are shared
LR, BETAS = 3e-3, (0.9, 0.999)
CONFIGS_0_0_5 = [
    dict(),
    dict(amsgrad=True),
    dict(rectify=True),
    dict(rectify=True, amsgrad=True),
    dict(weight_decay=1e-2),
    dict(weight_decay=1e-2, weight_decouple=True),
    dict(weight_decay=1e-3, weight_decouple=True, fixed_decay=True),
    dict(eps=1e-16, amsgrad=True),
    dict(lr=1e-4, betas=(0.0, 0.999), rectify=True),       # β1 = 0: residual ≡ 0, s is pure ε
]
CONFIGS_LATER = [
    dict(),                                                   # rectify + decoupled decay (defaults)
    dict(rectify=False, weight_decouple=False),
    dict(rectify=False, amsgrad=True),
    dict(rectify=True, amsgrad=True),
    dict(weight_decay=1e-2, weight_decouple=False),
    dict(weight_decay=1e-2, weight_decouple=True, rectify=False),
    dict(weight_decay=1e-3, weight_decouple=True, fixed_decay=True),
    dict(degenerated_to_sgd=False),
    dict(eps=1e-8, rectify=False, amsgrad=True),
    dict(lr=1e-4, betas=(0.0, 0.999), eps=1e-8, amsgrad=True, rectify=False),  # β1 = 0: residual ≡ 0
]


def _ids(configs):
    return [",".join(f"{k}={v}" for k, v in c.items()) or "defaults" for c in configs]


def _check(worst):
    bad = {k: v for k, v in worst.items() if not v <= TOL}
    assert not bad, f"reproduction departs from the package (relative error > {TOL}): {bad}"
    assert set(worst) >= {"theta", "m", "s"}


@pytest.mark.parametrize("config", CONFIGS_0_0_5, ids=_ids(CONFIGS_0_0_5))
def test_pytorch_0_0_5_lockstep(config):
    kwargs = {"lr": LR, "betas": BETAS, **config}
    _check(lockstep(adabelief_pytorch("0.0.5"), kwargs, V.pytorch_0_0_5_step, kwargs,
                    amsgrad=config.get("amsgrad", False)))


@pytest.mark.parametrize("config", CONFIGS_LATER, ids=_ids(CONFIGS_LATER))
def test_pytorch_0_1_0_lockstep(config):
    kwargs = {"lr": LR, "betas": BETAS, **config}
    _check(lockstep(adabelief_pytorch("0.1.0"), kwargs, V.pytorch_0_1_0_step, kwargs,
                    amsgrad=config.get("amsgrad", False)))


@pytest.mark.parametrize("version", ["0.2.0", "0.2.1"])
@pytest.mark.parametrize("config", CONFIGS_LATER, ids=_ids(CONFIGS_LATER))
def test_pytorch_0_2_lockstep(version, config):
    kwargs = {"lr": LR, "betas": BETAS, **config}
    package_kwargs = {**kwargs, "print_change_log": False} if version == "0.2.1" else kwargs
    _check(lockstep(adabelief_pytorch(version), package_kwargs, V.pytorch_0_2_step, kwargs,
                    amsgrad=config.get("amsgrad", False)))


@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize("config", CONFIGS_LATER, ids=_ids(CONFIGS_LATER))
def test_timm_lockstep(foreach, config):
    kwargs = {"lr": LR, "betas": BETAS, **config}
    if "weight_decouple" in kwargs:
        kwargs["decoupled_decay"] = kwargs.pop("weight_decouple")
    _check(lockstep(timm_adabelief(), {**kwargs, "foreach": foreach}, V.timm_step, kwargs,
                    amsgrad=config.get("amsgrad", False)))


def test_0_1_0_amsgrad_with_rectify_loses_the_epsilon_floor():
    """Finding: in 0.1.0 ``amsgrad=True`` puts ε only into the max buffer, while the (default)
    rectified step divides by √s_t + ε — with β1 = 0, s_t ≡ 0 and the step is α r_t √(1−β2^t) g/ε
    (0.2.x adds ε to s_t first, so its floor survives). Lock-step over the first 40 steps, before
    the closed loop blows up."""
    kwargs = dict(lr=1e-4, betas=(0.0, 0.999), eps=1e-8, amsgrad=True, rectify=True)
    _check(lockstep(adabelief_pytorch("0.1.0"), kwargs, V.pytorch_0_1_0_step, kwargs, T=40, amsgrad=True))
    g = np.array([1.0, -0.5])
    state = V.init(np.zeros(2), amsgrad=True)
    for _ in range(10):
        new = V.pytorch_0_1_0_step(state, g, **kwargs)
        step, state = new.theta - state.theta, new
    assert np.all(state.s == 0.0)
    expected = -1e-4 * V._radam_factor(10, 0.999, with_bias2=True) * g / 1e-8
    np.testing.assert_allclose(step, expected, rtol=1e-12)
    later = V.init(np.zeros(2), amsgrad=True)
    for _ in range(10):
        later = V.pytorch_0_2_step(later, g, **kwargs)
    assert np.all(later.s >= 1e-8)


def test_lockstep_covers_both_rectify_branches():
    """The rectified runs above pass through the SGD branch (ρ_t < 5, t ≤ 5 at β2 = 0.999) and the
    adaptive branch: check the branch boundary where the packages' thresholds differ (0.0.5: ρ_t > 4)."""
    rho = [V._radam_rho(t, BETAS[1])[1] for t in range(1, 10)]
    sgd_steps_later = sum(r < 5 for r in rho)
    sgd_steps_0_0_5 = sum(r <= 4 for r in rho)
    assert 1 <= sgd_steps_0_0_5 < sgd_steps_later < T_LOCK


@settings(deadline=None, max_examples=12)
@given(
    b1=st.sampled_from([0.5, 0.9, 0.99]),
    b2=st.sampled_from([0.9, 0.99, 0.999]),
    lr=st.floats(1e-4, 1e-1),
    eps=st.sampled_from([1e-16, 1e-12, 1e-8]),
    wd=st.sampled_from([0.0, 1e-2]),
    flags=st.tuples(st.booleans(), st.booleans(), st.booleans()),
    seed=st.integers(0, 10_000),
)
def test_random_hyperparameters_lockstep(b1, b2, lr, eps, wd, flags, seed):
    """Random β1, β2, α, ε, λ and branch flags, 150 steps, for the three package generations."""
    rectify, amsgrad, decouple = flags
    common = dict(lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd, amsgrad=amsgrad, weight_decouple=decouple,
                  rectify=rectify)
    for version, step in (("0.0.5", V.pytorch_0_0_5_step), ("0.1.0", V.pytorch_0_1_0_step),
                          ("0.2.1", V.pytorch_0_2_step)):
        _check(lockstep(adabelief_pytorch(version), common, step, common, T=150, d=4, seed=seed, amsgrad=amsgrad))


# ------------------------------------------------------------------------------------------------
# the comparison can fail: wrong reproductions are caught
# ------------------------------------------------------------------------------------------------
def _no_inner_eps(state, grad, *, lr, betas, eps, **_):
    """Mutant: ε only outside the root (s_t without + ε) — the paper-v1 form with bias correction."""
    return V.paper_v1_step(state, grad, lr=lr, betas=betas, eps=eps, bias_correction=True)


def _sign_flipped(state, grad, **hyper):
    new = V.pytorch_0_2_step(state, grad, **hyper)
    return new.__class__(theta=2 * state.theta - new.theta, m=new.m, s=new.s, t=new.t, s_max=new.s_max)


MISMATCHES = [
    ("0.0.5 amsgrad read as 0.2.x", "0.0.5", dict(amsgrad=True, eps=1e-8), V.pytorch_0_2_step, True),
    ("0.2.1 amsgrad read as 0.0.5", "0.2.1", dict(amsgrad=True, rectify=False), V.pytorch_0_0_5_step, True),
    ("0.1.0 coupled decay read as 0.2.x", "0.1.0", dict(weight_decay=1e-1, weight_decouple=False, rectify=False),
     V.pytorch_0_2_step, False),
    ("0.2.1 rectify read as 0.0.5", "0.2.1", dict(rectify=True, weight_decouple=False), V.pytorch_0_0_5_step, False),
    ("0.2.1 read without the inner eps", "0.2.1", dict(rectify=False, weight_decouple=False, eps=1e-8), _no_inner_eps,
     False),
    ("0.2.1 with a flipped step sign", "0.2.1", dict(rectify=False), _sign_flipped, False),
]


@pytest.mark.parametrize("label,version,config,wrong_step,amsgrad", MISMATCHES, ids=[m[0] for m in MISMATCHES])
def test_lockstep_detects_a_wrong_reproduction(label, version, config, wrong_step, amsgrad):
    kwargs = {"lr": LR, "betas": BETAS, **config}
    package_kwargs = {**kwargs, "print_change_log": False} if version == "0.2.1" else kwargs
    worst = lockstep(adabelief_pytorch(version), package_kwargs, wrong_step, kwargs, T=300, amsgrad=amsgrad)
    assert max(worst.values()) > 1e-6, f"{label}: the lock-step comparison did not notice ({worst})"


# ------------------------------------------------------------------------------------------------
# optax, in subprocesses (jax; two versions share the import name)
# ------------------------------------------------------------------------------------------------
OPTAX_SCRIPT = r"""
import json, sys
import numpy as np
import jax
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp
import optax
args = json.loads(sys.argv[1])
data = np.load(args["stream"])
grads, theta = data["grads"], jnp.asarray(data["theta0"])
tx = optax.adabelief(args["lr"], b1=args["b1"], b2=args["b2"], eps=args["eps"], eps_root=args["eps_root"])
state = tx.init(theta)
out = {"theta": [], "m": [], "s": []}
for g in grads:
    updates, state = tx.update(jnp.asarray(g), state, theta)
    theta = optax.apply_updates(theta, updates)
    inner = state[0]
    out["theta"].append(np.asarray(theta)); out["m"].append(np.asarray(inner.mu)); out["s"].append(np.asarray(inner.nu))
assert np.asarray(theta).dtype == np.float64
np.savez(args["out"], version=optax.__version__, **{k: np.stack(v) for k, v in out.items()})
"""


def run_optax(version: str, grads, theta0, hyper, tmp_path) -> dict[str, np.ndarray]:
    folder = "optax_" + version.replace(".", "_")
    optax_dir = _installed(folder, "optax", version)
    jax_dir = _installed("jax_0_4_38", "jaxlib", "0.4.38")
    stream, out = tmp_path / "stream.npz", tmp_path / f"optax_{folder}.npz"
    np.savez(stream, grads=grads, theta0=theta0)
    args = {"stream": str(stream), "out": str(out), "lr": hyper["lr"], "b1": hyper["betas"][0],
            "b2": hyper["betas"][1], "eps": hyper["eps"], "eps_root": hyper["eps_root"]}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(optax_dir), str(jax_dir)]), "JAX_PLATFORMS": "cpu"}
    proc = subprocess.run([sys.executable, "-c", OPTAX_SCRIPT, json.dumps(args)], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, f"optax {version} run failed ({INSTALL}):\n{proc.stderr[-3000:]}"
    data = np.load(out)
    assert str(data["version"]) == version
    return {k: data[k] for k in ("theta", "m", "s")}


@pytest.mark.parametrize("hyper", [
    dict(lr=3e-3, betas=(0.9, 0.999), eps=1e-16, eps_root=1e-16),
    dict(lr=1e-2, betas=(0.5, 0.99), eps=1e-8, eps_root=1e-12),
], ids=["defaults", "other"])
def test_optax_lockstep(hyper, tmp_path):
    """optax 0.2.3 (residual g − m_{t−1}) and 0.2.4 (g − m_t) against their reproductions, 1000 steps,
    θ, μ and ν at every step; and the two versions really differ."""
    rng = np.random.default_rng(7)
    grads = rng.standard_normal((T_LOCK, 5)) * np.logspace(-9, 0, 5) + 0.1
    theta0 = rng.normal(size=5)
    trajectories = {}
    for version, step in (("0.2.3", V.optax_before_fix_step), ("0.2.4", V.optax_after_fix_step)):
        theirs = run_optax(version, grads, theta0, hyper, tmp_path)
        state, ours = V.init(theta0), {"theta": [], "m": [], "s": []}
        for g in grads:
            state = step(state, g, **hyper)
            for k in ours:
                ours[k].append(getattr(state, k))
        for k in ours:
            assert rel_err(np.stack(ours[k]), theirs[k]) <= TOL, (version, k)
        trajectories[version] = theirs["theta"]
    assert rel_err(trajectories["0.2.3"], trajectories["0.2.4"]) > 1e-6


# ------------------------------------------------------------------------------------------------
# the paper forms and the reproduced TensorFlow package
# ------------------------------------------------------------------------------------------------
@settings(deadline=None, max_examples=20)
@given(b1=st.floats(0.0, 0.99), b2=st.floats(0.0, 0.9999), lr=st.floats(1e-5, 1.0),
       eps=st.sampled_from([1e-16, 1e-8, 1e-3]), seed=st.integers(0, 10_000))
def test_algorithm2_step_equals_reference(b1, b2, lr, eps, seed):
    rng = np.random.default_rng(seed)
    grads = rng.standard_normal((200, 3)) * np.array([1e-6, 1.0, 1e3])
    ref = ar.run(ar.AdaBelief(lr, (b1, b2), eps), lambda t, th: grads[t - 1], np.zeros(3), 200)
    state = V.init(np.zeros(3))
    for k, g in enumerate(grads):
        state = V.algorithm2_step(state, g, lr=lr, betas=(b1, b2), eps=eps)
        assert rel_err(state.theta, ref.theta[k + 1]) <= TOL and rel_err(state.s, ref.s[k]) <= TOL


def _run(step, grads, **hyper):
    state, thetas = V.init(np.zeros(grads.shape[1]), amsgrad=hyper.get("amsgrad", False)), []
    for g in grads:
        state = step(state, g, **hyper)
        thetas.append(state.theta)
    return np.stack(thetas), state


def test_paper_v1_has_no_epsilon_floor():
    """v1: s_t has no ε, so β1 = 0 gives θ_t − θ_{t−1} = −α g_t/ε (Algorithm 2: −α g_t/(√(ε/(1−β2))+ε))."""
    g = np.array([[0.5, -2.0]] * 3)
    theta, state = _run(V.paper_v1_step, g, lr=1e-3, betas=(0.0, 0.999), eps=1e-8)
    assert np.all(state.s == 0.0)
    np.testing.assert_allclose(np.diff(theta, axis=0, prepend=0.0 * theta[:1]), -1e-3 * g / 1e-8, rtol=1e-12)
    theta_bc, _ = _run(V.paper_v1_step, g, lr=1e-3, betas=(0.0, 0.999), eps=1e-8, bias_correction=True)
    np.testing.assert_allclose(theta_bc, theta, rtol=1e-12)     # with β1 = 0 and s = 0 the corrections cancel


def test_paper_v1_bias_corrected_is_algorithm2_without_inner_eps():
    rng = np.random.default_rng(3)
    grads = rng.standard_normal((500, 4))
    v1, _ = _run(V.paper_v1_step, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-16, bias_correction=True)
    a2, _ = _run(V.algorithm2_step, grads, lr=1e-3, betas=(0.9, 0.999), eps=0.0)
    assert rel_err(v1, a2) <= TOL
    v1_raw, _ = _run(V.paper_v1_step, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-16)
    assert rel_err(v1_raw, a2) > 1e-3                      # the missing bias correction matters early


def test_tf_reproduction_properties():
    """adabelief-tf is reproduced from source, not run (no TensorFlow): check what the source says."""
    rng = np.random.default_rng(5)
    grads = rng.standard_normal((1000, 4)) * np.logspace(-6, 0, 4)
    a2, _ = _run(V.algorithm2_step, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-14)
    plain, _ = _run(V.tf_0_2_step, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-14, rectify=False)
    assert rel_err(plain, a2) <= TOL                                    # without rectify: Algorithm 2
    # ε = 0 is replaced by Keras' 1e-7
    zero, _ = _run(V.tf_0_2_step, grads, lr=1e-3, betas=(0.9, 0.999), eps=0.0, rectify=False)
    keras, _ = _run(V.algorithm2_step, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    assert rel_err(zero, keras) <= TOL
    # rectified: the first steps (ρ_t < 5) are bias-corrected SGD steps θ −= α m̂_t
    rect, state = _run(V.tf_0_2_step, grads[:3], lr=1e-3, betas=(0.9, 0.999))
    m = np.zeros(4)
    theta = np.zeros(4)
    for t, g in enumerate(grads[:3], start=1):
        m = 0.9 * m + 0.1 * g
        theta = theta - 1e-3 * m / (1 - 0.9**t)
        np.testing.assert_allclose(rect[t - 1], theta, rtol=1e-13)
    # amsgrad acts in the rectified branch (unlike adabelief-pytorch 0.2.x)
    burst = np.concatenate([grads[:500] * 100, grads[500:]])
    ams, _ = _run(V.tf_0_2_step, burst, betas=(0.9, 0.9), amsgrad=True)
    no_ams, _ = _run(V.tf_0_2_step, burst, betas=(0.9, 0.9), amsgrad=False)
    late_step = {k: np.mean(np.abs(np.diff(v[600:], axis=0))) for k, v in (("ams", ams), ("plain", no_ams))}
    assert late_step["ams"] < 0.1 * late_step["plain"]      # the max of the burst keeps the steps small
    # decoupled weight decay: with g ≡ 0 after the SGD phase θ shrinks by exactly (1 − αλ) per step
    theta0 = np.ones(2)
    state = V.init(theta0)
    for _ in range(3):
        state = V.tf_0_2_step(state, np.zeros(2), lr=0.1, weight_decay=0.5)
    np.testing.assert_allclose(state.theta, (1 - 0.05) ** 3 * theta0, rtol=1e-14)


def test_rectify_ignores_amsgrad_in_0_2_but_not_in_0_0_5():
    rng = np.random.default_rng(11)
    grads = np.concatenate([rng.standard_normal((300, 3)) * 10, rng.standard_normal((700, 3))])
    on, _ = _run(V.pytorch_0_2_step, grads, amsgrad=True)
    off, _ = _run(V.pytorch_0_2_step, grads, amsgrad=False)
    assert rel_err(on, off) == 0.0
    on5, _ = _run(V.pytorch_0_0_5_step, grads, amsgrad=True, rectify=True)
    off5, _ = _run(V.pytorch_0_0_5_step, grads, amsgrad=False, rectify=True)
    assert rel_err(on5, off5) > 1e-3


def test_amsgrad_buffer_accumulates_epsilon_in_0_0_5():
    """0.0.5/0.1.0: s_max,t = max(s_max,t−1, s_t) + ε ≥ tε; 0.2.x: s_max stays ≤ max_t s_t."""
    grads = np.zeros((2000, 2))
    _, s5 = _run(V.pytorch_0_0_5_step, grads, amsgrad=True, eps=1e-8)
    _, s2 = _run(V.pytorch_0_2_step, grads, amsgrad=True, eps=1e-8, rectify=False)
    np.testing.assert_allclose(s5.s_max, 2000 * 1e-8, rtol=1e-12)
    np.testing.assert_allclose(s2.s_max, 1e-8 * (1 - 0.999**2000) / (1 - 0.999), rtol=1e-12)


# ------------------------------------------------------------------------------------------------
# low precision, against the real 0.2.0 (no fp16 cast) bit for bit
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", V.LOW_PRECISION)
def test_algorithm2_in_dtype_matches_0_2_0_bitwise(dtype):
    rng = np.random.default_rng(2)
    grads = rng.standard_normal((300, 5)) * np.array([1e-5, 1e-4, 1e-3, 1e-2, 1.0])
    theta0 = rng.normal(size=5)
    ours = V.algorithm2_in_dtype(grads, theta0, dtype=dtype, lr=1e-3, eps=1e-16)
    p = torch.nn.Parameter(torch.tensor(theta0, dtype=getattr(torch, dtype)))
    opt = quiet(adabelief_pytorch("0.2.0"), [p], lr=1e-3, eps=1e-16, rectify=False, weight_decouple=False)
    theirs = [p.detach().double().numpy().copy()]
    for g in grads:
        p.grad = torch.tensor(g, dtype=getattr(torch, dtype))
        quiet(opt.step)
        theirs.append(p.detach().double().numpy().copy())
    assert np.array_equal(ours["theta"], np.stack(theirs), equal_nan=True)
    if dtype == "float64":
        ref, _ = _run(V.algorithm2_step, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-16)
        assert rel_err(ours["theta"][1:] - theta0, ref) <= TOL


def test_float16_state_gives_inf_at_step_one():
    grads = np.full((5, 3), 1e-4)
    out = V.algorithm2_in_dtype(grads, np.zeros(3), dtype="float16")
    assert np.all(out["s"][0] == 0) and not np.all(np.isfinite(out["theta"][1]))
    fine = V.algorithm2_in_dtype(grads, np.zeros(3), dtype="float32")
    assert np.all(np.isfinite(fine["theta"]))


# ------------------------------------------------------------------------------------------------
# the ε measurements agree with their derivations
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("eps", [1e-16, 1e-8])
def test_epsilon_floor_and_beta1_zero(eps):
    floor = V.epsilon_floor(eps)
    assert abs(floor["ratio"] - 1) < 1e-12
    assert abs(floor["adam_eps_measured"] / np.sqrt(eps / 1e-3) - 1) < 1e-12
    mult = V.beta1_zero_multiplier(eps)
    assert mult["max_rel_error"] < 1e-9
    # a wrong prediction (ε outside only, Adam-style) would be off by orders of magnitude
    assert abs(mult["multiplier_min"] * eps - 1) > 0.5


def test_beta1_zero_blowup_matches_prediction():
    out = V.beta1_zero_blowup(1e-16)
    assert out["first_inf_step"] == out["predicted_inf_step"] and out["next_residual_is_nan"] is True
    stable = V.beta1_zero_blowup(1e-8, T_max=500)
    assert stable["growth"] < 1 and stable["first_inf_step"] is None and stable["predicted_inf_step"] is None


@pytest.mark.parametrize("dtype", V.LOW_PRECISION)
def test_low_precision_facts_match_format_constants(dtype):
    f = V.low_precision_facts(dtype)
    assert 0.9 < f["residual_threshold"] / f["residual_threshold_predicted"] < 1.1
    assert 0.5 < f["eps_absorbed_from"] / f["eps_absorbed_from_predicted"] < 2.0
    assert f["decay_stuck_share"] == f["decay_stuck_share_predicted"]
    assert 0.5 < f["decay_stuck_below"] / f["decay_stuck_below_predicted"] <= 1.01
    assert (f["eps_stored"] == 0.0) == (dtype == "float16")


@pytest.mark.parametrize("eps", [1e-16, 1e-8, 1e-4])
def test_step_size_spread_matches_prediction(eps):
    out = V.step_size_spread(np.logspace(-6, -1, 6), eps, T=3000)
    assert abs(out["spread"] / out["spread_predicted"] - 1) < 0.1
    np.testing.assert_allclose(out["eta"], out["eta_predicted"], rtol=0.1)
    assert out["sgd_share"] == out["sgd_share_predicted"]


# ------------------------------------------------------------------------------------------------
# drift table and the optimizer interface
# ------------------------------------------------------------------------------------------------
def test_drift_matched_settings_separates_the_algorithms():
    rng = np.random.default_rng(4)
    grads = rng.standard_normal((1000, 4)) * np.logspace(-8, 0, 4)
    drift = V.drift_from_algorithm2(grads, np.zeros(4), settings="matched")
    same = [k for k, d in drift.items() if d[-1] < 1e-12]
    assert sorted(same) == sorted(["algorithm-2", "adabelief-pytorch-0.0.5", "adabelief-pytorch-0.1.0",
                                   "adabelief-pytorch-0.2", "adabelief-tf-0.2", "optax-after-fix", "timm"])
    assert drift["optax-before-fix"][-1] > 1e-3 and drift["paper-v1"][-1] > 1e-3
    defaults = V.drift_from_algorithm2(grads, np.zeros(4), keys=("algorithm-2", "adabelief-pytorch-0.2"))
    assert defaults["algorithm-2"][-1] == 0.0 and defaults["adabelief-pytorch-0.2"][-1] > 1e-3


def test_variant_drives_run_and_refuses_non_finite():
    v = V.make_variant("adabelief-pytorch-0.2", lr=1e-2, rectify=False, amsgrad=True)
    tr = ar.run(v, lambda t, th: th - 1.0, np.zeros(3), 50)
    assert tr.s_max is not None and tr.theta.shape == (51, 3)
    with pytest.raises(ValueError, match="non-finite iterate"):
        bad = V.make_variant("paper-v1", eps=0.0)
        bad.step(bad.init(np.zeros(2)), np.zeros(2))


@pytest.mark.parametrize("call,match", [
    (lambda: V.make_variant("adabelief-pytorch-9"), "key must be one of"),
    (lambda: V.make_variant("timm", weight_decouple=True), r"not accepted by variant 'timm'.*decoupled_decay"),
    (lambda: V.make_variant("timm", eps=-1.0), r"eps must be a finite number >= 0; got -1.0"),
    (lambda: V.make_variant("algorithm-2", betas=(1.0, 0.9)), r"betas\[0\] \(beta1\) must lie in \[0, 1\)"),
    (lambda: V.make_variant("adabelief-pytorch-0.1.0", amsgrad="yes"), "amsgrad must be True or False"),
    (lambda: V.pytorch_0_2_step(V.init(np.zeros(2)), np.zeros(3)), r"grad has shape \(3,\)"),
    (lambda: V.timm_step(V.init(np.zeros(2)), np.array([np.nan, 0.0])), "grad at step t=1 contains non-finite"),
    (lambda: V.timm_step(V.init(np.zeros(2)), np.zeros(2), amsgrad=True), "needs the buffer s_max"),
    (lambda: V.timm_step(object(), np.zeros(2)), "state must be an OptState"),
    (lambda: V.drift_from_algorithm2(np.zeros((5, 2)), np.zeros(3)), r"grads must have shape \(T, \*theta0.shape\)"),
    (lambda: V.drift_from_algorithm2(np.zeros((5, 2)), np.zeros(2), settings="paper"), "settings must be one of"),
    (lambda: V.algorithm2_in_dtype(np.zeros((2, 2)), np.zeros(2), dtype="float8"), "dtype must be one of"),
    (lambda: V.step_size_spread([1.0], 1e-8), "sigmas must be a 1-d array of >= 2"),
])
def test_bad_input_raises_value_error_naming_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_registry_is_complete_and_documented():
    assert set(V.VARIANTS) == set(V.MATCHED)
    for key, spec in V.VARIANTS.items():
        assert spec.step.__doc__ and spec.source and spec.differs, key
        assert spec.checked in {"package", "reference", "source"}
        assert {"lr", "betas", "eps"} <= set(spec.defaults)
    assert "Reproduced from the published source" in V.tf_0_2_step.__doc__
