"""Hook specifications. Every hook is prefixed ``coopkit_``; implementations take any subset
of the arguments (pluggy passes only those they name), so hooks may gain arguments later.

Registration hooks receive a :class:`coopkit.registry.Registry` and add components to it::

    @coopkit.hookimpl
    def coopkit_register_samplers(registry):
        registry.add("my-sampler", "my_pkg.sampler:MySampler", summary="...")
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("coopkit")


@hookspec
def coopkit_register_energy_models(registry):
    """Add descriptor (energy-based) models: targets build a :class:`coopkit.core.EnergyModel`."""


@hookspec
def coopkit_register_latent_models(registry):
    """Add generator (latent-variable) models: targets build a :class:`coopkit.core.LatentModel`."""


@hookspec
def coopkit_register_samplers(registry):
    """Add MCMC kernels: targets build a :class:`coopkit.core.Sampler`."""


@hookspec
def coopkit_register_teachers(registry):
    """Add teachers (Steps G1 + G2): targets build a :class:`coopkit.core.Teacher`."""


@hookspec
def coopkit_register_datasets(registry):
    """Add data sources: targets build a :class:`coopkit.core.DataSource`."""


@hookspec
def coopkit_register_metrics(registry):
    """Add evaluation metrics."""


@hookspec
def coopkit_register_baselines(registry):
    """Add baselines evaluated beside a run: targets build a :class:`coopkit.core.Baseline`
    (synthesis, used by ``coopkit evaluate``) or a :class:`coopkit.core.CompletionBaseline`
    (inpainting, used by ``coopkit complete``)."""


@hookspec
def coopkit_register_recipes(registry):
    """Add named recipes: targets are paths to TOML files (``registry.add_recipe(name, path)``)."""


@hookspec
def coopkit_register_writers(registry):
    """Add sample writers, named by the data layout they write (``"b c t h w"``): targets are
    functions ``write(batch, stem, *, value_range, reference=None) -> list[Path]`` that write
    files named ``stem`` plus a suffix and return every file written (see
    :mod:`coopkit.media.writers`)."""


@hookspec
def coopkit_register_completions(registry):
    """Add what ``coopkit complete`` runs for a data layout, named by that layout
    (``"b c d h w"``): targets are functions ``complete(run, masks=..., *, n, split, steps,
    step_size, noise, baselines, seed, progress) -> coopkit.completion.CompletionResult`` that
    occlude ``n`` examples of ``split`` with each mask, recover them and score the recovery
    beside the completion ``baselines`` (see :mod:`coopkit.completion`). Options the user did not
    give are not passed, so the function's own defaults apply."""


@hookspec
def coopkit_register_commands(app):
    """Add sub-commands to the ``coopkit`` typer app."""


@hookspec
def coopkit_run_start(run):
    """Called once when :meth:`coopkit.Run.fit` starts (after a resume, too)."""


@hookspec
def coopkit_log_step(run, iteration, metrics):
    """Called after every training iteration with the metrics dict written to metrics.jsonl."""


@hookspec
def coopkit_run_end(run, interrupted):
    """Called when :meth:`coopkit.Run.fit` ends; ``interrupted`` is True after an exception or Ctrl-C."""
