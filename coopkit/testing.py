"""Conformance checks plugin authors run on their own components (``pytest`` friendly: each check
raises ``AssertionError`` with a message that says what is wrong)."""

from __future__ import annotations

import torch

from coopkit.core import DataSource, EnergyModel, LatentModel, Sampler, Teacher


def check_energy_model(model: EnergyModel, shape: tuple[int, ...], batch: int = 3) -> None:
    """energy() gives one finite value per example, is differentiable in Y, and matches eq. 4."""
    assert isinstance(model, EnergyModel), f"{type(model).__name__} is not an EnergyModel"
    y = torch.randn(batch, *shape, requires_grad=True)
    energy = model.energy(y)
    assert energy.shape == (batch,), (
        f"energy() should give shape ({batch},), got {tuple(energy.shape)}"
    )
    assert torch.isfinite(energy).all(), "energy() is not finite on N(0, I) input"
    (grad,) = torch.autograd.grad(energy.sum(), y)
    assert grad.shape == y.shape and torch.isfinite(grad).all(), "∂E/∂Y is not finite"
    expected = model.reference_energy(y) - model.score(y)
    assert torch.allclose(energy, expected), "energy() ≠ ||Y||²/(2s²) − f(Y) (eq. 4)"
    single = model.energy(y[:1].detach())
    assert torch.allclose(single, energy[:1].detach(), rtol=1e-4, atol=1e-4), (
        "an example's energy depends on the rest of the batch"
    )


def check_latent_model(model: LatentModel, shape: tuple[int, ...], batch: int = 3) -> None:
    """g maps the declared latent shape to the data shape; eval-mode samples don't depend on how
    many are drawn together (the batch-norm trap)."""
    assert isinstance(model, LatentModel), f"{type(model).__name__} is not a LatentModel"
    x = model.sample_latent(batch)
    assert x.shape == (batch, *model.latent_shape), "sample_latent() has the wrong shape"
    model.train()
    y = model(x)
    assert y.shape == (batch, *shape), f"g(X) should be {(batch, *shape)}, got {tuple(y.shape)}"
    log_joint = model.log_joint(x, y.detach())
    assert log_joint.shape == (batch,), "log_joint() should give one value per example"
    model.eval()
    with torch.no_grad():
        together = model(x)
        alone = torch.cat([model(x[i : i + 1]) for i in range(batch)])
    assert torch.allclose(together, alone, atol=1e-5), (
        "in eval mode a sample depends on how many are drawn together (batch statistics?)"
    )


def check_sampler(sampler: Sampler, shape: tuple[int, ...] = (2,), chains: int = 4) -> None:
    """Runs on a quadratic energy, keeps the shape, and leaves no gradient in any parameter."""
    weight = torch.nn.Parameter(torch.ones(shape))
    energy = lambda x: 0.5 * (weight * x.square()).flatten(1).sum(1)  # noqa: E731
    x0 = torch.randn(chains, *shape)
    result = sampler.run(energy, x0, torch.Generator().manual_seed(0))
    assert result.x.shape == x0.shape, "the sampler changed the chain shape"
    assert torch.isfinite(result.x).all(), "the sampler produced non-finite states"
    assert weight.grad is None, "the sampler accumulated a gradient into a parameter"


def check_teacher(teacher: Teacher, generator: LatentModel, shape: tuple[int, ...]) -> None:
    x = generator.sample_latent(2)
    y = torch.randn(2, *shape)
    inferred, _ = teacher.infer(generator, x, y, torch.Generator().manual_seed(0))
    assert inferred.shape == x.shape, "Step G1 changed the latent shape"


def check_data_source(source: DataSource) -> None:
    assert len(source) > 0, "the data source is empty"
    example = source[0]
    assert tuple(example.shape) == tuple(source.shape), (
        "an example does not have the declared shape"
    )
    assert len(source.layout.split()) == example.dim() + 1, (
        "layout does not match the example's axes"
    )
    low, high = source.value_range
    assert example.min() >= low - 1e-6 and example.max() <= high + 1e-6, (
        "values outside value_range"
    )
