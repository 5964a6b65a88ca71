"""The run's device, from the recipe (``train.device``); nets and loops never choose one."""

from __future__ import annotations

import torch

from coopkit.errors import UserError


def resolve_device(name: str, field: str = "train.device") -> torch.device:
    """``auto`` (CUDA when there is one), ``cpu``, ``cuda``, ``cuda:N``; ``field`` names the
    setting in error messages."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UserError(
            f"{field} = {name!r} is not a device; use auto, cpu, cuda or cuda:N"
        ) from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError(
            f"{field} = {name!r} but this machine has no CUDA device; use {field}=cpu (or auto)"
        )
    return device
