"""The ``coopkit`` command line. Every command is a thin call into the public API.

Importing this module does not import torch: ``coopkit --help`` stays fast.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from coopkit.errors import PluginError, UserError

app = typer.Typer(
    name="coopkit",
    help="Cooperative learning of descriptor and generator networks (CoopNets).",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
console = Console()
errors = Console(stderr=True)

KIND_ALIASES = {
    "descriptors": "energy_models",
    "generators": "latent_models",
    "data": "datasets",
}


def _kind(name: str) -> str:
    """Accepts ``samplers``, ``sampler``, ``energy-models``, ``descriptors`` ..."""
    from coopkit.registry import KINDS

    name = name.replace("-", "_")
    name = KIND_ALIASES.get(name, KIND_ALIASES.get(name + "s", name))
    return name + "s" if name not in KINDS and name + "s" in KINDS else name


def _host():
    from coopkit.plugins import default_host

    return default_host()


@app.callback()
def _main(
    disable_plugin: Annotated[
        list[str] | None,
        typer.Option("--disable-plugin", help="switch a plugin off by name (repeatable)"),
    ] = None,
) -> None:
    if disable_plugin:
        from coopkit.plugins import DISABLE_ENV, reset_default_host

        current = [n for n in os.environ.get(DISABLE_ENV, "").split(",") if n]
        os.environ[DISABLE_ENV] = ",".join(current + list(disable_plugin))
        reset_default_host()


# ------------------------------------------------------------------------------------ recipes


@app.command()
def run(
    recipe: Annotated[str, typer.Argument(help="recipe file or registered recipe name")],
    overrides: Annotated[
        list[str] | None, typer.Argument(help="KEY=VALUE, e.g. train.iterations=50")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="continue from the run directory's latest checkpoint")
    ] = False,
    progress: Annotated[bool, typer.Option(help="show the progress bar")] = True,
) -> None:
    """Train a recipe; samples, metrics and checkpoints go to output.dir."""
    import coopkit

    built = coopkit.build(recipe, overrides or [])
    directory = built.directory.path
    if resume and built.directory.latest_checkpoint() is None:
        console.print(f"[yellow]nothing to resume in {directory}; starting a new run[/]")
    console.print(
        f"[bold]coopkit run[/] {built.recipe.source} → {directory} (device {built.device})"
    )
    try:
        built.fit(progress=progress, resume=resume)
    except KeyboardInterrupt:
        latest = built.directory.latest_checkpoint()
        where = f"the last checkpoint is {latest}" if latest else "no checkpoint was written yet"
        errors.print(
            f"[yellow]interrupted at iteration {built.iteration}; {where}. "
            f"Continue with: coopkit run {recipe} {' '.join(overrides or [])} --resume[/]"
        )
        raise typer.Exit(130) from None
    console.print(
        f"[green]done[/]: {built.iteration} iterations; report at {directory / 'report.md'}"
    )


@app.command()
def validate(recipes: Annotated[list[str], typer.Argument(help="recipe files or names")]) -> None:
    """Check recipes (structure, then every component's parameters); all problems at once."""
    from coopkit.recipe import load_recipe, resolve_components

    host = _host()
    failed = 0
    for name in recipes:
        try:
            recipe = load_recipe(name, None, host.registries.recipes)
            resolve_components(recipe, host.registries)
        except UserError as error:
            failed += 1
            errors.print(f"[red]✗[/] {escape(str(error))}", highlight=False)
        else:
            console.print(f"[green]✓[/] {recipe.source}")
    if failed:
        raise typer.Exit(2)


@app.command()
def show(
    recipe: Annotated[str, typer.Argument(help="recipe file or registered recipe name")],
    overrides: Annotated[list[str] | None, typer.Argument(help="KEY=VALUE overrides")] = None,
) -> None:
    """Print the resolved recipe: every default filled in, overrides applied."""
    import tomli_w

    from coopkit.recipe import load_recipe, resolve_components, resolved_dict

    host = _host()
    loaded = load_recipe(recipe, overrides or [], host.registries.recipes)
    specs = resolve_components(loaded, host.registries)
    console.print(f"# resolved from {loaded.source}", highlight=False)
    print(tomli_w.dumps(resolved_dict(loaded, specs)))


@app.command("recipes")
def recipes_command(
    copy: Annotated[
        tuple[str, str] | None, typer.Option("--copy", help="copy recipe NAME to a new file PATH")
    ] = None,
) -> None:
    """List the registered recipes (or copy one to edit it)."""
    host = _host()
    registry = host.registries.recipes
    if copy:
        name, destination = copy
        target = Path(destination)
        if target.exists():
            raise UserError(
                f"{target} already exists; choose another path (nothing was overwritten)"
            )
        target.write_text(Path(registry.get(name).target).read_text())
        console.print(f"copied {name} → {target}")
        return
    table = Table("name", "plugin", "summary", "file", title="recipes")
    for entry in registry:
        table.add_row(entry.name, entry.plugin, entry.summary, entry.target)
    console.print(table)


# ------------------------------------------------------------------------------------ plugins


@app.command()
def plugins(
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """The loaded plugins with their distribution, version, module and status."""
    host = _host()
    if as_json:
        payload: dict[str, Any] = {
            "plugins": [info.as_dict() for info in host.plugins.values()],
            "unknown_disabled": sorted(host.unknown_disabled),
        }
        print(json.dumps(payload, indent=2))
        return
    table = Table(
        "plugin",
        "distribution",
        "version",
        "module",
        "status",
        "registered",
        title="coopkit plugins",
    )
    for info in host.plugins.values():
        status = {"loaded": "[green]loaded[/]", "disabled": "[yellow]disabled[/]"}.get(
            info.status, f"[red]failed[/]\n{info.error}"
        )
        registered = "\n".join(
            f"{kind}: {', '.join(names)}" for kind, names in info.registered.items()
        )
        table.add_row(info.name, info.distribution, info.version, info.module, status, registered)
    console.print(table)
    for name in sorted(host.unknown_disabled):
        errors.print(f"[yellow]warning[/]: asked to disable {name!r}, but no plugin has that name")
    for registry in host.registries.all().values():
        for name, entries in registry.clashes.items():
            owners = ", ".join(e.plugin for e in entries)
            errors.print(
                f"[yellow]warning[/]: {registry.noun} {name!r} is registered by {owners}; neither is used"
            )


@app.command("list")
def list_components(
    kind: Annotated[
        str,
        typer.Argument(
            help="samplers, teachers, energy_models, latent_models, datasets, metrics, recipes"
        ),
    ],
    pattern: Annotated[str, typer.Argument(help="wildcard filter, e.g. 'texture*'")] = "*",
    params: Annotated[
        bool, typer.Option("--params/--no-params", help="show each component's parameters")
    ] = True,
) -> None:
    """List registered components of one kind, with their parameters."""
    host = _host()
    registry = host.registries[_kind(kind)]
    table = Table(
        "name", "plugin", "summary", *(["parameters"] if params else []), title=registry.kind
    )
    for entry in registry:
        if entry.name not in registry.names(pattern):
            continue
        row = [entry.name, entry.plugin, entry.summary]
        if params and registry.kind != "recipes":
            row.append(_describe_params(entry))
        table.add_row(*row)
    console.print(table)


def _describe_params(entry: Any) -> str:
    try:
        model = entry.load().Params
    except Exception as error:  # a broken component is shown, not fatal to the listing
        return f"[red]cannot load: {error}[/]"
    lines = []
    for name, field in model.model_fields.items():
        default = field.default if field.default_factory is None else field.default_factory()
        described = f"  [dim]{escape(field.description)}[/]" if field.description else ""
        lines.append(escape(f"{name} = {default!r}") + described)
    return "\n".join(lines)


# ------------------------------------------------------------------------------------ runs


@app.command()
def sample(
    run_path: Annotated[Path, typer.Argument(help="run directory or checkpoint file")],
    n: Annotated[int, typer.Option("-n", help="how many samples")] = 16,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    out: Annotated[
        Path | None, typer.Option(help="where to write (default RUN/samples/fresh_<seed>)")
    ] = None,
) -> None:
    """Synthesize fresh samples from a trained run: S1 generator draft and S2 revision."""
    import coopkit
    from coopkit.media import write_samples

    loaded = coopkit.load(run_path)
    stem = out or loaded.directory.samples / f"fresh_seed{seed}"
    written = []
    if loaded.generator is not None:
        written += write_samples(
            loaded.generate(n, seed=seed),
            Path(f"{stem}_S1_draft"),
            loaded.layout,
            loaded.value_range,
        )
    if loaded.descriptor is not None:
        written += write_samples(
            loaded.sample(n, seed=seed),
            Path(f"{stem}_S2_revision"),
            loaded.layout,
            loaded.value_range,
        )
    for path in written:
        console.print(f"wrote {path}")


def main() -> None:
    """Entry point: user errors exit 2 with a message and no traceback; bugs exit 1."""
    try:
        app()
    except UserError as error:
        errors.print(f"[red]error[/]: {escape(str(error))}", highlight=False)
        sys.exit(2)
    except PluginError as error:
        errors.print(f"[red]plugin error[/]: {escape(str(error))}", highlight=False)
        sys.exit(1)
