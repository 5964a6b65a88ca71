"""The ``coopkit`` command line. Every command is a thin call into the public API.

Importing this module does not import torch: ``coopkit --help`` stays fast.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import shlex
import sys
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from coopkit.errors import CoopkitWarning, PluginError, TrainingDiverged, UserError
from coopkit.memory import out_of_memory_hint
from coopkit.outputs import beside_run, fresh_path, writable_folder

EXIT_CODES = (
    "Exit codes: 0 done; 1 a bug in coopkit or a plugin; 2 the input or the environment is wrong "
    "(the message names the file, field or value and the fix; nothing written is lost); "
    "3 training diverged and could not be recovered; 130 interrupted."
)

console = Console()
# errors carry paths and commands to copy ("Continue with: coopkit run … --resume"): the terminal
# wraps them, where rich would break them into lines at its width (80 off a terminal); the lines
# of `console` that name a path go through print_line for the same reason
errors = Console(stderr=True, soft_wrap=True)


def print_line(message: str, **options: Any) -> None:
    """A line on stdout that names a path or a command, soft-wrapped like the errors; tables and
    the rest go through ``console`` as they are."""
    console.print(message, soft_wrap=True, **options)


HANDLED = (UserError, TrainingDiverged, PluginError, typer.Abort, KeyboardInterrupt)
"""What the command line reports in one line with its own exit code; anything else is a bug and
keeps its traceback."""


def _report(error: BaseException) -> int:
    """Prints one of the :data:`HANDLED` errors the way coopkit reports it (one line, no
    traceback) and returns its exit code."""
    if isinstance(error, UserError):
        errors.print(f"[red]error[/]: {escape(str(error))}", highlight=False)
        return 2
    if isinstance(error, TrainingDiverged):
        errors.print(f"[red]diverged[/]: {escape(str(error))}", highlight=False)
        return 3
    if isinstance(error, PluginError):
        errors.print(f"[red]plugin error[/]: {escape(str(error))}", highlight=False)
        return 1
    errors.print("[yellow]interrupted[/]")  # Ctrl-C
    return 130


class _Commands(TyperGroup):
    """Runs every command with coopkit's exit codes: user errors (and running out of memory) 2
    with a message and no traceback, divergence 3, plugin errors 1, Ctrl-C 130 — the same in a
    real process (:func:`main`) and in-process (typer's ``CliRunner``, as the tests run it)."""

    def invoke(self, ctx: Any) -> Any:
        shown, warnings.showwarning = warnings.showwarning, _show_warning
        try:
            with out_of_memory_hint(
                "coopkit",
                "hold less at once: a smaller train.chains or train.batch_size (training), -n "
                "(sample, evaluate) or data size",
            ):
                return super().invoke(ctx)
        except HANDLED as error:
            raise typer.Exit(_report(error)) from None
        finally:
            warnings.showwarning = shown


app = typer.Typer(
    name="coopkit",
    help=f"Cooperative learning of descriptor and generator networks (CoopNets).\n\n{EXIT_CODES}",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    cls=_Commands,
)

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


def _show_versions(asked: bool) -> None:
    if not asked:
        return
    for line in version_lines(_host()):
        print_line(escape(line), highlight=False)
    raise typer.Exit()


def version_lines(host: Any) -> list[str]:
    """coopkit's version and plugin API, torch's and Python's, then one line per plugin: its
    distribution and version, the plugin API it declares and, unless loaded, its status."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    import coopkit

    try:
        torch_version = version("torch")  # from the metadata: importing torch takes seconds
    except PackageNotFoundError:
        torch_version = "not installed"
    lines = [
        f"coopkit {coopkit.__version__} (plugin API {coopkit.PLUGIN_API})",
        f"torch {torch_version}",
        f"python {platform.python_version()}",
    ]
    records = list(host.records.values())
    if not records:
        return [*lines, "plugins: none"]
    rows = [
        (
            info.name,
            " ".join(part for part in (info.distribution, info.version) if part) or info.module,
            _api_text(info, "plugin API "),
            "" if info.status == "loaded" else info.status,
        )
        for info in records
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    lines.append("plugins:")
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  " + "  ".join([*cells, row[3]]).rstrip())
    return lines


def _api_text(info: Any, prefix: str = "") -> str:
    """The plugin API a plugin declares; "not declared" when it loaded without declaring one,
    "—" when it was not looked at (disabled, or its module did not import)."""
    if info.api:
        return f"{prefix}{info.api}"
    return f"{prefix}not declared" if info.status == "loaded" else "—"


@app.callback()
def _main(
    disable_plugin: Annotated[
        list[str] | None,
        typer.Option(
            "--disable-plugin",
            help="switch a plugin off by name (repeatable; read before any plugin is loaded)",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="show the versions of coopkit (and its plugin API), torch, Python and every "
            "plugin, then exit",
            is_eager=True,
            callback=_show_versions,
        ),
    ] = False,
) -> None:
    # main() has applied these before loading plugins; this covers the app invoked directly
    _disable_plugins(disable_plugin or [])


def _disable_plugins(names: list[str]) -> None:
    """Adds ``names`` to COOPKIT_DISABLE_PLUGINS; the plugin host is rebuilt if that changed."""
    from coopkit.plugins import DISABLE_ENV, reset_default_host

    current = [n.strip() for n in os.environ.get(DISABLE_ENV, "").split(",") if n.strip()]
    new = [name for name in dict.fromkeys(names) if name not in current]
    if new:
        os.environ[DISABLE_ENV] = ",".join(current + new)
        reset_default_host()


def _disabled_on_command_line(args: list[str]) -> list[str]:
    """The ``--disable-plugin NAME`` options before the command, as pytest reads ``-p no:NAME``
    before loading plugins: plugins' commands must not be added for a disabled plugin."""
    names, index = [], 0
    while index < len(args) and args[index].startswith("-"):
        option = args[index]
        if option == "--disable-plugin" and index + 1 < len(args):
            names.append(args[index + 1])
            index += 2
            continue
        if option.startswith("--disable-plugin="):
            names.append(option.partition("=")[2])
        index += 1
    return names


# ------------------------------------------------------------------------------------ recipes


@app.command()
def run(
    recipe: Annotated[str, typer.Argument(help="recipe file or registered recipe name")],
    overrides: Annotated[
        list[str] | None, typer.Argument(help="KEY=VALUE, e.g. train.iterations=50")
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="continue from the run directory's newest intact checkpoint (damaged ones are "
            "skipped, with a warning)",
        ),
    ] = False,
    resume_from: Annotated[
        Path | None,
        typer.Option("--resume-from", help="continue from this checkpoint file", dir_okay=False),
    ] = None,
    restart: Annotated[
        bool,
        typer.Option(
            "--restart",
            help="start over in a run directory that holds a history but no checkpoint (the old "
            "metrics.jsonl is kept beside)",
        ),
    ] = False,
    progress: Annotated[bool, typer.Option(help="show the progress bar")] = True,
) -> None:
    """Train a recipe; samples, metrics and checkpoints go to output.dir.

    On several processes: torchrun --nproc-per-node N -m coopkit run RECIPE (see
    docs/distributed.md)."""
    import coopkit

    built = coopkit.build(recipe, overrides or [])  # finds the recipe before torch is imported
    from coopkit.engine.distributed import PeerFailure

    directory = built.directory.path
    say = os.environ.get("RANK", "0") == "0"  # under torchrun, rank 0 speaks for all
    if say and resume and not built.directory.holds_a_run():
        print_line(f"[yellow]nothing to resume in {directory}; starting a new run[/]")
    if say:
        print_line(
            f"[bold]coopkit run[/] {built.recipe.source} → {directory} "
            f"(device {built.device}, {built.precision})"
        )
    try:
        built.fit(progress=progress, resume=resume, resume_from=resume_from, restart=restart)
    except PeerFailure as failure:
        errors.print(f"[red]error[/]: {escape(str(failure))}", highlight=False)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        latest = built.directory.latest_checkpoint()
        where = f"the last checkpoint is {latest}" if latest else "no checkpoint was written yet"
        errors.print(
            f"[yellow]interrupted at iteration {built.iteration}; {where}. "
            f"Continue with: {escape(shlex.join(['coopkit', 'run', recipe, *(overrides or []), '--resume']))}[/]"
        )
        raise typer.Exit(130) from None
    if say:
        print_line(
            f"[green]done[/]: {built.iteration} iterations; report at {directory / 'report.md'}"
        )


