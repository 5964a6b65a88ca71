"""coopkit's pytest plugin (entry point ``pytest11``, active wherever coopkit is installed): the
``coopkit_host`` fixture, for tests that need a plugin host holding only the plugins they name,
and the ``accelerator`` fixture, for tests of what runs on a GPU.

::

    import coopkit
    import my_plugin.hooks


    def test_my_sampler_trains(coopkit_host, tmp_path):
        coopkit_host("image", extra={"mine": my_plugin.hooks})
        run = coopkit.build("textures", ["sampler.name=my-sampler", f"output.dir={tmp_path}"])
        run.fit(progress=False)

Importing this module imports neither torch nor any plugin, so it costs pytest nothing.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping

import pytest

ACCELERATORS_VARIABLE = "COOPKIT_TEST_ACCELERATORS"


def _accelerator_names() -> list[str]:
    names = os.environ.get(ACCELERATORS_VARIABLE, "cuda")
    return [name.strip() for name in names.split(",") if name.strip()]


@pytest.fixture
def coopkit_host(monkeypatch: pytest.MonkeyPatch) -> Callable[..., object]:
    """A function ``coopkit_host(*installed, extra=None, builtin=True, strict=True)`` that builds
    an isolated :class:`~coopkit.plugins.PluginHost` (see :func:`coopkit.testing.isolated_host`:
    coopkit's own plugin, the installed plugins named, and ``extra`` name → hook module or
    object) and makes it the process's host until the test ends, so that ``coopkit.build``,
    ``coopkit.list_components`` and the CLI see these plugins and nothing else."""

    def make(
        *installed: str,
        extra: Mapping[str, object] | None = None,
        builtin: bool = True,
        strict: bool = True,
    ) -> object:
        from coopkit.testing.host import isolated_host

        host = isolated_host(*installed, extra=extra, builtin=builtin, strict=strict)
        monkeypatch.setattr("coopkit.plugins._default_host", host)
        return host

    return make


@pytest.fixture(params=_accelerator_names())
def accelerator(request: pytest.FixtureRequest) -> Iterator[object]:
    """The ``torch.device`` of an accelerator; the test runs once for each, and is skipped on a
    machine without one. Which: ``COOPKIT_TEST_ACCELERATORS``, comma-separated (default
    ``cuda``; ``mps`` for Apple GPUs, or ``cpu`` to try the accelerator tests on any machine).

    On CUDA the test runs fp32 as fp32 and reproducibly: TF32 off for convolutions and matrix
    products, cuDNN's deterministic algorithms, no autotuning.

    ::

        def test_my_layer_on_a_gpu(accelerator):
            layer = MyConv3d(3, 8, 4, stride=2).to(accelerator)
            x = torch.randn(2, 3, 8, 16, 16, device=accelerator)
            check_layer_matches_parent(layer, nn.Conv3d, x, tolerance=1e-5)
    """
    import torch

    from coopkit.devices import usable_device

    device = torch.device(request.param)
    if not usable_device(device):
        pytest.skip(f"no {request.param} device on this machine")
    with contextlib.ExitStack() as stack:
        if device.type == "cuda":
            stack.enter_context(_fp32_as_fp32_and_deterministic(torch))
        yield device


@contextlib.contextmanager
def _fp32_as_fp32_and_deterministic(torch) -> Iterator[None]:  # noqa: ANN001 (torch, lazily)
    """TF32 off for CUDA convolutions and matrix products, cuDNN deterministic, no autotuning;
    restored afterwards. torch 2.9 and later say it with ``fp32_precision`` (and refuse the
    older flags once that is set)."""
    backends = torch.backends
    settings: list[tuple[object, str, object]]
    if hasattr(backends.cudnn, "conv") and hasattr(backends.cudnn.conv, "fp32_precision"):
        settings = [(backends.cudnn.conv, "fp32_precision", "ieee")]
        settings += [(backends.cuda.matmul, "fp32_precision", "ieee")]
    else:
        settings = [(backends.cudnn, "allow_tf32", False)]
        settings += [(backends.cuda.matmul, "allow_tf32", False)]
    settings += [(backends.cudnn, "deterministic", True), (backends.cudnn, "benchmark", False)]
    before = [getattr(owner, name) for owner, name, _ in settings]
    try:
        for owner, name, value in settings:
            setattr(owner, name, value)
        yield
    finally:
        for (owner, name, _), value in zip(settings, before, strict=True):
            setattr(owner, name, value)
