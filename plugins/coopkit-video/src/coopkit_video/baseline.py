"""The LDS baseline (Doretto et al. 2003) as a coopkit baseline, evaluated beside a run."""

from __future__ import annotations

import torch
from pydantic import Field

from coopkit.core import Baseline, BaselineParams
from coopkit_video.lds import LinearDynamicalSystem


class LDSParams(BaselineParams):
    state_dim: int = Field(
        20, ge=1, description="hidden state size (PCA components), at most half the frame count"
    )


class LDSBaseline(Baseline):
    Params = LDSParams
    layouts = ("b c t h w",)

    def fit(self, observed: torch.Tensor) -> None:
        self.frames = observed.shape[2]
        # with t − 1 states the least-squares fit has no residual and replays the clip verbatim,
        # so the state is kept to half the frame count (Doretto et al. fit long clips, n ≪ t)
        state_dim = max(1, min(self.params.state_dim, self.frames // 2))
        self.model = LinearDynamicalSystem.fit(observed[0].float(), state_dim)

    def synthesize(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.model.synthesize(self.frames, n, generator).clamp(-1, 1)
