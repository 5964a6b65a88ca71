"""The glibc allocator settings coopkit applies for training (coopkit/engine/allocator.py)."""

from __future__ import annotations

import platform
import sys

import pytest

from coopkit.engine import allocator


@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    monkeypatch.setattr(allocator, "_applied", None)


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="glibc only",
)
def test_applied_once_on_glibc(monkeypatch):
    calls = []
    real = allocator._apply
    monkeypatch.setattr(allocator, "_apply", lambda: calls.append(1) or real())
    assert allocator.keep_freed_memory() is True
    assert allocator.keep_freed_memory() is True
    assert calls == [1]


def test_the_environment_turns_it_off(monkeypatch):
    monkeypatch.setenv(allocator.DISABLE_ENV, "0")
    assert allocator.keep_freed_memory() is False
