"""Parzen-window log-likelihood: against brute force, a case known by hand, cross-validation of σ
when the truth is itself a Parzen window, and the [0, 1] rescaling."""

from __future__ import annotations

import math

import pytest
import torch

from coopkit.metrics.parzen import (
    DEFAULT_SIGMAS,
    ParzenLogLikelihood,
    ParzenParams,
    parzen_log_likelihood,
)


def brute_force(held_out: torch.Tensor, samples: torch.Tensor, sigma: float) -> torch.Tensor:
    """log (1/n) Σ_i N(x; s_i, σ²I), term by term with scipy."""
    special = pytest.importorskip("scipy.special")
    x = held_out.flatten(1).double().numpy()
    s = samples.flatten(1).double().numpy()
    dims = x.shape[1]
    exponents = -((x[:, None, :] - s[None, :, :]) ** 2).sum(-1) / (2 * sigma**2)
    log_kernel = exponents - dims / 2 * math.log(2 * math.pi * sigma**2)
    return torch.from_numpy(special.logsumexp(log_kernel, axis=1) - math.log(len(s)))


def test_matches_brute_force_for_every_sigma_and_chunk() -> None:
    generator = torch.Generator().manual_seed(0)
    samples = torch.rand(30, 2, 3, 3, generator=generator)
    held_out = torch.rand(7, 2, 3, 3, generator=generator)
    sigmas = [0.1, 0.3, 1.0]
    ours = parzen_log_likelihood(held_out.flatten(1), samples.flatten(1), sigmas, chunk=3)
    assert ours.shape == (7, 3)
    for column, sigma in enumerate(sigmas):
        reference = brute_force(held_out, samples, sigma)
        assert ours[:, column].tolist() == pytest.approx(reference.tolist(), rel=1e-9, abs=1e-9)


def test_one_sample_one_point_known_by_hand() -> None:
    dims, distance, sigma = 5, 0.7, 0.2
    sample = torch.zeros(1, dims, dtype=torch.float64)
    point = torch.zeros(1, dims, dtype=torch.float64)
    point[0, 2] = distance
    expected = -(distance**2) / (2 * sigma**2) - dims / 2 * math.log(2 * math.pi * sigma**2)
    value = parzen_log_likelihood(point, sample, [sigma])
    assert value.item() == pytest.approx(expected, abs=1e-9)


def test_metric_reports_mean_and_stderr_over_test_examples() -> None:
    generator = torch.Generator().manual_seed(1)
    samples = torch.rand(20, 1, 4, 4, generator=generator)
    test = torch.rand(9, 1, 4, 4, generator=generator)
    metric = ParzenLogLikelihood(ParzenParams(sigma=0.25))
    result = metric.compute(samples, test, (0.0, 1.0))
    per_example = brute_force(test, samples, 0.25)
    assert result.mean == pytest.approx(per_example.mean().item(), abs=1e-9)
    assert result.stderr == pytest.approx((per_example.std() / 3).item(), abs=1e-9)
    assert "0.25 (fixed)" in result.note
    assert (metric.split, metric.calibration_split) == ("test", None)  # σ fixed: no validation


