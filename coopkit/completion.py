"""Pattern completion with a learned generator (paper, experiment 6): the latent factors of a
partly observed example are inferred by MCMC on the observed entries only (Step G1 with the sum
of squares restricted to the mask; Langevin dynamics unless another sampler is passed), and g(X̂)
is the completed example.

Masks are tensors broadcastable to the examples, 1 where an entry is observed and 0 where it is
occluded; what they look like (squares in images, removed voxels, ...) is up to the modality.
"""

from __future__ import annotations

import torch
from einops import reduce

from coopkit.core.latent import LatentModel
from coopkit.core.sampler import Sampler

DEFAULT_LANGEVIN = {"steps": 1000, "step_size": 0.1, "noise": True}  # the paper's experiment 6


def masked_latent_energy(generator: LatentModel, y: torch.Tensor, mask: torch.Tensor):
    """E(X) = ||M ⊙ (Y − g(X))||² / (2σ²) + ||X||²/2 per example: −log p(X | observed part of Y)."""

    def energy(x: torch.Tensor) -> torch.Tensor:
        residual = (y - generator(x)) * mask
        fit = reduce(residual.square(), "b ... -> b", "sum") / (2 * generator.noise_std**2)
        return fit + reduce(x.square(), "b ... -> b", "sum") / 2

    return energy


def latent_sampler(
    steps: int | None = None, step_size: float | None = None, noise: bool | None = None
) -> Sampler:
    """The paper's kernel for completion: Langevin, by default 1000 steps of δ = 0.1 with noise."""
    from coopkit.samplers.langevin import Langevin, LangevinParams

    settings = {"steps": steps, "step_size": step_size, "noise": noise}
    chosen = {name: value for name, value in settings.items() if value is not None}
    return Langevin(LangevinParams.model_validate({**DEFAULT_LANGEVIN, **chosen}))


def infer_latents(
    generator: LatentModel,
    y: torch.Tensor,
    mask: torch.Tensor,
    *,
    sampler: Sampler | None = None,
    steps: int | None = None,
    step_size: float | None = None,
    noise: bool | None = None,
    rng: torch.Generator | None = None,
    batch_size: int = 256,
) -> torch.Tensor:
    """X̂ for each example by running ``sampler`` on the masked latent energy from X ~ N(0, I),
    the generator in eval mode; examples are processed ``batch_size`` at a time.

    ``sampler`` is any :class:`~coopkit.core.Sampler` (e.g. the one a run's teacher infers
    latents with); without one, Langevin as the paper runs it (:func:`latent_sampler`), whose
    ``steps``, ``step_size`` and ``noise`` may be given instead."""
    settings = {"steps": steps, "step_size": step_size, "noise": noise}
    if sampler is None:
        sampler = latent_sampler(steps, step_size, noise)
    elif given := [name for name, value in settings.items() if value is not None]:
        raise ValueError(f"{', '.join(given)}: set these on the sampler passed, not beside it")
    generator.eval()
    mask = mask.expand_as(y)
    latents = []
    for start in range(0, len(y), batch_size):
        part = slice(start, start + batch_size)
        x0 = generator.sample_latent(len(y[part]), rng)
        energy = masked_latent_energy(generator, y[part], mask[part])
        latents.append(sampler.run(energy, x0, rng).x.detach())
    return torch.cat(latents)


def _occluded_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per example: the mean of ``values`` over the occluded entries (nan where there are none)."""
    occluded = (1 - mask).expand_as(values)
    count = reduce(occluded, "b ... -> b", "sum")
    total = reduce(values * occluded, "b ... -> b", "sum")
    return torch.where(count > 0, total / count.clamp_min(1), torch.nan)


def occluded_error(
    original: torch.Tensor,
    recovered: torch.Tensor,
    mask: torch.Tensor,
    value_range: tuple[float, float],
) -> torch.Tensor:
    """Per example: the mean absolute difference over the occluded entries, relative to the range
    of values (Table 5's "error"); nan for an example with nothing occluded."""
    span = value_range[1] - value_range[0]
    return _occluded_mean((original - recovered).abs(), mask) / span


def occluded_psnr(
    original: torch.Tensor,
    recovered: torch.Tensor,
    mask: torch.Tensor,
    value_range: tuple[float, float],
) -> torch.Tensor:
    """Per example: 10·log10(range² / MSE) over the occluded entries (Table 5's PSNR); inf for a
    perfect recovery, nan with nothing occluded (both left out of means by ``MetricValue.of``)."""
    span = value_range[1] - value_range[0]
    return 10 * torch.log10(span**2 / _occluded_mean((original - recovered).square(), mask))
