"""Every sampler against targets whose law is known: Gaussians, two-component mixtures and the
posterior of a linear-Gaussian generator. Each check would fail for a wrong kernel."""

from __future__ import annotations

import json
import math

import pytest
import torch
from scipy import stats
from torch import nn

import coopkit
from coopkit.core import LatentModel
from coopkit.core.sampler import SamplerParams
from coopkit.samplers.gd import GradientDescent, GradientDescentParams
from coopkit.samplers.hmc import HMC, HMCParams
from coopkit.samplers.langevin import Langevin, LangevinParams
from coopkit.samplers.mala import MALA
from coopkit.teachers.langevin_inference import LangevinInference, LangevinInferenceParams
from coopkit.testing import check_sampler

# sampler name -> a setting that mixes well on unit-scale targets
SAMPLERS = {
    "langevin": lambda steps: Langevin(LangevinParams(steps=steps, step_size=0.2)),
    "mala": lambda steps: MALA(SamplerParams(steps=steps, step_size=0.6)),
    "hmc": lambda steps: HMC(HMCParams(steps=max(steps // 4, 1), step_size=0.25, leapfrog_steps=8)),
}


def rng(seed=0):
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------------------- targets

MEAN = torch.tensor([1.0, -1.0])
COV = torch.tensor([[1.0, 0.6], [0.6, 0.5]])
PRECISION = torch.linalg.inv(COV)


def gaussian_energy(x):
    centred = x - MEAN.to(x.dtype)
    return 0.5 * torch.einsum("bi,ij,bj->b", centred, PRECISION.to(x.dtype), centred)


class Mixture:
    """w₁ N(−m, s²) + w₂ N(m, s²) in 1D."""

    def __init__(self, m, s, w2):
        self.m, self.s, self.w = m, s, torch.tensor([1 - w2, w2])

    def energy(self, x):
        x = x[:, 0]
        centres = torch.tensor([-self.m, self.m])
        log_parts = torch.log(self.w) - (x[:, None] - centres) ** 2 / (2 * self.s**2)
        return -torch.logsumexp(log_parts, dim=1)

    def cdf(self, values):
        return (1 - self.w[1].item()) * stats.norm.cdf(values, -self.m, self.s) + self.w[
            1
        ].item() * stats.norm.cdf(values, self.m, self.s)

    def exact(self, n, generator):
        upper = torch.rand(n, generator=generator) < self.w[1]
        centres = torch.where(upper, self.m, -self.m)
        return (centres + self.s * torch.randn(n, generator=generator))[:, None]


# ---------------------------------------------------------------------------- stationary laws


@pytest.mark.parametrize("name", SAMPLERS)
def test_correlated_gaussian_from_a_far_start(name):
    chains = 4000
    x = SAMPLERS[name](1500).run(gaussian_energy, torch.full((chains, 2), 5.0), rng()).x.double()
    assert torch.allclose(x.mean(0), MEAN.double(), atol=0.06)
    assert torch.allclose(torch.cov(x.T), COV.double(), atol=0.06)
    # the marginal of the first coordinate is N(1, 1)
    assert stats.kstest(x[:, 0].numpy(), "norm", args=(1.0, 1.0)).pvalue > 1e-3


@pytest.mark.parametrize("name", SAMPLERS)
def test_overlapping_mixture_mode_weights_from_a_far_start(name):
    target = Mixture(m=1.0, s=0.7, w2=0.7)
    x = SAMPLERS[name](1500).run(target.energy, torch.full((4000, 1), 4.0), rng(1)).x[:, 0]
    weight_upper = float((x > 0).float().mean())
    expected = 1 - target.cdf(0.0)
    assert abs(weight_upper - expected) < 0.04
    assert stats.kstest(x.numpy(), target.cdf).pvalue > 1e-3


@pytest.mark.parametrize("name", SAMPLERS)
def test_well_separated_mixture_is_left_invariant(name):
    """Started from exact draws, the kernel keeps the law: mode weights and shape within modes."""
    target = Mixture(m=4.0, s=0.5, w2=0.3)
    start = target.exact(4000, rng(2))
    x = SAMPLERS[name](300).run(target.energy, start, rng(3)).x[:, 0]
    assert abs(float((x > 0).float().mean()) - 0.3) < 0.03
    assert stats.kstest(x.numpy(), target.cdf).pvalue > 1e-3


def test_a_langevin_without_the_half_fails_the_gaussian_check():
    """The covariance check has teeth: dropping the ½ of eq. (7) (x ← x − δ²∇E + δU, as one public
    port did) shrinks the stationary covariance, and the same check catches it."""
    x = torch.full((4000, 2), 5.0)
    generator, delta = rng(), 0.2
    for _ in range(1500):
        x.requires_grad_(True)
        (grad,) = torch.autograd.grad(gaussian_energy(x).sum(), x)
        x = (x - delta**2 * grad + delta * torch.randn(x.shape, generator=generator)).detach()
    assert not torch.allclose(torch.cov(x.double().T), COV.double(), atol=0.06)


# ---------------------------------------------------------------------------- acceptance


def test_mala_acceptance_tiny_versus_large_steps():
    start = torch.randn(2000, 2, generator=rng()) * 0.7 + MEAN
    tiny = MALA(SamplerParams(steps=20, step_size=0.01)).run(gaussian_energy, start, rng(1))
    large = MALA(SamplerParams(steps=20, step_size=3.0)).run(gaussian_energy, start, rng(1))
    assert tiny.stats["acceptance_rate"] > 0.99
    assert large.stats["acceptance_rate"] < 0.1


def test_hmc_acceptance_tiny_versus_large_steps():
    start = torch.randn(2000, 2, generator=rng()) * 0.7 + MEAN
    tiny = HMC(HMCParams(steps=10, step_size=0.01, leapfrog_steps=5)).run(
        gaussian_energy, start, rng(1)
    )
    large = HMC(HMCParams(steps=10, step_size=2.0, leapfrog_steps=10)).run(
        gaussian_energy, start, rng(1)
    )
    assert tiny.stats["acceptance_rate"] > 0.99
    assert large.stats["acceptance_rate"] < 0.1


def test_hmc_adaptation_reaches_the_target_acceptance():
    sampler = HMC(
        HMCParams(steps=300, step_size=1.2, leapfrog_steps=5, adapt=True, target_accept=0.7)
    )
    start = torch.randn(1000, 2, generator=rng()) + MEAN
    x = sampler.run(gaussian_energy, start, rng(1)).x
    adapted = sampler.step_size
    assert adapted < 1.2
    frozen = HMC(HMCParams(steps=50, step_size=adapted, leapfrog_steps=5))
    rate = frozen.run(gaussian_energy, x, rng(2)).stats["acceptance_rate"]
    assert abs(rate - 0.7) < 0.1


def test_hmc_with_one_leapfrog_step_is_mala():
    """Same random numbers, same decisions: the two kernels are one (up to rounding)."""
    start = (torch.randn(500, 2, generator=rng()) + MEAN).double()
    mala = MALA(SamplerParams(steps=30, step_size=0.8)).run(gaussian_energy, start, rng(5))
    hmc = HMC(HMCParams(steps=30, step_size=0.8, leapfrog_steps=1)).run(
        gaussian_energy, start, rng(5)
    )
    assert torch.allclose(mala.x, hmc.x, atol=1e-8)
    assert mala.stats["acceptance_rate"] == hmc.stats["acceptance_rate"]


# ---------------------------------------------------------------------------- gradient descent


def test_gradient_descent_finds_the_mode_and_adds_no_noise():
    x = (
        GradientDescent(GradientDescentParams(steps=800, step_size=0.5))
        .run(gaussian_energy, torch.randn(10, 2, generator=rng()) * 3)
        .x
    )
    assert torch.allclose(x, MEAN.expand(10, 2), atol=1e-3)
    target = Mixture(m=4.0, s=0.5, w2=0.3)
    start = torch.tensor([[-1.0], [1.0]])
    modes = (
        GradientDescent(GradientDescentParams(steps=500, step_size=0.3)).run(target.energy, start).x
    )
    assert torch.allclose(modes[:, 0], torch.tensor([-4.0, 4.0]), atol=1e-2)


# ---------------------------------------------------------------------------- latent space


@pytest.mark.parametrize("name", ["langevin", "mala", "hmc"])
def test_latent_samplers_recover_the_linear_gaussian_posterior(name):
    d, D, sigma, chains = 2, 3, 0.8, 4000
    linear = nn.Linear(d, D, bias=False)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[1.0, 0.5], [-0.3, 1.2], [0.8, -0.7]]))
    generator = LatentModel(linear, latent_shape=(d,), noise_std=sigma)
    y = torch.tensor([1.0, -0.5, 2.0])
    W = linear.weight.detach()
    cov = torch.linalg.inv(torch.eye(d) + W.T @ W / sigma**2)
    mean = cov @ W.T @ y / sigma**2
    teacher = LangevinInference(LangevinInferenceParams(), latent_sampler=SAMPLERS[name](800))
    x, stats_ = teacher.infer(generator, torch.zeros(chains, d), y.expand(chains, D), rng(4))
    x = x.double()
    assert torch.allclose(x.mean(0), mean.double(), atol=0.03)
    assert torch.allclose(torch.cov(x.T), cov.double(), atol=0.03)
    # goodness of fit along the posterior's first principal axis
    eigenvalues, eigenvectors = torch.linalg.eigh(cov.double())
    projected = (x - mean.double()) @ eigenvectors[:, 0]
    assert (
        stats.kstest(projected.numpy(), "norm", args=(0, math.sqrt(eigenvalues[0]))).pvalue > 1e-3
    )
    if name != "langevin":
        assert 0 < stats_["inference_acceptance_rate"] <= 1


