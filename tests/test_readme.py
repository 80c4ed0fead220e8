"""The README's index of claims must list exactly the verdicts the stored notebooks print."""

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERDICT = re.compile(r"^VERDICT: (HOLDS|FAILS) \| (.*?) \[(.*?)\](?: \| .*)?$")


def stored_verdicts() -> set[tuple[str, str, str, str]]:
    found = set()
    for path in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        nb = json.loads(path.read_text())
        for cell in nb["cells"]:
            if cell["cell_type"] != "code" or "NBVAL_CHECK_OUTPUT" not in "".join(cell["source"]):
                continue
            for out in cell.get("outputs", []):
                for line in "".join(out.get("text", "")).splitlines():
                    m = VERDICT.match(line)
                    if m:
                        found.add((m.group(2), m.group(3), path.name[:2], m.group(1)))
    return found


def readme_rows() -> set[tuple[str, str, str, str]]:
    rows = set()
    for line in (ROOT / "README.md").read_text().splitlines():
        if not line.startswith("| ") or line.startswith("| claim") or "](notebooks/" not in line:
            continue
        cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip("|"))]
        claim, ref, notebook, _test, status = cells
        rows.add((claim, ref, re.search(r"\[(\d\d)\]", notebook).group(1), status))
    return rows


def test_every_stored_verdict_is_in_the_readme_and_nothing_else():
    stored, listed = stored_verdicts(), readme_rows()
    assert stored, "no VERDICT lines found in the stored notebooks"
    assert stored - listed == set(), f"verdicts missing from README: {sorted(stored - listed)}"
    assert listed - stored == set(), f"README rows no notebook prints: {sorted(listed - stored)}"


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert "make test" in (ROOT / "README.md").read_text()
