"""The spatio-temporal nets of the paper's experiment 7 (dynamic textures), layout ``b c t h w``.

Descriptor: 5×5×5 filters with stride 2, then a layer that is fully connected in space and
convolutional in time (temporal kernel 5, stride 2), then a 1×1×5 temporal convolution; ReLU; f sums
the last map. It scores how the texture moves, wherever in time that happens.

Generator: a latent sequence (latent_channels × t/8 × 1 × 1) goes through a temporal deconvolution,
a layer that is spatially fully connected (to an s₀ × s₀ map) and temporally deconvolutional, then
stride-2 5×5×5 up-sampling deconvolutions (the first also doubles time); batch norm + ReLU; tanh.

The two spatially fully connected layers, the descriptor's stride-2 first layer and (for an even
spatial kernel) the generator's output layer are :mod:`coopkit_video.layers`' subclasses of
``nn.Conv3d`` / ``nn.ConvTranspose3d``: the same parameters and result, computed faster on CPU
(matrix products for the first two; for the descriptor's first layer, the input gradient that every
Langevin step needs as one stride-1 convolution over 2×2×2 phases; the output layer as one stride-1
transposed convolution over its stride's phases).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from torch import nn

from coopkit.core import (
    EdgeReplicated,
    EnergyModel,
    EnergyParams,
    LatentModel,
    LatentParams,
    PositiveInt,
    ZeroMeanColour,
    init_normal,
    upsampling_padding,
)
from coopkit_video.layers import (
    PhaseConvTranspose3d,
    SpatiallyFullyConnectedConv3d,
    SpatiallyFullyConnectedConvTranspose3d,
    StridedConv3d,
    WrapTime,
)


def check_divisible(
    frames: int, height: int, width: int, time_factor: int, space_factor: int
) -> None:
    if frames % time_factor or height % space_factor or width % space_factor:
        raise ValueError(
            f"needs the frame count divisible by {time_factor} and the frame sides by "
            f"{space_factor}, got {frames} frames of {height}×{width}; change data.frames or "
            "data.size"
        )


def check_unpadded_windows(frames: int, layers: list[tuple[int, int]]) -> None:
    """Without temporal padding, refuses layers — (kernel, stride) along time — that find no
    whole window, or whose windows leave the last positions out: no Langevin drift would reach
    those frames."""
    length = frames
    for kernel, stride in layers:
        if length < kernel:
            raise ValueError(
                f"a clip of {frames} frames is too short for the st-descriptor's temporal kernels "
                "without padding; give more frames (data.frames) or set "
                'descriptor.temporal_padding = "zeros"'
            )
        if (length - kernel) % stride:
            raise ValueError(
                f"without temporal padding, a layer of kernel {kernel} and stride {stride} over "
                f"{length} positions leaves the last outside every window, so the last frames of "
                f"a {frames}-frame clip get no Langevin drift; choose data.frames or the kernels "
                "so that length − kernel is a multiple of the stride (an even descriptor.kernel "
                'for an even frame count), or set descriptor.temporal_padding = "zeros"'
            )
        length = (length - kernel) // stride + 1


def check_wrappable(frames: int, layers: list[tuple[int, int, int]]) -> None:
    """Circular padding wraps ``pad`` frames round each layer's input, so it needs at least that
    many; refuses layers — (kernel, stride, pad) along time — whose input is shorter."""
    length = frames
    for kernel, stride, pad in layers:
        if pad > length:
            raise ValueError(
                f"descriptor.temporal_padding = 'circular' wraps {pad} frames round a layer's "
                f"input of {length}: the clip is too short for these kernels; give more frames "
                "(data.frames), a shorter temporal_kernel, or set "
                'descriptor.temporal_padding = "zeros"'
            )
        length = (length + 2 * pad - kernel) // stride + 1


def halving_padding(kernel: int) -> int:
    """The padding that makes a stride-2 convolution halve an even side exactly, for an odd or an
    even kernel: (n + 2p − k) // 2 + 1 = n/2 with p = ⌊(k − 1)/2⌋."""
    return (kernel - 1) // 2


