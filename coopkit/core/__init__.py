"""The four abstractions of cooperative learning, plus the data source."""

from coopkit.core.baseline import Baseline, BaselineParams, CompletionBaseline
from coopkit.core.data import DataParams, DataSource, SingleExample
from coopkit.core.energy import EnergyModel, EnergyParams
from coopkit.core.latent import LatentModel, LatentParams, upsampling_padding
from coopkit.core.layers import EdgeReplicated, ZeroMeanColour
from coopkit.core.metric import (
    ALL_PAIRS_CAP,
    Metric,
    MetricParams,
    MetricValue,
    PairParams,
    distinct_pairs,
)
from coopkit.core.params import Params, PositiveInt, Size
from coopkit.core.sampler import EnergyFn, Sampler, SampleResult, SamplerParams, energy_and_grad
from coopkit.core.strided_conv import (
    StridedConv2d,
    StridedConv3d,
    numeric_padding,
    require_plain_convolution,
    strided_conv_input_grad,
)
from coopkit.core.teacher import Teacher, TeacherParams
from coopkit.core.weights import init_normal

__all__ = [
    "ALL_PAIRS_CAP",
    "Baseline",
    "BaselineParams",
    "CompletionBaseline",
    "Metric",
    "MetricParams",
    "MetricValue",
    "PairParams",
    "DataParams",
    "DataSource",
    "EnergyFn",
    "EnergyModel",
    "EnergyParams",
    "LatentModel",
    "LatentParams",
    "Params",
    "PositiveInt",
    "SampleResult",
    "SingleExample",
    "Sampler",
    "Size",
    "SamplerParams",
    "Teacher",
    "TeacherParams",
    "EdgeReplicated",
    "StridedConv2d",
    "StridedConv3d",
    "ZeroMeanColour",
    "distinct_pairs",
    "energy_and_grad",
    "init_normal",
    "numeric_padding",
    "require_plain_convolution",
    "strided_conv_input_grad",
    "upsampling_padding",
]
