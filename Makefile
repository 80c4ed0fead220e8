# The whole set-up on a fresh machine is one of the two commands below:
#   make verify   re-executes every notebook into reports/ and writes reports/verdicts.{md,json}
#   make test     runs the whole test suite, including nbval over notebooks/
# Both create .venv and install the package (pyproject.toml) on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JOBS   ?= 2

.PHONY: install test verify refresh lab bench clean-reports

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch is pinned in pyproject.toml (torch==2.13.0): on CPU-only machines that is a local CPU wheel.
$(STAMP): pyproject.toml scripts/install_variant_packages.sh | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip setuptools wheel
	$(BIN)/python -m pip install -q -e ".[test]"
	bash scripts/install_variant_packages.sh $(BIN)/python
	touch $(STAMP)

install: $(STAMP)

test: install
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile --nbval-lax -p no:cacheprovider tests notebooks

verify: install
	$(BIN)/python -m adabelief_ref.verify

# Re-execute and overwrite the stored notebooks in notebooks/ (only when you ask for it).
refresh: install
	$(BIN)/python -m adabelief_ref.verify --refresh

lab: install
	$(BIN)/jupyter lab notebooks

bench: install
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done
