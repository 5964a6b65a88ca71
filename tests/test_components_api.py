"""The registries from Python: coopkit.list_components, coopkit.get_component,
coopkit.list_plugins."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from toy_plugin import SmallDescriptor, Stripes

import coopkit
from coopkit.errors import ParamsError, PluginError, UnknownComponentError, UserError
from coopkit.media.writers import SampleWriter
from coopkit.samplers.hmc import HMC
from coopkit.samplers.langevin import Langevin
from coopkit.teachers.langevin_inference import LangevinInference


def test_list_components_by_kind_pattern_and_modality(host):
    assert coopkit.list_components("samplers", host=host) == ["gd", "hmc", "langevin", "mala"]
    assert coopkit.list_components("samplers", "*a*", host=host) == ["langevin", "mala"]
    assert coopkit.list_components("energy_models", "small*", host=host) == ["small-descriptor"]
    assert coopkit.list_components("metrics", modality="image", host=host)  # those for any data
    assert coopkit.list_components("writers", host=host) == ["b c h w"]


@pytest.mark.parametrize(
    "kind", ["energy_models", "energy-models", "energy_model", "descriptor", "descriptors"]
)
def test_a_kind_may_be_named_as_the_cli_and_the_recipe_name_it(host, kind):
    assert coopkit.list_components(kind, host=host) == ["exploding", "small-descriptor"]


def test_an_unknown_kind_says_what_was_meant(host):
    with pytest.raises(UnknownComponentError, match="did you mean 'samplers'"):
        coopkit.list_components("smplers", host=host)


def test_list_plugins_shows_every_plugin_with_its_state(host):
    plugins = coopkit.list_plugins(host=host)
    assert [info.name for info in plugins] == ["builtin", "toy"]
    builtin = plugins[0]
    assert (builtin.status, builtin.distribution, builtin.api) == (
        "loaded",
        "coopkit",
        coopkit.PLUGIN_API,
    )
    assert builtin.registered["samplers"] == ["gd", "hmc", "langevin", "mala"]


def test_get_component_builds_with_validated_params(host):
    sampler = coopkit.get_component("samplers", "langevin", host=host, steps=7, step_size=0.1)
    assert isinstance(sampler, Langevin)
    assert (sampler.params.steps, sampler.params.step_size) == (7, 0.1)
    source = coopkit.get_component("data", "stripes", host=host, count=3)
    assert isinstance(source, Stripes) and len(source) == 3


def test_nets_are_built_for_the_shape_given(host):
    net = coopkit.get_component("descriptor", "small-descriptor", shape=(2, 8, 8), host=host)
    assert isinstance(net, SmallDescriptor)
    assert net.energy(torch.zeros(5, 2, 8, 8)).shape == (5,)
    with pytest.raises(UserError, match=r"built for the shape of one example; pass it.*shape="):
        coopkit.get_component("descriptor", "small-descriptor", host=host)
    with pytest.raises(UserError, match="shape is for energy and latent models"):
        coopkit.get_component("samplers", "langevin", shape=(1, 8, 8), host=host)


def test_nested_components_are_resolved_from_their_registries(host):
    teacher = coopkit.get_component("teachers", "langevin-inference", host=host, sampler="hmc")
    assert isinstance(teacher, LangevinInference) and isinstance(teacher.sampler, HMC)
    with pytest.raises(ParamsError, match="sampler: unknown sampler 'hcm' — did you mean 'hmc'"):
        coopkit.get_component("teachers", "langevin-inference", host=host, sampler="hcm")
    with pytest.raises(ParamsError, match=r"sampler_options\.stepz: unknown field"):
        coopkit.get_component(
            "teachers", "langevin-inference", host=host, sampler_options={"stepz": 1}
        )


def test_wrong_params_are_reported_all_at_once(host):
    with pytest.raises(ParamsError) as caught:
        coopkit.get_component("samplers", "langevin", host=host, stepz=3, step_size=-1)
    error = caught.value
    assert str(error).startswith("sampler 'langevin' from plugin 'builtin': 2 problem(s)")
    problems = dict(error.problems)
    assert problems.keys() == {"stepz", "step_size"}
    assert "did you mean 'steps'" in problems["stepz"]


def test_a_constructor_refusing_its_settings_is_a_params_error_and_a_crash_the_plugins(host):
    with pytest.raises(ParamsError, match="not enough values to unpack"):
        coopkit.get_component("generator", "small-generator", shape=(1, 8), host=host)
    with pytest.raises(PluginError, match="'exploding' from plugin 'toy' failed to build: KeyE"):
        coopkit.get_component(
            "descriptor", "exploding", shape=(1, 8, 8), host=host, raises="KeyError"
        )


def test_unknown_names_recipes_and_writers(host):
    with pytest.raises(UnknownComponentError, match="did you mean 'langevin'"):
        coopkit.get_component("samplers", "langevn", host=host)
    with pytest.raises(UserError, match=r"coopkit\.build\('textures'\)"):
        coopkit.get_component("recipes", "textures", host=host)
    writer = coopkit.get_component("writers", "b c h w", host=host)
    assert isinstance(writer, SampleWriter) and writer.plugin == "builtin"


def test_listing_imports_no_torch():
    code = (
        "import sys, coopkit; coopkit.list_components('samplers'); coopkit.list_plugins(); "
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
