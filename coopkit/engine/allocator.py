"""Keeping freed memory in the process, so that a training step does not fault its pages in anew.

A training step allocates and frees the same large tensors every iteration. With glibc's default
settings, every block above 128 KiB comes from a fresh ``mmap`` and goes back to the system when
freed, so each iteration touches (page-faults) hundreds of MiB of new pages: half a million minor
faults and about as much system time as computing time for the dynamic-texture recipe. Serving
large blocks from the heap and keeping up to 1 GiB of freed heap removes that: measured on the
shipped dynamic-texture recipe (16 frames, one thread), CPU time per iteration 5.7 s → 3.9 s, peak
memory 1.32 → 1.45 GiB (docs/performance.md).

Only glibc (Linux) has these settings; elsewhere nothing changes. ``COOPKIT_MALLOC_TUNING=0``
turns it off.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_MMAP_MAX = -4
KEPT_FREE_BYTES = 1 << 30
DISABLE_ENV = "COOPKIT_MALLOC_TUNING"

_applied: bool | None = None


def keep_freed_memory() -> bool:
    """Applies the settings once per process; returns whether they are in effect."""
    global _applied
    if _applied is None:
        _applied = _apply()
    return _applied


def _apply() -> bool:
    if not sys.platform.startswith("linux") or os.environ.get(DISABLE_ENV, "1") == "0":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl)
        return False
    return all(
        mallopt(option, value) == 1
        for option, value in (
            (M_TRIM_THRESHOLD, KEPT_FREE_BYTES),
            (M_MMAP_THRESHOLD, 32 << 20),
            (M_MMAP_MAX, 0),
        )
    )
