"""The one list of proof steps that the tests and notebook 06 both run, so they cannot disagree.

Each :class:`Step` names the checker of one row of THEORY §4 (or §1.3, Corollary 2.1.1, the
assembly), the arguments that state the paper's claim (empty: the checker's defaults are the
paper's statement or, for counterexample rows, the instance), and its false twins: the same call
with a wrong constant, a flipped sign, or an instance that is not a counterexample. A twin must be
rejected with :class:`~proofs._engine.ProofError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from . import (
    assembly, cor211_third_term, eps_identities, l00_convexity, l01_projection, l02_expansion, l03_one_step,
    l04_young, l05_monotone, l06_telescoping, l07_beta1_replacement, l08_floor, l09_momentum, l10_sum_swap,
    l11_second_term, l12_harmonic, l13_inv_sqrt_sum, l14_weighted_geometric, l15_s_upper, n1_i_gradient_term,
    n1_ii_step_variation, n1_iii_step_variation_sq,
)
from ._engine import Check, ProofError

# every row of THEORY §4, plus §1.3, Corollary 2.1.1 and the assembly of Theorem 2.1
THEORY_ROWS = (
    "§1.3", "L0", "L1", "L2", "L3", "L4", "L5", "L6", "L7", "L8", "L9", "L10", "L11", "L12", "L13", "L14", "L15",
    "N1.i", "N1.ii", "N1.iii", "C2.1.1", "assembly",
)


@dataclass(frozen=True)
class Twin:
    """A deliberately false variant of a step's claim: ``check(**kwargs)`` must raise ProofError."""

    label: str
    kwargs: Mapping[str, Any]


@dataclass(frozen=True)
class Step:
    """One proof step: its id, THEORY row, the checker, the claim's arguments and the false twins."""

    id: str
    row: str
    title: str
    check: Callable[..., Check]
    twins: tuple[Twin, ...]
    claim: Mapping[str, Any] = field(default_factory=dict)

    def run(self) -> Check:
        """Run the checker on the paper's claim (asserts it; returns the record)."""
        record = self.check(**self.claim)
        if record.id != self.id:
            raise AssertionError(f"step {self.id} returned a record for {record.id}")
        return record

    def reject(self, twin: Twin) -> ProofError:
        """Run the checker on ``twin``; return the ProofError it raises, or fail if it accepts."""
        try:
            self.check(**twin.kwargs)
        except ProofError as err:
            return err
        raise AssertionError(f"step {self.id} accepted its false twin {twin.label!r}: the check is vacuous")


def _t(label: str, **kwargs: Any) -> Twin:
    return Twin(label, kwargs)