@app.command()
def bench(
    recipe: Annotated[str, typer.Argument(help="recipe file or registered recipe name")],
    overrides: Annotated[list[str] | None, typer.Argument(help="KEY=VALUE overrides")] = None,
    iterations: Annotated[int, typer.Option(min=1, help="measured iterations")] = 5,
    warmup: Annotated[int, typer.Option(min=0, help="untimed iterations first")] = 1,
    threads: Annotated[
        int | None, typer.Option(min=1, help="torch threads (default: torch's choice)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object on stdout")] = False,
) -> None:
    """Time the recipe's training step per phase: seconds, FLOPs, FLOP/s, and the efficiency
    against this machine's matrix-multiply rate measured in the same run. Writes nothing.

    On several processes: torchrun --nproc-per-node N -m coopkit bench RECIPE; each process times
    its share, rank 0 reports every rank's throughput and their sum (see docs/distributed.md)."""
    import torch

    import coopkit
    from coopkit.bench import bench as run_bench
    from coopkit.engine.distributed import PeerFailure
    from coopkit.engine.precision import native_bf16

    if threads is not None:
        torch.set_num_threads(threads)
    built = coopkit.build(recipe, overrides or [])
    main = os.environ.get("RANK", "0") == "0"  # under torchrun, rank 0 speaks for all
    quiet = as_json or not sys.stderr.isatty() or not main
    shown = errors.status("benchmarking", spinner="dots") if main else contextlib.nullcontext()
    try:
        with shown as status:
            say: Any = (lambda message: None) if quiet or status is None else status.update
            result = run_bench(built, iterations=iterations, warmup=warmup, say=say)
    except PeerFailure as failure:
        errors.print(f"[red]error[/]: {escape(str(failure))}", highlight=False)
        raise typer.Exit(1) from None
    if result.rank != 0:
        return
    if as_json:
        print(json.dumps(result.as_dict(), indent=2))
        return
    title = Path(result.recipe).name
    table = Table("phase", "s/iteration", "GFLOP/iteration", "GFLOP/s", title=title)
    for name, phase in result.phases.items():
        table.add_row(
            name,
            f"{phase.seconds_per_iteration:.4f}",
            f"{phase.flops_per_iteration / 1e9:.3f}",
            f"{phase.flops_per_second / 1e9:.1f}",
        )
    table.add_row(
        "[bold]total",
        f"{result.seconds_per_iteration:.4f}",
        f"{result.flops_per_iteration / 1e9:.3f}",
        f"{result.flops_per_second / 1e9:.1f}",
    )
    console.print(table)
    environment = result.environment
    console.print(
        f"matmul {result.matmul_flops_per_second / 1e9:.1f} GFLOP/s → efficiency "
        f"[bold]{result.efficiency:.2f}[/]; peak memory "
        f"{result.peak_memory_bytes / 2**30:.2f} GiB; {environment['threads']} thread(s) on "
        f"{environment['device']} in {environment['precision']}, torch "
        f"{environment['torch_version']}"
    )
    if environment["precision"] == "fp32" and native_bf16(built.device):
        console.print(
            "[dim]this device computes bf16 natively: train.precision=auto (or bf16) may be "
            "faster; see docs/performance.md[/]"
        )
    if result.distributed is not None:
        ranks = Table(
            "rank", "s/iteration", "chains/s", "examples/s", title=f"{title}: every process"
        )
        for figures in result.distributed.per_rank:
            ranks.add_row(
                str(figures.rank),
                f"{figures.seconds_per_iteration:.4f}",
                f"{figures.chains_per_second:.1f}",
                f"{figures.examples_per_second:.1f}",
            )
        total = result.distributed.aggregate()
        ranks.add_row(
            f"[bold]all {result.distributed.world_size}",
            f"{total['seconds_per_iteration']:.4f}",
            f"{total['chains_per_second']:.1f}",
            f"{total['examples_per_second']:.1f}",
        )
        console.print(ranks)
        console.print(
            f"phases, FLOPs and efficiency above: rank 0's share of the step; all "
            f"{result.distributed.world_size}: the slowest rank's iteration, the rates summed"
        )


