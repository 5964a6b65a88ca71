"""The plugin host: isolation of broken plugins, strict mode, clashes, disabling, provenance,
misspelled hooks, duplicate plugin names, and what `coopkit plugins` / `coopkit list` show."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import re
import subprocess
import sys
import warnings
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import run_cli, wide_console
from typer.testing import CliRunner

import coopkit
from coopkit import hookspecs
from coopkit.cli import app
from coopkit.errors import CoopkitWarning, PluginError, UnknownComponentError
from coopkit.plugins import PluginHost
from coopkit.testing.host import installed_plugins

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


PLUGIN_GUIDE = Path(__file__).parents[1] / "docs" / "plugins.md"


def test_every_hook_is_in_the_plugin_guides_table_with_its_arguments():
    """docs/plugins.md's table of hooks lists exactly the hooks pluggy knows, each with the
    arguments of its specification: a new hook, a renamed one or a new argument that the guide
    does not show fails here."""
    section = PLUGIN_GUIDE.read_text().partition("\n## Hooks\n")[2].partition("\n#")[0]
    rows = re.findall(r"^\| \[?`(coopkit_\w+)`(?:\]\(#[\w-]+\))? \| ([^|]*) \|", section, re.M)
    documented = {name: re.findall(r"`(\w+)`", arguments) for name, arguments in rows}
    host = PluginHost(entry_points=[], disabled=set(), strict=True)
    hooks = {name for name in vars(host.manager.hook) if name.startswith("coopkit_")}
    assert hooks, "the plugin manager knows no hook"
    assert set(documented) == hooks
    for name in hooks:
        arguments = list(inspect.signature(getattr(hookspecs, name)).parameters)
        assert documented[name] == arguments, f"{name}: the guide says {documented[name]}"


def test_the_command_in_a_real_process_starts_without_torch(tmp_path):
    """The one subprocess smoke test of the command line (the others run in-process): the
    installed `python -m coopkit` starts with the plugins' commands, and a missing recipe is an
    exit code 2 without a traceback — neither imports torch (seconds of start-up)."""

    def coopkit(*args: str) -> tuple[subprocess.CompletedProcess, set[str]]:
        result = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "coopkit", *args],
            capture_output=True,
            text=True,
            env={**os.environ, "COLUMNS": "200", "COOPKIT_DISABLE_PLUGINS": ""},
        )
        imported = {
            line.rpartition("|")[2].strip().partition(".")[0]
            for line in result.stderr.splitlines()
            if line.startswith("import time:")
        }
        assert "coopkit" in imported  # -X importtime did report the imports
        return result, imported

    helped, imported = coopkit("--help")
    assert helped.returncode == 0, helped.stderr
    assert "│ validate " in helped.stdout and "│ complete " in helped.stdout  # a plugin's too
    assert "torch" not in imported, "`coopkit --help` imported torch"
    missing, imported = coopkit("run", str(tmp_path / "nope.toml"))
    assert missing.returncode == 2 and "nope.toml" in missing.stderr
    assert "Traceback" not in missing.stderr
    assert "torch" not in imported, "torch was imported before the recipe was looked for"


@pytest.fixture
def fresh_default_host(monkeypatch):
    """The installed plugins' host, built anew for the test and dropped after it, with no plugin
    disabled: the CLI's --disable-plugin changes the environment and rebuilds the host."""
    from coopkit.plugins import reset_default_host

    monkeypatch.setenv("COOPKIT_DISABLE_PLUGINS", "")
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)  # main() replaces it
    reset_default_host()
    yield
    reset_default_host()


