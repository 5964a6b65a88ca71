"""Devices: the ones this machine has, and the one a setting names (``train.device``, a
metric's ``device``); nets and loops never choose one."""

from __future__ import annotations

import torch

from coopkit.errors import UserError


def available_devices() -> list[str]:
    """The devices this machine can run on, e.g. ``["cpu", "cuda:0", "cuda:1"]``."""
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{index}" for index in range(torch.cuda.device_count())]
    if torch.backends.mps.is_available():
        devices.append("mps")
    return devices


def usable_device(device: torch.device) -> bool:
    """Whether this machine has ``device`` and torch can compute on it."""
    if device.type == "cpu":
        return True
    if device.type == "cuda":
        index = 0 if device.index is None else device.index
        return torch.cuda.is_available() and index < torch.cuda.device_count()
    if device.type == "mps":
        return torch.backends.mps.is_available()
    try:  # any other backend torch knows: usable if a tensor can live there
        torch.empty(0, device=device)
    except (RuntimeError, AssertionError):
        return False
    return True


def resolve_device(name: str, field: str = "train.device") -> torch.device:
    """``auto`` (CUDA when there is one), ``cpu``, ``cuda``, ``cuda:N``, ``mps``; ``field`` names
    the setting in error messages."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    available = ", ".join(["auto", *available_devices()])
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UserError(
            f"{field} = {name!r} is not a device; use one of this machine's: {available}"
        ) from None
    if not usable_device(device):
        raise UserError(
            f"{field} = {name!r}: this machine has no such device; use one it has: {available}"
        )
    return device
