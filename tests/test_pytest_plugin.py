"""The pytest plugin coopkit installs (entry point pytest11): the `coopkit_host` fixture. That
the fixture resolves here at all, with no conftest defining it, shows the entry point works."""

from __future__ import annotations

import pytest

import coopkit
from coopkit.plugins import default_host
from coopkit.pytest_plugin import coopkit_host as fixture


class ExtraSampler:
    @coopkit.hookimpl
    def coopkit_register_samplers(self, registry):
        registry.add("extra-sampler", "coopkit.samplers.langevin:Langevin")


def test_the_fixture_gives_an_isolated_host_that_is_the_process_host(coopkit_host):
    host = coopkit_host(extra={"extra": ExtraSampler()})
    assert default_host() is host
    assert [info.name for info in coopkit.list_plugins()] == ["builtin", "extra"]
    assert coopkit.list_components("samplers") == ["extra-sampler", "gd", "hmc", "langevin", "mala"]
    assert coopkit_host(builtin=False).registries.samplers.names() == []


def test_the_process_host_is_restored_when_the_test_ends():
    before = default_host()
    with pytest.MonkeyPatch.context() as monkeypatch:  # what pytest does around a test
        isolated = fixture.__wrapped__(monkeypatch)(extra={"extra": ExtraSampler()})
        assert default_host() is isolated
    assert default_host() is before
    assert "extra-sampler" not in coopkit.list_components("samplers")


def test_a_plugin_that_is_not_installed_is_named():
    with pytest.raises(LookupError, match="no installed plugin named 'nope'; installed: "):
        fixture.__wrapped__(pytest.MonkeyPatch())("nope")
