from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest
import tomli_w
from toy_plugin import ToyPlugin

from coopkit.plugins import PluginHost


@pytest.fixture
def host() -> PluginHost:
    """An isolated host: coopkit's own built-ins (through its real entry point) + the toy plugin."""
    builtin = [ep for ep in entry_points(group="coopkit") if ep.name == "builtin"]
    return PluginHost(entry_points=builtin, extra={"toy": ToyPlugin()}, disabled=set(), strict=True)


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
