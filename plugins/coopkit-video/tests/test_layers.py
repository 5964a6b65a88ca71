"""The layers of coopkit_video.layers compute what nn.Conv3d / nn.ConvTranspose3d compute
(StridedConv3d, from coopkit.core, is tested in tests/test_strided_conv.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from coopkit_video import nets
from coopkit_video.layers import (
    PhaseConvTranspose3d,
    SpatiallyFullyConnectedConv3d,
    SpatiallyFullyConnectedConvTranspose3d,
    StridedConv3d,
)
from coopkit_video.nets import (
    SpatioTemporalDescriptor,
    SpatioTemporalGenerator,
    STDescriptorParams,
    STGeneratorParams,
)
from torch import nn

from coopkit.core import upsampling_padding
from coopkit.testing import assert_close_at_scale, check_layer_matches_parent

SHAPES = [  # (batch, frames, temporal kernel, temporal stride); nets.py uses stride 2
    *(
        (batch, frames, kernel, 2)
        for batch in (1, 3)
        for frames in (4, 7, 16)
        for kernel in (4, 5, 6)
    ),
    (2, 9, 3, 1),
    (2, 6, 4, 1),
]


@pytest.mark.parametrize(("batch", "frames", "kernel", "stride"), SHAPES)
def test_conv_equals_conv3d(batch, frames, kernel, stride):
    torch.manual_seed(0)
    padding = nets.halving_padding(kernel) if stride == 2 else kernel // 2  # as nets.py
    layer = SpatiallyFullyConnectedConv3d(
        7, 5, (kernel, 6, 5), stride=(stride, 1, 1), padding=(padding, 0, 0)
    )
    check_layer_matches_parent(layer, nn.Conv3d, torch.randn(batch, 7, frames, 6, 5))


@pytest.mark.parametrize(("batch", "frames", "kernel", "stride"), [*SHAPES, (2, 5, 3, 2)])
def test_transposed_conv_equals_conv_transpose3d(batch, frames, kernel, stride):
    torch.manual_seed(0)
    # as nets.py builds it at stride 2 (output padding 1 for odd kernels); 'same' at stride 1
    padding, extra = upsampling_padding(kernel, 2) if stride == 2 else ((kernel - 1) // 2, 0)
    layer = SpatiallyFullyConnectedConvTranspose3d(
        7,
        5,
        (kernel, 6, 5),
        stride=(stride, 1, 1),
        padding=(padding, 0, 0),
        output_padding=(extra, 0, 0),
    )
    check_layer_matches_parent(layer, nn.ConvTranspose3d, torch.randn(batch, 7, frames, 1, 1))


def test_transposed_conv_with_output_padding_beyond_the_taps():
    torch.manual_seed(0)  # padding 0, output padding 1: the last frame gets the bias only
    layer = SpatiallyFullyConnectedConvTranspose3d(
        4, 3, (2, 3, 3), stride=(2, 1, 1), output_padding=(1, 0, 0)
    )
    check_layer_matches_parent(layer, nn.ConvTranspose3d, torch.randn(2, 4, 5, 1, 1))


def test_other_sizes_fall_back_to_the_parent_forward():
    torch.manual_seed(0)
    conv = SpatiallyFullyConnectedConv3d(4, 3, (3, 2, 2), padding=(1, 0, 0))
    for x in (torch.randn(2, 4, 5, 3, 4), torch.randn(4, 5, 2, 2)):  # larger frames, unbatched
        assert torch.equal(conv(x), nn.Conv3d.forward(conv, x))
    transposed = SpatiallyFullyConnectedConvTranspose3d(4, 3, (3, 2, 2), padding=(1, 0, 0))
    x = torch.randn(2, 4, 5, 2, 3)
    assert torch.equal(transposed(x), nn.ConvTranspose3d.forward(transposed, x))


def test_same_parameters_as_the_parent():
    fast = SpatiallyFullyConnectedConv3d(4, 3, (5, 2, 2), stride=(2, 1, 1), padding=(2, 0, 0))
    plain = nn.Conv3d(4, 3, (5, 2, 2), stride=(2, 1, 1), padding=(2, 0, 0))
    assert isinstance(fast, nn.Conv3d)
    assert {k: v.shape for k, v in fast.state_dict().items()} == {
        k: v.shape for k, v in plain.state_dict().items()
    }
    transposed = SpatiallyFullyConnectedConvTranspose3d(4, 3, (4, 2, 2), stride=(2, 1, 1))
    assert isinstance(transposed, nn.ConvTranspose3d)
    assert transposed.weight.shape == (4, 3, 4, 2, 2)


@pytest.mark.parametrize(
    "settings",
    [{"groups": 2}, {"dilation": 2}, {"padding": (1, 1, 0)}, {"padding": "same"}],
)
def test_unsupported_settings_are_refused(settings):
    with pytest.raises(ValueError, match="needs groups=1"):
        SpatiallyFullyConnectedConv3d(4, 4, (3, 2, 2), **settings)
    with pytest.raises(ValueError):
        SpatiallyFullyConnectedConvTranspose3d(4, 4, (3, 2, 2), **settings)
    with pytest.raises(ValueError, match="output_padding"):
        SpatiallyFullyConnectedConvTranspose3d(4, 4, (3, 2, 2), stride=2, output_padding=1)


def mm_calls(call: Callable[[], object]) -> int:
    """How many matrix products (mm / addmm) a call runs."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class Count(TorchDispatchMode):
        calls = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if func.overloadpacket in (torch.ops.aten.mm, torch.ops.aten.addmm):
                Count.calls += 1
            return func(*args, **(kwargs or {}))

    with Count():
        call()
    return Count.calls


