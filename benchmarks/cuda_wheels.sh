#!/usr/bin/env bash
# Prepares .whl/ for benchmarks/cuda_check.sh: wheels of coopkit and its plugins, and of the
# packages the GPU machine's image lacks (its Python is 3.12 with torch, numpy, pillow, pluggy,
# typer, rich, safetensors, einops, pytest and pytest-xdist already there).
#
#     bash benchmarks/cuda_wheels.sh      # here, where pip can reach PyPI; writes .whl/
set -euo pipefail
cd "$(dirname "$0")/.."
exclude=$(git rev-parse --git-path info/exclude)
grep -qx '/.whl/' "$exclude" 2>/dev/null || echo '/.whl/' >> "$exclude"
rm -rf .whl && mkdir .whl
python -m pip wheel -q --no-deps -w .whl . plugins/coopkit-image plugins/coopkit-video
python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform manylinux_2_28_x86_64 -d .whl \
    pydantic==2.13.4 pydantic-core==2.46.4 annotated-types==0.7.0 typing-inspection==0.4.2 \
    tomli-w==1.2.0 typing-extensions==4.15.0 av==18.1.0
du -sh .whl