@app.command()
def validate(
    recipes: Annotated[list[str], typer.Argument(help="recipe files or names")],
    build: Annotated[
        bool,
        typer.Option(
            "--build/--no-build",
            help="also build the data and nets (catches sizes that don't fit, missing files)",
        ),
    ] = True,
) -> None:
    """Check recipes (structure, then every component's parameters); all problems at once,
    one line each, each starting with the recipe file."""
    from coopkit.recipe import load_resolved, locate_recipe

    host = _host()
    failed = 0
    for name in recipes:
        source = name
        try:
            source = str(locate_recipe(name, host.registries.recipes))
            recipe, specs = load_resolved(source, None, host.registries)
            if build:
                from coopkit.engine.run import Run

                Run(recipe, specs, host)
        except UserError as error:
            failed += 1
            for line in _problem_lines(source, error):
                errors.print(f"[red]✗[/] {escape(line)}", highlight=False)
        else:
            print_line(f"[green]✓[/] {recipe.source}")
    if failed:
        if len(recipes) > 1:
            errors.print(f"{failed} of {len(recipes)} recipes have problems", highlight=False)
        raise typer.Exit(2)


def _problem_lines(source: str, error: UserError) -> list[str]:
    """``FILE: LOCATION: message`` for each problem of a recipe error, ``FILE: line`` for each
    line of any other error: every line names the recipe, so that with several recipes (and
    through grep) each problem says where it is."""
    from coopkit.errors import RecipeError

    if isinstance(error, RecipeError) and error.problems:
        count = len(error.problems)
        return [f"{error.source}: {count} problem(s) in the recipe"] + [
            f"{error.source}: {location}: {message}" for location, message in error.problems
        ]
    lines = str(error).splitlines() or [type(error).__name__]
    return [f"{source}: {line.strip()}" for line in lines if line.strip()]


