"""The plugin host: isolation of broken plugins, strict mode, clashes, disabling, provenance."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import EntryPoint, entry_points

import pytest

import coopkit
from coopkit import hookspecs
from coopkit.errors import PluginError, UnknownComponentError
from coopkit.plugins import PluginHost

BROKEN = EntryPoint(name="broken", value="coopkit_no_such_module_xyz", group="coopkit")


class FakeSamplerPlugin:
    @coopkit.hookimpl
    def coopkit_register_samplers(self, registry):
        registry.add("fake", "coopkit.samplers.langevin:Langevin", summary="a fake")


class RaisingPlugin:
    @coopkit.hookimpl
    def coopkit_register_samplers(self, registry):
        raise RuntimeError("boom")


class ClashingPlugin:
    @coopkit.hookimpl
    def coopkit_register_samplers(self, registry):
        registry.add("fake", "coopkit.samplers.langevin:Langevin")


def builtin():
    return [ep for ep in entry_points(group="coopkit") if ep.name == "builtin"]


def test_a_fake_plugin_registers_and_carries_provenance():
    host = PluginHost(
        entry_points=builtin(), extra={"fake": FakeSamplerPlugin()}, disabled=set(), strict=False
    )
    assert host.registries.samplers.names() == ["fake", "gd", "hmc", "langevin", "mala"]
    assert host.registries.samplers.get("fake").plugin == "fake"
    info = host.plugins["builtin"]
    assert (info.distribution, info.module) == ("coopkit", "coopkit.builtin_plugin")
    assert info.registered["samplers"] == ["gd", "hmc", "langevin", "mala"]


def test_a_broken_plugin_is_isolated_and_reported():
    host = PluginHost(
        entry_points=[*builtin(), BROKEN],
        extra={"raising": RaisingPlugin()},
        disabled=set(),
        strict=False,
    )
    assert host.plugins["broken"].status == "failed"
    assert "ModuleNotFoundError" in host.plugins["broken"].error
    assert host.plugins["raising"].status == "failed" and "boom" in host.plugins["raising"].error
    assert "langevin" in host.registries.samplers  # the others keep working


def test_strict_mode_makes_a_broken_plugin_fatal():
    with pytest.raises(PluginError, match="broken"):
        PluginHost(entry_points=[*builtin(), BROKEN], disabled=set(), strict=True)


def test_strict_mode_from_the_environment(monkeypatch):
    monkeypatch.setenv("COOPKIT_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError):
        PluginHost(entry_points=[BROKEN], disabled=set())


def test_a_name_clash_has_no_silent_winner():
    host = PluginHost(
        entry_points=[],
        extra={"a": FakeSamplerPlugin(), "b": ClashingPlugin()},
        disabled=set(),
        strict=False,
    )
    assert "fake" not in host.registries.samplers
    with pytest.raises(UnknownComponentError, match="more than one plugin \\('a', 'b'\\)"):
        host.registries.samplers.get("fake")


def test_disabling_by_name_and_reporting_unknown_names(monkeypatch):
    monkeypatch.setenv("COOPKIT_DISABLE_PLUGINS", "fake,nosuchplugin")
    host = PluginHost(entry_points=builtin(), extra={"fake": FakeSamplerPlugin()})
    assert host.plugins["fake"].status == "disabled"
    assert "fake" not in host.registries.samplers
    assert host.unknown_disabled == {"nosuchplugin"}


def test_every_hook_is_documented():
    for name in dir(hookspecs):
        if name.startswith("coopkit_"):
            assert getattr(hookspecs, name).__doc__, f"hook {name} has no docstring"


def test_import_and_help_do_not_import_torch():
    code = "import sys, coopkit, coopkit.cli; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "coopkit", "--help"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and "validate" in result.stdout
    assert "torch" not in result.stderr, "`coopkit --help` imported torch"


def test_cli_plugins_json_lists_the_builtin():
    import json

    result = subprocess.run(
        [sys.executable, "-m", "coopkit", "plugins", "--json"], capture_output=True, text=True
    )
    payload = json.loads(result.stdout)
    names = {p["name"]: p for p in payload["plugins"]}
    assert names["builtin"]["status"] == "loaded"


def test_cli_disable_plugin_flag():
    import json

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "coopkit",
            "--disable-plugin",
            "builtin",
            "--disable-plugin",
            "nosuch",
            "plugins",
            "--json",
        ],
        capture_output=True,
        text=True,
    )
    payload = json.loads(result.stdout)
    assert {p["name"]: p["status"] for p in payload["plugins"]}["builtin"] == "disabled"
    assert payload["unknown_disabled"] == ["nosuch"]


def test_plugins_can_add_commands():
    import typer
    from typer.testing import CliRunner

    from coopkit.cli import register_plugin_commands

    class CommandPlugin:
        @coopkit.hookimpl
        def coopkit_register_commands(self, app):
            @app.command()
            def hello(name: str = "world"):
                print(f"hello {name}")

    app = typer.Typer()

    @app.command()
    def other():
        pass

    host = PluginHost(entry_points=[], extra={"cmd": CommandPlugin()}, disabled=set(), strict=True)
    register_plugin_commands(app, host)
    result = CliRunner().invoke(app, ["hello", "--name", "coopkit"])
    assert result.exit_code == 0 and "hello coopkit" in result.output


def test_a_failing_event_hook_is_reported_once_and_switched_off():
    calls = []

    class Flaky:
        @coopkit.hookimpl
        def coopkit_log_step(self, iteration):
            calls.append(iteration)
            raise RuntimeError("logger down")

    host = PluginHost(entry_points=[], extra={"flaky": Flaky()}, disabled=set(), strict=False)
    with pytest.warns(UserWarning, match="logger down"):
        host.call_event("coopkit_log_step", run=None, iteration=1, metrics={})
    host.call_event("coopkit_log_step", run=None, iteration=2, metrics={})
    assert calls == [1] and host.plugins["flaky"].status == "failed"
