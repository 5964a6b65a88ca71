"""A run's data beyond its training batches: the record its checkpoints keep of the data source
(so that a loaded run samples without reading the data) and the source's held-out splits."""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from einops import reduce

from coopkit.core import DataSource
from coopkit.errors import UserError
from coopkit.recipe import ComponentSpec

MEAN_SAMPLE = 1000  # examples read to measure a data set's mean


def describe(data: DataSource) -> dict[str, Any]:
    """The data record a run keeps in its checkpoints: shape, layout, value range and size
    (and, once measured, ``channel_mean``)."""
    return {
        "shape": list(data.shape),
        "layout": data.layout,
        "value_range": list(data.value_range),
        "size": len(data),
    }


def channel_mean(data: DataSource) -> list[float]:
    """The mean of each channel over the data set (over an even spread of ``MEAN_SAMPLE``
    examples when it is larger)."""
    indices = torch.linspace(0, len(data) - 1, min(len(data), MEAN_SAMPLE)).round().long()
    totals = torch.zeros(data.shape[0], dtype=torch.float64)
    for chunk in indices.split(100):
        totals += reduce(data.batch(chunk).double(), "b c ... -> c", "mean") * len(chunk)
    return (totals / len(indices)).tolist()


def held_out_split(spec: ComponentSpec, split: str) -> DataSource:
    """The data source of ``spec`` built for another split (e.g. ``"test"``): a
    :class:`UserError` when the source has no ``split`` parameter or no such split."""
    if "split" not in type(spec.params).model_fields:
        raise UserError(
            f"data source {spec.name!r} has no held-out splits (no 'split' parameter); "
            f"a metric needs its {split!r} split — use a source that has one"
        )
    try:
        params = type(spec.params).model_validate({**spec.params.model_dump(), "split": split})
    except ValueError as error:
        raise UserError(f"data source {spec.name!r} has no {split!r} split: {error}") from None
    built: DataSource = dataclasses.replace(spec, params=params).build()
    return built
