"""Langevin revision: coopkit's sampler against torchebm's ``LangevinDynamics``, same energy.

    pip install torchebm==0.8.9          # or run it all with: nox -s torchebm
    python benchmarks/langevin_vs_torchebm.py                       # 1 thread, 7 timed rounds
    python benchmarks/langevin_vs_torchebm.py --threads 1 2 --rounds 9 --json runs/langevin.json

The case is issue 10's: Step D1 (the Langevin revision) of 100 chains × 10 steps on 32×32×3
pictures, the energy being the CIFAR descriptor as ``benchmarks/speed.toml``'s ``cifar10-port``
case builds it (``recipes/cifar10.toml``, strides 2-2-1, fc 100, δ = 0.001), including the
reference term: ℰ(Y) = ||Y||²/(2s²) − f(Y; θ). The chains start from the generator's drafts.
Three samplers and a floor run on that one ``nn.Module`` (same weights) from that one batch:

- ``coopkit``: ``coopkit.samplers.langevin.Langevin``, x ← x − (δ²/2)·∂ℰ/∂x + δ·U;
- ``torchebm``: ``torchebm.samplers.LangevinDynamics``, whose Euler–Maruyama step is
  x ← x − η·∇U + σ·√(2η)·U; with η = δ²/2 and σ (``noise_scale``) = 1 it is the same maths;
- ``hand-written``: the loop one would write by hand (``torch.autograd.grad``, no framework);
- ``net alone``, timed only: the 10 energy-and-gradient evaluations without any update, the floor
  that no sampler of this energy can go below.

Before anything is timed the script checks that they agree: from one seed (both draw their noise
as ``torch.randn`` from the same generator, so the same U) and with the noise off, the final
states must agree to a tolerance; from independent seeds, the mean energy drop and the mean
displacement must agree within 4 standard errors. Then the samplers take turns (the order rotates
every round), a warm-up round is dropped, and the medians of CPU seconds (the process's, all
threads) and wall seconds are reported with the ratios to coopkit.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from coopkit.core.sampler import EnergyFn
from coopkit.samplers.langevin import Langevin, LangevinParams

HERE = Path(__file__).resolve().parent
TORCHEBM_VERSION = "0.8.9"  # the version measured; nox -s torchebm installs it
CASE = "cifar10-port"
CHAINS = 100
STEPS = 10

Sample = Callable[[EnergyFn, torch.Tensor, float, int, bool, torch.Generator], torch.Tensor]
"""(energy, x0, δ, steps, noise, generator) → the final state of every chain."""


def coopkit_langevin(energy, x0, delta, steps, noise, generator):
    params = LangevinParams(steps=steps, step_size=delta, noise=noise)
    return Langevin(params).run(energy, x0, generator).x


def hand_written(energy, x0, delta, steps, noise, generator):
    x = x0.detach()
    for _ in range(steps):
        with torch.enable_grad():
            state = x.requires_grad_(True)
            (grad,) = torch.autograd.grad(energy(state).sum(), state)
        x = x.detach() - 0.5 * delta**2 * grad
        if noise:
            x = x + delta * torch.randn(x.shape, generator=generator, dtype=x.dtype)
    return x


def torchebm_langevin(energy, x0, delta, steps, noise, generator):
    """torchebm's sampler on coopkit's energy: η = δ²/2, noise_scale = 1 (0 with the noise off,
    through a constant schedule: its constructor wants a positive float)."""
    from torchebm.core import BaseModel, ConstantScheduler
    from torchebm.samplers import LangevinDynamics

    class Energy(BaseModel):
        def __init__(self, fn):
            super().__init__(device=x0.device)
            self.fn = fn

        def forward(self, x):
            return self.fn(x)

    sampler = LangevinDynamics(
        Energy(energy),
        step_size=0.5 * delta**2,
        noise_scale=1.0 if noise else ConstantScheduler(0.0),
        device=x0.device,
    )
    return sampler.sample(x=x0, n_steps=steps, generator=generator)


def net_alone(energy, x0, delta, steps, noise, generator):
    """Not a sampler: the ``steps`` energy-and-gradient evaluations alone, at x0 (no update, no
    noise). No sampler of this energy can be faster; it bounds every ratio."""
    del delta, noise, generator
    for _ in range(steps):
        with torch.enable_grad():
            state = x0.detach().requires_grad_(True)
            torch.autograd.grad(energy(state).sum(), state)
    return x0


def samplers(with_torchebm: bool) -> dict[str, Sample]:
    found: dict[str, Sample] = {"coopkit": coopkit_langevin}
    if with_torchebm:
        found["torchebm"] = torchebm_langevin
    found["hand-written"] = hand_written
    return found


def build_energy(scratch: Path):
    """The cifar10-port case's descriptor and generator drafts (``benchmarks/speed.py`` builds
    the run exactly as for ``coopkit bench``)."""
    sys.path.insert(0, str(HERE))
    from speed import CASES, build_case

    case = next(c for c in tomllib.loads(CASES.read_text())["case"] if c["name"] == CASE)
    run = build_case(case, scratch)
    descriptor, generator = run.descriptor, run.generator
    delta = run.sampler.params.step_size
    rng = torch.Generator().manual_seed(0)
    with torch.no_grad():
        x0 = generator(generator.sample_latent(CHAINS, rng))
    return descriptor.energy, x0, delta


def per_chain(energy: EnergyFn, x0: torch.Tensor, x: torch.Tensor) -> dict[str, torch.Tensor]:
    with torch.no_grad():
        drop = energy(x0) - energy(x)
    displacement = (x - x0).abs().flatten(1).mean(1)
    return {"energy drop": drop, "displacement": displacement}


class Disagreement(RuntimeError):
    """A sampler does not do coopkit's maths."""


