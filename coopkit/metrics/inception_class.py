"""How recognisable the synthesized images are as one ImageNet category (the paper's section 4.2,
criteria (1) and (2), and Fig. 7 left and middle). With p(y|x) the Inception-v3 softmax of each
sample x and ``label`` the category's class index:

    probability = E_x p(label | x),
    top-5 error = P_x(label is not among the 5 classes of highest p(y|x)).

Ties are broken by class index, as a stable sort of the probabilities in descending order would:
the label's rank is the number of classes more probable than it plus the number of classes of
lower index exactly as probable, and it is in the top 5 when that rank is below 5.

One metric gives both numbers: ``report`` picks which is the value (with its standard error over
the samples); the note carries the other. The net, its weights file and the preprocessing are
those of ``coopkit.metrics.inception`` (shared with FID and the Inception score).
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field

from coopkit.core.metric import MetricValue
from coopkit.errors import UserError
from coopkit.metrics.inception import InceptionMetric, InceptionParams

TOP = 5
WORDS = {"probability": "mean p(label)", "top5-error": "top-5 error"}


class InceptionClassParams(InceptionParams):
    label: int = Field(
        ..., ge=0, description="ImageNet class index of the category (e.g. lemon = 951)"
    )
    report: Literal["probability", "top5-error"] = Field(
        "probability",
        description="which number is the value: the mean softmax probability of the label, or "
        "the top-5 error (the note gives the other)",
    )


def label_rank(probabilities: torch.Tensor, label: int) -> torch.Tensor:
    """The 0-based rank of ``label`` in each row of p(y|x) (N, classes) sorted by descending
    probability, ties broken by class index: #{c : p_c > p_label} + #{c < label : p_c = p_label}."""
    if probabilities.dim() != 2 or not 0 <= label < probabilities.shape[1]:
        raise ValueError(
            f"label {label} is not a class of probabilities shaped {tuple(probabilities.shape)}"
        )
    target = probabilities[:, label : label + 1]
    higher = (probabilities > target).sum(1)
    tied_before = (probabilities[:, :label] == target).sum(1)
    return higher + tied_before


def class_scores(
    probabilities: torch.Tensor, label: int, top: int = TOP
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per sample: p(label | x) and whether ``label`` misses the ``top`` most probable classes
    (1.0 for a miss, 0.0 for a hit), both float64 (N,)."""
    probabilities = probabilities.double()
    miss = (label_rank(probabilities, label) >= top).double()
    return probabilities[:, label], miss


def class_value(
    probabilities: torch.Tensor,
    label: int,
    report: Literal["probability", "top5-error"] = "probability",
) -> MetricValue:
    """The mean p(label|x) or the top-5 error, ± its standard error, with the other number in the
    note."""
    if len(probabilities) == 0:
        raise ValueError("the Inception class metrics need at least 1 sample")
    probability, miss = class_scores(probabilities, label)
    values = {"probability": MetricValue.of(probability), "top5-error": MetricValue.of(miss)}
    other = "top5-error" if report == "probability" else "probability"
    note = f"{WORDS[other]} {values[other]}; class {label}, {len(probabilities)} samples"
    chosen = values[report]
    return MetricValue(chosen.mean, chosen.stderr, note)


class InceptionClass(InceptionMetric[InceptionClassParams]):
    """Mean Inception-v3 probability of one ImageNet class, or its top-5 error, over the samples
    (ignores the data)."""

    Params = InceptionClassParams
    name = "inception-class"
    split = None  # the samples alone

    def __init__(self, params: InceptionClassParams):
        super().__init__(params)
        classes = self.net.get_parameter("fc.weight").shape[0]  # fc's out_features
        if params.label >= classes:
            raise UserError(
                f"{self.name}.label = {params.label} is not a class of this net "
                f"(0 … {classes - 1}; e.g. lemon = 951 among ImageNet's 1000)"
            )
        self.higher_is_better = params.report == "probability"

    def compute(self, samples, observed, value_range) -> MetricValue:
        _, logits = self.outputs(samples, value_range)
        return class_value(logits.softmax(1), self.params.label, self.params.report)
