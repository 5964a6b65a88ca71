"""Recipe sections of about the cheapest nets the installed plugins train: for 8×8 gray images,
a descriptor and a generator a few channels wide. Tests that start real ``coopkit run``
processes build their recipes on them."""

from __future__ import annotations

import copy
from typing import Any


def tiny_nets(**generator: Any) -> dict[str, dict[str, Any]]:
    """The ``descriptor`` and ``generator`` sections (a fresh copy); ``generator`` keys are
    added to the generator's section."""
    return copy.deepcopy(
        {
            "descriptor": {
                "name": "conv-descriptor",
                "channels": [4, 4],
                "kernels": [3, 3],
                "strides": [2, 2],
                "fc": 4,
            },
            "generator": {
                "name": "deconv-generator",
                "latent_dim": 4,
                "channels": [4, 4],
                "kernels": [4, 4],
                "upsampling": [2, 2],
                **generator,
            },
        }
    )
