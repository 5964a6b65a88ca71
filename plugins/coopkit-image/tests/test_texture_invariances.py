"""What the texture descriptor's options make f blind to: where it is (`padding = "circular"`) and
the image's mean colour (`zero_mean_colour`)."""

from __future__ import annotations

import pytest
import torch
from coopkit_image.texture_nets import TextureDescriptor, TextureDescriptorParams


def descriptor(padding: str = "zeros", zero_mean_colour: bool = False) -> TextureDescriptor:
    torch.manual_seed(0)
    params = TextureDescriptorParams(
        channels=[8, 6, 4],
        kernels=[5, 3, 3],
        strides=[3, 1, 1],
        init_std=0.3,
        padding=padding,
        zero_mean_colour=zero_mean_colour,
    )
    return TextureDescriptor(params, (3, 24, 24))


def shifted_energies(model: TextureDescriptor, image: torch.Tensor) -> torch.Tensor:
    """f of the image circularly shifted by 0, 3 and 6 px (multiples of the first stride)."""
    shifts = [image.roll(shifts=(3 * k, -3 * k), dims=(-2, -1)) for k in range(3)]
    with torch.no_grad():
        return model.score(torch.stack(shifts)).double()


def test_circular_padding_makes_f_invariant_to_circular_shifts():
    image = torch.rand(3, 24, 24) * 2 - 1
    energies = shifted_energies(descriptor("circular"), image)
    assert torch.allclose(energies, energies[0].expand(3), rtol=1e-5, atol=1e-6)


def test_zero_padding_tells_the_edges_apart():
    image = torch.rand(3, 24, 24) * 2 - 1
    energies = shifted_energies(descriptor("zeros"), image)
    spread = float(energies.max() - energies.min())
    assert spread > 1e-3 * float(energies.abs().max())


def test_circular_padding_draws_no_border_on_the_gradient():
    """At a flat image every pixel is an interior pixel: the gradient is periodic in the stride."""
    flat = torch.full((1, 3, 24, 24), 0.3, requires_grad=True)
    descriptor("circular").score(flat).sum().backward()
    grad = flat.grad[0]
    assert torch.allclose(grad, grad.roll(shifts=(3, 3), dims=(-2, -1)), rtol=1e-4, atol=1e-7)


def test_an_unknown_padding_is_refused():
    with pytest.raises(ValueError, match="padding"):
        TextureDescriptorParams(padding="reflect-ish")


def with_colour_shifts(image: torch.Tensor) -> torch.Tensor:
    colours = torch.tensor([[0.0, 0.0, 0.0], [0.3, -0.2, 0.1], [-0.5, 0.4, 0.25]])
    return image + colours[:, :, None, None]


def test_zero_mean_colour_makes_f_blind_to_the_mean_colour():
    images = with_colour_shifts(torch.rand(3, 24, 24) * 2 - 1)
    with torch.no_grad():
        scores = descriptor(zero_mean_colour=True).score(images).double()
    assert torch.allclose(scores, scores[0].expand(3), rtol=1e-5, atol=1e-5)


def test_without_it_f_scores_the_colour():
    images = with_colour_shifts(torch.rand(3, 24, 24) * 2 - 1)
    with torch.no_grad():
        scores = descriptor().score(images).double()
    assert float(scores.max() - scores.min()) > 1e-2 * float(scores.abs().max())


def test_zero_mean_colour_gives_a_drift_without_a_colour():
    """The Langevin drift ∂f/∂Y sums to 0 over each channel: the revision cannot shift a colour."""
    image = (torch.rand(1, 3, 24, 24) * 2 - 1).requires_grad_()
    descriptor(zero_mean_colour=True).score(image).sum().backward()
    per_channel = image.grad[0].sum(dim=(-2, -1))
    assert torch.allclose(per_channel, torch.zeros(3), atol=1e-4 * float(image.grad.abs().max()))
