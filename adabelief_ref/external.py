"""Drive the official ``adabelief-pytorch`` package (an external reference, THEORY §6) on a
fixed gradient stream, so that its trajectory can be compared with :func:`adabelief_ref.run`.

The package is a test extra (``pip install -e .[test]``); it prints change-log and
"AMSGrad enabled" lines on construction, which are swallowed here.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np


def official_trajectory(
    grads: np.ndarray,
    theta0: np.ndarray,
    *,
    lr: float,
    betas: tuple[float, float],
    eps: float,
    amsgrad: bool = False,
    weight_decay: float = 0.0,
) -> np.ndarray:
    """θ_0..θ_T (shape (T+1, d)) of ``adabelief_pytorch.AdaBelief`` 0.2.x in float64 with
    ``rectify=False, weight_decouple=False`` (= Algorithm 2 without projection) fed g_1..g_T."""
    import torch
    from adabelief_pytorch import AdaBelief as Official

    grads = np.asarray(grads, dtype=np.float64)
    p = torch.nn.Parameter(torch.tensor(np.asarray(theta0, dtype=np.float64)))
    with contextlib.redirect_stdout(io.StringIO()):
        opt = Official([p], lr=lr, betas=betas, eps=eps, amsgrad=amsgrad, weight_decay=weight_decay,
                       rectify=False, weight_decouple=False, print_change_log=False)
    out = [p.detach().clone()]
    for g in grads:
        p.grad = torch.tensor(g)
        opt.step()
        out.append(p.detach().clone())
    return torch.stack(out).numpy()
