"""The public entry points: :func:`build` a run from a recipe, :func:`load` one from disk.

The engine (and with it torch, seconds to import) is imported only once the recipe or the
checkpoint has been found: a mistyped path is reported at once.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

from coopkit.errors import CheckpointError, UserError
from coopkit.plugins import PluginHost, default_host
from coopkit.recipe import Recipe, load_resolved, resolve_components, resolve_recipe

if TYPE_CHECKING:
    from coopkit.engine.run import Run


def build(
    recipe: str | Path | Recipe,
    overrides: list[str] | None = None,
    *,
    host: PluginHost | None = None,
) -> Run:
    """A :class:`Run` from a recipe file, a registered recipe name, or a :class:`Recipe`.

    ``overrides`` are ``KEY=VALUE`` strings with dotted keys, e.g. ``["train.iterations=50"]``.
    """
    host = host or default_host()
    if not isinstance(recipe, Recipe):
        recipe, specs = load_resolved(recipe, overrides, host.registries)
    elif overrides is not None:
        data = recipe.model_dump(exclude_none=True)
        recipe, specs = resolve_recipe(data, recipe.source, overrides, host.registries)
    else:
        specs = resolve_components(recipe, host.registries)
    from coopkit.engine.run import Run

    return Run(recipe, specs, host)


def _checkpoint_path(path: Path) -> Path:
    if not path.exists():
        raise CheckpointError(f"{path}: no such run directory or checkpoint file")
    if path.is_dir():
        from coopkit.engine.rundir import RunDirectory

        latest = RunDirectory(path).latest_checkpoint()
        if latest is None:
            raise CheckpointError(f"{path}: no checkpoints in {path / 'checkpoints'}")
        return latest
    return path


def load(
    path: str | Path, overrides: list[str] | None = None, *, host: PluginHost | None = None
) -> Run:
    """A :class:`Run` restored from a run directory (its latest checkpoint) or a checkpoint file.

    The data is not needed to sample from a loaded run; it is read only if training continues.
    """
    if not isinstance(path, str | os.PathLike):
        raise UserError(f"load() takes a run directory or a checkpoint file (got {path!r})")
    host = host or default_host()
    checkpoint = _checkpoint_path(Path(path))
    from coopkit.engine.checkpoint import read_checkpoint
    from coopkit.engine.run import Run

    _, metadata = read_checkpoint(checkpoint)
    try:
        recipe_data = tomllib.loads(metadata["recipe"])
        data_info = json.loads(metadata["data"])
    except (KeyError, ValueError) as error:
        raise CheckpointError(f"{checkpoint}: metadata is incomplete ({error})") from None
    source = metadata.get("recipe_source", str(checkpoint))
    recipe, specs = resolve_recipe(recipe_data, source, overrides, host.registries)
    run_dir = checkpoint.parent.parent if checkpoint.parent.name == "checkpoints" else None
    run = Run(recipe, specs, host, data_info=data_info, run_dir=run_dir)
    run.load_checkpoint(checkpoint)
    return run
