"""The versioned plugin API: what a plugin declares (COOPKIT_PLUGIN_API) is checked against
coopkit.PLUGIN_API when it loads; the shipped plugins declare it; CHANGELOG.md records it."""

from __future__ import annotations

import re
from importlib.metadata import entry_points
from pathlib import Path

import pytest

import coopkit
from coopkit.errors import CoopkitWarning, PluginError
from coopkit.plugin_api import PLUGIN_API, parse
from coopkit.plugins import PluginHost
from coopkit.testing import isolated_host

ROOT = Path(__file__).parents[1]


def plugin_declaring(version: object) -> object:
    class Declaring:
        COOPKIT_PLUGIN_API = version

        @coopkit.hookimpl
        def coopkit_register_samplers(self, registry):
            registry.add("declared", "coopkit.samplers.langevin:Langevin")

    return Declaring()


def host_with(plugin: object, strict: bool = False) -> PluginHost:
    builtin = [ep for ep in entry_points(group="coopkit") if ep.name == "builtin"]
    return PluginHost(entry_points=builtin, extra={"p": plugin}, disabled=set(), strict=strict)


def test_the_version_is_major_dot_minor_and_public():
    assert coopkit.PLUGIN_API == PLUGIN_API
    major, minor = parse(PLUGIN_API)
    assert f"{major}.{minor}" == PLUGIN_API
    for bad in ("1", "1.0.0", "v1.0", 1.0, None):
        with pytest.raises(ValueError):
            parse(bad)


@pytest.mark.parametrize("version", [PLUGIN_API, f"{parse(PLUGIN_API)[0]}.0"])
def test_a_plugin_for_this_api_loads_and_its_version_is_recorded(version):
    host = host_with(plugin_declaring(version), strict=True)
    assert host.plugins["p"].status == "loaded"
    assert host.plugins["p"].api == version
    assert host.plugins["p"].as_dict()["api"] == version
    assert "declared" in host.registries.samplers


def test_a_plugin_that_declares_nothing_loads_as_before():
    host = host_with(plugin_declaring(None), strict=True)
    assert (host.plugins["p"].status, host.plugins["p"].api) == ("loaded", "")


def test_a_plugin_for_a_newer_minor_version_loads_with_a_warning_fatal_in_strict_mode():
    major, minor = parse(PLUGIN_API)
    newer = f"{major}.{minor + 1}"
    with pytest.warns(CoopkitWarning, match=f"written for coopkit plugin API {newer}, newer"):
        host = host_with(plugin_declaring(newer))
    assert host.plugins["p"].status == "loaded"
    assert "upgrade coopkit" in host.plugins["p"].warnings[0]
    with pytest.raises(PluginError, match="upgrade coopkit"):
        host_with(plugin_declaring(newer), strict=True)


@pytest.mark.parametrize(
    ("version", "message"),
    [
        (f"{parse(PLUGIN_API)[0] + 1}.0", r"different major version.*upgrade coopkit"),
        ("0.9", r"different major version.*install a version of the plugin written for"),
        (1.0, r"COOPKIT_PLUGIN_API = 1\.0 is not a plugin API version.*as a string"),
    ],
)
def test_a_plugin_for_another_major_version_is_not_loaded_and_the_rest_work(version, message):
    host = host_with(plugin_declaring(version))
    info = host.plugins["p"]
    assert info.status == "failed"
    assert re.search(message, info.error), info.error
    assert "declared" not in host.registries.samplers  # its hooks were never registered
    assert "langevin" in host.registries.samplers
    assert (
        "plugin 'p' failed to load: checking its plugin API" in host.registries.unavailable_note()
    )
    with pytest.raises(PluginError, match=message):
        host_with(plugin_declaring(version), strict=True)


def test_the_shipped_plugins_declare_the_current_api():
    host = isolated_host("image", "video")
    for name in ("builtin", "image", "video"):
        assert host.plugins[name].api == PLUGIN_API, name


def test_the_changelog_records_the_current_plugin_api():
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"Plugin API: {PLUGIN_API}" in changelog
    assert "COOPKIT_PLUGIN_API" in (ROOT / "docs" / "plugins.md").read_text()


# ---------------------------------------------------------------------------- shown by the CLI


def cli_with(host: PluginHost, monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    from conftest import run_cli

    monkeypatch.setattr("coopkit.plugins.default_host", lambda: host)
    return run_cli(monkeypatch, capsys, *args)


def three_plugins() -> PluginHost:
    """builtin (declares the current API), one declaring nothing, one whose module is gone."""
    from importlib.metadata import EntryPoint

    builtin = [ep for ep in entry_points(group="coopkit") if ep.name == "builtin"]
    gone = EntryPoint(name="gone", value="coopkit_no_such_module_xyz", group="coopkit")
    return PluginHost(
        entry_points=[*builtin, gone],
        extra={"silent": plugin_declaring(None)},
        disabled=set(),
        strict=False,
    )


def test_coopkit_plugins_shows_the_api_each_plugin_declares(monkeypatch, capsys):
    from conftest import wide_console

    wide_console(monkeypatch)
    code, out, _ = cli_with(three_plugins(), monkeypatch, capsys, "plugins")
    assert code == 0
    header = next(line for line in out.splitlines() if "plugin" in line and "API" in line)
    cells = [line.split("│") for line in out.splitlines() if "│" in line]
    rows = {row[1].strip(): row for row in cells}
    api = [cell.strip() for cell in header.split("┃")].index("API")
    assert rows["builtin"][api].strip() == PLUGIN_API
    assert rows["silent"][api].strip() == "not declared"
    assert rows["gone"][api].strip() == "—"  # never imported: nothing to read


def test_coopkit_version_shows_coopkit_torch_and_every_plugin(monkeypatch, capsys):
    from importlib.metadata import version

    code, out, _ = cli_with(three_plugins(), monkeypatch, capsys, "--version")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"coopkit {coopkit.__version__} (plugin API {PLUGIN_API})"
    assert lines[1] == f"torch {version('torch')}" and lines[2].startswith("python 3.")
    assert lines[3] == "plugins:"
    plugins = {line.split()[0]: line.split() for line in lines[4:]}
    assert plugins["builtin"][1:] == ["coopkit", coopkit.__version__, "plugin", "API", PLUGIN_API]
    assert plugins["silent"][-3:] == ["API", "not", "declared"]
    assert plugins["gone"][-1] == "failed"


def test_coopkit_version_imports_no_torch():
    import subprocess
    import sys

    code = (
        "import sys; from coopkit.cli import main; sys.argv = ['coopkit', '--version']\n"
        "try:\n    main()\nexcept SystemExit as done:\n    assert done.code == 0\n"
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("coopkit ")
