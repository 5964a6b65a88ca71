"""Inception-v3 (Szegedy et al. 2016) pool features and class logits, for FID and the Inception
score, from weights the user supplies as a local file — coopkit never downloads them.

The file is a torchvision ``inception_v3`` state_dict (``.pth``/``.pt`` or ``.safetensors``).
Images are prepared as torchvision's ImageNet weights expect: clamped to the value range and
rescaled to [0, 1], grayscale repeated to 3 channels, resized to 299×299 (bilinear, antialiased),
then mapped to [−1, 1] by x ↦ 2x − 1. That last step is exactly what torchvision's
``transform_input=True`` does to ImageNet-normalised input ((x − mean)/std per channel), so the
net is built with ``transform_input=False`` and fed 2x − 1 directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, TypeVar

import torch
import torch.nn.functional as F
from einops import repeat
from pydantic import Field

from coopkit.core.metric import Metric, MetricParams
from coopkit.devices import resolve_device
from coopkit.errors import UserError

INPUT_SIZE = 299


class InceptionParams(MetricParams):
    weights: str | None = Field(
        None,
        description="path to a torchvision inception_v3 state_dict (.pth, .pt or .safetensors)",
    )
    batch_size: int = Field(50, ge=1, description="images per Inception forward pass")
    device: str = Field("auto", description="auto (cuda when available), cpu, cuda, cuda:1, ...")


def how_to_get_weights(metric: str) -> str:
    """What file the metric needs, how to make one, and how to pass it."""
    return (
        f"the {metric!r} metric needs Inception-v3 weights as a local file "
        "(coopkit never downloads them). Make one on a machine with network access:\n"
        '  python -c "import torch, torchvision; torch.save(torchvision.models.inception_v3('
        "weights='IMAGENET1K_V1').state_dict(), 'inception_v3.pth')\"\n"
        f"then pass it: --option {metric}.weights=/path/to/inception_v3.pth"
    )


def read_state_dict(path: Path, metric: str) -> dict[str, torch.Tensor]:
    """The tensors saved in ``path`` (safetensors or a ``torch.save``-d dict), or a UserError."""
    if not path.is_file():
        raise UserError(f"{path} is not a file; {how_to_get_weights(metric)}")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # any unreadable file: say which and how to make a good one
        raise UserError(f"cannot read {path} ({error}); {how_to_get_weights(metric)}") from None
    if not isinstance(state, dict) or "fc.weight" not in state:
        raise UserError(
            f"{path} holds no Inception-v3 state_dict (save `model.state_dict()`, not the "
            f"model); {how_to_get_weights(metric)}"
        )
    return state


def build_inception(state: dict[str, torch.Tensor]) -> torch.nn.Module:
    """torchvision's Inception3 with these weights, in eval mode; the auxiliary classifier is
    kept only if the state_dict has one (``IMAGENET1K_V1`` does)."""
    from torchvision.models import Inception3

    net = Inception3(
        num_classes=state["fc.weight"].shape[0],
        aux_logits=any(key.startswith("AuxLogits.") for key in state),
        transform_input=False,
        init_weights=False,
    )
    net.load_state_dict(state)
    return net.eval().requires_grad_(False)


def load_inception(weights: str | None, metric: str) -> torch.nn.Module:
    """The net from the user's weights file, or a UserError naming the file needed."""
    if weights is None:
        raise UserError(how_to_get_weights(metric))
    path = Path(weights).expanduser()
    state = read_state_dict(path, metric)
    try:
        return build_inception(state)
    except RuntimeError as error:  # missing, unexpected or misshapen keys
        raise UserError(
            f"{path} is not an Inception-v3 state_dict: {error}; {how_to_get_weights(metric)}"
        ) from None


def inception_input(images: torch.Tensor, value_range: tuple[float, float]) -> torch.Tensor:
    """Images (b, 1 or 3, h, w) in ``value_range`` → the net's input (b, 3, 299, 299) in [−1, 1]."""
    if images.dim() != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"Inception-v3 needs images (b, 1 or 3, h, w), got {tuple(images.shape)}")
    low, high = value_range
    unit = ((images.float() - low) / (high - low)).clamp(0, 1)
    if unit.shape[1] == 1:
        unit = repeat(unit, "b 1 h w -> b 3 h w")
    resized = F.interpolate(
        unit, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False, antialias=True
    )
    return 2 * resized - 1


@torch.no_grad()
def features_and_logits(
    net: torch.nn.Module,
    images: torch.Tensor,
    value_range: tuple[float, float],
    batch_size: int,
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor]:
    """2048-d pool features (the average pool before ``fc``) and class logits of each image, as
    float64 on the CPU."""
    pooled: list[torch.Tensor] = []
    hook = net.get_submodule("avgpool").register_forward_hook(
        lambda module, inputs, output: pooled.append(output.flatten(1))
    )
    try:
        logits = [
            net(inception_input(batch.to(device), value_range))
            for batch in images.split(batch_size)
        ]
    finally:
        hook.remove()
    return torch.cat(pooled).double().cpu(), torch.cat(logits).double().cpu()


P = TypeVar("P", bound=InceptionParams)


class InceptionMetric(Metric[P]):
    """A metric on Inception-v3 outputs; loads the net from ``weights`` when constructed, so a
    missing file is reported before any sampling."""

    Params: ClassVar[type[InceptionParams]] = InceptionParams
    name: ClassVar[str]

    def __init__(self, params: P):
        super().__init__(params)
        self.device = resolve_device(params.device, f"{self.name}.device")
        self.net = load_inception(params.weights, self.name).to(self.device)

    def outputs(
        self, images: torch.Tensor, value_range: tuple[float, float]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(pool features, logits) of the images."""
        return features_and_logits(
            self.net, images, value_range, self.params.batch_size, self.device
        )
