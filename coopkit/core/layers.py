"""Layers that more than one modality's nets use."""

from __future__ import annotations

import torch
from torch import nn


class ZeroMeanColour(nn.Module):
    """Subtracts each example's own mean colour: per channel, over every position (pixels,
    frames or voxels; input ``b c ...``).

    A net behind it cannot score the mean colour at all: f(Y + c) = f(Y) for any colour c, so
    the mean colour of p(Y) ∝ exp(f(Y)) p0(Y) is p0's — the data's, when the Gaussian reference
    is centred on it — and every Step D2 goes to the structure, none to the colour.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x - x.mean(dim=tuple(range(2, x.dim())), keepdim=True)
