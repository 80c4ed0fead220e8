"""adabelief_ref — an exact reference for the AdaBelief optimizer and the checks of its theory.

The numpy float64 optimizers here are the reference every other path is tested against.
Submodules: ``optimizers`` (AdaBelief, Adam, AMSGrad, SGD, AdaGrad), ``runner`` (``run`` → ``Trace``),
``verdicts`` (printed, asserted notebook verdicts), ``sets`` (weighted projections),
``torch_optim`` (a ``torch.optim.Optimizer`` matching the reference). Nothing prints on import.
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
