#!/usr/bin/env bash
# Build llama.cpp's own HTTP server (llama-server: OpenAI-compatible, several requests at once in
# slots with continuous batching) once, from the llama.cpp that llama-cpp-python 0.3.36 vendors,
# with the same CPU flags as scripts/setup.sh; cached in ~/.cache/tether/bin. Then serve the
# embedded model on loopback:
#   bash scripts/llama_server.sh [--port 8090] [--parallel 16]
# and point Tether at it: TETHER_LLM_BACKEND=openai TETHER_OPENAI_BASE_URL=http://127.0.0.1:8090/v1
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${TETHER_CACHE:-$HOME/.cache/tether}
LLAMA_VERSION=0.3.36
PORT=8090
PARALLEL=16
CONTEXT_PER_SLOT=2048
while [[ $# -gt 0 ]]; do
  case $1 in
    --port) PORT=$2; shift 2 ;;
    --parallel) PARALLEL=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

cmake_args=$(bash scripts/llama_cmake_args.sh)
bin="$CACHE/bin/$(echo "$LLAMA_VERSION $cmake_args" | sha256sum | cut -c1-12)/llama-server"
if [[ ! -x $bin ]]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  echo "building llama-server from llama-cpp-python $LLAMA_VERSION's llama.cpp (about 10 minutes on 2 cores)"
  .venv/bin/python -m pip download -q --no-deps --no-binary :all: "llama-cpp-python==$LLAMA_VERSION" -d "$work"
  tar xzf "$work"/llama_cpp_python-$LLAMA_VERSION.tar.gz -C "$work"
  src="$work/llama_cpp_python-$LLAMA_VERSION/vendor/llama.cpp"
  # shellcheck disable=SC2086  # the flags are words
  cmake -S "$src" -B "$src/build" -DCMAKE_BUILD_TYPE=Release $cmake_args \
    -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF >/dev/null
  cmake --build "$src/build" --target llama-server -j "$(nproc)"
  mkdir -p "$(dirname "$bin")"
  cp -a "$src/build/bin/." "$(dirname "$bin")/"  # the server and its shared libraries
fi

model=$CACHE/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
.venv/bin/python scripts/fetch_model.py "$model"
LD_LIBRARY_PATH="$(dirname "$bin")" exec "$bin" -m "$model" --host 127.0.0.1 --port "$PORT" --threads "$(nproc)" \
  --parallel "$PARALLEL" --ctx-size $((PARALLEL * CONTEXT_PER_SLOT)) --cont-batching --no-webui