@app.command()
def show(
    recipe: Annotated[str, typer.Argument(help="recipe file or registered recipe name")],
    overrides: Annotated[list[str] | None, typer.Argument(help="KEY=VALUE overrides")] = None,
) -> None:
    """Print the resolved recipe: every default filled in, overrides applied."""
    import tomli_w

    from coopkit.recipe import load_resolved, resolved_dict

    host = _host()
    loaded, specs = load_resolved(recipe, overrides, host.registries)
    print_line(f"# resolved from {loaded.source}", highlight=False)
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
        print_line(f"copied {name} → {target}")
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
    """The plugins found: distribution and version, hook module, the plugin API each declares,
    status, the modalities and components they registered and the other hooks (events,
    commands) they implement."""
    host = _host()
    if as_json:
        payload: dict[str, Any] = {
            "plugins": [info.as_dict() for info in host.records.values()],
            "unknown_disabled": sorted(host.unknown_disabled),
        }
        print(json.dumps(payload, indent=2))
        return
    table = Table(
        "plugin",
        "distribution, module",
        "API",
        "status",
        "modality",
        "registered",
        "hooks",
        title="coopkit plugins",
    )
    for info in host.records.values():
        status = {"loaded": "[green]loaded[/]", "disabled": "[yellow]disabled[/]"}.get(
            info.status, f"[red]failed[/]\n{escape(info.error)}"
        )
        status += "".join(f"\n[yellow]warning[/]: {escape(w)}" for w in info.warnings)
        registered = "\n".join(
            f"{kind}: {', '.join(names)}" for kind, names in info.registered.items()
        )
        table.add_row(
            info.name,
            " ".join(part for part in (info.distribution, info.version) if part)
            + f"\n[dim]{escape(info.module)}[/]",
            _api_text(info),
            status,
            ", ".join(info.modalities),
            escape(registered),
            "\n".join(hook.removeprefix("coopkit_") for hook in info.hooks),
        )
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
            help="samplers, teachers, energy_models, latent_models, datasets, metrics, baselines, "
            "recipes, writers, completions"
        ),
    ],
    pattern: Annotated[str, typer.Argument(help="wildcard filter, e.g. 'texture*'")] = "*",
    modality: Annotated[
        str | None,
        typer.Option(
            "--modality",
            help="only components for this modality (e.g. image, video) and those for any",
        ),
    ] = None,
    params: Annotated[
        bool, typer.Option("--params/--no-params", help="show each component's parameters")
    ] = True,
) -> None:
    """List registered components of one kind, with their parameters."""
    from coopkit.registry import WITHOUT_PARAMS

    host = _host()
    registry = host.registries[_kind(kind)]
    if modality is not None:
        _check_modality(modality, host)
    params = params and registry.kind not in WITHOUT_PARAMS
    columns = ["name", "plugin", "modality", "summary", *(["parameters"] if params else [])]
    table = Table(*columns, title=registry.kind)
    for entry in registry.select(pattern, modality):
        row = [escape(entry.name), entry.plugin, entry.modality or "any", escape(entry.summary)]
        if params:
            row.append(_describe_params(entry))
        table.add_row(*row)
    console.print(table)


