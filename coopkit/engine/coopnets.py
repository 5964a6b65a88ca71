"""Algorithm 3 — cooperative learning of the descriptor and the generator (CoopNets)."""

from __future__ import annotations

import torch
from einops import reduce

from coopkit.engine.algorithm import Algorithm, CoopNetsParts, Parts
from coopkit.engine.steps import (
    PhaseTimer,
    ScoreAtStart,
    batch_norm_stats_frozen,
    density_shift,
)


class CoopNets(Algorithm[CoopNetsParts]):
    """G0 → D1 → G1 → D2 → G2, with ñ = ``train.chains`` chains independent of the batch size."""

    _draft: torch.Tensor | None = None
    _revision: torch.Tensor | None = None
    _latents: torch.Tensor | None = None

    def take_parts(self, parts: Parts) -> CoopNetsParts:
        return CoopNetsParts.take(parts, "CoopNets")

    def step(
        self, observed: torch.Tensor, indices: torch.Tensor, iteration: int
    ) -> dict[str, float]:
        p = self.parts
        timer = PhaseTimer(p.device)
        p.generator.train()

        teacher = p.teacher_at(iteration)
        # When Step G1 keeps X = X̂, Step G2 regresses g(X̂) — G0's own output, with the same
        # weights — so G0 keeps its graph for G2 instead of G2 running the generator again.
        # (With latent inference, G1 moves X and G2 needs g at the new X: nothing to reuse.)
        reuse_draft = not teacher.infers_latents

        with timer("G0"):  # initial generation: X̂ ~ N(0, I), Ŷ = g(X̂; α) (+ ε)
            # distributed, every process draws all chains' X̂ and keeps its own (distributed.py)
            x_draft = p.shard.draw(p.generator.sample_latent, p.train.chains, p.rng)
            with torch.set_grad_enabled(reuse_draft):
                g_draft = p.generator(x_draft)
            # the chains keep the data's precision even where g computes in bf16 (train.precision)
            y_draft = g_draft.detach().to(observed.dtype)
            if p.train.draft_noise:
                y_draft = y_draft + p.generator.noise_std * torch.randn(
                    y_draft.shape, generator=p.rng, device=y_draft.device, dtype=y_draft.dtype
                )

        with timer("D1"):  # Langevin revision of the drafts under the descriptor
            energy = ScoreAtStart(p.descriptor, y_draft)
            revision = p.revision_sampler(iteration).run(energy, y_draft, p.rng)
            y_revised = revision.x.detach()
            f_draft = energy.mean_score()  # before D2 moves θ

        with timer("G1"):  # latents that explain the revision: X̂ itself, or inferred from it
            x_taught, inference_stats = teacher.infer(p.generator, x_draft, y_revised, p.rng)

        with timer("D2"):  # density shifting: observed up, revised down
            descriptor_stats = density_shift(
                p.descriptor,
                p.descriptor_optimizer,
                observed,
                y_revised,
                p.regularisers,
            )

        with timer("G2"):  # reconstruction: g(X) regressed onto the revision (MCMC teaching)
            generator_loss = teacher.reconstruct(
                p.generator,
                x_taught,
                y_revised,
                p.generator_optimizer,
                output=g_draft if reuse_draft else None,
            )

        self._draft, self._revision, self._latents = y_draft, y_revised, x_taught
        displacement = reduce((y_revised - y_draft).abs(), "b ... -> b", "mean").mean()
        return {
            **descriptor_stats,
            "generator_loss": generator_loss,
            "f_draft": f_draft,
            "revision_displacement": float(displacement),
            **{f"revision_{k}": v for k, v in revision.stats.items() if k != "displacement"},
            **inference_stats,
            **timer.seconds,
        }

    def latest_synthesis(self) -> torch.Tensor | None:
        return self._revision

    def stages(self) -> dict[str, torch.Tensor]:
        if self._draft is None or self._revision is None or self._latents is None:
            return {}
        generator = self.parts.generator
        with torch.no_grad(), batch_norm_stats_frozen(generator):
            generator.train()
            reconstruction = generator(self._latents)
        return {"S1": self._draft, "S2": self._revision, "S3": reconstruction}
