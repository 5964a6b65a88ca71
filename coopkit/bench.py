"""``coopkit bench``: how fast a recipe's training step runs, and how close to what the machine can do.

The step measured is the recipe's real one (:meth:`Algorithm.step` on batches drawn as training
draws them); nothing is written to the run directory. FLOPs are counted by
the FLOP formulas of ``torch.utils.flop_counter`` (forward and backward, convolutions and matrix
products) on one extra iteration, phase by phase. (``FlopCounterMode`` itself cannot be used: its
module tracker breaks ``torch.autograd.grad(..., inputs=...)``, which every sampler calls.) The machine's reference is the dense fp32
matrix product measured in the same process, so that the efficiency is a ratio of two
measurements taken side by side.

Under torchrun (``torchrun --nproc-per-node N -m coopkit bench RECIPE``, with ``train.strategy``
asking for a distributed run as :meth:`Run.fit` does) the processes join as in training and each
times its own share of the step, gradient all-reduces and the other per-iteration exchanges
included; rank 0's result carries every rank's figures and their aggregate
(:class:`DistributedFigures`).
"""

from __future__ import annotations

import platform
import resource
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

from coopkit.engine.allocator import keep_freed_memory
from coopkit.engine.run import Run
from coopkit.engine.steps import probing_phases

PHASES = ("G0", "D1", "G1", "D2", "G2")
MATMUL_SIZE = 2048


@dataclass
class PhaseFigures:
    seconds_per_iteration: float
    flops_per_iteration: float

    @property
    def flops_per_second(self) -> float:
        return (
            self.flops_per_iteration / self.seconds_per_iteration
            if self.seconds_per_iteration
            else 0.0
        )


@dataclass
class RankFigures:
    """One process's share of the step and how fast it ran it."""

    rank: int
    seconds_per_iteration: float
    chains: int
    examples: int
    peak_memory_bytes: int

    @property
    def chains_per_second(self) -> float:
        return self.chains / self.seconds_per_iteration

    @property
    def examples_per_second(self) -> float:
        return self.examples / self.seconds_per_iteration

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "chains_per_second": self.chains_per_second,
            "examples_per_second": self.examples_per_second,
        }


@dataclass
class DistributedFigures:
    """Every rank's figures (rank order) of a distributed bench, and their aggregate: the rates
    summed, the iteration as long as the slowest rank's."""

    per_rank: list[RankFigures]

    @property
    def world_size(self) -> int:
        return len(self.per_rank)

    def aggregate(self) -> dict[str, Any]:
        slowest = max(figures.seconds_per_iteration for figures in self.per_rank)
        return {
            "seconds_per_iteration": slowest,
            "iterations_per_second": 1.0 / slowest,
            "chains": sum(figures.chains for figures in self.per_rank),
            "examples": sum(figures.examples for figures in self.per_rank),
            "chains_per_second": sum(figures.chains_per_second for figures in self.per_rank),
            "examples_per_second": sum(figures.examples_per_second for figures in self.per_rank),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "world_size": self.world_size,
            "per_rank": [figures.as_dict() for figures in self.per_rank],
            "aggregate": self.aggregate(),
        }


@dataclass
class BenchResult:
    recipe: str
    iterations: int
    seconds_per_iteration: float
    flops_per_iteration: float
    matmul_flops_per_second: float
    peak_memory_bytes: int
    phases: dict[str, PhaseFigures]
    environment: dict[str, Any] = field(default_factory=dict)
    rank: int = 0  # distributed: this process's rank (only rank 0 reports)
    distributed: DistributedFigures | None = None  # distributed: every rank's figures

    @property
    def flops_per_second(self) -> float:
        return self.flops_per_iteration / self.seconds_per_iteration

    @property
    def efficiency(self) -> float:
        """Achieved FLOP/s over the machine's dense fp32 matmul FLOP/s."""
        return self.flops_per_second / self.matmul_flops_per_second

    def as_dict(self) -> dict[str, Any]:
        phases = {
            name: {**asdict(figures), "flops_per_second": figures.flops_per_second}
            for name, figures in self.phases.items()
        }
        return {
            "recipe": self.recipe,
            "iterations": self.iterations,
            "efficiency": self.efficiency,
            "seconds_per_iteration": self.seconds_per_iteration,
            "flops_per_iteration": self.flops_per_iteration,
            "flops_per_second": self.flops_per_second,
            "matmul_flops_per_second": self.matmul_flops_per_second,
            "peak_memory_bytes": self.peak_memory_bytes,
            "phases": phases,
            **self.environment,
            **({"distributed": self.distributed.as_dict()} if self.distributed else {}),
        }


