"""FID and the Inception score: the formulas on values known by hand, the preprocessing against
torchvision's own convention, end to end on a randomly initialised Inception-v3 saved to a file,
and the error when no weights file is given."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch

from coopkit.errors import UserError
from coopkit.metrics.fid import FID, frechet_distance, gaussian_statistics
from coopkit.metrics.inception import InceptionParams, inception_input
from coopkit.metrics.inception_score import InceptionScore, InceptionScoreParams, inception_score

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def random_covariance(dims: int, generator: torch.Generator) -> torch.Tensor:
    factor = torch.randn(dims, dims + 2, generator=generator, dtype=torch.float64)
    return factor @ factor.T / dims


def test_frechet_distance_of_1d_gaussians_is_closed_form() -> None:
    # W2² between N(μ1, s1²) and N(μ2, s2²) is (μ1 − μ2)² + (s1 − s2)²
    value = frechet_distance(
        torch.tensor([1.0]), torch.tensor([[4.0]]), torch.tensor([-0.5]), torch.tensor([[0.25]])
    )
    assert value == pytest.approx(1.5**2 + (2.0 - 0.5) ** 2, abs=1e-12)


def test_frechet_distance_of_diagonal_covariances_sums_over_axes() -> None:
    mu1, mu2 = torch.tensor([0.0, 1.0, 2.0]), torch.tensor([1.0, 1.0, 0.0])
    std1, std2 = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([3.0, 2.0, 0.5])
    value = frechet_distance(mu1, torch.diag(std1**2), mu2, torch.diag(std2**2))
    expected = ((mu1 - mu2) ** 2 + (std1 - std2) ** 2).sum().item()
    assert value == pytest.approx(expected, abs=1e-12)


def test_frechet_distance_of_identical_statistics_is_zero() -> None:
    generator = torch.Generator().manual_seed(0)
    features = torch.randn(6, 10, generator=generator, dtype=torch.float64)  # rank-deficient Σ
    mu, sigma = gaussian_statistics(features)
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-9)
    full = random_covariance(10, generator)
    assert frechet_distance(mu, full, mu, full) == pytest.approx(0.0, abs=1e-9)


def test_frechet_distance_matches_scipy_sqrtm() -> None:
    linalg = pytest.importorskip("scipy.linalg")
    generator = torch.Generator().manual_seed(1)
    sigma1, sigma2 = random_covariance(8, generator), random_covariance(8, generator)
    mu1, mu2 = torch.randn(2, 8, generator=generator, dtype=torch.float64)
    root = linalg.sqrtm(sigma1.numpy() @ sigma2.numpy()).real
    expected = ((mu1 - mu2) ** 2).sum().item() + float((sigma1 + sigma2).trace() - 2 * root.trace())
    assert frechet_distance(mu1, sigma1, mu2, sigma2) == pytest.approx(expected, rel=1e-9)


def test_gaussian_statistics_use_the_unbiased_covariance() -> None:
    mu, sigma = gaussian_statistics(torch.tensor([[0.0], [2.0]]))
    assert (mu.item(), sigma.item()) == (1.0, 2.0)
    with pytest.raises(ValueError, match="at least 2"):
        gaussian_statistics(torch.zeros(1, 3))


def test_inception_score_known_by_hand() -> None:
    uniform = torch.full((20, 7), 1 / 7)
    assert inception_score(uniform, splits=4).tolist() == pytest.approx([1.0] * 4, abs=1e-12)
    # confident predictions spread evenly over k = 4 classes in each split score k
    one_hot = torch.eye(4).repeat(3, 1)  # 12 rows, classes 0 1 2 3 0 1 2 3 ...
    assert inception_score(one_hot, splits=3).tolist() == pytest.approx([4.0] * 3, abs=1e-12)
    assert inception_score(torch.eye(10), splits=1).item() == pytest.approx(10.0, abs=1e-12)
    # all samples confidently one class: no diversity, score 1
    assert inception_score(torch.eye(5)[[2] * 6], splits=2).tolist() == pytest.approx([1.0, 1.0])
    with pytest.raises(ValueError, match="at least 10"):
        inception_score(uniform[:9], splits=10)


def test_input_is_torchvision_transform_input_of_imagenet_normalised_images() -> None:
    """Feeding 2x − 1 to a net built with transform_input=False is what torchvision's pretrained
    net (transform_input=True) does to ImageNet-normalised input."""
    from torchvision.models import Inception3
    from torchvision.transforms.functional import normalize, resize

    gray = torch.rand(2, 1, 20, 24, generator=torch.Generator().manual_seed(2)) * 2 - 1
    ours = inception_input(gray, (-1.0, 1.0))
    unit = resize(((gray + 1) / 2).expand(-1, 3, -1, -1), [299, 299], antialias=True)
    torchvision_way = Inception3._transform_input(
        SimpleNamespace(transform_input=True), normalize(unit, IMAGENET_MEAN, IMAGENET_STD)
    )
    assert ours.shape == (2, 3, 299, 299)
    assert torch.allclose(ours, torchvision_way, atol=1e-5)
    with pytest.raises(ValueError, match="1 or 3"):
        inception_input(torch.zeros(1, 2, 8, 8), (0.0, 1.0))


@pytest.mark.parametrize("weights", [None, "/nonexistent/inception_v3.pth"])
def test_missing_weights_are_a_user_error_naming_the_fix(weights) -> None:
    with pytest.raises(UserError) as error:
        FID(InceptionParams(weights=weights))
    message = str(error.value)
    assert "inception_v3(weights='IMAGENET1K_V1')" in message
    assert "torch.save" in message and "state_dict()" in message
    assert "--option fid.weights=" in message and "never downloads" in message


def test_unreadable_or_wrong_weights_are_user_errors(tmp_path) -> None:
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(UserError, match="cannot read"):
        InceptionScore(InceptionScoreParams(weights=str(garbage)))
    other = tmp_path / "other.pth"
    torch.save(torch.nn.Linear(2, 3).state_dict(), other)
    with pytest.raises(UserError, match="inception-score"):
        InceptionScore(InceptionScoreParams(weights=str(other)))
    wrong = tmp_path / "wrong.pth"
    torch.save({"fc.weight": torch.zeros(3, 2048)}, wrong)
    with pytest.raises(UserError, match="not an Inception-v3 state_dict"):
        FID(InceptionParams(weights=str(wrong)))


@pytest.fixture(scope="module")
def random_inception(tmp_path_factory):
    """A randomly initialised torchvision Inception-v3 (aux classifier included, as in
    IMAGENET1K_V1) and its state_dict saved as .pth and without the aux head as .safetensors."""
    from safetensors.torch import save_file
    from torchvision.models import inception_v3

    torch.manual_seed(0)
    net = inception_v3(weights=None, aux_logits=True, init_weights=False).eval()
    folder = tmp_path_factory.mktemp("inception")
    torch.save(net.state_dict(), folder / "inception_v3.pth")
    without_aux = {k: v for k, v in net.state_dict().items() if not k.startswith("AuxLogits.")}
    save_file(without_aux, str(folder / "inception_v3.safetensors"))
    return net, folder


def test_fid_end_to_end_matches_torchvision_features(random_inception) -> None:
    from torchvision.transforms.functional import normalize, resize

    net, folder = random_inception
    generator = torch.Generator().manual_seed(3)
    samples = torch.rand(3, 1, 16, 16, generator=generator)
    observed = torch.rand(3, 1, 16, 16, generator=generator)
    fid = FID(InceptionParams(weights=str(folder / "inception_v3.pth"), batch_size=2, device="cpu"))
    used = []  # the features compute() scores, caught on their way: no second pass of the net
    outputs = fid.outputs

    def caught(images, value_range):
        used.append(outputs(images, value_range))
        return used[-1]

    fid.outputs = caught
    value = fid.compute(samples, observed, (0.0, 1.0))

    reference = type(net)(aux_logits=True, transform_input=True, init_weights=False)
    reference.load_state_dict(net.state_dict())
    pooled = []
    reference.eval().avgpool.register_forward_hook(lambda m, i, o: pooled.append(o.flatten(1)))
    assert len(used) == 2  # the samples', then the held-out examples'
    with torch.no_grad():
        for images, (features, _) in zip((samples, observed), used, strict=True):
            unit = resize(images.expand(-1, 3, -1, -1), [299, 299], antialias=True)
            reference(normalize(unit, IMAGENET_MEAN, IMAGENET_STD))
            assert features.shape == (3, 2048)
            scale = features.abs().max()
            assert torch.allclose(features, pooled[-1].double(), rtol=1e-4, atol=1e-6 * scale)
    assert value.mean > 0 and math.isfinite(value.mean)  # = FD of these features: next test
    assert "3 samples vs 3 held-out examples" in value.note
    assert (FID.split, FID.higher_is_better) == ("test", False)


class FlatFID(FID):
    """FID on the flattened images themselves: no net, no weights."""

    def __init__(self) -> None:
        self._reference = None
        self.seen: list[torch.Tensor] = []

    def outputs(self, images, value_range):
        self.seen.append(images)
        return images.flatten(1).double(), images


def test_fid_computes_the_held_out_statistics_once_per_data_tensor() -> None:
    """Every method is scored against one held-out tensor: its features are computed once."""
    fid = FlatFID()
    generator = torch.Generator().manual_seed(4)
    held_out, samples = torch.rand(2, 5, 1, 2, 2, generator=generator)
    first = fid.compute(samples, held_out, (0.0, 1.0))
    second = fid.compute(samples * 0.5, held_out, (0.0, 1.0))
    again = fid.compute(samples, held_out, (0.0, 1.0))
    assert [x is held_out for x in fid.seen] == [False, True, False, False]
    expected = frechet_distance(
        *gaussian_statistics(samples.flatten(1)), *gaussian_statistics(held_out.flatten(1))
    )
    assert first.mean == pytest.approx(expected, rel=1e-12)
    assert again.mean == pytest.approx(first.mean) and second.mean != first.mean
    fid.compute(samples, held_out.clone(), (0.0, 1.0))
    assert len(fid.seen) == 6  # another tensor: its statistics are computed afresh


def test_inception_score_end_to_end_from_safetensors_without_aux_head(random_inception) -> None:
    _, folder = random_inception
    params = InceptionScoreParams(
        weights=str(folder / "inception_v3.safetensors"), splits=2, device="cpu"
    )
    metric = InceptionScore(params)
    assert metric.net.AuxLogits is None
    images = torch.rand(4, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    value = metric.compute(images, torch.empty(0), (0.0, 1.0))
    # exp(mean KL) ≥ 1 exactly; a near-uniform p(y|x) may round to 1 − 2⁻⁵² in float64
    assert 1.0 - 1e-12 <= value.mean <= 1000.0 and value.stderr >= 0
    assert "std over 2 splits of 4 samples" in value.note
