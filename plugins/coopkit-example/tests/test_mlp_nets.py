"""The MLP descriptor and generator: conformance, eq. 4, output range and parameter checks."""

from __future__ import annotations

import pytest
import torch
from coopkit_example.nets import (
    MLPDescriptor,
    MLPDescriptorParams,
    MLPGenerator,
    MLPGeneratorParams,
)
from pydantic import ValidationError

from coopkit.testing import check_energy_model, check_latent_model


@pytest.mark.parametrize("shape", [(2,), (3, 4)])
def test_descriptor_conforms_for_points_and_any_other_shape(shape):
    check_energy_model(MLPDescriptor(MLPDescriptorParams(hidden=[16, 8]), shape=shape), shape)


def test_descriptor_energy_is_the_reference_minus_f():
    """eq. 4 with s = 0.5: a net whose output is 0 leaves ||Y||²/(2s²)."""
    model = MLPDescriptor(MLPDescriptorParams(reference_std=0.5, hidden=[8]), shape=(2,))
    torch.nn.init.zeros_(model.net[-1][-1].weight)
    torch.nn.init.constant_(model.net[-1][-1].bias, 3.0)
    y = torch.tensor([[1.0, 1.0], [0.0, 0.5]])
    assert model.energy(y).tolist() == pytest.approx([4.0 - 3.0, 0.5 - 3.0])


@pytest.mark.parametrize("shape", [(2,), (3, 4)])
def test_generator_conforms_and_keeps_tanh_output_in_range(shape):
    generator = MLPGenerator(MLPGeneratorParams(latent_dim=3, hidden=[16]), shape=shape)
    check_latent_model(generator, shape)
    assert generator.latent_shape == (3,)
    with torch.no_grad():
        y = generator(10 * generator.sample_latent(256))
    assert y.shape == (256, *shape) and y.abs().max() <= 1.0


def test_linear_output_is_not_squashed():
    generator = MLPGenerator(MLPGeneratorParams(output="linear", hidden=[16]), shape=(2,))
    with torch.no_grad():
        torch.nn.init.constant_(generator.net[0][-1].bias, 5.0)
        assert generator(generator.sample_latent(4)).min() > 1.0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        (lambda: MLPDescriptorParams(hidden=[]), "hidden"),
        (lambda: MLPDescriptorParams(activation="relu"), "activation"),
        (lambda: MLPGeneratorParams(latent_dim=0), "latent_dim"),
        (lambda: MLPGeneratorParams(widths=[8]), "widths"),
    ],
)
def test_bad_parameters_are_refused_by_name(params, field):
    with pytest.raises(ValidationError, match=field):
        params()