STEPS: tuple[Step, ...] = (
    Step("§1.3a", "§1.3", "ε-part of s_t and the floors", eps_identities.check_eps_floor,
         (_t("off by one: ε(1−β2^(t+1))/(1−β2)", closed_form="eps*(1 - beta2**(t + 1))/(1 - beta2)"),)),
    Step("§1.3b", "§1.3", "β1 = 0 is SGD", eps_identities.check_eps_sgd_limit,
         (_t("step α/√ε (missing 1/(1−β2))", step_size="alpha/sqrt(eps)"),)),
    Step("§1.3c", "§1.3", "fp16 underflow", eps_identities.check_eps_fp16,
         (_t("float32 instead of float16", dtype="float32"),)),
    Step("L0", "L0", "convexity", l00_convexity.check_l0_convexity,
         (_t("flipped sign", gap="-(f(y) - f(x) - fp(x)*(y - x))"),)),
    Step("L1", "L1", "weighted projection non-expansive", l01_projection.check_l1_projection,
         (_t("Euclidean projection, Q-norm", weights="identity"), _t("constant 1/2", lipschitz="1/2"))),
    Step("L2", "L2", "one-step expansion", l02_expansion.check_l2_expansion,
         (_t("flipped cross term", rhs=l02_expansion.PAPER_RHS.replace("- 2*alpha", "+ 2*alpha")),)),
    Step("L3", "L3", "per-step bound", l03_one_step.check_l3_one_step,
         (_t("flipped momentum term", bound=l03_one_step.PAPER_BOUND.replace(" - beta1t/", " + beta1t/")),
          _t("1+β1t for 1−β1t",
             bound=l03_one_step.PAPER_BOUND.replace("(2*alpha*(1 - beta1t))", "(2*alpha*(1 + beta1t))")))),
    Step("L4", "L4", "Young's inequality", l04_young.check_l4_young,
         (_t("c_x = 1/(4α)", coef_x="1/(4*alpha)"),)),
    Step("L5", "L5", "monotonicity of s and α_t", l05_monotone.check_l5_monotone,
         (_t("φ = m²√s (flipped power)", phi="m**2*sqrt(s)"), _t("α_t = α√t", schedule="alpha*sqrt(t)"))),
    Step("L6.a", "L6", "Γ ≥ 0 under s_t ≥ s_(t−1)", l06_telescoping.check_l6_gamma_sign,
         (_t("without s_t ≥ s_(t−1)", s_nondecreasing=False), _t("α_t = α√t", schedule="alpha*sqrt(t)"))),
    Step("L6.b", "L6", "Γ ≥ 0 for raw AdaBelief", l06_telescoping.check_l6_as_used,
         (_t("running max of s (amsgrad)", amsgrad=True),)),
    Step("L7.a", "L7", "1/(1−β1t) → 1/(1−β1) in the signed sum", l07_beta1_replacement.check_l7_replacement,
         (_t("λ = 1 (β1t ≡ β1)", lam=1.0),)),
    Step("L7.b", "L7", "monotone repair of the telescoping", l07_beta1_replacement.check_l7_monotone_fix,
         (_t("λ = 1 (β1t ≡ β1)", lam=1),)),
    Step("L8", "L8", "floor s ≥ c", l08_floor.check_l8_floor, (_t("1/c for 1/√c", bound="m**2/c"),)),
    Step("L9", "L9", "momentum vs discounted gradients", l09_momentum.check_l9_momentum,
         (_t("constant 1−β1", constant="1 - beta1"),)),
    Step("L10", "L10", "sum exchange", l10_sum_swap.check_l10_sum_swap, (_t("constant 1", constant="1"),)),
    Step("L11", "L11", "second term assembled", l11_second_term.check_l11_second_term,
         (_t("no √(1+log T)", factor="1"),)),
    Step("L12", "L12", "harmonic sum", l12_harmonic.check_l12_harmonic, (_t("log T (missing 1)", bound="log(T)"),)),
    Step("L13", "L13", "Σ 1/√t", l13_inv_sqrt_sum.check_l13_inv_sqrt_sum,
         (_t("upper 2√T − 2", upper="2*sqrt(T) - 2"), _t("lower 2√T − 1", lower="2*sqrt(T) - 1"))),
    Step("L14", "L14", "Σ tλ^(t−1)", l14_weighted_geometric.check_l14_weighted_geometric,
         (_t("bound 1/(1−λ)", bound="1/(1 - lam)"),
          _t("closed form with T for T+1", closed_form="(1 - T*lam**T + T*lam**(T + 1))/(1 - lam)**2"))),
    Step("L15", "L15", "upper bound on s_t", l15_s_upper.check_l15_s_upper,
         (_t("ε dropped", bound="G**2*(1 - beta2**t)"),)),
    Step("N1.i", "N1.i", "Σ‖α_t g_t/√s_t‖²", n1_i_gradient_term.check_n1_i,
         (_t("1/√c for 1/c", constant="alpha**2*(H**2 + sigma**2)*(1 + log(T))/sqrt(c)"),)),
    Step("N1.ii.a", "N1.ii", "step-size variation (monotone)", n1_ii_step_variation.check_n1_ii,
         (_t("constant halved", constant="d*alpha/(2*sqrt(c))"),)),
    Step("N1.ii.b", "N1.ii", "step-size variation for raw AdaBelief", n1_ii_step_variation.check_n1_ii_as_used,
         (_t("running max of s (amsgrad)", amsgrad=True),)),
    Step("N1.iii", "N1.iii", "squared step-size variation (monotone)", n1_iii_step_variation_sq.check_n1_iii,
         (_t("constant halved", constant="d*alpha**2/(2*c)"),)),
    Step("C2.1.1.a", "C2.1.1", "third term with the factor d", cor211_third_term.check_cor211_third_term,
         (_t("as printed: no factor d", constant=cor211_third_term.PRINTED),)),
    Step("C2.1.1.b", "C2.1.1", "third term as printed on a run", cor211_third_term.check_cor211_missing_d,
         (_t("d = 1", d=1),)),
    Step("assembly", "assembly", "constants of Theorem 2.1", assembly.check_assembly,
         (_t("1−β1 for 1+β1 in the second constant", second="(1 - beta1)/(2*(1 - beta1)**3)"),)),
)


def step(step_id: str) -> Step:
    """The registered step with id ``step_id``."""
    for s in STEPS:
        if s.id == step_id:
            return s
    raise ValueError(f"step_id must be one of {', '.join(s.id for s in STEPS)}; got {step_id!r}")


def run_all() -> tuple[Check, ...]:
    """Run every registered step on the paper's claim; each asserts, so this raises on the first
    step that cannot be established."""
    return tuple(s.run() for s in STEPS)


def reject_all_twins() -> tuple[tuple[str, str, ProofError], ...]:
    """Run every false twin; returns (step id, twin label, the ProofError) and raises
    AssertionError if any twin is accepted."""
    return tuple((s.id, tw.label, s.reject(tw)) for s in STEPS for tw in s.twins)


def markdown_table(checks: tuple[Check, ...]) -> str:
    """A markdown table: step → statement → how established → where used → holds as used."""
    rows = ["| step | statement | how established | where used | holds as used |", "|---|---|---|---|---|"]
    for c in checks:
        cells = (c.id, c.statement, c.method, c.used_in, "yes" if c.holds_as_used else "**no**")
        rows.append("| " + " | ".join(x.replace("|", "\\|") for x in cells) + " |")
    return "\n".join(rows)