def matmul_flops_per_second(
    device: torch.device, size: int = MATMUL_SIZE, repeats: int = 5
) -> float:
    """The dense fp32 matrix product's FLOP/s on ``device`` (median of ``repeats``)."""
    generator = torch.Generator(device).manual_seed(0)
    a = torch.randn(size, size, device=device, generator=generator)
    b = torch.randn(size, size, device=device, generator=generator)
    torch.mm(a, b)  # warm-up
    _synchronize(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        _synchronize(device)
        times.append(time.perf_counter() - start)
    return 2 * size**3 / statistics.median(times)


def _tf32_settings(device: torch.device) -> dict[str, bool]:
    """On CUDA, whether fp32 convolutions and matrix products may round to TF32 (torch's
    defaults: convolutions yes, matrix products no): a step's FLOP/s then is not fp32's."""
    if device.type != "cuda":
        return {}
    return {
        "tf32_convolutions": tf32_allowed(
            getattr(torch.backends.cudnn, "conv", None), torch.backends.cudnn
        ),
        "tf32_matmul": tf32_allowed(torch.backends.cuda.matmul, torch.backends.cuda.matmul),
    }


def tf32_allowed(settings: object, legacy: object) -> bool:
    """Whether TF32 may be used: torch's ``fp32_precision`` (2.9 and later) where it is set,
    else the older ``allow_tf32`` (torch refuses to read the older flag once the newer one has
    been set on its own)."""
    precision = getattr(settings, "fp32_precision", "none")
    if precision in ("tf32", "ieee"):
        return precision == "tf32"
    return bool(legacy.allow_tf32)  # type: ignore[attr-defined]


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class _TrainingStep:
    """The recipe's training step on batches drawn as :meth:`Run.fit` draws them."""

    def __init__(self, run: Run):
        self.run = run
        self.data = run.data
        self.iteration = run.iteration

    def __call__(self) -> dict[str, float]:
        run = self.run
        batch_size = run.recipe.train.batch_size
        indices = torch.randint(len(self.data), (batch_size,), generator=run.data_rng)
        indices = indices[run.strategy.part(batch_size)]  # distributed: this process's share
        observed = self.data.batch(indices).to(run.device)
        metrics = run.training_step(observed, indices, self.iteration)
        if run.strategy.distributed:  # the exchanges of an iteration, as training has them
            run.strategy.reduce_metrics(metrics)
            run._share_rank0_state()
        self.iteration += 1
        return metrics


class _FlopCounter(TorchDispatchMode):
    """Adds up the FLOPs of every operator ``torch.utils.flop_counter`` has a formula for."""

    def __init__(self) -> None:
        super().__init__()
        self.flops = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        formula = flop_registry.get(func._overloadpacket)
        if formula is not None:
            self.flops += formula(*args, **kwargs, out_val=out)
        return out


def _count_flops(step: _TrainingStep) -> dict[str, float]:
    """FLOPs of one iteration, phase by phase."""
    counted: dict[str, float] = {}

    @contextmanager
    def counting(phase: str) -> Iterator[None]:
        with _FlopCounter() as counter:
            yield
        counted[phase] = counted.get(phase, 0.0) + float(counter.flops)

    with probing_phases(counting):
        step()
    return counted


def peak_memory_bytes(device: torch.device) -> int:
    """CUDA: the peak of allocated memory; CPU: the process's peak resident set size."""
    if device.type == "cuda":
        return int(torch.cuda.max_memory_allocated(device))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if platform.system() == "Darwin" else peak * 1024)


@contextmanager
def _joined(run: Run) -> Iterator[None]:
    """Under torchrun, the processes joined as :meth:`Run.fit` joins them (the shares, the
    gradient averaging, rank 0's weights everywhere); one process: nothing changes."""
    run._distribute()
    try:
        if run.strategy.distributed:
            nets = [n for n in (run.descriptor, run.generator) if n is not None]
            run.strategy.broadcast_tensors([t for n in nets for t in n.state_dict().values()])
        yield
    finally:
        run._undistribute()


def bench(
    run: Run, *, iterations: int = 5, warmup: int = 1, say=lambda message: None
) -> BenchResult:
    """Times ``iterations`` training steps of ``run`` after ``warmup`` untimed ones.

    Under torchrun each process times its own share; the result's :attr:`BenchResult.distributed`
    holds every rank's figures (on every rank)."""
    keep_freed_memory()
    with _joined(run):
        return _bench(run, iterations=iterations, warmup=warmup, say=say)


def _bench(run: Run, *, iterations: int, warmup: int, say: Callable[[str], None]) -> BenchResult:
    step = _TrainingStep(run)
    say(f"warm-up: {warmup} iteration(s)")
    for _ in range(warmup):
        step()
    say("counting FLOPs (one iteration)")
    flops = _count_flops(step)
    if run.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(run.device)
    totals: list[float] = []
    phase_seconds: dict[str, list[float]] = {phase: [] for phase in PHASES}
    for index in range(iterations):
        say(f"iteration {index + 1} of {iterations}")
        _synchronize(run.device)
        start = time.perf_counter()
        metrics = step()
        _synchronize(run.device)
        totals.append(time.perf_counter() - start)
        for phase in PHASES:
            if f"seconds_{phase}" in metrics:
                phase_seconds[phase].append(metrics[f"seconds_{phase}"])
    peak_memory = peak_memory_bytes(run.device)  # before the matrix product's own matrices
    strategy, train = run.strategy, run.recipe.train
    distributed = None
    if strategy.distributed:
        mine = RankFigures(
            rank=strategy.rank,
            seconds_per_iteration=statistics.median(totals),
            chains=strategy.share(train.chains),
            examples=strategy.share(train.batch_size),
            peak_memory_bytes=peak_memory,
        )
        distributed = DistributedFigures(strategy.gather_objects(mine))
    say("measuring the matrix product")
    phases = {
        phase: PhaseFigures(statistics.median(seconds), flops.get(phase, 0.0))
        for phase, seconds in phase_seconds.items()
        if seconds
    }
    return BenchResult(
        recipe=run.recipe.source,
        iterations=iterations,
        seconds_per_iteration=statistics.median(totals),
        flops_per_iteration=sum(flops.values()),
        matmul_flops_per_second=matmul_flops_per_second(run.device),
        peak_memory_bytes=peak_memory,
        phases=phases,
        environment={
            "threads": torch.get_num_threads(),
            "device": str(run.device),
            "precision": run.precision,
            "torch_version": torch.__version__,
            **_tf32_settings(run.device),
        },
        rank=strategy.rank,
        distributed=distributed,
    )
