"""`make verify` machinery: notebooks execute into reports/, verdicts are collected, the stored
notebooks are left untouched, and nothing prints on import."""

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from adabelief_ref import verify

ROOT = Path(__file__).resolve().parent.parent


def _tiny_notebook(path: Path, holds: str = "x > 1") -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell("x = 2", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(
            "# NBVAL_CHECK_OUTPUT\nimport adabelief_ref as ar\n"
            f"ar.verdict('x exceeds one', ref='toy', holds={holds}, measured={{'x': x}})"
        ),
    ]
    nbformat.write(nb, path)


def test_verify_collects_verdicts_and_leaves_stored_notebooks_alone(tmp_path, capsys):
    nb_path = tmp_path / "01_toy.ipynb"
    _tiny_notebook(nb_path)
    before = nb_path.read_bytes()
    reports = tmp_path / "reports"
    assert verify.main([str(nb_path), "--reports", str(reports)]) == 0
    assert nb_path.read_bytes() == before, "the stored notebook was modified without --refresh"
    records = json.loads((reports / "verdicts.json").read_text())
    assert records == [{"claim": "x exceeds one", "ref": "toy", "holds": True, "measured": {"x": 2},
                        "notebook": "01_toy.ipynb", "status": "HOLDS"}]
    assert "| x exceeds one | toy | 01_toy.ipynb | x=2 | HOLDS |" in (reports / "verdicts.md").read_text()
    assert (reports / "html" / "01_toy.html").stat().st_size > 0
    assert (reports / "notebooks" / "01_toy.ipynb").exists()
    assert not (reports / "verdicts.jsonl").exists()


def test_verify_reports_a_changed_verdict_as_a_failed_notebook(tmp_path):
    nb_path = tmp_path / "01_toy.ipynb"
    _tiny_notebook(nb_path)
    # papermill overrides the parameters cell: x = 0 flips the measured outcome, the assert fires
    assert verify.main([str(nb_path), "--reports", str(tmp_path / "r"), "-p", "x=0"]) == 1
    records = json.loads((tmp_path / "r" / "verdicts.json").read_text())
    assert [r["status"] for r in records] == ["FAILS"]


def test_verify_refuses_refresh_with_parameters_and_missing_notebooks(tmp_path):
    with pytest.raises(SystemExit, match="--refresh cannot be combined with -p"):
        verify.main(["--refresh", "-p", "T=10"])
    with pytest.raises(SystemExit, match="no such notebook"):
        verify.main([str(tmp_path / "nope.ipynb")])
    with pytest.raises(SystemExit, match="NAME=VALUE"):
        verify.main(["-p", "T"])


def test_nothing_prints_on_import():
    modules = [
        "adabelief_ref", "adabelief_ref.sets", "adabelief_ref.problems.online_convex",
        "adabelief_ref.problems.stochastic", "adabelief_ref.theory.convex", "adabelief_ref.theory.nonconvex",
        "adabelief_ref.stats", "adabelief_ref.variants", "adabelief_ref.external", "adabelief_ref.torch_optim",
        "adabelief_ref.engine", "adabelief_ref.verify", "proofs",
    ]
    code = "import importlib\n" + "".join(f"importlib.import_module({m!r})\n" for m in modules)
    out = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert (out.stdout, out.stderr) == ("", "")