def test_cross_validation_recovers_the_width_of_a_parzen_truth() -> None:
    """Validation data drawn from a Parzen window on the samples themselves, x = s_k + σ₀z, make
    the true density a member of the family, so the mean validation log-likelihood is maximised
    near σ₀ (KL ≥ 0, with equality only at the truth). (Data and samples from one N(0, τ²I)
    would not do: the best window width for n samples is then well below τ, shrinking as
    n^(−1/(D+4)).)

    With the samples on a lattice of spacing 1 ≫ σ₀ = 0.05 the other windows contribute
    < e^(−100), so log p(x) = −‖x − s_k‖²/(2σ²) − log(2πσ²) − log n and the maximiser is
    σ̂² = Σ‖x − s_k‖²/(mD) = σ₀²·χ²_{mD}/(mD): σ̂/σ₀ has standard deviation ≈ 1/√(2mD) = 1.1 %
    for m = 2000, D = 2. So the grid's choice must be a neighbour of σ̂ (the objective is unimodal
    in σ), and σ̂ must be within 5 % (4.5 standard deviations) of σ₀.
    """
    generator = torch.Generator().manual_seed(2)
    axis = torch.arange(10.0)
    samples = torch.cartesian_prod(axis, axis)  # 100 samples, D = 2
    true_sigma, m = 0.05, 2000
    centres = samples[torch.randint(len(samples), (m,), generator=generator)]
    validation = centres + true_sigma * torch.randn(m, 2, generator=generator)
    grid = torch.logspace(math.log10(0.03), math.log10(0.1), 121).tolist()  # steps of 1 %
    metric = ParzenLogLikelihood(ParzenParams(sigmas=grid, unit_range=False, validation_limit=m))
    metric.calibrate(samples, validation, (0.0, 9.0))

    mle = math.sqrt(((validation - centres) ** 2).sum().item() / (m * 2))
    assert abs(mle / true_sigma - 1) < 0.05
    below = max(s for s in grid if s <= mle)
    above = min(s for s in grid if s >= mle)
    assert metric.sigma in (below, above)
    assert "cross-validated on 2000 examples" in metric.note


def test_cross_validation_uses_at_most_validation_limit_examples_and_flags_grid_edges() -> None:
    generator = torch.Generator().manual_seed(3)
    samples = torch.rand(50, 3, generator=generator)
    validation = torch.rand(40, 3, generator=generator)
    metric = ParzenLogLikelihood(ParzenParams(sigmas=[0.001, 0.002], validation_limit=10))
    metric.calibrate(samples, validation, (0.0, 1.0))
    assert metric.sigma == 0.002  # the widest width on offer: far too narrow a grid
    assert "10 examples" in metric.note and "end of the σ grid" in metric.note


def test_unit_range_rescales_data_and_samples_to_zero_one() -> None:
    """x ∈ [−1, 1] ↦ x' = (x + 1)/2: a window of width σ on x' is one of width 2σ on x, and the
    densities differ by the Jacobian 2^D: log p'(x') = log p(x) + D·log 2."""
    generator = torch.Generator().manual_seed(4)
    samples = torch.rand(25, 1, 3, 3, generator=generator) * 2 - 1
    test = torch.rand(6, 1, 3, 3, generator=generator) * 2 - 1
    unit = ParzenLogLikelihood(ParzenParams(sigma=0.1)).compute(samples, test, (-1.0, 1.0))
    already = ParzenLogLikelihood(ParzenParams(sigma=0.1, unit_range=False)).compute(
        (samples + 1) / 2, (test + 1) / 2, (0.0, 1.0)
    )
    raw = ParzenLogLikelihood(ParzenParams(sigma=0.2, unit_range=False)).compute(
        samples, test, (-1.0, 1.0)
    )
    assert unit.mean == pytest.approx(already.mean, abs=1e-9)
    assert unit.mean == pytest.approx(raw.mean + 9 * math.log(2), abs=1e-9)
    assert "[0, 1]" in unit.note and "[0, 1]" not in raw.note


def test_a_fixed_sigma_skips_cross_validation() -> None:
    metric = ParzenLogLikelihood(ParzenParams(sigma=0.3))
    metric.calibrate(torch.rand(5, 4), torch.rand(5, 4), (0.0, 1.0))
    assert metric.sigma == 0.3


def test_compute_without_sigma_or_calibration_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="σ"):
        ParzenLogLikelihood(ParzenParams()).compute(torch.rand(3, 4), torch.rand(2, 4), (0, 1))


def test_params_reject_bad_widths_and_default_grid_covers_005_to_1() -> None:
    assert DEFAULT_SIGMAS[0] == pytest.approx(0.05, rel=0.01) and DEFAULT_SIGMAS[-1] == 1.0
    for bad in ({"sigma": 0.0}, {"sigmas": []}, {"sigmas": [0.1, -0.2]}):
        with pytest.raises(ValueError):
            ParzenParams(**bad)


def test_a_fixed_sigma_needs_no_validation_split():
    assert ParzenLogLikelihood(ParzenParams()).calibration_split == "validation"
    assert ParzenLogLikelihood(ParzenParams(sigma=0.2)).calibration_split is None
