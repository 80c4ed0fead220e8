"""The README's index of claims must list exactly the verdicts the stored notebooks print
(``python scripts/claims_table.py`` rewrites it)."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _claims_table():
    spec = importlib.util.spec_from_file_location("claims_table", ROOT / "scripts" / "claims_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_claims_table_matches_the_stored_notebooks():
    table = _claims_table()
    rows = table.rows()
    assert len(rows) >= 8 and all(r.endswith(("| HOLDS |", "| FAILS |")) for r in rows)
    assert table.main(["--check"]) == 0, "README claims table is stale: run `python scripts/claims_table.py`"


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert "make test" in (ROOT / "README.md").read_text()
