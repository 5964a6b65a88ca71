"""Algorithm D — the descriptor learned alone. Step D1 starts from noise, from observed data
(contrastive divergence) or from a persistent buffer (persistent contrastive divergence)."""

from __future__ import annotations

import torch

from coopkit.engine.algorithm import Algorithm, DescriptorParts, Parts
from coopkit.engine.steps import PhaseTimer, density_shift


class AlgorithmD(Algorithm[DescriptorParts]):
    def __init__(self, parts: Parts, dataset_size: int):
        super().__init__(parts, dataset_size)
        self.chain_init = parts.train.resolved_chain_init
        self.buffer: torch.Tensor | None = None
        self._start: torch.Tensor | None = None
        self._revision: torch.Tensor | None = None

    def take_parts(self, parts: Parts) -> DescriptorParts:
        return DescriptorParts.take(parts, "Algorithm D")

    def _noise(self, n: int) -> torch.Tensor:
        return self.parts.descriptor.sample_reference(n, self.parts.shape, self.parts.rng)

    def _reference_draw(self, n: int, rng: torch.Generator) -> torch.Tensor:
        return self.parts.descriptor.sample_reference(n, self.parts.shape, rng)

    def _chain_start(self, observed: torch.Tensor) -> torch.Tensor:
        p = self.parts
        n = p.chains
        if self.chain_init == "noise":  # distributed: all chains drawn, this process's kept
            return p.shard.draw(self._reference_draw, p.train.chains, p.rng)
        if self.chain_init == "data":
            picks = torch.randint(len(observed), (n,), generator=p.rng, device=p.device)
            return observed[picks]
        if self.chain_init == "persistent":
            # distributed: every process keeps the whole buffer (as Algorithm G its latents) and
            # draws every chain's restart and noise from the shared stream, keeping its part
            total = p.train.chains
            if self.buffer is None:
                self.buffer = p.shard.gather(p.shard.draw(self._reference_draw, total, p.rng))
            restart = p.shard.draw(self._restarts, total, p.rng)
            restart = restart.view(n, *([1] * len(p.shape)))
            noise = p.shard.draw(self._reference_draw, total, p.rng)
            return torch.where(restart, noise, self.buffer[p.shard.part(total)])
        return self._noise(n)

    def _restarts(self, n: int, rng: torch.Generator) -> torch.Tensor:
        """Which of ``n`` persistent chains start again from the reference distribution."""
        return (
            torch.rand(n, generator=rng, device=self.parts.device)
            < self.parts.train.persistent_reinit
        )

    def step(
        self, observed: torch.Tensor, indices: torch.Tensor, iteration: int
    ) -> dict[str, float]:
        p = self.parts
        timer = PhaseTimer(p.device)
        with timer("D1"):  # Langevin revision from the chosen start
            start = self._chain_start(observed)
            revision = p.revision_sampler(iteration).run(p.descriptor.energy, start, p.rng)
            revised = revision.x.detach()
        with timer("D2"):  # density shifting
            stats = density_shift(
                p.descriptor,
                p.descriptor_optimizer,
                observed,
                revised,
                p.regularisers,
            )
        if self.chain_init == "persistent":
            self.buffer = p.shard.gather(revised)
        self._start, self._revision = start, revised
        return {
            **stats,
            **{f"revision_{k}": v for k, v in revision.stats.items()},
            **timer.seconds,
        }

    def latest_synthesis(self) -> torch.Tensor | None:
        return self._revision

    def stages(self) -> dict[str, torch.Tensor]:
        if self._start is None or self._revision is None:
            return {}
        return {"S1": self._start, "S2": self._revision}

    def state(self) -> dict[str, torch.Tensor]:
        return {"buffer": self.buffer} if self.buffer is not None else {}

    def load_state(self, tensors: dict[str, torch.Tensor]) -> None:
        # no buffer saved (the state before the first iteration): none, not the one in memory
        buffer = tensors.get("buffer")
        self.buffer = None if buffer is None else buffer.to(self.parts.device)