class STDescriptorParams(EnergyParams):
    channels: list[PositiveInt] = Field(
        [120, 30, 10], min_length=3, max_length=3, description="filters per layer"
    )
    kernel: int = Field(
        5,
        ge=1,
        description="spatio-temporal kernel of the first layer, stride 2 (the paper: 5; an even "
        "kernel — a multiple of the stride — reaches every frame and pixel with the same number "
        "of taps, so f's gradient, which drives the Langevin revision, has no stride-2 pattern)",
    )
    temporal_kernel: int = Field(
        5,
        ge=1,
        description="temporal kernel of layers 2 and 3 (at stride 2, even: as `kernel`; at "
        "stride 1, odd, so that each layer keeps the frame count)",
    )
    temporal_stride: Literal[1, 2] = Field(
        2,
        description="temporal stride of layers 2 and 3 (the paper: 2; with kernel 6 each of f's "
        "top units then sees 36 frames, and on a clip of 32 every one reaches past an end, so f "
        "can tell frame τ from frame τ′; 1 with a short `temporal_kernel` makes f a sum of the "
        "same score over short windows along time: stationary in time)",
    )
    temporal_padding: Literal["zeros", "none", "circular"] = Field(
        "zeros",
        description="what every layer reads beyond the clip's first and last frames: zeros (the "
        "paper), which tells f where the clip starts and ends — the windows at the ends differ "
        "from the others, so f can prefer the observed clip's own course in time; nothing: "
        "each layer scores only the windows that lie wholly inside the clip, and f is a sum of "
        "one score over them, the same wherever in time they lie (the clip must then be long "
        "enough for the three layers' windows; the end frames lie in fewer windows); or "
        "circular: time wraps round, no frame is an end, and at temporal_stride 1 with an even "
        "kernel every frame lies in as many windows as every other and f scores the clip "
        "rolled by 2 frames (a multiple of 2·temporal_stride² in general) as it scores the clip",
    )
    init_std: float = Field(0.005, gt=0, description="std of the N(0, std²) weight initialisation")
    zero_mean_colour: bool = Field(
        False,
        description="subtract each clip's mean colour before the first layer, so that f models "
        "the motion and texture alone and the reference holds the colour (the paper: false)",
    )

    @model_validator(mode="after")
    def _stride_one_needs_an_odd_temporal_kernel(self) -> STDescriptorParams:
        if self.temporal_stride == 1 and self.temporal_kernel % 2 == 0:
            raise ValueError(
                f"temporal_stride = 1 keeps the frame count only with an odd temporal_kernel; "
                f"got {self.temporal_kernel}: set temporal_kernel = 3 (or 5)"
            )
        return self


