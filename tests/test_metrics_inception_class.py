"""inception-class: mean p(label) and top-5 error on probabilities known by hand (ties included),
end to end on a randomly initialised Inception-v3 saved to a file, and the user errors."""

from __future__ import annotations

import math

import pytest
import torch

from coopkit.errors import UserError
from coopkit.metrics.inception_class import (
    InceptionClass,
    InceptionClassParams,
    class_scores,
    class_value,
    label_rank,
)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# 4 samples over 7 classes; the label is class 2
HAND = torch.tensor(
    [
        [0.00, 0.00, 0.70, 0.10, 0.10, 0.05, 0.05],  # label first: rank 0, hit
        [0.30, 0.20, 0.10, 0.15, 0.12, 0.08, 0.05],  # 4 classes above: rank 4, hit
        [0.25, 0.20, 0.05, 0.15, 0.15, 0.12, 0.08],  # 6 classes above: rank 6, miss
        [0.25, 0.10, 0.10, 0.20, 0.20, 0.15, 0.00],  # 4 above, tied class 1 first: rank 5, miss
    ],
    dtype=torch.float64,
)


def test_probability_and_top5_error_known_by_hand() -> None:
    assert label_rank(HAND, 2).tolist() == [0, 4, 6, 5]
    probability, miss = class_scores(HAND, 2)
    assert probability.tolist() == [0.70, 0.10, 0.05, 0.10]
    assert miss.tolist() == [0.0, 0.0, 1.0, 1.0]
    value = class_value(HAND, 2)
    assert value.mean == pytest.approx((0.70 + 0.10 + 0.05 + 0.10) / 4, abs=1e-12)
    assert value.stderr == pytest.approx(float(probability.std()) / 2, abs=1e-12)
    assert "top-5 error 0.5 ± 0.29" in value.note and "class 2, 4 samples" in value.note
    error = class_value(HAND, 2, "top5-error")
    assert error.mean == 0.5
    assert error.stderr == pytest.approx(math.sqrt(1 / 3) / 2, abs=1e-12)  # std of 0 0 1 1
    assert error.note.startswith("mean p(label) 0.2375 ± ")
    assert class_value(HAND, 0, "top5-error").mean == 0.25  # class 0 ranks 5 in the first row
    assert label_rank(HAND, 1).tolist()[3] == 4  # class 1 ties class 2, of higher index: rank 4


def test_ties_are_broken_by_class_index() -> None:
    """Equal probabilities rank as in a stable descending sort: lower class index first."""
    uniform = torch.full((3, 10), 0.1)
    assert [label_rank(uniform, c).tolist() for c in range(10)] == [[c] * 3 for c in range(10)]
    assert [class_value(uniform, c, "top5-error").mean for c in range(10)] == [0.0] * 5 + [1.0] * 5
    # the label ties with 5 classes: those of lower index push it out, those of higher do not
    row = torch.tensor([[0.1, 0.1, 0.1, 0.2, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05]])
    assert [label_rank(row, c).item() for c in (0, 2, 4, 7)] == [1, 3, 4, 7]
    expected = [int(i) for i in torch.argsort(-row[0], stable=True)[:5]]
    assert expected == [3, 0, 1, 2, 4]
    assert [class_scores(row, c)[1].item() for c in range(10)] == [
        0.0 if c in expected else 1.0 for c in range(10)
    ]


def test_bad_labels_and_empty_samples_are_value_errors() -> None:
    with pytest.raises(ValueError, match="label 7 is not a class"):
        label_rank(HAND, 7)
    with pytest.raises(ValueError, match="at least 1 sample"):
        class_value(HAND[:0], 2)


@pytest.mark.parametrize("weights", [None, "/nonexistent/inception_v3.pth"])
def test_missing_weights_are_a_user_error_naming_the_fix(weights) -> None:
    with pytest.raises(UserError) as error:
        InceptionClass(InceptionClassParams(weights=weights, label=951))
    message = str(error.value)
    assert "--option inception-class.weights=" in message and "never downloads" in message


def test_label_is_required_and_report_is_one_of_two() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="label"):
        InceptionClassParams(weights="w.pth")
    with pytest.raises(ValidationError, match="report"):
        InceptionClassParams(label=1, report="top1-error")
    assert InceptionClassParams(label=951).report == "probability"


@pytest.fixture(scope="module")
def random_inception(tmp_path_factory):
    from torchvision.models import inception_v3

    torch.manual_seed(0)
    net = inception_v3(weights=None, aux_logits=True, init_weights=False).eval()
    path = tmp_path_factory.mktemp("inception") / "inception_v3.pth"
    torch.save(net.state_dict(), path)
    return net, path


def test_end_to_end_matches_torchvision_softmax(random_inception) -> None:
    from torchvision.transforms.functional import normalize, resize

    net, path = random_inception
    samples = torch.rand(3, 3, 16, 16, generator=torch.Generator().manual_seed(5)) * 2 - 1
    params = InceptionClassParams(weights=str(path), label=951, batch_size=2, device="cpu")
    metric = InceptionClass(params)
    value = metric.compute(samples, torch.empty(0), (-1.0, 1.0))

    reference = type(net)(aux_logits=True, transform_input=True, init_weights=False)
    reference.load_state_dict(net.state_dict())
    with torch.no_grad():
        unit = resize((samples + 1) / 2, [299, 299], antialias=True)
        softmax = reference.eval()(normalize(unit, IMAGENET_MEAN, IMAGENET_STD)).double().softmax(1)
    top5 = softmax.topk(5, dim=1).indices
    expected_error = 1 - (top5 == 951).any(1).double().mean().item()
    assert value.mean == pytest.approx(softmax[:, 951].mean().item(), rel=1e-4)
    assert f"top-5 error {expected_error:.4g}" in value.note and "3 samples" in value.note
    assert metric.higher_is_better and InceptionClass.split is None


def test_label_outside_the_net_is_a_user_error(random_inception) -> None:
    _, path = random_inception
    with pytest.raises(UserError, match="label = 1000 is not a class"):
        InceptionClass(InceptionClassParams(weights=str(path), label=1000, device="cpu"))
    errors = InceptionClass(
        InceptionClassParams(weights=str(path), label=0, report="top5-error", device="cpu")
    )
    assert not errors.higher_is_better
