"""Time the speed cases of ``speed.toml`` with ``coopkit bench``, side by side in one process.

    python benchmarks/speed.py                       # every case, 1 thread, 3 iterations each
    python benchmarks/speed.py --only dyntex --iterations 5 --threads 2
    python benchmarks/speed.py --json runs/speed.json
    python benchmarks/speed.py --device cuda --only dyntex-paper cifar10   # the paper's scale

Each case is a registered recipe with overrides (and, where the data is not available offline,
random pictures of the right shape in place of its ``[data]``). The table gives seconds per
iteration, GFLOP per iteration, GFLOP/s, the efficiency against the dense fp32 matrix product
measured in the same run, and peak memory.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import tomllib
from pathlib import Path

import numpy as np
import torch

import coopkit
from coopkit.bench import bench
from coopkit.plugins import default_host
from coopkit.recipe import load_recipe, parse_recipe

CASES = Path(__file__).resolve().parent / "speed.toml"


def random_images(folder: Path, count: int, size: int, channels: int) -> Path:
    path = folder / f"random-{count}x{size}x{size}x{channels}.npy"
    pixels = np.random.default_rng(0).integers(0, 256, (count, size, size, channels), np.uint8)
    np.save(path, pixels)
    return path


def build_case(case: dict, scratch: Path, device: str = "cpu"):
    host = default_host()
    recipe = load_recipe(case["recipe"], None, host.registries.recipes)
    data = recipe.model_dump(exclude_none=True)
    if "data" in case:
        spec = dict(case["data"])
        if spec.pop("name") != "random-images":
            raise SystemExit(f"{case['name']}: unknown data kind in speed.toml")
        data["data"] = {"name": "arrays", "path": str(random_images(scratch, **spec))}
    overrides = [*case.get("overrides", []), f"train.device={device}"]
    return coopkit.build(parse_recipe(data, recipe.source, overrides))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", help="case names (default: all)")
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ... (train.device)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cases = tomllib.loads(CASES.read_text())["case"]
    if args.only:
        unknown = set(args.only) - {case["name"] for case in cases}
        if unknown:
            raise SystemExit(f"no such case in speed.toml: {', '.join(sorted(unknown))}")
        cases = [case for case in cases if case["name"] in args.only]
    else:
        cases = [case for case in cases if not case.get("paper_scale")]
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        for case in cases:
            print(f"… {case['name']}", file=sys.stderr)
            try:
                run = build_case(case, Path(scratch), args.device)
                results[case["name"]] = bench(run, iterations=args.iterations).as_dict()
            except Exception as error:  # one case's failure keeps the others' figures
                print(f"{case['name']}: {type(error).__name__}: {error}", file=sys.stderr)
            if args.json:  # after every case: a run stopped midway keeps what it measured
                args.json.write_text(json.dumps(results, indent=2))
    print(
        "| case | s/iteration | GFLOP/iteration | GFLOP/s | matmul GFLOP/s | efficiency | peak GiB |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        print(
            f"| {name} | {r['seconds_per_iteration']:.3f} | {r['flops_per_iteration'] / 1e9:.2f} "
            f"| {r['flops_per_second'] / 1e9:.1f} | {r['matmul_flops_per_second'] / 1e9:.1f} "
            f"| {r['efficiency']:.2f} | {r['peak_memory_bytes'] / 2**30:.2f} |"
        )


if __name__ == "__main__":
    main()
