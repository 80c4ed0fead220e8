"""proofs — the inequalities behind Theorems 2.1 and 2.2 of AdaBelief, checked step by step.

One module per step of THEORY §4 (L0–L15, the three pieces of N1), the ε facts of §1.3, the
third term of Corollary 2.1.1 and the assembly of Theorem 2.1's constants. Every check takes the
statement as data (the claimed constant or expression, or the instance of a counterexample),
asserts it, and returns a :class:`Check` saying how it was established: ``symbolic`` (sympy),
``numeric`` or ``counterexample``. :data:`STEPS` is the single registry that the tests and
``notebooks/06_proof_checks.ipynb`` run; each step carries false twins that must be rejected.
Nothing prints on import.
"""

from ._engine import METHODS, Check, ProofError
from .registry import STEPS, THEORY_ROWS, Step, Twin, markdown_table, reject_all_twins, run_all, step

__all__ = [
    "Check", "ProofError", "METHODS", "Step", "Twin", "STEPS", "THEORY_ROWS",
    "run_all", "reject_all_twins", "step", "markdown_table",
]
