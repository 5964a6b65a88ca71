from __future__ import annotations

import os
import sys
import warnings
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import tomli_w
import torch
from toy_plugin import ToyPlugin

import coopkit.cli
from coopkit.cli import main
from coopkit.plugins import PluginHost

if "PYTEST_XDIST_WORKER" in os.environ:  # the workers share the cores: one torch thread each,
    torch.set_num_threads(1)  # and one for each process a test starts
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def toy_host() -> PluginHost:
    """An isolated host: coopkit's own built-ins (through its real entry point) + the toy plugin."""
    builtin = [ep for ep in entry_points(group="coopkit") if ep.name == "builtin"]
    return PluginHost(entry_points=builtin, extra={"toy": ToyPlugin()}, disabled=set(), strict=True)


@pytest.fixture
def host() -> PluginHost:
    return toy_host()


def tiny_recipe(**sections) -> dict:
    recipe = {
        "schema_version": 1,
        "description": "tiny test recipe",
        "seed": 0,
        "data": {"name": "stripes"},
        "descriptor": {"name": "small-descriptor", "reference_std": 1.0},
        "generator": {"name": "small-generator", "noise_std": 0.3},
        "sampler": {"name": "langevin", "steps": 3, "step_size": 0.1},
        "train": {
            "iterations": 4,
            "chains": 4,
            "batch_size": 2,
            "device": "cpu",
            "descriptor_lr": 0.001,
            "generator_lr": 0.001,
        },
        "output": {"sample_every": 2, "checkpoint_every": 2},
    }
    for name, values in sections.items():
        recipe[name] = {**recipe.get(name, {}), **values}
    return recipe


@pytest.fixture
def write_recipe(tmp_path):
    def write(name: str = "tiny", **sections) -> Path:
        data = tiny_recipe(**sections)
        data["output"].setdefault("dir", str(tmp_path / "runs" / name))
        path = tmp_path / f"{name}.toml"
        path.write_text(tomli_w.dumps(data))
        return path

    return write


def wide_console(monkeypatch, columns: int = 250) -> None:
    """coopkit's console as on a terminal ``columns`` wide (tables keep their rows whole).
    Setting COLUMNS is not enough: rich reads it once, when the console is made, and pytest-xdist's
    workers start with COLUMNS=80."""
    monkeypatch.setattr(coopkit.cli.console, "width", columns)


def run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """``coopkit ARGS`` in-process through :func:`coopkit.cli.main` (its exit-code mapping):
    (exit code, stdout, stderr with all whitespace removed: the checks read words, not layout).
    Plugins' own commands are not added: they would stay on the shared app for later tests."""
    monkeypatch.setattr(sys, "argv", ["coopkit", *args])
    monkeypatch.setattr("coopkit.cli.register_plugin_commands", lambda *a: None)
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)  # main() replaces it
    with pytest.raises(SystemExit) as exited:
        main()
    out, err = capsys.readouterr()
    return exited.value.code, out, "".join(err.split())


@pytest.fixture
def cli(host, monkeypatch, capsys):
    """:func:`run_cli` with the toy host in place of the installed plugins."""
    monkeypatch.setattr("coopkit.api.default_host", lambda: host)
    monkeypatch.setattr("coopkit.plugins.default_host", lambda: host)
    return lambda *args: run_cli(monkeypatch, capsys, *args)