def test_conv_input_gradient_alone_skips_the_weight_gradient():
    """The Langevin step asks for the input gradient only: one matrix product in the backward
    (none for the weight), and no parameter gets a gradient."""
    torch.manual_seed(0)
    layer = SpatiallyFullyConnectedConv3d(7, 5, (5, 6, 5), stride=(2, 1, 1), padding=(2, 0, 0))
    x = torch.randn(2, 7, 8, 6, 5, requires_grad=True)
    y = layer(x)
    loss = y.square().sum()
    grads = []
    assert mm_calls(lambda: grads.append(torch.autograd.grad(loss, inputs=x)[0])) == 1
    assert layer.weight.grad is None and layer.bias.grad is None
    expected = torch.autograd.grad(nn.Conv3d.forward(layer, x).square().sum(), x)[0]
    assert_close_at_scale(grads[0], expected)


def test_conv_second_derivatives_equal_conv3d():
    torch.manual_seed(0)
    layer = SpatiallyFullyConnectedConv3d(4, 3, (4, 3, 2), stride=(2, 1, 1), padding=(1, 0, 0))
    x = torch.randn(2, 4, 7, 3, 2)
    check_layer_matches_parent(layer, nn.Conv3d, x, second_order=True)


PHASE_SETTINGS = [  # in, out, kernel, stride, padding, output padding, input frames × h × w
    (8, 3, (3, 4, 4), (1, 2, 2), (1, 1, 1), 0, (5, 6, 7)),  # the st-generator's output layer
    (6, 5, 4, 2, 1, 0, (4, 3, 5)),  # its 128 → 64 layer
    (4, 3, 5, 2, 2, 1, (3, 4, 5)),  # the paper's kernel 5: zero phase taps
    (3, 4, (2, 3, 4), (2, 3, 1), (0, 1, 2), (1, 2, 0), (3, 2, 4)),
]


@pytest.mark.parametrize(
    ("channels", "out", "kernel", "stride", "padding", "extra", "size"), PHASE_SETTINGS
)
@pytest.mark.parametrize("batch", [1, 2])
def test_phase_transposed_conv_equals_conv_transpose3d(
    batch, channels, out, kernel, stride, padding, extra, size
):
    torch.manual_seed(0)
    layer = PhaseConvTranspose3d(
        channels, out, kernel, stride=stride, padding=padding, output_padding=extra
    )
    check_layer_matches_parent(layer, nn.ConvTranspose3d, torch.randn(batch, channels, *size))


FAST_LAYERS_AT_RECIPE_SHAPES = [  # layer, its parent, input shape: the dyntex nets' layers
    (
        lambda: SpatiallyFullyConnectedConv3d(12, 5, (3, 6, 6), padding=(1, 0, 0)),
        nn.Conv3d,
        (2, 12, 8, 6, 6),
    ),
    (
        lambda: SpatiallyFullyConnectedConvTranspose3d(
            16, 8, (4, 6, 6), stride=(2, 1, 1), padding=(1, 0, 0)
        ),
        nn.ConvTranspose3d,
        (2, 16, 4, 1, 1),
    ),
    (
        lambda: PhaseConvTranspose3d(8, 3, (3, 4, 4), stride=(1, 2, 2), padding=(1, 1, 1)),
        nn.ConvTranspose3d,
        (2, 8, 5, 6, 7),
    ),
]


@pytest.mark.parametrize(("build", "parent", "shape"), FAST_LAYERS_AT_RECIPE_SHAPES)
def test_each_fast_layer_equals_its_parent_on_an_accelerator(build, parent, shape, accelerator):
    torch.manual_seed(0)
    layer = build().to(accelerator)
    check_layer_matches_parent(layer, parent, torch.randn(shape, device=accelerator))


