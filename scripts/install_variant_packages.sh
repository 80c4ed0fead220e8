#!/usr/bin/env bash
# Install the published AdaBelief implementations that tests/test_variants.py runs in lock-step
# against adabelief_ref.variants. Versions that share an import name go into separate folders and
# are loaded there by path, so nothing here touches the project's own environment:
#
#   <root>/adabelief_pytorch_0_0_5   adabelief-pytorch==0.0.5
#   <root>/adabelief_pytorch_0_1_0   adabelief-pytorch==0.1.0
#   <root>/adabelief_pytorch_0_2_0   adabelief-pytorch==0.2.0
#   <root>/adabelief_pytorch_0_2_1   adabelief-pytorch==0.2.1
#   <root>/timm_1_0_31               timm==1.0.31 (only timm/optim/adabelief.py is loaded; no torchvision)
#   <root>/jax_0_4_38                jax, jaxlib 0.4.38 and optax's other dependencies (CPU)
#   <root>/optax_0_2_3               optax==0.2.3 (scale_by_belief before the residual fix)
#   <root>/optax_0_2_4               optax==0.2.4 (after the fix)
#
# Usage: bash scripts/install_variant_packages.sh [PYTHON]
#   PYTHON defaults to .venv/bin/python (else python3); <root> is $ADABELIEF_VARIANTS_DIR, by default
#   .venv/variants in the repository. Everything is installed with --no-deps (their dependencies
#   torch, numpy, scipy, tabulate, colorama come from the project's environment) and pinned; a folder
#   that already holds the pinned version is left alone, so re-running is cheap.
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${1:-}"
if [ -z "$PY" ]; then
  if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
fi
ROOT="${ADABELIEF_VARIANTS_DIR:-.venv/variants}"
mkdir -p "$ROOT"

# install DIR MARKER PKG==VER [PKG==VER ...]: MARKER is a dist-info folder proving DIR is complete
install() {
  local dir="$ROOT/$1" marker="$2"
  shift 2
  if [ -d "$dir/$marker" ]; then
    return 0
  fi
  rm -rf "$dir"
  echo "install_variant_packages: $* -> $dir"
  "$PY" -m pip install --quiet --disable-pip-version-check --no-deps --no-compile --target "$dir" "$@"
  test -d "$dir/$marker"
}

install adabelief_pytorch_0_0_5 adabelief_pytorch-0.0.5.dist-info adabelief-pytorch==0.0.5
install adabelief_pytorch_0_1_0 adabelief_pytorch-0.1.0.dist-info adabelief-pytorch==0.1.0
install adabelief_pytorch_0_2_0 adabelief_pytorch-0.2.0.dist-info adabelief-pytorch==0.2.0
install adabelief_pytorch_0_2_1 adabelief_pytorch-0.2.1.dist-info adabelief-pytorch==0.2.1
install timm_1_0_31 timm-1.0.31.dist-info timm==1.0.31
install jax_0_4_38 jaxlib-0.4.38.dist-info \
  jax==0.4.38 jaxlib==0.4.38 ml_dtypes==0.5.1 opt_einsum==3.4.0 chex==0.1.88 absl-py==2.1.0 \
  toolz==1.0.0 etils==1.11.0
install optax_0_2_3 optax-0.2.3.dist-info optax==0.2.3
install optax_0_2_4 optax-0.2.4.dist-info optax==0.2.4
