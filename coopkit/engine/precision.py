"""``train.precision``: the number format a training step computes in."""

from __future__ import annotations

import contextlib

import torch


def training_precision(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    """The context a training step runs in: nothing for fp32; for bf16, autocast to bfloat16 on
    the run's device (torch chooses per operator: convolutions and matrix products in bf16,
    reductions and losses in fp32; parameters and their gradients stay fp32)."""
    if precision == "fp32":
        return contextlib.nullcontext()
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    raise ValueError(f"unknown precision {precision!r}: use 'fp32' or 'bf16'")
