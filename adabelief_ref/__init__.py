"""adabelief_ref — an exact reference for the AdaBelief optimizer and the checks of its theory.

The numpy float64 optimizers here are the reference every other path is tested against.
Top level: ``AdaBelief``, ``Adam``, ``AMSGrad``, ``SGD``, ``AdaGrad`` (``optimizers``), ``run`` →
``Trace`` (``runner``), ``verdict`` (``verdicts``). Submodules, imported on demand: ``sets``
(weighted projections), ``problems`` (online convex, stochastic non-convex), ``theory`` (the
theorems' right-hand sides and assumption audits), ``stats``, ``variants`` (published
implementations), ``external`` (the official package), ``torch_optim`` (a ``torch.optim.Optimizer``)
and ``engine`` (batched torch runs) — the last two need torch. Nothing prints on import.
"""

from .optimizers import SGD, AdaBelief, AdaGrad, Adam, AMSGrad, Optimizer, OptState
from .runner import Trace, run
from .verdicts import verdict

__all__ = [
    "AdaBelief",
    "Adam",
    "AMSGrad",
    "SGD",
    "AdaGrad",
    "Optimizer",
    "OptState",
    "Trace",
    "run",
    "verdict",
]
__version__ = "0.1.0"
