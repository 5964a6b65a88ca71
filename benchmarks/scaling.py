"""How the cost of a dynamic-texture iteration grows with frames, frame size, chains and Langevin
steps: one factor at a time from the shipped recipe, timed with ``coopkit bench``.

    python benchmarks/scaling.py --out docs/images/dyntex-scaling.svg

Prints a markdown table and writes a small SVG chart (seconds per iteration against each factor,
relative to its smallest value, with the linear growth drawn for comparison).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

import coopkit
from coopkit.bench import bench

RECIPE = "recipes/dyntex.toml"
FACTORS = {
    "data.frames": [8, 16, 32],
    "data.size": [32, 48, 64],
    "train.chains": [1, 2, 4],
    "sampler.steps": [5, 10, 20],
}
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]


def measure(iterations: int) -> dict[str, list[tuple[int, float, float]]]:
    """factor -> [(value, seconds per iteration, GFLOP per iteration)]."""
    results: dict[str, list[tuple[int, float, float]]] = {}
    for factor, values in FACTORS.items():
        for value in values:
            print(f"… {factor}={value}", file=sys.stderr)
            run = coopkit.build(RECIPE, ["train.device=cpu", f"{factor}={value}"])
            result = bench(run, iterations=iterations, warmup=1)
            row = (value, result.seconds_per_iteration, result.flops_per_iteration / 1e9)
            results.setdefault(factor, []).append(row)
    return results


def svg_chart(results: dict[str, list[tuple[int, float, float]]]) -> str:
    """Relative cost (seconds ÷ seconds at the smallest value) against relative size, log-log."""
    width, height, margin = 520, 360, 50
    top = 4.5  # the largest relative value drawn (×1 … ×4 and a little room)

    def x(ratio: float) -> float:
        return margin + (width - 2 * margin) * (ratio - 1) / 3

    def y(ratio: float) -> float:
        return height - margin - (height - 2 * margin) * (ratio - 1) / (top - 1)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<line x1="{x(1)}" y1="{y(1)}" x2="{x(4)}" y2="{y(1)}" stroke="black"/>',
        f'<line x1="{x(1)}" y1="{y(1)}" x2="{x(1)}" y2="{y(top)}" stroke="black"/>',
        f'<line x1="{x(1)}" y1="{y(1)}" x2="{x(4)}" y2="{y(4)}" stroke="#999" '
        'stroke-dasharray="4 4"/>',
        f'<text x="{x(4) - 60}" y="{y(4) - 6}" fill="#999">linear</text>',
        f'<text x="{width / 2 - 90}" y="{height - 12}">factor ÷ its smallest value</text>',
        f'<text x="12" y="{margin - 18}">seconds per iteration ÷ at the smallest value</text>',
    ]
    for tick in (1, 2, 3, 4):
        parts.append(f'<text x="{x(tick) - 6}" y="{y(1) + 16}">×{tick}</text>')
        parts.append(f'<text x="{x(1) - 30}" y="{y(tick) + 4}">×{tick}</text>')
    for index, (factor, rows) in enumerate(results.items()):
        colour = COLOURS[index % len(COLOURS)]
        base_value, base_seconds = rows[0][0], rows[0][1]
        points = [(value / base_value, seconds / base_seconds) for value, seconds, _ in rows]
        if factor == "data.size":  # cost follows the pixel count: plot against area
            points = [(ratio**2, cost) for ratio, cost in points]
        path = " ".join(f"{x(a):.1f},{y(min(b, top)):.1f}" for a, b in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        label = "data.size² (pixels)" if factor == "data.size" else factor
        parts.append(
            f'<text x="{x(1) + 10}" y="{margin + 16 * index}" fill="{colour}">{label}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iterations", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, help="SVG chart to write")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    results = measure(args.iterations)
    print("| factor | value | s/iteration | GFLOP/iteration |")
    print("|---|---|---|---|")
    for factor, rows in results.items():
        for value, seconds, gflop in rows:
            print(f"| {factor} | {value} | {seconds:.2f} | {gflop:.1f} |")
    if args.out:
        args.out.write_text(svg_chart(results))


if __name__ == "__main__":
    main()
