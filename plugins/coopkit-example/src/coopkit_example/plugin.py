"""coopkit-example's hook module, the target of its entry point.

Registration only: every component is a ``"module:Class"`` string that coopkit imports when a
recipe (or ``coopkit list``) needs it, so this module imports nothing heavier than coopkit and
``coopkit --help`` stays fast. The event hooks import their modules when a run calls them.
"""

from __future__ import annotations

from pathlib import Path

import coopkit

COOPKIT_PLUGIN_API = "1.0"  # the plugin API these hooks were written for

RECIPES = Path(__file__).parent / "recipes"
MODALITY = "points"


@coopkit.hookimpl
def coopkit_register_datasets(registry):
    registry.add(
        "toy2d",
        "coopkit_example.data:ToyDensity",
        summary="2D toy density: ring of 8 Gaussians, 5×5 grid of Gaussians, two moons or spiral",
        modality=MODALITY,
    )


@coopkit.hookimpl
def coopkit_register_energy_models(registry):
    registry.add(
        "mlp-descriptor",
        "coopkit_example.nets:MLPDescriptor",
        summary="f(Y): flattened example → MLP with smooth activations → one value",
        modality=MODALITY,
    )


@coopkit.hookimpl
def coopkit_register_latent_models(registry):
    registry.add(
        "mlp-generator",
        "coopkit_example.nets:MLPGenerator",
        summary="g(X): X ∈ R^d → MLP → the example's shape (tanh or linear output)",
        modality=MODALITY,
    )


@coopkit.hookimpl
def coopkit_register_samplers(registry):
    registry.add(
        "annealed-langevin",
        "coopkit_example.sampler:AnnealedLangevin",
        summary="Langevin cooling from temperature T0 to T1 within each chain: crosses barriers",
    )


@coopkit.hookimpl
def coopkit_register_metrics(registry):
    registry.add(
        "energy-distance",
        "coopkit_example.metrics:EnergyDistance",
        summary="energy distance to the test split (fresh draws of the true density); lower is "
        "better",
    )
    registry.add(
        "modes-covered",
        "coopkit_example.metrics:ModesCovered",
        summary="modes of the ring or grid holding ≥ 20% of their fair share of the samples",
        modality=MODALITY,
    )


@coopkit.hookimpl
def coopkit_register_writers(registry):
    registry.add(
        "b c",
        "coopkit_example.writer:write_points",
        summary="2D points as red dots over the descriptor's energy contours, one PNG",
        modality=MODALITY,
    )


@coopkit.hookimpl
def coopkit_register_recipes(registry):
    for density, what in [
        ("ring", "ring of 8 Gaussians"),
        ("grid", "5×5 grid of Gaussians"),
        ("moons", "two moons"),
        ("spiral", "spiral"),
    ]:
        registry.add_recipe(
            f"toy-{density}",
            RECIPES / f"toy-{density}.toml",
            summary=f"CoopNets on the 2D {what}, under a minute on one CPU core",
            modality=MODALITY,
        )


@coopkit.hookimpl
def coopkit_run_start(run):
    from coopkit_example import live_runs

    live_runs.track(run)


@coopkit.hookimpl
def coopkit_log_step(run, iteration):
    from coopkit_example.coverage_log import log_coverage

    log_coverage(run, iteration)


@coopkit.hookimpl
def coopkit_run_end(run):
    from coopkit_example import live_runs

    live_runs.forget(run)
