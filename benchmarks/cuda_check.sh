#!/usr/bin/env bash
# Issue 10, deliverable 6, in one command on a GPU machine: the accelerator tests (every test that
# takes coopkit's `accelerator` fixture, on CUDA), then `coopkit bench` of the paper-scale recipes
# against that GPU's measured matrix-multiply rate. Logs and JSON go to $OUT (runs/cuda if unset).
#
#     bash benchmarks/cuda_wheels.sh            # first, where pip reaches PyPI: writes .whl/
#     bash benchmarks/cuda_check.sh             # then on the GPU machine, .whl/ carried along
#
# Its image has torch; the wheels add what it lacks into /tmp/site (nothing is installed
# system-wide). coopkit and its plugins are imported from this tree's sources; their wheels are
# there for their entry points. Each stage has its own time limit (about 6 minutes in all), so
# a slow stage leaves the others' results and time to run it again.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-runs/cuda}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=$PWD:$PWD/plugins/coopkit-image/src:$PWD/plugins/coopkit-video/src:/tmp/site
export PYTHONUNBUFFERED=1
{
    python3 -c 'import torch, coopkit
print("torch", torch.__version__, "CUDA", torch.version.cuda, torch.cuda.get_device_name(0))
print("bf16:", torch.cuda.is_bf16_supported(), "coopkit", coopkit.__version__, coopkit.__file__)'
    python3 -m pip list 2>/dev/null
} > "$OUT/environment.txt" 2>&1
head -2 "$OUT/environment.txt"
timeout 150 python3 -m pytest -q -n 8 -p no:cacheprovider -rs -k accelerator \
    --junitxml="$OUT/tests.xml" tests plugins/coopkit-image/tests plugins/coopkit-video/tests \
    2>&1 | tee "$OUT/tests.log" | tail -n 25
timeout 180 python3 benchmarks/speed.py --device cuda --threads 8 --iterations 3 \
    --only dyntex-paper dyntex-paper-bf16 cifar10 cifar10-bf16 \
    --json "$OUT/speed.json" 2>&1 | tee "$OUT/speed.log"
