"""Conformance checks plugin authors run on their own components, e.g. from pytest.

- :func:`check_plugin` checks everything a plugin registers: it imports every target, builds each
  component with its defaults, runs its kind's check and validates the plugin's recipes.
- One check per kind — :func:`check_energy_model`, :func:`check_latent_model`,
  :func:`check_sampler`, :func:`check_teacher`, :func:`check_data_source`, :func:`check_metric`,
  :func:`check_baseline`, :func:`check_writer` — for components built by hand.
- :class:`TinyGenerator` and :class:`QuadraticDescriptor` (energy ||Y − target||²/2) are nets
  with known answers for checking teachers and descriptor-based tasks.
- :func:`check_layer_matches_parent` checks a fast layer — a subclass of a ``torch.nn`` layer
  computed another way — against its parent: output and gradients; :func:`assert_close_at_scale`
  compares two tensors relative to the larger one's scale.
- :func:`isolated_host` is a plugin host holding only the plugins a test names; the pytest
  fixture ``coopkit_host`` (:mod:`coopkit.pytest_plugin`) also makes it the process's host for
  the test.

Each check raises ``AssertionError`` with a message that says what is wrong.
"""

from coopkit.testing.checks import (
    QuadraticDescriptor,
    TinyGenerator,
    check_baseline,
    check_data_source,
    check_energy_model,
    check_latent_model,
    check_metric,
    check_sampler,
    check_teacher,
    check_writer,
)
from coopkit.testing.host import isolated_host
from coopkit.testing.layers import assert_close_at_scale, check_layer_matches_parent
from coopkit.testing.plugin import PluginReport, check_plugin

__all__ = [
    "PluginReport",
    "QuadraticDescriptor",
    "TinyGenerator",
    "assert_close_at_scale",
    "check_baseline",
    "check_data_source",
    "check_energy_model",
    "check_latent_model",
    "check_layer_matches_parent",
    "check_metric",
    "check_plugin",
    "check_sampler",
    "check_teacher",
    "check_writer",
    "isolated_host",
]
