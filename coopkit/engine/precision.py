"""``train.precision``: the number format a training step computes in."""

from __future__ import annotations

import contextlib

import torch


def training_precision(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    """The context a training step runs in: nothing for fp32; for bf16, autocast to bfloat16 on
    the run's device — convolutions and matrix products in bf16 (torch's per-operator lists;
    on CPU some reductions too, so :meth:`EnergyModel.score` sums f in the input's dtype);
    parameters and their gradients stay fp32.

    Autocast's cache of bf16 weights is off: a step may update a net and run it again (Step G2
    with ``teacher.generator_steps > 1``), and the cache would keep the weights from before the
    update. Measured: no slower on the CIFAR step."""
    if precision == "fp32":
        return contextlib.nullcontext()
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16, cache_enabled=False)
    raise ValueError(f"unknown precision {precision!r}: use 'fp32' or 'bf16'")