class SpatioTemporalDescriptor(EnergyModel[STDescriptorParams]):
    Params = STDescriptorParams

    def __init__(self, params: STDescriptorParams, shape: tuple[int, ...]):
        channels, frames, height, width = shape
        check_divisible(frames, height, width, time_factor=8, space_factor=2)
        first, second, third = params.channels
        k, kt, st = params.kernel, params.temporal_kernel, params.temporal_stride
        padding = params.temporal_padding
        pt1, pt = (0, 0) if padding == "none" else (halving_padding(k), halving_padding(kt))
        if padding == "none":
            check_unpadded_windows(frames, [(k, 2), (kt, st), (kt, st)])
        # circular: each layer reads the frames wrapped round instead of its own zeros
        wrap1, wrap = (pt1, pt) if padding == "circular" else (0, 0)
        zeros1, zeros = pt1 - wrap1, pt - wrap
        if padding == "circular":
            check_wrappable(frames, [(k, 2, pt1), (kt, st, pt), (kt, st, pt)])

        def wrapped(count: int) -> list[nn.Module]:
            return [WrapTime(count)] if count else []

        net = nn.Sequential(
            *([ZeroMeanColour()] if params.zero_mean_colour else []),
            *wrapped(wrap1),
            StridedConv3d(
                channels,
                first,
                k,
                stride=2,
                padding=(zeros1, halving_padding(k), halving_padding(k)),
            ),
            nn.ReLU(),
            *wrapped(wrap),
            SpatiallyFullyConnectedConv3d(
                first,
                second,
                (kt, height // 2, width // 2),
                stride=(st, 1, 1),
                padding=(zeros, 0, 0),
            ),
            nn.ReLU(),
            *wrapped(wrap),
            nn.Conv3d(second, third, (kt, 1, 1), stride=(st, 1, 1), padding=(zeros, 0, 0)),
        )
        init_normal(net, params.init_std)
        super().__init__(net, reference=params.reference, reference_std=params.reference_std)


class STGeneratorParams(LatentParams):
    latent_channels: int = Field(5, ge=1, description="channels of the latent sequence")
    temporal_channels: list[PositiveInt] = Field(
        [256, 128],
        min_length=2,
        max_length=2,
        description="widths of the temporal deconvolution and the spatially fully connected layer",
    )
    upsampling_channels: list[PositiveInt] = Field(
        [64],
        description="widths of the hidden up-sampling layers (one more layer makes the output)",
    )
    temporal_kernel: int = Field(
        5,
        ge=2,
        description="temporal kernel of the layers that double time (the paper: 5; 4, a "
        "multiple of the stride, gives every frame the same number of taps: no flicker)",
    )
    kernel: int = Field(
        5,
        ge=2,
        description="spatial kernel of the up-sampling layers (the paper: 5; 4 avoids "
        "checkerboard artifacts)",
    )
    edges: Literal["zeros", "replicate"] = Field(
        "zeros",
        description="what the transposed convolutions read beyond the clip's first and last "
        "frames and the frame's border: zeros (the paper; the outputs there get half the taps "
        "and fade) or the edge entries replicated (every output gets all its taps)",
    )
    temporal_upsampling: Literal["transposed", "nearest", "linear"] = Field(
        "transposed",
        description="how the three layers that double time do it: a stride-2 transposed "
        "convolution (the paper; even and odd output frames are made by different taps, a "
        "period-2 flicker even from a latent constant in time), or the frames repeated "
        "(nearest) or interpolated (linear) to twice as many, then a stride-1 convolution with "
        "`temporal_kernel`, which must then be odd (Odena et al. 2016's resize-convolution)",
    )
    init_std: float = Field(0.005, gt=0, description="std of the N(0, std²) weight initialisation")

    @model_validator(mode="after")
    def _resize_needs_an_odd_temporal_kernel(self) -> STGeneratorParams:
        if self.temporal_upsampling != "transposed" and self.temporal_kernel % 2 == 0:
            raise ValueError(
                f"temporal_upsampling = {self.temporal_upsampling!r} follows the resize with a "
                f"stride-1 layer, which keeps the frame count only with an odd temporal_kernel; "
                f"got {self.temporal_kernel}: set temporal_kernel = 3 (or 5)"
            )
        return self


def norm_relu(channels: int) -> list[nn.Module]:
    return [nn.BatchNorm3d(channels), nn.ReLU()]


class SpatioTemporalGenerator(LatentModel[STGeneratorParams]):
    Params = STGeneratorParams

    def __init__(self, params: STGeneratorParams, shape: tuple[int, ...]):
        channels, frames, height, width = shape
        upsamplings = len(params.upsampling_channels) + 1
        check_divisible(frames, height, width, time_factor=8, space_factor=2**upsamplings)
        base_h, base_w = height // 2**upsamplings, width // 2**upsamplings
        kt, k = params.temporal_kernel, params.kernel
        temporal, fully_connected = params.temporal_channels
        up_in = [fully_connected, *params.upsampling_channels]
        up_out = [*params.upsampling_channels, channels]
        resize = params.temporal_upsampling != "transposed"
        # a layer that doubles time: stride 2 in time, or stride 1 after the frames are resized
        time_stride = 1 if resize else 2
        time_padding, time_extra = upsampling_padding(kt, time_stride)

        def edges(layer: nn.ConvTranspose3d, dims: tuple[int, ...]) -> nn.Module:
            return EdgeReplicated(layer, dims) if params.edges == "replicate" else layer

        def doubling_time(layer: nn.ConvTranspose3d, dims: tuple[int, ...]) -> list[nn.Module]:
            if not resize:
                return [edges(layer, dims)]
            mode = "trilinear" if params.temporal_upsampling == "linear" else "nearest"
            return [nn.Upsample(scale_factor=(2.0, 1.0, 1.0), mode=mode), edges(layer, dims)]

        time_only, every_dim = (0,), (0, 1, 2)
        layers: list[nn.Module] = [
            *doubling_time(
                nn.ConvTranspose3d(
                    params.latent_channels,
                    temporal,
                    (kt, 1, 1),
                    stride=(time_stride, 1, 1),
                    padding=(time_padding, 0, 0),
                    output_padding=(time_extra, 0, 0),
                ),
                time_only,
            ),
            *norm_relu(temporal),
            *doubling_time(
                SpatiallyFullyConnectedConvTranspose3d(
                    temporal,
                    fully_connected,
                    (kt, base_h, base_w),
                    stride=(time_stride, 1, 1),
                    padding=(time_padding, 0, 0),
                    output_padding=(time_extra, 0, 0),
                ),
                time_only,  # in space it maps 1×1 to the whole map: no edge there
            ),
            *norm_relu(fully_connected),
        ]
        space_padding, space_extra = upsampling_padding(k, 2)
        for index, (c_in, c_out) in enumerate(zip(up_in, up_out, strict=True)):
            doubles_time = index == 0  # the first up-sampling also doubles time
            stride = time_stride if doubles_time else 1
            time_kernel = kt if doubles_time else 3
            padding, extra = upsampling_padding(time_kernel, stride)
            # the output layer as a phase convolution where no phase tap is zero (measured faster)
            output_layer = index == upsamplings - 1 and k % 2 == 0
            layer = (PhaseConvTranspose3d if output_layer else nn.ConvTranspose3d)(
                c_in,
                c_out,
                (time_kernel, k, k),
                stride=(stride, 2, 2),
                padding=(padding, space_padding, space_padding),
                output_padding=(extra, space_extra, space_extra),
            )
            layers += doubling_time(layer, every_dim) if doubles_time else [edges(layer, every_dim)]
            if index < upsamplings - 1:
                layers += norm_relu(c_out)
        layers.append(nn.Tanh())
        net = nn.Sequential(*layers)
        init_normal(net, params.init_std)
        super().__init__(
            net,
            latent_shape=(params.latent_channels, frames // 8, 1, 1),
            noise_std=params.noise_std,
        )
