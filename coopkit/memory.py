"""Memory: how much a machine has, whether a size fits, and whether an error means it did not.

Sizes are checked before allocating, so that a setting that cannot fit (``train.chains = 10**12``,
a 200000² image) is a user error naming the setting instead of a crash or a machine swapping.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator
from typing import Any

from coopkit.errors import UserError

SYNTHESIS_FACTOR = 16
"""Bytes a synthesized example costs per float32 value: the chain state, its gradient and the
noise, plus the nets' activations and their gradients (a deliberately low estimate: it is meant to
catch settings that cannot fit, never to refuse ones that might)."""


def machine_memory() -> int | None:
    """Bytes of physical memory, or ``None`` where the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def device_memory(device: Any) -> int | None:
    """Bytes of memory on a torch device (the GPU's own for CUDA), or ``None`` if unknown."""
    if getattr(device, "type", "cpu") == "cuda":
        import torch

        return torch.cuda.get_device_properties(device).total_memory
    return machine_memory()


def gib(nbytes: float) -> str:
    return f"{nbytes / 2**30:,.1f} GiB"


def too_big(nbytes: int, available: int | None = None) -> str | None:
    """``None`` when ``nbytes`` fit in ``available`` bytes (default: the machine's memory);
    otherwise the phrase ``"about X GiB, more than the Y GiB of memory this machine has"``."""
    available = machine_memory() if available is None else available
    if available is None or nbytes <= available:
        return None
    return f"about {gib(nbytes)}, more than the {gib(available)} of memory this machine has"


def is_out_of_memory(error: BaseException) -> bool:
    """Whether an exception is an allocation failure (Python's, torch's on CPU or GPU)."""
    if isinstance(error, MemoryError) or type(error).__name__ == "OutOfMemoryError":
        return True
    return isinstance(error, RuntimeError) and "allocate" in str(error).lower()


def synthesis_problems(train: Any, shape: tuple[int, ...], device: Any) -> list[tuple[str, str]]:
    """``train.chains`` and ``train.batch_size`` whose examples of ``shape`` cannot fit in the
    device's memory, as recipe problems ``(location, message)``."""
    values = math.prod(shape)
    available = device_memory(device)
    problems = []
    for field in ("chains", "batch_size"):
        count = getattr(train, field)
        if problem := too_big(count * values * 4 * SYNTHESIS_FACTOR, available):
            problems.append(
                (
                    f"train.{field}",
                    f"{count:,} examples of shape {tuple(shape)} at once need {problem}; "
                    f"reduce train.{field}",
                )
            )
    return problems


@contextlib.contextmanager
def out_of_memory_hint(what: str, fix: str) -> Iterator[None]:
    """Turns an allocation failure inside the block into a :class:`UserError` saying ``what`` ran
    out of memory and ``fix``."""
    try:
        yield
    except Exception as error:
        if not is_out_of_memory(error):
            raise
        detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UserError(f"{what} ran out of memory ({detail}); {fix}") from None