def _check_modality(modality: str, host: Any) -> None:
    import difflib

    known = sorted(set().union(*(r.modalities() for r in host.registries.all().values())))
    if modality in known:
        return
    close = difflib.get_close_matches(modality, known, n=1, cutoff=0.5)
    hint = f" — did you mean {close[0]!r}?" if close else ""
    raise UserError(
        f"no component is registered for modality {modality!r}{hint} known modalities: "
        f"{', '.join(known) if known else '(none)'}" + host.registries.unavailable_note()
    )


def _describe_params(entry: Any) -> str:
    """One line per parameter; a component whose ``Params`` cannot be loaded or read says so
    in its row instead of breaking the listing."""
    try:
        fields = entry.load().Params.model_fields
        lines = [_describe_field(name, field) for name, field in fields.items()]
    except Exception as error:
        return f"[red]cannot show its parameters: {escape(f'{type(error).__name__}: {error}')}[/]"
    return "\n".join(lines)


def _describe_field(name: str, field: Any) -> str:
    if field.is_required():
        shown = f"{name} (required)"
    else:
        default = field.default if field.default_factory is None else field.default_factory()
        shown = f"{name} = {default!r}"
    described = f"  [dim]{escape(field.description)}[/]" if field.description else ""
    return escape(shown) + described


# ------------------------------------------------------------------------------------ runs


def _fresh_stem(run_path: Path, loaded: Any, seed: int) -> Path:
    """Where `coopkit sample` writes: beside the run's samples, never over an earlier file."""
    folder = beside_run(run_path, loaded, "samples")
    return fresh_path(folder, f"fresh_iter{loaded.iteration:07d}_seed{seed}")


@app.command()
def sample(
    run_path: Annotated[Path, typer.Argument(help="run directory or checkpoint file")],
    n: Annotated[int, typer.Option("-n", min=1, help="how many samples")] = 16,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    out: Annotated[
        Path | None,
        typer.Option(help="file stem to write to (default RUN/samples/fresh_iter<N>_seed<seed>)"),
    ] = None,
    formats: Annotated[
        list[str] | None,
        typer.Option(
            "--format",
            help="kinds of file the writer writes, e.g. png, npy, obj (repeatable; "
            "default: the writer's own choice)",
        ),
    ] = None,
) -> None:
    """Synthesize fresh samples from a trained run: S1 generator draft and S2 revision."""
    import coopkit
    from coopkit.media import sample_writer

    loaded = coopkit.load(run_path)
    if out is not None:
        writable_folder(out.parent)
    writer = sample_writer(loaded.layout, loaded.host.registries.writers)
    if writer is None:  # the warning said why; nothing to synthesize for
        return
    stem = out or _fresh_stem(run_path, loaded, seed)
    batches = {}
    if loaded.generator is not None:
        batches["S1_draft"] = loaded.generate(n, seed=seed)
    if loaded.descriptor is not None:
        batches["S2_revision"] = loaded.sample(n, seed=seed)
    reference = _observed_example(loaded)
    for stage, batch in batches.items():
        stage_stem = Path(f"{stem}_{stage}")
        for path in writer(batch, stage_stem, loaded.value_range, reference, formats):
            print_line(f"wrote {path}")


