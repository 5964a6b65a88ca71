"""Fréchet Inception distance (Heusel et al. 2017): Gaussians fitted to the Inception-v3 pool
features of the samples (μ1, Σ1) and of the held-out data (μ2, Σ2) are compared by

    FID = ‖μ1 − μ2‖² + Tr(Σ1 + Σ2 − 2(Σ1Σ2)^{1/2}).

Tr(Σ1Σ2)^{1/2} = Σ_k √λ_k with λ_k the eigenvalues of Σ1^{1/2} Σ2 Σ1^{1/2}, which has the
eigenvalues of Σ1Σ2 and is symmetric positive semi-definite — so no general matrix square root
(``scipy.linalg.sqrtm``) is needed. Covariances are unbiased (divide by N − 1).
"""

from __future__ import annotations

import torch

from coopkit.core.metric import MetricValue
from coopkit.metrics.inception import InceptionMetric, InceptionParams


def gaussian_statistics(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean (d,) and unbiased covariance (d, d) of feature rows (N, d), N ≥ 2, in float64."""
    if len(features) < 2:
        raise ValueError(f"FID needs at least 2 examples on each side, got {len(features)}")
    features = features.double()
    return features.mean(0), torch.cov(features.T, correction=1)


def psd_eigenvalues(eigenvalues: torch.Tensor) -> torch.Tensor:
    """Eigenvalues of a symmetric positive semi-definite matrix with round-off removed: those
    below d·ε·max|λ| (d the size, ε the float64 epsilon; numpy's rank tolerance) become 0."""
    tolerance = eigenvalues.abs().max() * len(eigenvalues) * torch.finfo(eigenvalues.dtype).eps
    return torch.where(eigenvalues > tolerance, eigenvalues, torch.zeros_like(eigenvalues))


def psd_sqrt(matrix: torch.Tensor) -> torch.Tensor:
    """The symmetric square root of a symmetric positive semi-definite matrix."""
    eigenvalues, vectors = torch.linalg.eigh(matrix)
    return (vectors * psd_eigenvalues(eigenvalues).sqrt()) @ vectors.T


def frechet_distance(
    mu1: torch.Tensor, sigma1: torch.Tensor, mu2: torch.Tensor, sigma2: torch.Tensor
) -> float:
    """‖μ1 − μ2‖² + Tr(Σ1 + Σ2 − 2(Σ1Σ2)^{1/2}), the squared 2-Wasserstein distance between
    N(μ1, Σ1) and N(μ2, Σ2)."""
    mu1, sigma1, mu2, sigma2 = (t.double() for t in (mu1, sigma1, mu2, sigma2))
    root = psd_sqrt(sigma1)
    middle = root @ sigma2 @ root
    trace_sqrt = psd_eigenvalues(torch.linalg.eigvalsh((middle + middle.T) / 2)).sqrt().sum()
    distance = (mu1 - mu2).square().sum() + sigma1.trace() + sigma2.trace() - 2 * trace_sqrt
    return float(distance)


class FID(InceptionMetric[InceptionParams]):
    """Fréchet Inception distance between the samples and the held-out (test) split."""

    name = "fid"
    higher_is_better = False
    split = "test"

    def __init__(self, params: InceptionParams):
        super().__init__(params)
        self._reference: tuple[torch.Tensor, tuple, tuple[torch.Tensor, torch.Tensor]] | None = None

    def _observed_statistics(self, observed, value_range) -> tuple[torch.Tensor, torch.Tensor]:
        """Statistics of the held-out data, computed once for every method scored against it."""
        cached = self._reference
        if cached is None or cached[0] is not observed or cached[1] != tuple(value_range):
            features, _ = self.outputs(observed, value_range)
            cached = (observed, tuple(value_range), gaussian_statistics(features))
            self._reference = cached
        return cached[2]

    def compute(self, samples, observed, value_range) -> MetricValue:
        features, _ = self.outputs(samples, value_range)
        mu1, sigma1 = gaussian_statistics(features)
        mu2, sigma2 = self._observed_statistics(observed, value_range)
        return MetricValue(
            frechet_distance(mu1, sigma1, mu2, sigma2),
            note=f"{len(samples)} samples vs {len(observed)} held-out examples",
        )