# ---------------------------------------------------------------------------- reproducibility & schedules


@pytest.mark.parametrize("name", SAMPLERS)
def test_fixed_seeds_give_identical_chains(name):
    start = torch.zeros(8, 2)
    a = SAMPLERS[name](20).run(gaussian_energy, start, rng(9)).x
    b = SAMPLERS[name](20).run(gaussian_energy, start, rng(9)).x
    assert torch.equal(a, b)


@pytest.mark.parametrize(
    "sampler",
    [
        Langevin(LangevinParams(steps=3, step_size=0.1)),
        MALA(SamplerParams(steps=3, step_size=0.1)),
        HMC(HMCParams(steps=2, step_size=0.1, leapfrog_steps=3, adapt=True)),
        GradientDescent(GradientDescentParams(steps=3, step_size=0.1)),
    ],
)
def test_conformance(sampler):
    check_sampler(sampler)


def test_langevin_schedules_over_training_iterations():
    sampler = Langevin(LangevinParams(step_size=0.1, step_size_end=0.01, noise_off_after=5))
    assert sampler.at_iteration(0, 10).params.step_size == pytest.approx(0.1)
    assert sampler.at_iteration(9, 10).params.step_size == pytest.approx(0.01)
    assert sampler.at_iteration(4, 10).params.noise is True
    assert sampler.at_iteration(5, 10).params.noise is False
    geometric = Langevin(LangevinParams(step_size=0.1, step_size_end=0.001, schedule="geometric"))
    assert geometric.at_iteration(5, 11).params.step_size == pytest.approx(0.01)


