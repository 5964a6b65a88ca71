"""Synthesis from a run's nets as they stand: the paper's S1 (the generator's draft, g(X) with
X ~ N(0, I)) and S2 (the draft revised by the descriptor's MCMC, Step D1) outside training.

:class:`coopkit.Run` builds a :class:`Synthesis` for each call of ``generate``, ``sample`` and
``revise``. Draws without a seed continue the run's own random stream (``Run.rng``).
"""

from __future__ import annotations

import contextlib
import copy
import numbers
from dataclasses import dataclass

import torch

from coopkit.core import EnergyModel, LatentModel, Sampler
from coopkit.errors import UserError
from coopkit.memory import out_of_memory_hint

SYNTHESIS_BATCH = 256  # examples drawn together by sample() and generate()


def check_count(name: str, value: object, least: int) -> None:
    """A :class:`UserError` unless ``value`` is a whole number ≥ ``least`` (``bool`` is not)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
        raise UserError(f"{name} = {value!r}: give a whole number ≥ {least}")


def kernel_as_left(sampler: Sampler, iteration: int, iterations: int) -> Sampler:
    """The data-space kernel as training left it after ``iteration`` of ``iterations``:
    schedules at their last value, adapted step sizes kept and no longer adapting."""
    return sampler.at_iteration(max(iteration - 1, 0), iterations).frozen()


@dataclass(frozen=True)
class Synthesis:
    """A run's nets and data-space kernel, drawing examples of ``shape`` on ``device``."""

    descriptor: EnergyModel | None
    generator: LatentModel | None
    kernel: Sampler | None  # see kernel_as_left
    shape: tuple[int, ...]
    device: torch.device
    rng: torch.Generator  # the run's: draws without a seed continue its stream

    @torch.no_grad()
    def generate(
        self, n: int, *, seed: int | None = None, batch_size: int = SYNTHESIS_BATCH
    ) -> torch.Tensor:
        """n examples from the generator alone: g(X), X ~ N(0, I) (batch-norm in eval mode, so an
        example does not depend on how many are drawn together)."""
        if self.generator is None:
            raise UserError("this run has no generator (algorithm = 'descriptor'); use sample()")
        with self._checked(n, batch_size):
            if n == 0:
                return self._empty()
            self.generator.eval()
            latents = self.generator.sample_latent(n, self._rng(seed))
            return torch.cat([self.generator(x) for x in latents.split(batch_size)])

    def sample(
        self,
        n: int,
        *,
        seed: int | None = None,
        steps: int | None = None,
        batch_size: int = SYNTHESIS_BATCH,
    ) -> torch.Tensor:
        """n examples synthesized as the paper does: the generator's draft revised by the
        descriptor's MCMC (S2). Without a generator, chains start from the reference p0; without a
        descriptor, this is :meth:`generate`."""
        if self.descriptor is None:
            return self.generate(n, seed=seed, batch_size=batch_size)
        if steps is not None:
            check_count("steps", steps, 0)
        with self._checked(n, batch_size):
            if n == 0:
                return self._empty()
            rng = self._rng(seed)
            if self.generator is not None:
                self.generator.eval()
                latents = self.generator.sample_latent(n, rng)
            revised = []
            for first in range(0, n, batch_size):  # each start drawn just before its revision
                if self.generator is not None:
                    with torch.no_grad():
                        start = self.generator(latents[first : first + batch_size])
                else:
                    m = min(batch_size, n - first)
                    start = self.descriptor.sample_reference(m, self.shape, rng)
                revised.append(self.revise(start, steps=steps, rng=rng))
            return torch.cat(revised)

    def revise(
        self,
        start: torch.Tensor,
        *,
        steps: int | None = None,
        rng: torch.Generator | None = None,
    ) -> torch.Tensor:
        """The descriptor's MCMC revision of ``start`` (Step D1) with :attr:`kernel`; ``steps``
        overrides its number of steps."""
        if self.descriptor is None or self.kernel is None:
            raise UserError("this run has no descriptor (algorithm = 'generator') to revise with")
        kernel = self.kernel
        if steps is not None:
            if steps == 0:
                return start
            kernel = copy.copy(kernel)
            kernel.params = kernel.params.model_copy(update={"steps": steps})
        return kernel.run(
            self.descriptor.energy, start, rng if rng is not None else self.rng
        ).x.detach()

    def _rng(self, seed: int | None) -> torch.Generator:
        if seed is None:
            return self.rng
        return torch.Generator(self.device).manual_seed(seed)

    def _empty(self) -> torch.Tensor:
        return torch.empty((0, *self.shape), device=self.device)

    @staticmethod
    def _checked(n: int, batch_size: int) -> contextlib.AbstractContextManager[None]:
        """Checks ``n`` (≥ 0) and ``batch_size`` (≥ 1); running out of memory inside the block
        becomes a user error that names them."""
        check_count("n", n, 0)
        check_count("batch_size", batch_size, 1)
        return out_of_memory_hint(
            f"synthesizing {n:,} examples, {batch_size} at a time,",
            "ask for fewer examples or pass a smaller batch_size",
        )
