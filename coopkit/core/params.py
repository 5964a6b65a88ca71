"""Base class of every component's ``Params`` model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Params(BaseModel):
    """Parameters of a component, validated from its recipe section (unknown keys are errors)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
