"""Chain diversity: identical chains, independent white noise (≈ √2), and exact cases by hand."""

from __future__ import annotations

import math

import pytest
import torch

from coopkit.metrics.chain_diversity import ChainDiversity


def diversity(samples, observed, **params):
    return ChainDiversity(ChainDiversity.Params(**params)).compute(samples, observed, (-1.0, 1.0))


def test_identical_chains_score_zero() -> None:
    observed = torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    chains = torch.randn(1, 3, 16, 16).expand(4, -1, -1, -1)
    assert diversity(chains, observed).mean == 0.0


def test_independent_white_noise_scores_root_two_whatever_the_offset() -> None:
    """Independent N(c, σ²) fields differ by √2·σ in RMS; the observed field's RMS about its
    channel means is σ. The offset c = 5 must not enter the scale (it would give ≈ 0.28)."""
    generator = torch.Generator().manual_seed(1)
    observed = 5 + 0.3 * torch.randn(1, 2, 64, 64, generator=generator)
    chains = 5 + 0.3 * torch.randn(6, 2, 64, 64, generator=generator)
    value = diversity(chains, observed)
    assert value.mean == pytest.approx(math.sqrt(2), abs=0.03)
    assert ChainDiversity.ideal == pytest.approx(math.sqrt(2))


def test_scale_of_one_example_by_hand() -> None:
    """Observed ±1 in a checkerboard (channel mean 0, RMS 1); chains 0 and 0.5 everywhere differ
    by 0.5 in RMS: diversity 0.5. Videos are flattened the same way."""
    observed = (torch.arange(16).view(4, 4) % 2 * 2 - 1).float().view(1, 1, 1, 4, 4)
    observed = torch.cat([observed, -observed], dim=2)  # (1, 1, 2, 4, 4)
    chains = torch.stack([torch.zeros(1, 2, 4, 4), torch.full((1, 2, 4, 4), 0.5)])
    assert diversity(chains, observed).mean == pytest.approx(0.5)


def test_the_observed_examples_themselves_score_root_two() -> None:
    """For two observed examples a, b the scale is RMS(a − b)/√2 (deviations ±(a − b)/2, m − 1 =
    1), so a and b as the chains score exactly √2."""
    observed = torch.rand(2, 3, 5, 5, generator=torch.Generator().manual_seed(2))
    assert diversity(observed, observed).mean == pytest.approx(math.sqrt(2))


def test_needs_two_chains_and_a_varying_signal() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        diversity(torch.zeros(1, 1, 4, 4), torch.rand(1, 1, 4, 4))
    with pytest.raises(ValueError, match="constant"):
        diversity(torch.rand(2, 1, 4, 4), torch.ones(1, 1, 4, 4))
