#!/usr/bin/env bash
# Issue 10, deliverable 6, in one command on a GPU machine: the accelerator tests (every test that
# takes coopkit's `accelerator` fixture, on CUDA), then `coopkit bench` of the paper-scale recipes
# against that GPU's measured matrix-multiply rate. Logs and JSON go to $OUT (runs/cuda if unset).
#
#     bash benchmarks/cuda_wheels.sh            # first, where pip reaches PyPI: writes .whl/
#     bash benchmarks/cuda_check.sh             # then on the GPU machine, .whl/ carried along
#
# Its image has torch; the wheels add coopkit, its plugins and what the image lacks, into
# /tmp/site (nothing is installed system-wide). Each stage has its own time limit, so a slow
# stage leaves the others' results.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-runs/cuda}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1
python3 -c 'import torch, coopkit
print("torch", torch.__version__, "CUDA", torch.version.cuda, torch.cuda.get_device_name(0))
print("bf16:", torch.cuda.is_bf16_supported(), "coopkit", coopkit.__version__)' \
    2>&1 | tee "$OUT/environment.txt"
timeout 200 python3 -m pytest -q -n 8 -p no:cacheprovider -rs -k accelerator \
    --continue-on-collection-errors tests plugins/coopkit-image/tests plugins/coopkit-video/tests \
    2>&1 | tee "$OUT/tests.log"
timeout 300 python3 benchmarks/speed.py --device cuda --threads 8 --iterations 5 \
    --only dyntex-paper dyntex-paper-bf16 cifar10 cifar10-bf16 cifar10-port dyntex \
    --json "$OUT/speed.json" 2>&1 | tee "$OUT/speed.log"
