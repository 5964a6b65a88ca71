"""Base class of every component's ``Params`` model."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from coopkit.settings import Settings

PositiveInt = Annotated[int, Field(ge=1)]
"""An int ≥ 1 — e.g. ``list[PositiveInt]`` for kernel sizes, channels or strides."""

Size = PositiveInt | tuple[PositiveInt, PositiveInt]
"""A picture size: one side, or ``[height, width]``."""


class Params(Settings):
    """Parameters of a component, validated from its recipe section: unknown keys are errors,
    scalars are strict (no bool from ``1`` or ``"yes"``, no int from a bool) and floats finite."""

    model_config = ConfigDict(frozen=True)
