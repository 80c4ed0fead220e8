"""Rewrite the README's claims table from the VERDICT lines the stored notebooks print.

Usage: python scripts/claims_table.py [--check]
With --check nothing is written; the exit status says whether README.md is current
(tests/test_readme.py checks the same thing).
"""

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERDICT = re.compile(r"^VERDICT: (HOLDS|FAILS) \| (.*?) \[(.*?)\](?: \| .*)?$")
BEGIN, END = "<!-- claims-table:", "<!-- /claims-table -->"
# the test modules that check each notebook's claims on other problems and seeds
TESTS = {
    "01": "tests/test_optimizers.py",
    "02": "tests/test_sets.py",
    "03": "tests/test_theory_convex.py",
    "04": "tests/test_online_convex.py",
    "05": "tests/test_theory_nonconvex.py",
    "06": "tests/test_proofs.py",
    "07": "tests/test_engine.py",
    "08": "tests/test_variants.py",
}


def rows() -> list[str]:
    out = []
    for path in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        nb = json.loads(path.read_text())
        for cell in nb["cells"]:
            if cell["cell_type"] != "code" or "NBVAL_CHECK_OUTPUT" not in "".join(cell["source"]):
                continue
            for o in cell.get("outputs", []):
                for line in "".join(o.get("text", "")).splitlines():
                    m = VERDICT.match(line)
                    if m:
                        status, claim, ref = m.groups()
                        num = path.name[:2]
                        claim = claim.replace("|", "\\|")
                        out.append(f"| {claim} | {ref} | [{num}](notebooks/{path.name}) | `{TESTS.get(num, 'tests/')}` | {status} |")
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    readme = (ROOT / "README.md").read_text()
    start = readme.index(BEGIN)
    start = readme.index("\n", start) + 1
    stop = readme.index(END)
    table = "| claim | paper | notebook | test | verdict |\n|---|---|---|---|---|\n" + "\n".join(rows()) + "\n"
    new = readme[:start] + table + readme[stop:]
    if "--check" in argv:
        return 0 if new == readme else 1
    (ROOT / "README.md").write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