def _observed_example(loaded: Any) -> Any:
    """The first observed example, shown beside video samples — if the data is still at hand."""
    import torch

    try:
        return loaded.data.batch(torch.arange(1))
    except UserError:
        return None


@app.command()
def evaluate(
    run_path: Annotated[Path, typer.Argument(help="run directory or checkpoint file")],
    metric: Annotated[
        str, typer.Option("--metric", help="comma-separated metrics, e.g. psnr,ssim or parzen")
    ],
    baseline: Annotated[
        str | None,
        typer.Option(
            "--baseline", help="comma-separated baselines; default: all for this data; 'none'"
        ),
    ] = None,
    n: Annotated[
        int | None,
        typer.Option("-n", min=1, help="synthesized examples (default: train.chains)"),
    ] = None,
    steps: Annotated[
        int | None,
        typer.Option(min=0, help="MCMC revision steps per sample (default: the recipe's)"),
    ] = None,
    option: Annotated[
        list[str] | None,
        typer.Option(
            "--option",
            help="a metric's parameter, METRIC.FIELD=VALUE (repeatable), "
            "e.g. parzen.sigma=0.2 or fid.weights=inception.pth",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
) -> None:
    """Compare synthesized with observed examples (and baselines fitted to the same data)."""
    import coopkit
    from coopkit.evaluation import baseline_choice, names_list
    from coopkit.evaluation import evaluate as run_evaluation
    from coopkit.recipe import parse_overrides

    options = parse_overrides(option, source="--option")
    loaded = coopkit.load(run_path)
    folder = beside_run(run_path, loaded)  # refused before the work, if it cannot be written
    metrics = names_list(metric)
    with console.status("evaluating") as status:
        result = run_evaluation(
            loaded,
            metrics,
            baselines=baseline_choice(baseline),
            n=n,
            seed=seed,
            steps=steps,
            options=options,
            progress=lambda message: status.update(message),
        )
    table = Table(
        "method", *metrics, title=f"evaluation of {run_path} (iteration {loaded.iteration})"
    )
    for method, values in result.rows.items():
        table.add_row(method, *(_with_note(values[name]) for name in metrics))
    console.print(table)
    folder.mkdir(parents=True, exist_ok=True)
    written = result.write(fresh_path(folder, "evaluation", ".json"))
    print_line(f"wrote {written}")


def _with_note(value: Any) -> str:
    note = getattr(value, "note", "")
    return f"{value} ({note})" if note else str(value)


@app.command()
def interpolate(
    run_path: Annotated[Path, typer.Argument(help="run directory or checkpoint file")],
    rows: Annotated[int, typer.Option(min=1, help="pairs of end points, one row each")] = 5,
    columns: Annotated[int, typer.Option(min=2, help="images per row, ends included")] = 8,
    steps: Annotated[
        int, typer.Option(min=0, help="Langevin revision steps per image (10 in Fig. 10)")
    ] = 10,
    spherical: Annotated[
        bool, typer.Option(help="spherical instead of linear interpolation")
    ] = False,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    out: Annotated[
        Path | None,
        typer.Option(
            help="PNG to write (default RUN/samples/interpolation_iter<N>_seed<seed>.png)"
        ),
    ] = None,
) -> None:
    """Rows of images generated from interpolated latents, each revised by the descriptor (Fig. 10)."""
    import coopkit
    from coopkit.interpolation import interpolate as interpolate_latents
    from coopkit.media import write_grid

    loaded = coopkit.load(run_path)
    if out is None:
        folder = beside_run(run_path, loaded, "samples")
        out = fresh_path(folder, f"interpolation_iter{loaded.iteration:07d}_seed{seed}", ".png")
    elif out.suffix.lower() != ".png" and loaded.layout == "b c h w":
        raise UserError(f"--out {out}: give a .png file name")
    elif out.exists():
        raise UserError(f"--out {out} exists; give a new name (nothing is overwritten)")
    else:
        writable_folder(out.parent)
    grid = interpolate_latents(
        loaded, rows=rows, columns=columns, steps=steps, spherical=spherical, seed=seed
    )
    written = write_grid(
        grid,
        out,
        loaded.layout,
        loaded.value_range,
        columns=columns,
        writers=loaded.host.registries.writers,
    )
    for path in written:
        print_line(f"wrote {path}")


@app.command()
def complete(
    run_path: Annotated[Path, typer.Argument(help="run directory or checkpoint file")],
    mask: Annotated[
        str | None,
        typer.Option(
            help="comma-separated masks, as the run's data takes them — images: square sides "
            "on the 64² scale (30,40,50 = M30, M40, M50; scaled to the image size) or "
            "random:FRACTION; voxels: random:FRACTION (default: the completion's own, "
            "`coopkit list completions`: 30,40,50 for images, random:0.7 for voxels)"
        ),
    ] = None,
    missing: Annotated[
        float | None,
        typer.Option(
            "--missing",
            metavar="FRACTION",
            help="remove this fraction of the entries at random: --mask random:FRACTION",
        ),
    ] = None,
    n: Annotated[
        int, typer.Option("-n", min=1, help="held-out examples to complete (1000 in Table 5)")
    ] = 1000,
    split: Annotated[str, typer.Option(help="data split the examples come from")] = "test",
    steps: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Langevin steps (default: the completion's own — images: 1000 steps inferring "
            "the generator's X; voxels: 90 steps of the descriptor's revision)",
        ),
    ] = None,
    step_size: Annotated[
        float | None,
        typer.Option(
            min=0,
            help="δ of the Langevin (default: the completion's own — images 0.1, voxels 0.07)",
        ),
    ] = None,
    noise: Annotated[
        bool | None,
        typer.Option(
            "--noise/--no-noise",
            help="Langevin noise; off: gradient descent (default: the completion's own: on for "
            "images, off for voxels)",
            show_default=False,
        ),
    ] = None,
    baseline: Annotated[
        str | None,
        typer.Option(help="comma-separated completion baselines; default: all; 'none'"),
    ] = None,
    show: Annotated[int, typer.Option(min=1, help="examples per row in the pictures")] = 10,
    seed: Annotated[int, typer.Option(help="random seed (masks and chains)")] = 0,
) -> None:
    """Recover occluded held-out examples beside completion baselines on the same masks, with
    the completion registered for the run's data (images: the generator, experiment 6, Table 5;
    voxels: the descriptor, shape recovery); writes pictures and completion.json."""
    import torch

    import coopkit
    from coopkit.evaluation import baseline_choice, baselines_for, names_list
    from coopkit.media import write_grid
    from coopkit.media.grid import IMAGE_LAYOUT

    if missing is not None and mask is not None:
        raise UserError(
            f"--missing {missing:g} and --mask {mask} both say what to occlude; give one "
            "(--missing F is --mask random:F)"
        )
    if missing is not None and not 0 < missing < 1:
        raise UserError(f"--missing {missing:g}: give a fraction of the entries, 0 < F < 1")
    loaded = coopkit.load(run_path)
    completion = _completion_for(loaded)
    options: dict[str, Any] = {"n": n, "split": split, "seed": seed}
    given = {"steps": steps, "step_size": step_size, "noise": noise}
    options.update({name: value for name, value in given.items() if value is not None})
    if missing is not None:
        options["masks"] = [f"random:{missing:g}"]
    elif mask is not None:
        options["masks"] = names_list(mask)
    options["baselines"] = baselines_for(loaded, baseline_choice(baseline), "completion")
    folder = beside_run(run_path, loaded)  # refused before the work, if it cannot be written
    with console.status("completing") as status:
        result = completion(loaded, progress=status.update, **options)
    folder = fresh_path(folder, f"completion_iter{loaded.iteration:07d}")
    folder.mkdir(parents=True)
    writers = loaded.host.registries.writers
    for spec, panel in result.panels.items():
        rows = {method: examples[:show].cpu() for method, examples in panel.items()}
        name = f"M{spec}" if spec.isdigit() else spec.replace(":", "")
        if " ".join(loaded.layout.split()) == IMAGE_LAYOUT:  # one grid, a row per method
            first = next(iter(rows.values()))
            written = write_grid(
                torch.cat(list(rows.values())),
                folder / f"{name}.png",
                loaded.layout,
                loaded.value_range,
                columns=len(first),
                writers=writers,
            )
            print_line(f"wrote {written[0]}  (rows: {', '.join(rows)})")
            continue
        for method, examples in rows.items():  # the layout's writer: one picture per method
            for path in write_grid(
                examples,
                folder / f"{name}_{method}.png",
                loaded.layout,
                loaded.value_range,
                writers=writers,
            ):
                print_line(f"wrote {path}")
    columns = result.columns
    table = Table("mask", "method", *columns.values())
    for spec, methods in result.scores.items():
        for method, values in methods.items():
            cells = [str(values[key]) if key in values else "" for key in columns]
            table.add_row(spec, method, *cells)
    console.print(table)
    report = {**result.settings, "results": result.as_dict()}
    (folder / "completion.json").write_text(json.dumps(report, indent=2))
    print_line(f"wrote {folder / 'completion.json'}")


def _completion_for(loaded: Any) -> Any:
    """The completion registered for the run's data layout; a user error naming the layouts
    that have one when there is none."""
    registry = loaded.host.registries.completions
    layout = " ".join(loaded.layout.split())
    if layout in registry or layout in registry.clashes:
        return registry.load(layout)  # two plugins registering one layout: get() says so
    known = ", ".join(repr(name) for name in registry.names()) or "none"
    raise UserError(
        f"coopkit complete has no completion for this run's {layout!r} data; the installed "
        f"plugins complete {known} (a plugin adds one with coopkit_register_completions)"
        + registry.unavailable_note()
    )


def register_plugin_commands(target: typer.Typer, host: Any) -> None:
    """Lets plugins add sub-commands (``coopkit_register_commands(app)``)."""
    host.call_event("coopkit_register_commands", app=target)


def app_with_plugins(host: Any) -> typer.Typer:
    """coopkit's commands and those the plugins of ``host`` add, as a new app: the shared
    :data:`app` (what docs/cli.md is generated from) keeps coopkit's own commands only. What
    :func:`main` runs; test a plugin's command in-process with
    ``CliRunner().invoke(app_with_plugins(host), [...])``."""
    combined = copy.copy(app)
    combined.registered_commands = list(app.registered_commands)
    combined.registered_groups = list(app.registered_groups)
    register_plugin_commands(combined, host)
    return combined


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    """coopkit's own warnings (a skipped checkpoint, a rollback) as one readable line."""
    if issubclass(category, CoopkitWarning):
        errors.print(f"[yellow]warning[/]: {escape(str(message))}", highlight=False)
    else:
        _default_show_warning(message, category, filename, lineno, file, line)


_default_show_warning = warnings.showwarning


def main() -> None:
    """Entry point: user errors (and running out of memory) exit 2 with a message and no
    traceback; divergence 3; bugs 1; Ctrl-C 130 (:class:`_Commands` maps the errors of a
    command; this, those of loading the plugins and of parsing the command line)."""
    warnings.showwarning = _show_warning
    try:
        _disable_plugins(_disabled_on_command_line(sys.argv[1:]))
        command = app_with_plugins(_host())
        code = command(standalone_mode=False)  # a typer.Exit comes back as its code
    except HANDLED as error:
        sys.exit(_report(error))
    except Exception as error:
        if hasattr(error, "show") and hasattr(error, "exit_code"):  # usage errors (bad options)
            error.show()
            sys.exit(error.exit_code)
        raise
    sys.exit(code if isinstance(code, int) else 0)
