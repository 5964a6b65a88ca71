"""Seconds per training iteration of this tree against another revision, measured side by side.

    python benchmarks/versus.py --base b4a496e dyntex train.device=cpu
    python benchmarks/versus.py --base main~3 textures --rounds 3 --iterations 3 --threads 2
    python benchmarks/versus.py --base b4a496e textures --this-tree train.precision=bf16

The other revision is checked out into a temporary git worktree. The two trees take turns, one
process each, ``--rounds`` times, so that both see the same load on a shared machine; each
process builds the recipe, runs one untimed iteration and times ``--iterations`` more of the
recipe's training step (``Run.training_step``, or ``Algorithm.step`` in trees older than
``train.precision``: what ``coopkit run`` does minus writing outputs). The
median of each side and their ratio are printed. ``--this-tree KEY=VALUE`` overrides apply to this
tree alone: a setting the other revision does not have.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TIMER = """
import json, sys, time, torch
torch.set_num_threads(int(sys.argv[1]))
import coopkit
run = coopkit.build(sys.argv[3], sys.argv[4:])
try:  # trees that tune the allocator do it when training starts
    from coopkit.engine.allocator import keep_freed_memory
    keep_freed_memory()
except ImportError:
    pass
data = run.data
# trees with train.precision step through Run.training_step, older ones through the algorithm
train_step = getattr(run, "training_step", run.algorithm.step)
def step(i):
    indices = torch.randint(len(data), (run.recipe.train.batch_size,), generator=run.data_rng)
    return train_step(data.batch(indices).to(run.device), indices, i)
step(0)
times = []
for i in range(int(sys.argv[2])):
    start = time.perf_counter(); step(i + 1); times.append(time.perf_counter() - start)
print(json.dumps(times))
"""


def source_path(tree: Path) -> str:
    parts = [
        tree,
        tree / "plugins" / "coopkit-image" / "src",
        tree / "plugins" / "coopkit-video" / "src",
    ]
    return os.pathsep.join(str(p) for p in parts)


def time_tree(tree: Path, recipe: list[str], iterations: int, threads: int) -> list[float]:
    environment = {**os.environ, "PYTHONPATH": source_path(tree), "OMP_NUM_THREADS": str(threads)}
    result = subprocess.run(
        [sys.executable, "-c", TIMER, str(threads), str(iterations), *recipe],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"{tree}: the timing process failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", required=True, help="git revision to compare with")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--iterations", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--this-tree",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an override for this tree only (repeatable)",
    )
    parser.add_argument("recipe", nargs="+", help="recipe and KEY=VALUE overrides")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch) / "base"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(base), args.base],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        try:
            times: dict[str, list[float]] = {"base": [], "this tree": []}
            for round_ in range(args.rounds):
                for name, tree, recipe in (
                    ("base", base, args.recipe),
                    ("this tree", ROOT, args.recipe + args.this_tree),
                ):
                    print(f"round {round_ + 1}: {name}", file=sys.stderr)
                    times[name] += time_tree(tree, recipe, args.iterations, args.threads)
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, check=False
            )
    base_s, this_s = (statistics.median(times[k]) for k in ("base", "this tree"))
    only_here = f" (this tree also {' '.join(args.this_tree)})" if args.this_tree else ""
    print(f"recipe: {' '.join(args.recipe)}{only_here}; {args.threads} thread(s)")
    print(
        f"{args.base}: {base_s:.3f} s/iteration   this tree: {this_s:.3f} s/iteration   "
        f"speed-up ×{base_s / this_s:.2f}"
    )


if __name__ == "__main__":
    main()
