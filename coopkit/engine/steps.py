"""Pieces shared by the three algorithms: Step D2 and per-phase timing."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import torch
from einops import reduce
from torch import nn

from coopkit.core.energy import EnergyModel


@dataclass(frozen=True)
class Regularisers:
    """Terms Step D2 adds to the paper's objective (both 0 by default: the paper's D2).

    ``score_matching`` weighs :func:`score_matching_term` at the observed examples;
    ``range_excess`` weighs :func:`range_excess_term` at the revised ones, outside
    ``value_range``, the data's range."""

    score_matching: float = 0.0
    range_excess: float = 0.0
    value_range: tuple[float, float] = (-1.0, 1.0)

    def terms(
        self, descriptor: EnergyModel, observed: torch.Tensor, revised: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        terms = {}
        if self.score_matching > 0:
            terms["score_matching"] = score_matching_term(descriptor, observed).mean()
        if self.range_excess > 0:
            terms["range_excess"] = range_excess_term(descriptor, revised, self.value_range).mean()
        return terms

    def weight(self, name: str) -> float:
        return getattr(self, name)


def density_shift(
    descriptor: EnergyModel,
    optimizer: torch.optim.Optimizer,
    observed: torch.Tensor,
    synthesized: torch.Tensor,
    regularisers: Regularisers = Regularisers(),
) -> dict[str, float]:
    """Step D2: one optimizer step on mean f(synthesized) − mean f(observed) (ascent of eq. 8),
    plus the weighted ``regularisers`` (each reported under its name; the descriptor loss
    reported is the paper's part alone).

    Both batches go through the descriptor in one pass (one weight gradient instead of two
    summed) unless it has batch statistics, which must see each batch on its own."""
    optimizer.zero_grad(set_to_none=True)
    if uses_batch_statistics(descriptor):
        f_observed = descriptor.score(observed).mean()
        f_synthesized = descriptor.score(synthesized.detach()).mean()
    else:
        scores = descriptor.score(torch.cat([observed, synthesized.detach()]))
        f_observed, f_synthesized = scores[: len(observed)].mean(), scores[len(observed) :].mean()
    loss = f_synthesized - f_observed
    terms = regularisers.terms(descriptor, observed, synthesized)
    objective = loss + sum(regularisers.weight(name) * term for name, term in terms.items())
    objective.backward()
    optimizer.step()
    with torch.no_grad():
        energy_revised = descriptor.reference_energy(synthesized).mean() - f_synthesized
    return {
        **{name: float(term.detach()) for name, term in terms.items()},
        "descriptor_loss": float(loss.detach()),
        "f_observed": float(f_observed.detach()),
        "f_revised": float(f_synthesized.detach()),
        "energy_revised": float(energy_revised),
    }


def _input_gradient(function, y: torch.Tensor) -> torch.Tensor:
    """∂(Σ function(Y))/∂Y, itself differentiable in the parameters."""
    y = y.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(function(y).sum(), y, create_graph=True)
    return grad


def score_matching_term(descriptor: EnergyModel, y: torch.Tensor) -> torch.Tensor:
    """s²/2 · ||∂ℰ/∂Y||² per example, differentiable in θ.

    With the Gaussian reference this is ||Y − s²·∂f/∂Y||² / (2s²): the reference energy of the
    step from Y to the mean its Langevin drift pulls it to (for a piecewise-linear f, the mean
    of the Gaussian piece Y lies in). At the observed examples it is Hyvärinen's (2005)
    score-matching objective up to a constant — ∆ℰ = D/s² wherever f is piecewise linear — so
    it asks the data to sit where the revision would leave them."""
    grad = _input_gradient(descriptor.energy, y)
    return reduce(grad.square(), "b ... -> b", "sum") * (descriptor.reference_std**2 / 2)


def range_excess_term(
    descriptor: EnergyModel, y: torch.Tensor, value_range: tuple[float, float]
) -> torch.Tensor:
    """||the part of the drift means outside ``value_range``||² / (2s²) per example,
    differentiable in θ.

    Under the Gaussian reference N(μ, s²I), the drift mean μ + s²·∂f/∂Y is where the Langevin drift pulls Y (for a
    piecewise-linear f, the mean of the Gaussian piece Y lies in); a chain whose mean lies
    outside the data's range ends pinned at the range's ends (with ``sampler.bounds``) or
    escapes it. The term is 0 while every mean is inside: a one-sided penalty, like the one
    Petzka et al. (2018) put on a critic's gradient."""
    low, high = value_range
    variance = descriptor.reference_std**2
    means = y - variance * _input_gradient(descriptor.energy, y)  # μ + s²·∂f/∂Y
    excess = (means - high).clamp(min=0) + (low - means).clamp(min=0)
    return reduce(excess.square(), "b ... -> b", "sum") / (2 * variance)


def uses_batch_statistics(module: nn.Module) -> bool:
    """Whether a forward pass in this mode depends on the other examples of the batch."""
    return any(
        isinstance(m, nn.modules.batchnorm._BatchNorm) and (m.training or not m.track_running_stats)
        for m in module.modules()
    )


class ScoreAtStart:
    """The descriptor's energy ℰ = ||Y||²/(2s²) − f for a sampler, keeping f at the chains'
    starting points from the sampler's first evaluation, so that the mean f of the drafts needs
    no extra pass through the descriptor. (Deriving f from the energy the sampler reports is
    not exact: in float32, ||Y||²/(2s²) can be 10⁵ times f.)"""

    def __init__(self, descriptor: EnergyModel, start: torch.Tensor):
        self.descriptor = descriptor
        self.start = start
        self._score: torch.Tensor | None = None
        self._first = True

    def __call__(self, y: torch.Tensor) -> torch.Tensor:
        score = self.descriptor.score(y)
        if self._first and torch.equal(y.detach(), self.start):
            self._score = score.detach()
        self._first = False
        return self.descriptor.reference_energy(y) - score

    def mean_score(self) -> float:
        """Mean f at the start — recomputed if the sampler never evaluated it there first."""
        if self._score is None:
            with torch.no_grad():
                self._score = self.descriptor.score(self.start)
        return float(self._score.mean())


PhaseProbe = Callable[[str], AbstractContextManager[object]]
_phase_probes: ContextVar[tuple[PhaseProbe, ...]] = ContextVar("phase_probes", default=())


@contextmanager
def probing_phases(probe: PhaseProbe) -> Iterator[None]:
    """Inside, every phase an algorithm times (G0, D1, G1, D2, G2) also runs inside
    ``probe(phase)``, e.g. to count its FLOPs (``coopkit bench`` does)."""
    token = _phase_probes.set((*_phase_probes.get(), probe))
    try:
        yield
    finally:
        _phase_probes.reset(token)


class PhaseTimer:
    """Wall seconds per named phase (synchronising CUDA so the numbers are honest)."""

    def __init__(self, device: torch.device):
        self.device = device
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        with ExitStack() as probes:
            for probe in _phase_probes.get():
                probes.enter_context(probe(phase))
            start = time.perf_counter()
            yield
            if self.device.type == "cuda":
                torch.cuda.synchronize(self.device)
            self.seconds[f"seconds_{phase}"] = time.perf_counter() - start


@contextmanager
def batch_norm_stats_frozen(module: nn.Module) -> Iterator[None]:
    """Forward passes inside use batch statistics (train mode) without moving the running ones,
    so that looking at the generator (e.g. writing S3) never changes training."""
    norms = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [
        (m.momentum, m.num_batches_tracked.clone() if m.num_batches_tracked is not None else None)
        for m in norms
    ]
    for m in norms:
        m.momentum = 0.0
    try:
        yield
    finally:
        for m, (momentum, tracked) in zip(norms, saved, strict=True):
            m.momentum = momentum
            if tracked is not None and m.num_batches_tracked is not None:
                m.num_batches_tracked.copy_(tracked)