def test_the_engine_follows_the_schedule_and_logs_it(host, write_recipe):
    recipe = write_recipe(sampler={"step_size_end": 0.01}, train={"iterations": 4})
    run = coopkit.build(recipe, host=host).fit(progress=False)
    sizes = [
        json.loads(m)["revision_step_size"] for m in run.directory.metrics.read_text().splitlines()
    ]
    assert sizes[0] == pytest.approx(0.1) and sizes[-1] == pytest.approx(0.01)
    assert sizes == sorted(sizes, reverse=True)


def test_an_adapted_hmc_step_size_survives_a_checkpoint(host, write_recipe):
    recipe = write_recipe(sampler={"name": "hmc", "steps": 2, "leapfrog_steps": 2, "adapt": True})
    run = coopkit.build(recipe, host=host).fit(progress=False)
    assert run.sampler.step_size != 0.1
    assert coopkit.load(run.directory.path, host=host).sampler.step_size == run.sampler.step_size
    last = json.loads(run.directory.metrics.read_text().splitlines()[-1])
    assert 0 <= last["revision_acceptance_rate"] <= 1


def test_hmc_with_a_heavy_mass_still_samples_the_target():
    """The mass enters the momentum draw, the kinetic energy and the position update; getting any
    of them wrong changes the stationary law."""
    sampler = HMC(HMCParams(steps=300, step_size=0.5, leapfrog_steps=8, mass=4.0))
    x = sampler.run(gaussian_energy, torch.full((4000, 2), 5.0), rng(6)).x.double()
    assert torch.allclose(x.mean(0), MEAN.double(), atol=0.06)
    assert torch.allclose(torch.cov(x.T), COV.double(), atol=0.06)


def test_cosine_schedule_is_slow_at_both_ends():
    sampler = Langevin(LangevinParams(step_size=0.1, step_size_end=0.02, schedule="cosine"))
    assert sampler.at_iteration(5, 11).params.step_size == pytest.approx(0.06)  # the midpoint
    assert sampler.at_iteration(1, 11).params.step_size == pytest.approx(
        0.1 - 0.08 * (1 - math.cos(math.pi / 10)) / 2
    )


def test_the_teachers_latent_sampler_follows_its_schedule(host, write_recipe):
    teacher = {
        "name": "langevin-inference",
        "steps": 2,
        "step_size": 0.1,
        "sampler_options": {"step_size_end": 0.01},
    }
    run = coopkit.build(write_recipe(teacher=teacher, train={"iterations": 4}), host=host)
    run.fit(progress=False)
    sizes = [
        json.loads(m)["inference_step_size"] for m in run.directory.metrics.read_text().splitlines()
    ]
    assert sizes[0] == pytest.approx(0.1) and sizes[-1] == pytest.approx(0.01)


def test_sampling_after_training_does_not_adapt(host, write_recipe):
    recipe = write_recipe(sampler={"name": "hmc", "steps": 3, "leapfrog_steps": 2, "adapt": True})
    run = coopkit.build(recipe, host=host).fit(progress=False)
    before = run.sampler.step_size
    run.sample(4, seed=0)
    assert run.sampler.step_size == before


def test_langevin_inference_from_python_needs_the_sampler_object():
    with pytest.raises(ValueError, match="latent_sampler="):
        LangevinInference(LangevinInferenceParams(sampler="mala"))
    teacher = LangevinInference(
        LangevinInferenceParams(sampler="mala"), latent_sampler=MALA(SamplerParams())
    )
    assert isinstance(teacher.sampler, MALA)
