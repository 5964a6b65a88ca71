"""The 2D descriptors' first layer: ``nn.Conv2d`` ("plain") against ``coopkit.core.StridedConv2d``,
side by side in one process on one thread.

    python benchmarks/image_layers.py [--repeats N] [RECIPE ...]

For each recipe (default: textures, mnist, and cifar10 at the PyTorch port's settings of
``benchmarks/speed.toml``), at its chains and picture size: the first layer's forward + input
gradient, and the whole descriptor's f and input gradient (one Langevin step's work), built
both ways with the same weights. The two alternate call by call, so that load from other
processes hits them alike; the medians of the process's CPU milliseconds and their ratio are
printed. The later, many-channel strided layers were measured the same way and are slower in
phase form (64 → 128, kernel 3, stride 2, on 16²: 34 against 45 ms), so the nets keep them plain.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from coopkit.core import StridedConv2d

HERE = Path(__file__).resolve().parent
MNIST = {"name": "mnist", "recipe": "mnist"}


def cases() -> dict[str, dict]:
    """textures and cifar10-port as ``benchmarks/speed.py`` builds them (random pictures stand in
    for CIFAR), and mnist."""
    sys.path.insert(0, str(HERE))
    from speed import CASES

    speed_cases = tomllib.loads(CASES.read_text())["case"]
    chosen = {c["name"]: c for c in speed_cases if c["name"] in ("textures", "cifar10-port")}
    return {"textures": chosen["textures"], "mnist": MNIST, "cifar10-port": chosen["cifar10-port"]}


def plain_twin(descriptor: nn.Module) -> nn.Module:
    """The descriptor with each StridedConv2d replaced by an nn.Conv2d holding its parameters."""
    twin = copy.deepcopy(descriptor)
    for parent in twin.modules():
        for name, child in parent.named_children():
            if isinstance(child, StridedConv2d):
                plain = nn.Conv2d(
                    child.in_channels,
                    child.out_channels,
                    child.kernel_size,
                    child.stride,
                    child.padding,
                    padding_mode=child.padding_mode,
                )
                plain.load_state_dict(child.state_dict())
                setattr(parent, name, plain)
    return twin


def input_gradient(call: Callable[[torch.Tensor], torch.Tensor], y: torch.Tensor) -> torch.Tensor:
    y = y.detach().requires_grad_()
    return torch.autograd.grad(call(y).sum(), y)[0]


def alternate(calls: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median CPU milliseconds of each call, the calls taking turns (the first round dropped)."""
    seconds: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeats + 1):
        for name, call in calls.items():
            start = time.process_time()
            call()
            seconds[name].append(time.process_time() - start)
    return {name: 1e3 * statistics.median(values[1:]) for name, values in seconds.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "cases", nargs="*", metavar="RECIPE", help="textures, mnist, cifar10-port (default: all)"
    )
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    known = cases()
    if unknown := set(args.cases) - set(known):
        parser.error(f"unknown case(s) {sorted(unknown)}; choose from {list(known)}")
    from speed import build_case

    torch.set_num_threads(1)
    torch.manual_seed(0)
    scratch = Path(tempfile.mkdtemp())
    print("| recipe | what | plain (ms) | StridedConv2d (ms) | speed-up |")
    print("|---|---|---|---|---|")
    for case in args.cases or known:
        run = build_case(known[case], scratch)
        descriptor = run.descriptor
        twin = plain_twin(descriptor)
        first = next(m for m in descriptor.modules() if isinstance(m, StridedConv2d))
        plain_first = next(m for m in twin.modules() if isinstance(m, nn.Conv2d))
        shape = tuple(run.data.batch(torch.zeros(1, dtype=torch.long)).shape[1:])
        y = torch.randn(run.recipe.train.chains, *shape)
        rows = {
            "first layer: forward + input gradient": (plain_first, first),
            "descriptor: f + input gradient": (twin.score, descriptor.score),
        }
        for what, (plain, fast) in rows.items():
            ms = alternate(
                {
                    "plain": lambda plain=plain, y=y: input_gradient(plain, y),
                    "fast": lambda fast=fast, y=y: input_gradient(fast, y),
                },
                args.repeats,
            )
            print(
                f"| {case} | {what} | {ms['plain']:.1f} | {ms['fast']:.1f} "
                f"| ×{ms['plain'] / ms['fast']:.2f} |"
            )


if __name__ == "__main__":
    main()
