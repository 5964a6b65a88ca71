"""Video synthesis baselines evaluated beside a run: the LDS of Doretto et al. 2003 (the paper's
Table 6), and two trivial ones a synthesis must beat — the clip's mean frame held still, and the
observed frames in a random order — and the observed clip played from another frame, which tells
how different chains that follow the clip's own course at other times are. Synthesized clip i
comes from observed clip i mod m."""

from __future__ import annotations

from typing import Literal

import torch
from einops import reduce
from pydantic import Field

from coopkit.core import Baseline, BaselineParams
from coopkit_video.lds import LinearDynamicalSystem


class LDSParams(BaselineParams):
    state_dim: int = Field(
        20,
        ge=1,
        description="hidden state size (PCA components), at most frames // frames_per_state",
    )
    frames_per_state: int = Field(
        4,
        ge=2,
        description="the clip must have this many frames per state dimension, so that the fit "
        "cannot replay it",
    )
    initial_state: Literal["random", "first"] = Field(
        "random",
        description="random: x₀ ~ N(0, covariance of the fitted states), a new start per clip; "
        "first: the clip's first state (starts like the observed clip)",
    )


class LDSBaseline(Baseline[LDSParams]):
    """An LDS fitted to the first observed clip, made unable to replay it: with n ≥ t − 1 states
    the least-squares dynamics are exact and, started from the first state, regenerate the clip
    frame for frame (PSNR → ∞). So the state is kept to ``frames // frames_per_state``
    dimensions (4 frames per state by default: 16 frames → 4 states) and each synthesized clip
    starts from a random state drawn from the fitted states' distribution."""

    Params = LDSParams
    layouts = ("b c t h w",)

    def fit(self, observed: torch.Tensor) -> None:
        self.frames = observed.shape[2]
        state_dim = max(1, min(self.params.state_dim, self.frames // self.params.frames_per_state))
        self.model = LinearDynamicalSystem.fit(observed[0].float(), state_dim)

    def synthesize(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        clips = self.model.synthesize(
            self.frames, n, generator, initial_state=self.params.initial_state
        )
        return clips.clamp(-1, 1)


class ObservedClips(Baseline[BaselineParams]):
    """Baselines made from the observed clips themselves; clip i comes from observed clip i mod m."""

    layouts = ("b c t h w",)

    def fit(self, observed: torch.Tensor) -> None:
        if observed.dim() != 5 or len(observed) == 0:
            raise ValueError(f"expected videos (m, c, t, h, w), got {tuple(observed.shape)}")
        self.observed = observed.float()

    def sources(self, n: int) -> torch.Tensor:
        return self.observed[torch.arange(n) % len(self.observed)]


class StaticMeanFrame(ObservedClips):
    """The observed clip's mean frame, repeated for every frame: right colours, no motion."""

    def synthesize(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        clips = self.sources(n)
        return reduce(clips, "n c t h w -> n c 1 h w", "mean").expand_as(clips).contiguous()


class ShuffledFrames(ObservedClips):
    """The observed frames in a random order (one permutation per clip): every frame real, the
    dynamics gone."""

    def synthesize(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        frames = self.observed.shape[2]
        return torch.stack(
            [clip[:, torch.randperm(frames, generator=generator)] for clip in self.sources(n)]
        )


class RolledFrames(ObservedClips):
    """The observed clip played from a random frame k (1 ≤ k < t, one per clip), wrapping round
    to its first frame: every frame real and in its order but for one jump. Its
    ``chain-diversity`` is that of chains which play the clip's own course from other starts — on
    a clip that changes little in time, little more than its background shared."""

    def synthesize(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        frames = self.observed.shape[2]
        if frames < 2:
            raise ValueError("a clip of one frame cannot be played from another frame")
        starts = torch.randint(1, frames, (n,), generator=generator).tolist()
        return torch.stack(
            [clip.roll(-start, dims=1) for clip, start in zip(self.sources(n), starts, strict=True)]
        )
