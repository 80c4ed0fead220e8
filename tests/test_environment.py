"""environment.yml must install exactly what pyproject.toml declares (the single source)."""

import re
import tomllib
from pathlib import Path

import yaml
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parent.parent


def _load():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    return pyproject["project"], env


def _name(req: str) -> str:
    return re.split(r"[\s<>=!~\[;]", req, maxsplit=1)[0].lower().replace("_", "-")


def test_environment_installs_the_package_with_its_test_extra():
    project, env = _load()
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_sections) == 1, "environment.yml needs exactly one pip: section"
    installs = [x for x in pip_sections[0] if not x.startswith("-") or x.startswith("--editable")]
    assert installs == ["--editable .[test]"], f"pip section must only install the package: {installs}"
    assert "test" in project["optional-dependencies"]


def test_environment_python_satisfies_requires_python():
    project, env = _load()
    pythons = [d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python")]
    assert len(pythons) == 1
    version = pythons[0].split("=", 1)[1]
    assert version in SpecifierSet(project["requires-python"])


def test_environment_lists_no_dependency_of_its_own():
    """Only python and pip come from conda; a package listed in both places could drift."""
    project, env = _load()
    conda = {_name(d) for d in env["dependencies"] if isinstance(d, str)}
    assert conda <= {"python", "pip"}, f"conda packages besides python/pip: {conda - {'python', 'pip'}}"


def test_torch_is_pinned():
    project, _ = _load()
    torch = [d for d in project["dependencies"] if _name(d) == "torch"]
    assert torch == ["torch==2.13.0"], "an unpinned torch pulls a multi-GB CUDA build"