def test_phase_transposed_conv_parameters_fallback_and_refusals():
    torch.manual_seed(0)
    layer = PhaseConvTranspose3d(4, 3, 4, stride=2, padding=1)
    plain = nn.ConvTranspose3d(4, 3, 4, stride=2, padding=1)
    assert isinstance(layer, nn.ConvTranspose3d)
    assert {k: v.shape for k, v in layer.state_dict().items()} == {
        k: v.shape for k, v in plain.state_dict().items()
    }
    x = torch.randn(4, 3, 5, 6)  # unbatched
    assert torch.equal(layer(x), nn.ConvTranspose3d.forward(layer, x))
    x = torch.randn(1, 4, 3, 5, 6)
    size = [7, 11, 13]  # output_size: the parent's forward
    assert torch.equal(layer(x, size), nn.ConvTranspose3d.forward(layer, x, size))
    for settings in ({"groups": 2}, {"dilation": 2}):
        with pytest.raises(ValueError, match="needs groups=1"):
            PhaseConvTranspose3d(4, 4, 4, stride=2, **settings)


# The recipe's sizes (recipes/dyntex.toml): 32 frames of 48×48 RGB.
DYNTEX_SHAPE = (3, 32, 48, 48)


def plain_twin(model: nn.Module, build: Callable[[], nn.Module], monkeypatch) -> nn.Module:
    """The same model built with nn.Conv3d / nn.ConvTranspose3d, with the same parameters."""
    with monkeypatch.context() as patch:
        patch.setattr(nets, "SpatiallyFullyConnectedConv3d", nn.Conv3d)
        patch.setattr(nets, "SpatiallyFullyConnectedConvTranspose3d", nn.ConvTranspose3d)
        patch.setattr(nets, "StridedConv3d", nn.Conv3d)
        patch.setattr(nets, "PhaseConvTranspose3d", nn.ConvTranspose3d)
        twin = build()
    fast = (
        SpatiallyFullyConnectedConv3d
        | SpatiallyFullyConnectedConvTranspose3d
        | StridedConv3d
        | PhaseConvTranspose3d
    )
    assert not any(
        isinstance(
            m,
            fast,
        )
        for m in twin.modules()
    )
    twin.load_state_dict(model.state_dict())
    return twin


def check_descriptor_at_recipe_size(monkeypatch, device: torch.device) -> None:
    torch.manual_seed(0)
    params = STDescriptorParams(channels=[120, 30, 10], reference_std=0.016)
    model = SpatioTemporalDescriptor(params, DYNTEX_SHAPE)
    assert isinstance(model.net[0], StridedConv3d)
    assert isinstance(model.net[2], SpatiallyFullyConnectedConv3d)
    plain = plain_twin(model, lambda: SpatioTemporalDescriptor(params, DYNTEX_SHAPE), monkeypatch)
    model, plain = model.to(device), plain.to(device)
    y = (torch.rand(2, *DYNTEX_SHAPE) * 2 - 1).to(device)
    outputs = []
    for net in (model, plain):  # f and its gradient, the part of the Langevin drift the net gives
        y_ = y.clone().requires_grad_()  # (the reference's ||Y||²/2s² would swamp it at init)
        score = net.score(y_)
        (gradient,) = torch.autograd.grad(score.sum(), y_)
        outputs.append((score.detach(), gradient))
    # oneDNN's convolution, summing 345,600 products per output, is itself ~2e-5 from float64
    for fast, reference in zip(*outputs, strict=True):
        assert_close_at_scale(fast, reference, tolerance=1e-4)


def test_descriptor_at_recipe_size_matches_plain_layers(monkeypatch):
    check_descriptor_at_recipe_size(monkeypatch, torch.device("cpu"))


def test_descriptor_at_recipe_size_matches_plain_layers_on_an_accelerator(monkeypatch, accelerator):
    check_descriptor_at_recipe_size(monkeypatch, accelerator)


