"""The four abstractions of cooperative learning, plus the data source."""

from coopkit.core.baseline import Baseline, BaselineParams, CompletionBaseline
from coopkit.core.data import DataParams, DataSource, SingleExample
from coopkit.core.energy import EnergyModel, EnergyParams
from coopkit.core.latent import LatentModel, LatentParams, upsampling_padding
from coopkit.core.metric import Metric, MetricParams, MetricValue
from coopkit.core.params import Params, PositiveInt, Size
from coopkit.core.sampler import EnergyFn, Sampler, SampleResult, SamplerParams, energy_and_grad
from coopkit.core.teacher import Teacher, TeacherParams
from coopkit.core.weights import init_normal

__all__ = [
    "Baseline",
    "BaselineParams",
    "CompletionBaseline",
    "Metric",
    "MetricParams",
    "MetricValue",
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
    "energy_and_grad",
    "init_normal",
    "upsampling_padding",
]
