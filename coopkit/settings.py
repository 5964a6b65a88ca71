"""The pydantic base of every settings model (recipe sections, component ``Params``).

Unknown keys are errors, and scalars are strict: a ``bool`` is only ``true``/``false`` (never
``1`` or ``"yes"``), an ``int`` is never a bool, a float or a string, a ``float`` is a finite
number (an int is fine, a bool or a string is not). Everything else keeps pydantic's usual
conversions, so TOML lists still become tuples and strings still become paths.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler

STRICT_SCALARS = {"bool", "int", "float"}


def _strict_scalars(schema: Any) -> Any:
    """Marks every bool/int/float node of a pydantic core schema (nested ones too) strict."""
    if isinstance(schema, dict):
        if schema.get("type") in STRICT_SCALARS:
            schema["strict"] = True
        for value in schema.values():
            _strict_scalars(value)
    elif isinstance(schema, list):
        for value in schema:
            _strict_scalars(value)
    return schema


class Settings(BaseModel):
    """Strict scalars, finite floats, no unknown keys."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> Any:
        return _strict_scalars(handler(source))
