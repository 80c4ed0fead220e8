"""Printed, asserted verdicts: the last cell of every notebook.

A verdict states one claim of the paper, where it is made, what was measured and whether the
claim held on the run. It prints one stable line (numbers rounded, so nbval compares text) and
asserts that the outcome is the one the notebook's narrative reports — a rerun that changes the
outcome fails loudly instead of silently contradicting the prose.

When the environment variable ``ADABELIEF_VERDICTS`` names a file, every verdict is also appended
to it as one JSON line (``make verify`` collects them into ``reports/verdicts.{json,md}``).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

VERDICTS_ENV = "ADABELIEF_VERDICTS"
NOTEBOOK_ENV = "ADABELIEF_NOTEBOOK"


@dataclass(frozen=True)
class Verdict:
    claim: str
    ref: str
    holds: bool
    measured: dict[str, Any] = field(default_factory=dict)
    notebook: str = ""

    @property
    def status(self) -> str:
        return "HOLDS" if self.holds else "FAILS"

    def _ipython_display_(self) -> None:
        """Show nothing as a cell's result: :func:`verdict` has already printed the line."""

    def line(self) -> str:
        figures = ", ".join(f"{k}={v}" for k, v in self.measured.items())
        return f"VERDICT: {self.status} | {self.claim} [{self.ref}]" + (f" | {figures}" if figures else "")


def fmt(value: Any, digits: int = 3) -> Any:
    """Round a measured figure for stable printing: floats to ``digits`` significant digits."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int) or (hasattr(value, "dtype") and getattr(value.dtype, "kind", "") in "iu"):
        return int(value)
    v = float(value)
    if not math.isfinite(v):
        return str(v)
    return float(f"{v:.{digits}g}")


def verdict(
    claim: str,
    *,
    ref: str,
    holds: bool,
    measured: Mapping[str, Any] | None = None,
    expected: bool | None = True,
    digits: int = 3,
) -> Verdict:
    """Print ``VERDICT: HOLDS|FAILS | claim [ref] | figures`` and assert ``holds == expected``.

    Args:
        claim: the statement checked, in a few words.
        ref: where the paper makes it (``"Thm 2.1"``, ``"Alg. 2"``, ``"§1.3"``).
        holds: whether the measured run satisfies the claim (a bool computed from the data).
        measured: the figures behind the outcome (rounded to ``digits`` significant digits).
        expected: the outcome the notebook reports; ``None`` records without asserting
            (use only where the narrative states no expectation).
    """
    if not isinstance(holds, bool):
        holds = bool(holds)
    rounded = {k: fmt(v, digits) for k, v in (measured or {}).items()}
    v = Verdict(claim=claim, ref=ref, holds=holds, measured=rounded, notebook=os.environ.get(NOTEBOOK_ENV, ""))
    print(v.line())
    path = os.environ.get(VERDICTS_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({**asdict(v), "status": v.status}) + "\n")
    if expected is not None:
        assert holds == expected, (
            f"verdict changed: expected {'HOLDS' if expected else 'FAILS'} but measured {v.status} for "
            f"{claim!r} with {rounded}"
        )
    return v
