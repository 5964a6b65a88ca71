"""``train.precision``: the number format a training step computes in."""

from __future__ import annotations

import contextlib

import torch

PRECISIONS = ("fp32", "bf16")


def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` computes bfloat16 in hardware: a CUDA GPU that supports it, or a CPU
    with AVX-512 BF16 or AMX instructions. Elsewhere bf16 is emulated, and on the AVX2 machine
    measured ten times slower than fp32 (docs/performance.md)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
        return any(getattr(torch.cpu, probe, lambda: False)() for probe in probes)
    return False


def resolve_precision(precision: str, device: torch.device) -> str:
    """``train.precision`` as the run uses it: ``"auto"`` is bf16 where ``device`` computes it
    natively (:func:`native_bf16`) and fp32 elsewhere."""
    if precision == "auto":
        return "bf16" if native_bf16(device) else "fp32"
    if precision in PRECISIONS:
        return precision
    raise ValueError(f"unknown precision {precision!r}: use 'fp32', 'bf16' or 'auto'")


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
