"""The 3D layers of the dynamic-texture nets: the general convolution kernels (``nn.Conv3d`` /
``nn.ConvTranspose3d``, "plain") against the forms in ``coopkit_video.layers``, side by side in one
process on one thread.

    python benchmarks/video_layers.py [--repeats N] [--iterations N] [--profile] [KEY=VALUE ...]

Prints the median wall and CPU milliseconds and minor page faults of each layer's forward and
backward at the sizes of ``recipes/dyntex.toml`` (overrides as for ``coopkit run``): the
descriptor's first layer (plain, ``StridedConv3d``, and plain in ``channels_last_3d``), the
descriptor's spatially fully connected layer and the generator's, and the generator's up-sampling
layers (plain against ``PhaseConvTranspose3d``'s form; ``nets.py`` uses it for the output layer). Then whole training iterations of
that recipe built three ways (same seed, so the same weights and draws): all plain, the spatially
fully connected layers only, and all of ``coopkit_video.layers`` (what ``nets.py`` builds).
The variants of each case alternate call by call, so that load from other processes hits them alike;
on a shared machine only their ratios mean something. ``coopkit.engine.allocator``'s
``keep_freed_memory`` is applied first, as training does. ``--profile`` ends with the operators
that take the most time in one iteration as ``nets.py`` builds it.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from coopkit_video import nets
from coopkit_video.layers import (
    PhaseConvTranspose3d,
    SpatiallyFullyConnectedConv3d,
    SpatiallyFullyConnectedConvTranspose3d,
    StridedConv3d,
)
from torch import nn

import coopkit
from coopkit.engine.allocator import keep_freed_memory

RECIPE = Path(__file__).parents[1] / "recipes" / "dyntex.toml"

Forward = Callable[[torch.Tensor], torch.Tensor]

# the layers of coopkit_video.layers that nets.py uses, and what each build puts in their place
FAST_LAYERS = {
    "SpatiallyFullyConnectedConv3d": nn.Conv3d,
    "SpatiallyFullyConnectedConvTranspose3d": nn.ConvTranspose3d,
    "StridedConv3d": nn.Conv3d,
    "PhaseConvTranspose3d": nn.ConvTranspose3d,
}
BUILDS = {  # name: the layers replaced by their parent class
    "plain": set(FAST_LAYERS),
    "spatially f.c. only": {"StridedConv3d", "PhaseConvTranspose3d"},
    "all (nets.py)": set(),
}


def measure(call: Callable[[], object]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and minor page faults of one call."""
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return wall, cpu, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults


def side_by_side(calls: dict[str, Callable[[], object]], repeats: int) -> dict[str, list]:
    """Medians of (wall, cpu, faults) per call, after one warm-up each; calls interleaved."""
    samples: dict[str, list] = {name: [] for name in calls}
    for repeat in range(repeats + 1):
        for name, call in calls.items():
            sample = measure(call)
            if repeat:
                samples[name].append(sample)
    return {
        name: [statistics.median(column) for column in zip(*s, strict=True)]
        for name, s in samples.items()
    }


def layer_calls(
    layer: nn.Module, forwards: dict[str, Forward], x: torch.Tensor, weight_grad: bool
) -> dict[str, Callable[[], object]]:
    """Forward, then the gradient of the input (and of weight and bias), for each forward."""
    inputs = [layer.weight, layer.bias] if weight_grad else []

    def call(forward: Forward) -> Callable[[], object]:
        def run() -> object:
            x_ = x.detach().requires_grad_()
            y = forward(x_)
            return torch.autograd.grad(y, [x_, *inputs], torch.ones_like(y))

        return run

    return {name: call(forward) for name, forward in forwards.items()}


def plain_and_fast(layer: nn.Module, parent: type[nn.Module]) -> dict[str, Forward]:
    return {"plain": lambda x: parent.forward(layer, x), "fast": layer.forward}


def strided_variants(layer: nn.Conv3d) -> dict[str, Forward]:
    """The descriptor's first layer: parent, StridedConv3d, parent in channels_last_3d (input
    and weight converted at each call, as a net in that format converts its input)."""
    cl = torch.channels_last_3d

    def channels_last(x: torch.Tensor) -> torch.Tensor:
        weight = layer.weight.contiguous(memory_format=cl)
        return layer._conv_forward(x.contiguous(memory_format=cl), weight, layer.bias)

    return {
        "plain": lambda x: nn.Conv3d.forward(layer, x),
        "StridedConv3d": layer.forward,
        "plain, channels_last_3d": channels_last,
    }


def build_run(overrides: list[str], directory: str, replaced: set[str]) -> coopkit.Run:
    saved = {name: getattr(nets, name) for name in FAST_LAYERS}
    for name in replaced:
        setattr(nets, name, FAST_LAYERS[name])
    try:
        return coopkit.build(RECIPE, [f"output.dir={directory}", *overrides])
    finally:
        for name, layer in saved.items():
            setattr(nets, name, layer)


