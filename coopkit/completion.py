"""Pattern completion, the maths every modality shares:

- with a learned generator (paper, experiment 6): the latent factors of a partly observed
  example are inferred by MCMC on the observed entries only (Step G1 with the sum of squares
  restricted to the mask; Langevin dynamics unless another sampler is passed), and g(X̂) is the
  completed example (:func:`infer_latents`);
- with a learned descriptor (the voxel paper's recovery): Langevin on the descriptor's energy in
  data space with the observed entries clamped after every step (:func:`revise_missing`), or any
  other projection after every step (:func:`projected_langevin`, e.g. keeping a down-sampled
  example equal to a low-resolution input);
- the scores (:func:`occluded_error`, :func:`occluded_psnr`) and what ``coopkit complete``
  receives from the completion registered for the run's data layout (:class:`CompletionResult`,
  hook ``coopkit_register_completions``).

Masks are tensors broadcastable to the examples, 1 where an entry is observed and 0 where it is
occluded; what they look like (squares in images, removed voxels, ...) is up to the modality.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from einops import reduce

from coopkit.core.energy import EnergyModel
from coopkit.core.latent import LatentModel
from coopkit.core.metric import MetricValue
from coopkit.core.sampler import EnergyFn, Sampler

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


# ------------------------------------------------------------------------ descriptor-based


Projection = Callable[[torch.Tensor], torch.Tensor]
"""Maps a batch of chain states to the nearest allowed states (e.g. observed entries restored)."""


def projected_langevin(
    energy_fn: EnergyFn,
    x0: torch.Tensor,
    project: Projection,
    *,
    steps: int,
    step_size: float,
    noise: bool = False,
    rng: torch.Generator | None = None,
) -> torch.Tensor:
    """``steps`` steps of coopkit's Langevin kernel (``x ← x − (δ²/2)·∂E/∂x + δ·U``, δ =
    ``step_size``, U only with ``noise``) on ``energy_fn``, each followed by ``project``; the
    chain starts from ``project(x0)``, so every state it passes through is allowed."""
    from coopkit.samplers.langevin import Langevin, LangevinParams

    step = Langevin(LangevinParams(steps=1, step_size=step_size, noise=noise))
    x = project(x0.detach())
    for _ in range(steps):
        x = project(step.run(energy_fn, x, rng).x)
    return x.detach()


def keep_observed(
    observed: torch.Tensor, mask: torch.Tensor, bounds: tuple[float, float] | None = None
) -> Projection:
    """The projection that restores the observed entries (``mask`` 1) of ``observed`` and keeps
    the others in ``bounds`` (clamped; unbounded without)."""
    mask = mask.expand_as(observed)

    def project(x: torch.Tensor) -> torch.Tensor:
        free = x if bounds is None else x.clamp(*bounds)
        return torch.where(mask > 0.5, observed, free)

    return project


def revise_missing(
    descriptor: EnergyModel,
    examples: torch.Tensor,
    mask: torch.Tensor,
    *,
    fill: float,
    steps: int,
    step_size: float,
    noise: bool = False,
    bounds: tuple[float, float] | None = None,
    rng: torch.Generator | None = None,
    batch_size: int = 64,
) -> torch.Tensor:
    """Recovery with the descriptor (the voxel paper's): the occluded entries (``mask`` 0) start
    at ``fill`` and follow Langevin on the descriptor's energy ℰ(Y) (:func:`projected_langevin`)
    while the observed entries are held at their values after every step (and the occluded ones
    in ``bounds``); the descriptor in eval mode, ``batch_size`` examples at a time."""
    descriptor.eval()
    mask = mask.expand_as(examples)
    recovered = []
    for start in range(0, len(examples), batch_size):
        part = slice(start, start + batch_size)
        observed, kept = examples[part], mask[part]
        x0 = torch.where(kept > 0.5, observed, torch.full_like(observed, fill))
        project = keep_observed(observed, kept, bounds)
        recovered.append(
            projected_langevin(
                descriptor.energy,
                x0,
                project,
                steps=steps,
                step_size=step_size,
                noise=noise,
                rng=rng,
            )
        )
    return torch.cat(recovered)


# ------------------------------------------------------------------------ coopkit complete


COMPLETION_KEYWORDS = (
    "n",
    "split",
    "steps",
    "step_size",
    "noise",
    "baselines",
    "seed",
    "progress",
)
"""The keywords ``coopkit complete`` may pass a registered completion (beside ``run`` and
``masks``); options the user left out are not passed."""


@dataclass
class CompletionResult:
    """What a registered completion returns to ``coopkit complete``. Per mask: ``panels`` the
    examples to show, row by row (original, occluded, then one per method), and ``scores`` each
    method's values (``error``, ``psnr``, ...). ``columns`` heads the table (score name → header);
    ``settings`` are the settings used (n, split, steps, ...), written beside the scores."""

    masks: list[str]
    scores: dict[str, dict[str, dict[str, MetricValue]]] = field(default_factory=dict)
    panels: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict)
    columns: dict[str, str] = field(
        default_factory=lambda: {
            "error": "error (occluded, ÷ range)",
            "psnr": "PSNR (occluded, dB)",
        }
    )
    settings: dict[str, Any] = field(default_factory=dict)

    def add_mask(
        self,
        spec: str,
        examples: torch.Tensor,
        mask: torch.Tensor,
        occluded: torch.Tensor,
        recovered: torch.Tensor,
        *,
        baselines: dict[str, Any],
        value_range: tuple[float, float],
        extra_scores: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        """Scores coopkit's ``recovered`` examples and each baseline's fill of the same ``mask``
        (1 observed, 0 occluded) on the occluded entries: ``error`` and ``psnr``, plus each
        ``extra_scores`` function of (filled, examples) giving one value per example; and keeps
        the panels to show."""
        say = progress or (lambda message: None)
        filled = {"coopkit": recovered}
        for name, baseline in baselines.items():
            say(f"mask {spec}: {name}")
            filled[name] = baseline.inpaint(examples, mask)
        self.scores[spec] = {
            method: {
                "error": MetricValue.of(occluded_error(examples, values, mask, value_range)),
                "psnr": MetricValue.of(occluded_psnr(examples, values, mask, value_range)),
                **{
                    name: MetricValue.of(score(values, examples))
                    for name, score in (extra_scores or {}).items()
                },
            }
            for method, values in filled.items()
        }
        self.panels[spec] = {"original": examples, "occluded": occluded, **filled}

    def as_dict(self) -> dict:
        return {
            mask: {
                method: {name: {"mean": v.mean, "stderr": v.stderr} for name, v in values.items()}
                for method, values in methods.items()
            }
            for mask, methods in self.scores.items()
        }


def fit_baselines(baselines: dict[str, Any], training: Callable[[], torch.Tensor]) -> None:
    """Fits each completion baseline that learns from data — one with a ``fit(observed)``
    method, e.g. a nearest-neighbour fill — to ``training()``, the run's training examples,
    loaded once and only when some baseline needs them."""
    learners = [
        baseline for baseline in baselines.values() if callable(getattr(baseline, "fit", None))
    ]
    if not learners:
        return
    examples = training()
    for baseline in learners:
        baseline.fit(examples)