@pytest.mark.parametrize(("kernel", "even_taps"), [(5, False), (6, True), (4, True)])
def test_an_even_descriptor_kernel_reaches_every_input_alike(kernel, even_taps):
    """f's input gradient with every weight 1 counts the taps that reach each frame and pixel:
    with stride 2 an odd kernel reaches alternate ones 3 and 2 times per axis (a period-2 pattern
    in the Langevin drift), an even kernel all of them k/2 times (away from the edges)."""
    params = STDescriptorParams(channels=[1, 1, 1], kernel=kernel, temporal_kernel=5)
    model = SpatioTemporalDescriptor(params, (1, 16, 16, 16))
    first = model.net[0]
    with torch.no_grad():
        first.weight.fill_(1.0)
    y = torch.zeros(1, 1, 16, 16, 16, requires_grad=True)
    (taps,) = torch.autograd.grad(first(y).sum(), y)
    inner = taps[0, 0, 4:-4, 4:-4, 4:-4]
    assert first(y).shape[2:] == (8, 8, 8)
    if even_taps:
        assert torch.equal(inner, torch.full_like(inner, (kernel // 2) ** 3))
    else:
        assert set(inner.unique().tolist()) == {8.0, 12.0, 18.0, 27.0}


@pytest.mark.parametrize("edges", ["zeros", "replicate"])
def test_first_and_last_frames_and_the_border_fade_only_with_zero_edges(edges):
    """RMS of the first and last frames, and of the border rows and columns, over the interior's
    (8 clips at init). Measured for seeds 0-3: zeros 0.45-0.65, replicate 0.82-1.16."""
    torch.manual_seed(1)
    params = STGeneratorParams(temporal_kernel=4, kernel=4, init_std=0.02, edges=edges)
    model = SpatioTemporalGenerator(params, (3, 32, 16, 16))
    with torch.no_grad():
        clips = model(model.sample_latent(8))
    per_frame = clips.square().mean(dim=(0, 1, 3, 4)).sqrt()
    per_pixel = clips.square().mean(dim=(0, 1, 2)).sqrt()
    edge_rms = torch.stack(
        [
            per_frame[[0, -1]] / per_frame[4:-4].mean(),
            per_pixel[[0, -1], 4:-4].mean(1) / per_pixel[4:-4, 4:-4].mean(),
            per_pixel[4:-4, [0, -1]].mean(0) / per_pixel[4:-4, 4:-4].mean(),
        ]
    )
    if edges == "zeros":
        assert (edge_rms < 0.7).all(), edge_rms
    else:
        assert (edge_rms > 0.75).all(), edge_rms


def check_generator_at_recipe_size(monkeypatch, device: torch.device) -> None:
    torch.manual_seed(0)
    params = STGeneratorParams(
        latent_channels=5,
        temporal_channels=[256, 128],
        upsampling_channels=[64],
        temporal_kernel=4,
        kernel=4,
    )
    model = SpatioTemporalGenerator(params, DYNTEX_SHAPE)
    assert isinstance(model.net[3], SpatiallyFullyConnectedConvTranspose3d)
    assert isinstance(model.net[-2], PhaseConvTranspose3d)
    assert type(model.net[6]) is nn.ConvTranspose3d  # 128 → 64: the parent's kernel is faster
    plain = plain_twin(model, lambda: SpatioTemporalGenerator(params, DYNTEX_SHAPE), monkeypatch)
    model, plain = model.to(device), plain.to(device)
    x = model.sample_latent(2).to(device)
    outputs = []
    for net in (model, plain):  # G0/G2's forward, batch norm on batch statistics
        net.train()
        with torch.no_grad():
            outputs.append(net(x))
    assert_close_at_scale(*outputs, tolerance=1e-4)


def test_generator_at_recipe_size_matches_plain_layers(monkeypatch):
    check_generator_at_recipe_size(monkeypatch, torch.device("cpu"))


def test_generator_at_recipe_size_matches_plain_layers_on_an_accelerator(monkeypatch, accelerator):
    check_generator_at_recipe_size(monkeypatch, accelerator)


@pytest.mark.parametrize(
    ("temporal_upsampling", "temporal_kernel"),
    [("transposed", 4), ("nearest", 3), ("linear", 3), ("linear", 5)],
)
def test_only_resize_upsampling_keeps_a_latent_constant_in_time_still(
    temporal_upsampling, temporal_kernel
):
    """A latent sequence whose frames are all equal: a stride-2 transposed convolution gives even
    and odd output frames different taps, so the clip flickers (mean |frame change| 0.27-0.34 at
    init, against a mean |value| of 0.28); repeating or interpolating the frames and then a
    stride-1 convolution keeps it exactly still."""
    torch.manual_seed(0)
    params = STGeneratorParams(
        temporal_kernel=temporal_kernel,
        kernel=4,
        init_std=0.02,
        edges="replicate",
        temporal_upsampling=temporal_upsampling,
    )
    model = SpatioTemporalGenerator(params, (3, 32, 16, 16))
    latent = model.sample_latent(4)
    still = latent[:, :, :1].expand_as(latent).contiguous()
    with torch.no_grad():
        clips = model(still)
    assert clips.shape == (4, 3, 32, 16, 16)
    change = (clips[:, :, 1:] - clips[:, :, :-1]).abs().mean()
    if temporal_upsampling == "transposed":
        assert change > 0.5 * clips.abs().mean()
    else:
        assert change < 1e-6, change


def test_resize_upsampling_refuses_an_even_temporal_kernel_and_says_what_to_set():
    with pytest.raises(ValueError, match="odd temporal_kernel; got 4: set temporal_kernel = 3"):
        STGeneratorParams(temporal_upsampling="linear", temporal_kernel=4)