def check_agreement(
    found: dict[str, Sample], energy: EnergyFn, x0: torch.Tensor, delta: float, steps: int
) -> list[str]:
    """Each sampler of ``found`` against coopkit's; the lines of a report, or
    :class:`Disagreement`."""
    lines = []

    def run(sample: Sample, noise: bool, seed: int) -> torch.Tensor:
        return sample(energy, x0, delta, steps, noise, torch.Generator().manual_seed(seed))

    reference = {noise: run(coopkit_langevin, noise, 1) for noise in (True, False)}
    moved = (reference[True] - x0).abs().max().item()
    ours = [per_chain(energy, x0, run(coopkit_langevin, True, seed)) for seed in (11, 12)]
    for index, (name, sample) in enumerate(found.items()):
        if sample is coopkit_langevin:
            continue
        for noise in (True, False):
            gap = (run(sample, noise, 1) - reference[noise]).abs().max().item()
            label = "same noise" if noise else "noise off"
            lines.append(
                f"{name} vs coopkit, {label}: max |Δx| {gap:.1e} (chains moved ≤ {moved:.1e})"
            )
            if not gap <= 1e-3 * moved:
                raise Disagreement(f"{name} does not follow coopkit's trajectory: {lines[-1]}")
        # independent noise: seeds no other sampler uses
        theirs = [per_chain(energy, x0, run(sample, True, 100 * index + s)) for s in (11, 12)]
        for key in ("energy drop", "displacement"):
            a = torch.cat([r[key] for r in ours])
            b = torch.cat([r[key] for r in theirs])
            error = (a.var() / a.numel() + b.var() / b.numel()).sqrt().item()
            z = (b.mean() - a.mean()).item() / error
            lines.append(
                f"{name} vs coopkit, independent noise: mean {key} {b.mean():.5g} vs "
                f"{a.mean():.5g} ({z:+.1f} standard errors)"
            )
            if not abs(z) <= 4:
                raise Disagreement(f"{name} disagrees with coopkit in distribution: {lines[-1]}")
    return lines


@dataclass
class Timing:
    cpu: list[float]
    wall: list[float]


def time_rounds(
    found: dict[str, Sample],
    energy: EnergyFn,
    x0: torch.Tensor,
    delta: float,
    steps: int,
    rounds: int,
    warmup: int,
) -> dict[str, Timing]:
    names = list(found)
    timings = {name: Timing([], []) for name in names}
    generator = torch.Generator().manual_seed(2)
    for index in range(warmup + rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:  # A B C, B C A, C A B, ...
            cpu, wall = time.process_time(), time.perf_counter()
            found[name](energy, x0, delta, steps, True, generator)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            if index >= warmup:
                timings[name].cpu.append(cpu)
                timings[name].wall.append(wall)
    return timings


def table(results: dict[int, dict[str, dict]]) -> str:
    """Medians, their ratio to coopkit's, and the spread of that ratio over the rounds (each
    round's time divided by coopkit's in the same round)."""
    rows = [
        "| threads | sampler | CPU s | wall s | ÷ coopkit, CPU | ÷ coopkit, wall | per round, CPU |",
        "|---|---|---|---|---|---|---|",
    ]
    for threads, by_name in results.items():
        ours = by_name["coopkit"]
        for name, r in by_name.items():
            paired = [a / b for a, b in zip(r["cpu_s_rounds"], ours["cpu_s_rounds"], strict=True)]
            rows.append(
                f"| {threads} | {name} | {r['cpu_s']:.3f} | {r['wall_s']:.3f} "
                f"| {r['cpu_s'] / ours['cpu_s']:.3f} | {r['wall_s'] / ours['wall_s']:.3f} "
                f"| {min(paired):.2f}–{max(paired):.2f} |"
            )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1])
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds (after the warm-up)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first")
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--without-torchebm", action="store_true", help="time coopkit and the hand loop only"
    )
    args = parser.parse_args()
    with_torchebm = not args.without_torchebm
    if with_torchebm:
        try:
            import torchebm
        except ImportError:
            raise SystemExit(
                f"torchebm is not installed: pip install torchebm=={TORCHEBM_VERSION} (or "
                "nox -s torchebm), or pass --without-torchebm"
            ) from None
        print(f"torchebm {torchebm.__version__}", file=sys.stderr)
    found = samplers(with_torchebm)
    timed = {**found, "net alone": net_alone}

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as scratch:
        energy, x0, delta = build_energy(Path(scratch))
    print(f"{CASE}: {CHAINS} chains × {args.steps} steps of {tuple(x0.shape[1:])}, δ = {delta}")
    try:
        lines = check_agreement(found, energy, x0, delta, args.steps)
    except Disagreement as error:
        raise SystemExit(f"not timed: {error}") from None
    print("\n".join(lines))

    results = {}
    for threads in args.threads:
        torch.set_num_threads(threads)
        print(f"… {threads} thread(s), {args.rounds} rounds", file=sys.stderr)
        timings = time_rounds(timed, energy, x0, delta, args.steps, args.rounds, args.warmup)
        results[threads] = {
            name: {
                "cpu_s": statistics.median(t.cpu),
                "wall_s": statistics.median(t.wall),
                "cpu_s_rounds": t.cpu,
                "wall_s_rounds": t.wall,
            }
            for name, t in timings.items()
        }

    print()
    print(table(results))
    if args.json:
        meta = {
            "case": CASE,
            "chains": CHAINS,
            "steps": args.steps,
            "step_size": delta,
            "rounds": args.rounds,
            "warmup": args.warmup,
            "torch": torch.__version__,
            "torchebm": __import__("torchebm").__version__ if with_torchebm else None,
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        }
        args.json.write_text(json.dumps({"meta": meta, "threads": results}, indent=2))


if __name__ == "__main__":
    main()
