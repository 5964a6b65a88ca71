"""Algorithm G — the generator learned alone by alternating back-propagation: Step G1 infers each
observed example's latents by Langevin (kept per example between iterations), Step G2 regresses."""

from __future__ import annotations

import torch

from coopkit.engine.algorithm import Algorithm, GeneratorParts, Parts
from coopkit.engine.steps import PhaseTimer, batch_norm_stats_frozen


class AlgorithmG(Algorithm[GeneratorParts]):
    def __init__(self, parts: Parts, dataset_size: int):
        super().__init__(parts, dataset_size)
        generator = self.parts.generator
        self.latents = generator.sample_latent(dataset_size, parts.rng)
        self._observed: torch.Tensor | None = None
        self._inferred: torch.Tensor | None = None
        # S1 grids always show the same latents, drawn apart from the training randomness
        preview_rng = torch.Generator(parts.device).manual_seed(0)
        self.preview_latents = generator.sample_latent(parts.train.chains, preview_rng)

    def take_parts(self, parts: Parts) -> GeneratorParts:
        return GeneratorParts.take(parts, "Algorithm G")

    def step(
        self, observed: torch.Tensor, indices: torch.Tensor, iteration: int
    ) -> dict[str, float]:
        p = self.parts
        timer = PhaseTimer(p.device)
        p.generator.train()
        indices = indices.to(self.latents.device)
        teacher = p.teacher_at(iteration)
        with timer("G1"):  # Langevin inference of X from the examples' previous latents
            x, inference_stats = teacher.infer(p.generator, self.latents[indices], observed, p.rng)
        with timer("G2"):  # reconstruction of the observed examples
            loss = teacher.reconstruct(p.generator, x, observed, p.generator_optimizer)
        # distributed: every process's examples and latents (the global batch, in order), so that
        # every process keeps the whole table, as one process would
        self.latents[p.shard.gather(indices)] = p.shard.gather(x)
        self._observed, self._inferred = observed, x
        return {"generator_loss": loss, **inference_stats, **timer.seconds}

    def stages(self) -> dict[str, torch.Tensor]:
        if self._inferred is None:
            return {}
        p = self.parts
        with torch.no_grad(), batch_norm_stats_frozen(p.generator):
            p.generator.train()
            preview = self.preview_latents[p.shard.part(p.train.chains)]  # distributed: a share
            return {"S1": p.generator(preview), "S3": p.generator(self._inferred)}

    def state(self) -> dict[str, torch.Tensor]:
        return {"latents": self.latents}

    def load_state(self, tensors: dict[str, torch.Tensor]) -> None:
        if "latents" in tensors:
            self.latents = tensors["latents"].to(self.parts.device)