def test_cli_plugins_json_lists_the_installed_plugins(fresh_default_host):
    result = CliRunner().invoke(app, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    status = {p["name"]: p["status"] for p in json.loads(result.stdout)["plugins"]}
    assert set(status) == set(installed_plugins())
    assert set(status.values()) == {"loaded"}


def test_cli_disable_plugin_flag(fresh_default_host):
    options = ["--disable-plugin", "builtin", "--disable-plugin", "nosuch"]
    result = CliRunner().invoke(app, [*options, "plugins", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert {p["name"]: p["status"] for p in payload["plugins"]}["builtin"] == "disabled"
    assert payload["unknown_disabled"] == ["nosuch"]
    assert os.environ["COOPKIT_DISABLE_PLUGINS"] == "builtin,nosuch"


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


def test_a_plugin_switched_off_in_training_is_left_out_of_later_checkpoints(tmp_path):
    """What docs/plugins.md promises: one warning (coopkit's own, printed as `warning: ...`),
    the plugin marked failed with the reason, no further calls, and the checkpoints written after
    the failure no longer list it among the run's plugins; strict mode stops the run instead."""
    import tomli_w
    from conftest import tiny_recipe
    from toy_plugin import ToyPlugin

    from coopkit.engine.checkpoint import read_checkpoint

    calls = []

    class FailsAtIteration3:
        @coopkit.hookimpl
        def coopkit_log_step(self, iteration):
            calls.append(iteration)
            if iteration >= 3:
                raise RuntimeError("logger down")

    def host(strict: bool) -> PluginHost:
        builtin = [ep for ep in entry_points(group="coopkit") if ep.name == "builtin"]
        plugins = {"toy": ToyPlugin(), "flaky": FailsAtIteration3()}
        return PluginHost(entry_points=builtin, extra=plugins, disabled=set(), strict=strict)

    recipe = tmp_path / "tiny.toml"
    recipe.write_text(tomli_w.dumps(tiny_recipe(output={"dir": str(tmp_path / "run")})))
    run = coopkit.build(recipe, host=host(strict=False))
    with pytest.warns(CoopkitWarning, match="'flaky' failed in coopkit_log_step .*logger down"):
        run.fit(progress=False)
    assert calls == [1, 2, 3] and "logger down" in run.host.plugins["flaky"].error

    def plugins_at(iteration: int) -> dict:
        path = tmp_path / "run" / "checkpoints" / f"iter_{iteration:07d}.safetensors"
        return json.loads(read_checkpoint(path)[1]["plugins"])

    assert "flaky" in plugins_at(2) and "flaky" not in plugins_at(4)
    assert "toy" in plugins_at(4)
    strict_run = coopkit.build(recipe, ["output.dir=" + str(tmp_path / "strict")], host=host(True))
    with pytest.raises(PluginError, match="failed while handling coopkit_log_step"):
        strict_run.fit(progress=False)


# ---------------------------------------------------------------------------- hook names


class MisspelledPlugin:
    @coopkit.hookimpl
    def coopkit_register_sampler(self, registry):  # the hook is coopkit_register_samplers
        registry.add("never", "coopkit.samplers.langevin:Langevin")

    @coopkit.hookimpl
    def coopkit_log_step(self, iteration):
        pass


def test_a_misspelled_hook_is_a_warning_naming_the_hook_it_meant():
    with pytest.warns(
        CoopkitWarning, match="plugin 'typo'.*unknown hook 'coopkit_register_sampler'"
    ):
        host = PluginHost(
            entry_points=builtin(), extra={"typo": MisspelledPlugin()}, disabled=set(), strict=False
        )
    info = host.plugins["typo"]
    assert info.status == "loaded"  # its other hooks still work
    (warning,) = info.warnings
    assert "did you mean 'coopkit_register_samplers'?" in warning
    assert info.hooks == ["coopkit_log_step"]
    assert "never" not in host.registries.samplers


def test_a_misspelled_hook_is_fatal_in_strict_mode():
    with pytest.raises(PluginError, match="plugin 'typo'.*unknown hook 'coopkit_register_sampler'"):
        PluginHost(entry_points=[], extra={"typo": MisspelledPlugin()}, disabled=set(), strict=True)


def test_an_optional_hook_of_another_version_is_not_an_error():
    class Optional:
        @coopkit.hookimpl(optionalhook=True)
        def coopkit_register_future_things(self, registry):
            pass

    host = PluginHost(entry_points=[], extra={"opt": Optional()}, disabled=set(), strict=True)
    assert host.plugins["opt"].status == "loaded" and not host.plugins["opt"].warnings


# ---------------------------------------------------------------------------- duplicates


@dataclass
class FakeEntryPoint:
    """An installed entry point as the host sees it: name, value, its distribution, load()."""

    name: str
    value: str
    distribution: str
    version: str = "1.0"
    group: str = "coopkit"

    @property
    def dist(self):
        return SimpleNamespace(metadata={"Name": self.distribution}, version=self.version)

    def load(self):
        return importlib.import_module(self.value)


def test_two_distributions_declaring_one_plugin_name_are_both_refused():
    first = FakeEntryPoint("samplers", "coopkit.builtin_plugin", "coopkit-samplers", "0.1")
    second = FakeEntryPoint("samplers", "coopkit.builtin_plugin", "coopkit-samplers-fork", "0.2")
    host = PluginHost(entry_points=[first, second], disabled=set(), strict=False)
    records = host.records
    assert [record.distribution for record in records.values()] == [
        "coopkit-samplers",
        "coopkit-samplers-fork",
    ]
    for record in records.values():
        assert record.status == "failed"
        assert "coopkit-samplers 0.1 (coopkit.builtin_plugin)" in record.error
        assert "coopkit-samplers-fork 0.2 (coopkit.builtin_plugin)" in record.error
        assert "none of them is loaded. Uninstall all but one" in record.error
    assert len(host.registries.samplers) == 0  # neither silently wins
    with pytest.raises(UnknownComponentError, match="plugin 'samplers' failed to load: the plugin"):
        host.registries.samplers.get("langevin")
    with pytest.raises(PluginError, match="more than one distribution"):
        PluginHost(entry_points=[first, second], disabled=set(), strict=True)


def test_one_distribution_seen_twice_is_one_plugin():
    entry = FakeEntryPoint("builtin", "coopkit.builtin_plugin", "coopkit")
    host = PluginHost(entry_points=[entry, entry], disabled=set(), strict=True)
    assert list(host.records) == [("coopkit", "builtin", "coopkit.builtin_plugin")]
    assert "langevin" in host.registries.samplers


# ---------------------------------------------------------------------------- failed plugins


def test_unknown_names_say_which_plugin_failed_to_load(tmp_path):
    from coopkit.recipe import locate_recipe

    host = PluginHost(entry_points=[*builtin(), BROKEN], disabled=set(), strict=False)
    note = (
        "plugin 'broken' failed to load: importing: ModuleNotFoundError: No module named "
        "'coopkit_no_such_module_xyz'; run `coopkit plugins` for details"
    )
    with pytest.raises(UnknownComponentError) as unknown:
        host.registries.samplers.get("annealed-langevin")
    assert "did you mean 'langevin'?" in str(unknown.value) and note in str(unknown.value)
    with pytest.raises(UnknownComponentError) as recipe:
        locate_recipe("my-recipe", host.registries.recipes)
    assert "neither a recipe file nor a registered recipe" in str(recipe.value)
    assert note in str(recipe.value)

    healthy = PluginHost(entry_points=builtin(), disabled=set(), strict=False)
    with pytest.raises(UnknownComponentError) as plain:
        healthy.registries.samplers.get("annealed-langevin")
    assert "failed to load" not in str(plain.value)


def test_unknown_names_mention_a_disabled_plugin():
    host = PluginHost(
        entry_points=builtin(), extra={"fake": FakeSamplerPlugin()}, disabled={"fake"}
    )
    with pytest.raises(UnknownComponentError, match="plugin 'fake' is disabled; run `coopkit"):
        host.registries.samplers.get("fake")


def test_coopkit_run_of_an_unknown_recipe_names_the_failed_plugin(monkeypatch, capsys):
    host = PluginHost(entry_points=[*builtin(), BROKEN], disabled=set(), strict=False)
    code, _, err = cli_with(host, monkeypatch, capsys, "run", "my-recipe")
    assert code == 2
    assert "'my-recipe'isneitherarecipefilenoraregisteredrecipe" in err
    assert "plugin'broken'failedtoload:importing:ModuleNotFoundError" in err
    assert "run`coopkitplugins`" in err


# ---------------------------------------------------------------------------- the CLI


def cli_with(host, monkeypatch, capsys, *args):
    monkeypatch.setattr("coopkit.api.default_host", lambda: host)
    monkeypatch.setattr("coopkit.plugins.default_host", lambda: host)
    return run_cli(monkeypatch, capsys, *args)


class BadParamsPlugin:
    @coopkit.hookimpl
    def coopkit_register_samplers(self, registry):
        registry.add("no-params-model", "test_plugins:NotAModel", summary="Params is not pydantic")
        registry.add("unimportable", "coopkit_no_such_module_xyz:Sampler", summary="gone")


class NotAModel:
    Params = None


def test_coopkit_list_survives_components_it_cannot_describe(monkeypatch, capsys):
    host = PluginHost(
        entry_points=builtin(), extra={"bad": BadParamsPlugin()}, disabled=set(), strict=True
    )
    wide_console(monkeypatch)
    code, out, _ = cli_with(host, monkeypatch, capsys, "list", "samplers")
    assert code == 0
    assert "step_size" in out  # the good components are described
    lines = {line.split("│")[1].strip(): line for line in out.splitlines() if "│" in line}
    assert "cannot show its parameters: AttributeError" in lines["no-params-model"]
    assert "cannot show its parameters: PluginError" in lines["unimportable"]


class ModalPlugin:
    @coopkit.hookimpl
    def coopkit_register_datasets(self, registry):
        registry.add("clips", "x:Clips", summary="video clips", modality="video")
        registry.add("pictures", "x:Pictures", summary="images", modality="image")
        registry.add("anything", "x:Anything", summary="any data")

    @coopkit.hookimpl
    def coopkit_run_end(self, run):
        pass


def test_coopkit_list_filters_by_modality(monkeypatch, capsys):
    host = PluginHost(entry_points=[], extra={"modal": ModalPlugin()}, disabled=set(), strict=True)
    code, out, _ = cli_with(
        host, monkeypatch, capsys, "list", "datasets", "--modality", "video", "--no-params"
    )
    assert code == 0 and "clips" in out and "anything" in out and "pictures" not in out
    code, _, err = cli_with(host, monkeypatch, capsys, "list", "datasets", "--modality", "vidoe")
    assert code == 2
    assert "nocomponentisregisteredformodality'vidoe'—didyoumean'video'?" in err
    assert "knownmodalities:image,video" in err


def test_coopkit_plugins_shows_modalities_and_hooks(monkeypatch, capsys):
    with pytest.warns(CoopkitWarning, match="unknown hook"):
        host = PluginHost(
            entry_points=builtin(),
            extra={"modal": ModalPlugin(), "typo": MisspelledPlugin()},
            disabled=set(),
            strict=False,
        )
    code, out, _ = cli_with(host, monkeypatch, capsys, "plugins", "--json")
    records = {p["name"]: p for p in json.loads(out)["plugins"]}
    assert code == 0
    assert records["modal"]["modalities"] == ["any", "image", "video"]
    assert records["modal"]["hooks"] == ["coopkit_run_end"]
    assert records["typo"]["hooks"] == ["coopkit_log_step"]
    assert "unknown hook 'coopkit_register_sampler'" in records["typo"]["warnings"][0]
    assert records["builtin"]["registered"]["writers"] == ["b c h w"]

    wide_console(monkeypatch)
    code, out, _ = cli_with(host, monkeypatch, capsys, "plugins")
    row = next(line for line in out.splitlines() if line.startswith("│ modal "))
    assert "any, image, video" in row and "run_end" in row
    assert "unknown hook" in out


def test_disable_plugin_is_read_before_plugins_load(fresh_default_host, monkeypatch, capsys):
    """`coopkit --disable-plugin voxel --help` does not list the voxel plugin's commands: main()
    reads the option before it adds the plugins' commands."""
    from coopkit.cli import main
    from coopkit.plugins import reset_default_host

    monkeypatch.setenv("COLUMNS", "200")

    def help_text(*options: str) -> str:
        monkeypatch.setenv("COOPKIT_DISABLE_PLUGINS", "")
        reset_default_host()
        monkeypatch.setattr(sys, "argv", ["coopkit", *options, "--help"])
        with pytest.raises(SystemExit) as exited:
            main()
        out, err = capsys.readouterr()
        assert exited.value.code == 0, err
        return out

    assert "│ upsample " in help_text()  # the voxel plugin's command, when it is enabled
    assert "│ upsample " not in help_text("--disable-plugin", "voxel")
    assert "│ upsample " not in help_text("--disable-plugin=voxel")
    assert "│ complete " in help_text("--disable-plugin", "voxel")  # coopkit's own command


def test_disabled_names_are_read_from_the_options_before_the_command():
    from coopkit.cli import _disabled_on_command_line

    args = ["--disable-plugin", "a", "--disable-plugin=b", "run", "--disable-plugin", "c"]
    assert _disabled_on_command_line(args) == ["a", "b"]
    assert _disabled_on_command_line(["--help"]) == []
