"""Weight initialisation shared by the nets of every modality.

The paper initialises every filter from a zero-mean Gaussian (std 0.001 to 0.01) and every bias at
zero; the authors' releases do the same for 2D and 3D nets alike. One function does it for all of
them, so that an image net and a video net given the same ``init_std`` start the same way.
"""

from __future__ import annotations

from torch import nn

INITIALISED_LAYERS: tuple[type[nn.modules.conv._ConvNd | nn.Linear], ...] = (
    nn.Conv1d,
    nn.Conv2d,
    nn.Conv3d,
    nn.ConvTranspose1d,
    nn.ConvTranspose2d,
    nn.ConvTranspose3d,
    nn.Linear,
)
"""The layers :func:`init_normal` re-initialises (and their subclasses); every other layer —
normalisations, activations — keeps its own initialisation."""


def init_normal(module: nn.Module, std: float) -> None:
    """Weights ~ N(0, std²) and biases 0 for every 1D/2D/3D convolution, transposed convolution
    and linear layer in ``module`` (itself included), in the order of ``module.modules()``.

    Draws from torch's global random stream, which the run seeds with the recipe's ``seed``
    before it builds the nets."""
    for layer in module.modules():
        if isinstance(layer, INITIALISED_LAYERS):
            nn.init.normal_(layer.weight, 0.0, std)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