def training_step(run: coopkit.Run, phases: list[dict[str, float]]) -> Callable[[], None]:
    """One training step (the algorithm's step on a data batch, no files written)."""

    def step() -> None:
        indices = torch.randint(
            len(run.data), (run.recipe.train.batch_size,), generator=run.data_rng
        )
        metrics = run.training_step(run.data.batch(indices), indices, run.iteration)
        run.iteration += 1
        phases.append({k[8:]: v for k, v in metrics.items() if k.startswith("seconds_")})

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("overrides", nargs="*", help="KEY=VALUE recipe overrides")
    parser.add_argument("--repeats", type=int, default=7, help="measured calls per layer case")
    parser.add_argument("--iterations", type=int, default=4, help="measured training iterations")
    parser.add_argument("--profile", action="store_true", help="profile one iteration at the end")
    args = parser.parse_args()
    keep_freed_memory()
    torch.set_num_threads(1)
    torch.manual_seed(0)

    run = build_run(args.overrides, tempfile.mkdtemp(prefix="video-layers-"), set())
    chains = run.recipe.train.chains
    first_layer = next(m for m in run.descriptor.modules() if isinstance(m, StridedConv3d))
    descriptor_layer = next(
        m for m in run.descriptor.modules() if isinstance(m, SpatiallyFullyConnectedConv3d)
    )
    generator_layer = next(
        m for m in run.generator.modules() if isinstance(m, SpatiallyFullyConnectedConvTranspose3d)
    )
    upsampling = [m for m in run.generator.modules() if isinstance(m, nn.ConvTranspose3d)][2:]
    # the layers' inputs at the recipe's sizes, captured from one forward of each net
    captured = {}
    hooks = [
        layer.register_forward_hook(lambda m, i, o: captured.__setitem__(m, i[0].detach()))
        for layer in (first_layer, descriptor_layer, generator_layer, *upsampling)
    ]
    with torch.no_grad():
        _, drafts = run.generator.sample(chains)
        run.descriptor.score(drafts)
    for hook in hooks:
        hook.remove()
    del run

    cases = [
        ("descriptor layer 1, fwd + input grad (D1)", first_layer, strided_variants, False),
        ("descriptor layer 1, fwd + input/weight grad", first_layer, strided_variants, True),
        (
            "descriptor layer 2, fwd + input grad (D1)",
            descriptor_layer,
            lambda layer: plain_and_fast(layer, nn.Conv3d),
            False,
        ),
        (
            "descriptor layer 2, fwd + input/weight grad",
            descriptor_layer,
            lambda layer: plain_and_fast(layer, nn.Conv3d),
            True,
        ),
        (
            "generator layer 2, fwd + input/weight grad",
            generator_layer,
            lambda layer: plain_and_fast(layer, nn.ConvTranspose3d),
            True,
        ),
    ]
    for layer in upsampling:  # the parent's kernel against the phase form (nets.py: output layer)
        cases.append(
            (
                f"generator {layer.in_channels} → {layer.out_channels}, fwd + input/weight grad",
                layer,
                lambda layer: {
                    "plain": lambda x: nn.ConvTranspose3d.forward(layer, x),
                    "phase": lambda x: PhaseConvTranspose3d.forward(layer, x),
                },
                True,
            )
        )
    rows = []
    for title, layer, variants, weight_grad in cases:
        x = captured[layer]
        calls = layer_calls(layer, variants(layer), x, weight_grad)
        rows.append((f"{title} {tuple(x.shape)}", side_by_side(calls, args.repeats)))

    phases: dict[str, list] = {name: [] for name in BUILDS}
    runs = {
        name: build_run(args.overrides, tempfile.mkdtemp(prefix="video-layers-"), replaced)
        for name, replaced in BUILDS.items()
    }
    steps = {name: training_step(runs[name], phases[name]) for name in BUILDS}
    rows.append(
        (f"dyntex training iteration ({chains} chains)", side_by_side(steps, args.iterations))
    )

    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread; medians of "
        f"{args.repeats} layer calls and {args.iterations} iterations (after one warm-up each); "
        "× = the first variant's time / this variant's"
    )
    table = [["case", "variant", "wall ms", "×", "CPU ms", "×", "faults"]]
    for label, result in rows:
        (base_wall, base_cpu, _) = next(iter(result.values()))
        for index, (variant, (wall, cpu, faults)) in enumerate(result.items()):
            table.append(
                [
                    label if index == 0 else "",
                    variant,
                    f"{wall * 1e3:.1f}",
                    f"{base_wall / wall:.2f}",
                    f"{cpu * 1e3:.1f}",
                    f"{base_cpu / cpu:.2f}",
                    f"{faults:.0f}",
                ]
            )
    print_table(table)

    print("\nper phase of the training iteration (wall ms, the algorithm's own timer):")
    names = list(BUILDS)
    table = [["phase", *names, "× all/plain", "× all/spatially f.c."]]
    for phase in phases[names[0]][-1]:
        ms = [statistics.median(s[phase] for s in phases[name][1:]) * 1e3 for name in names]
        ratios = (f"{m / ms[2]:.2f}" if ms[2] else "-" for m in ms[:2])
        table.append([phase, *(f"{m:.1f}" for m in ms), *ratios])
    print_table(table)

    if args.profile:
        profile_iteration(training_step(runs[names[-1]], []))


def profile_iteration(step: Callable[[], None], rows: int = 15) -> None:
    """The operators taking the most CPU time (self) in one training step."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as profiler:
        step()
    print("\none iteration as nets.py builds it, by operator and input shapes (self CPU time):")
    table = profiler.key_averages(group_by_input_shape=True).table(
        sort_by="self_cpu_time_total", row_limit=rows, max_name_column_width=40
    )
    print(table)


def print_table(table: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for index, row in enumerate(table):
        cells = [cell.rjust(width) for cell, width in zip(row, widths, strict=True)]
        cells[0], cells[1] = row[0].ljust(widths[0]), row[1].ljust(widths[1])
        print("  ".join(cells))
        if index == 0:
            print("-" * (sum(widths) + 2 * len(widths) - 2))


if __name__ == "__main__":
    main()
