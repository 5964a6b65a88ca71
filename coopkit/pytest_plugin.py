"""coopkit's pytest plugin (entry point ``pytest11``, active wherever coopkit is installed): the
``coopkit_host`` fixture, for tests that need a plugin host holding only the plugins they name.

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

from collections.abc import Callable, Mapping

import pytest


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
