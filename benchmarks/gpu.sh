#!/usr/bin/env bash
# W3 at 1-4 million neurons on a GPU (benchmarks/gpu_w3.py), recorded whenever this runs
# on a machine with an NVIDIA GPU; elsewhere it records "not measured" and why.
#
#   bash benchmarks/gpu.sh [--sizes 1000000,2000000,4000000] [--steps 10000]
#
# JAX's CUDA build goes into its own git-ignored environment, benchmarks/.venvs/gpu,
# with jaxsnn installed from this checkout (pip install -e ".[cuda]").
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
    exec "$PY" benchmarks/gpu_w3.py --not-measured "no NVIDIA GPU on this machine (nvidia-smi found none)" "$@"
fi
VENV=benchmarks/.venvs/gpu
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
"$VENV/bin/pip" install -q -e ".[cuda]"
nvidia-smi -L
exec "$VENV/bin/python" benchmarks/gpu_w3.py "$@"
