"""``coopkit voxelize``, added to coopkit's CLI by this plugin (``coopkit_register_commands``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console()


def voxelize(
    mesh_dir: Annotated[
        Path, typer.Argument(help="a folder of meshes (category subfolders too), or one mesh")
    ],
    out_dir: Annotated[Path, typer.Argument(help="folder for the .npy grids")],
    size: Annotated[int, typer.Option(min=4, help="grid side: grids are size³")] = 32,
    margin: Annotated[
        int, typer.Option(min=0, help="empty voxels between the shape and the grid's side")
    ] = 1,
    surface: Annotated[
        bool,
        typer.Option(
            help="also fill every voxel the surface passes through (keeps parts thinner than a "
            "voxel; shapes get about half a voxel fatter)"
        ),
    ] = False,
    overwrite: Annotated[bool, typer.Option(help="replace .npy files that exist")] = False,
    skip_unreadable: Annotated[
        bool, typer.Option(help="skip meshes that cannot be read (listed at the end) and go on")
    ] = False,
) -> None:
    """Voxelize meshes (OBJ, OFF, STL, PLY, GLB; needs coopkit-voxel[mesh]) into solid size³
    occupancy grids, one bool .npy per mesh, keeping category subfolders: the data for
    data.name = "voxel-arrays"."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from coopkit.errors import DataError, UserError
    from coopkit_voxel.meshes import load_mesh, require_trimesh, voxelize_mesh

    require_trimesh()  # before any work: say how to install it
    if 2 * margin >= size:
        raise UserError(f"--margin {margin} leaves nothing of a {size}³ grid")
    plan = plan_outputs(mesh_dir, out_dir)
    existing = [target for _, target in plan if target.exists()]
    if existing and not overwrite:
        more = f" (and {len(existing) - 1} more of the {len(plan)} grids to write)"
        raise UserError(
            f"{existing[0]} exists already{more if len(existing) > 1 else ''}; pass --overwrite "
            "to replace, or choose another OUT_DIR"
        )
    skipped: list[str] = []
    written = 0
    columns = (
        TextColumn("voxelizing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.description}"),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("", total=len(plan))
        for source, target in plan:
            progress.update(task, description=source.name)
            try:
                vertices, faces = load_mesh(source)
            except DataError as error:
                if not skip_unreadable:
                    raise DataError(
                        f"{error} ({written} grids written before it; --skip-unreadable goes on "
                        "past such files)"
                    ) from None
                skipped.append(str(error))
                progress.advance(task)
                continue
            grid = voxelize_mesh(vertices, faces, size, margin=margin, surface=surface)
            save_atomically(target, grid)
            written += 1
            progress.advance(task)
    console.print(f"wrote {written} grids of {size}³ to {out_dir}", soft_wrap=True)
    if skipped:
        console.print(f"[yellow]skipped {len(skipped)} unreadable meshes[/]:")
        for line in skipped:
            console.print(f"  {line}", highlight=False, soft_wrap=True)


def plan_outputs(mesh_dir: Path, out_dir: Path) -> list[tuple[Path, Path]]:
    """(mesh, .npy to write) for every mesh under ``mesh_dir``, in natural order. A mesh directly
    in ``mesh_dir`` becomes ``out_dir/NAME.npy``; one in a subfolder keeps the first folder as its
    category and joins deeper folders into the name with ``-`` (ShapeNet's
    ``03001627/1a2b/models/model_normalized.obj`` → ``03001627/1a2b-models-model_normalized.npy``),
    so that ``voxel-arrays`` reads the result with ``data.categories``."""
    from coopkit.errors import UserError
    from coopkit.media.frames import natural_key
    from coopkit_voxel.meshes import MESH_SUFFIXES

    kinds = ", ".join(MESH_SUFFIXES)
    if mesh_dir.is_file():
        if mesh_dir.suffix.lower() not in MESH_SUFFIXES:
            raise UserError(f"{mesh_dir}: not a mesh file ({kinds})")
        return [(mesh_dir, out_dir / f"{mesh_dir.stem}.npy")]
    if not mesh_dir.is_dir():
        raise UserError(f"{mesh_dir}: no such folder or mesh file")
    found = sorted(
        (
            path
            for path in mesh_dir.rglob("*")
            if path.suffix.lower() in MESH_SUFFIXES
            and path.is_file()
            and not any(part.startswith(".") for part in path.relative_to(mesh_dir).parts)
        ),
        key=lambda path: [natural_key(Path(part)) for part in path.relative_to(mesh_dir).parts],
    )
    if not found:
        raise UserError(f"{mesh_dir}: no meshes ({kinds}) in it or in its subfolders")
    plan: list[tuple[Path, Path]] = []
    sources: dict[Path, Path] = {}
    for path in found:
        *folders, name = path.relative_to(mesh_dir).parts
        stem = "-".join([*folders[1:], Path(name).stem])
        target = out_dir.joinpath(*folders[:1], f"{stem}.npy")
        if target in sources:
            raise UserError(
                f"{sources[target]} and {path} would both be written to {target}; rename one"
            )
        sources[target] = path
        plan.append((path, target))
    return plan


def save_atomically(target: Path, grid) -> None:  # noqa: ANN001 (a numpy array)
    """``np.save`` to a temporary file beside ``target``, then rename: never a torn .npy."""
    import numpy as np

    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    with open(partial, "wb") as file:
        np.save(file, grid)
    os.replace(partial, target)


def upsample(
    run_path: Annotated[Path, typer.Argument(help="run directory or checkpoint file")],
    input_path: Annotated[
        Path | None,
        typer.Argument(
            metavar="INPUT",
            help="low-resolution grids: a .npy/.npz file of one grid (d, h, w) or a stack, or a "
            ".binvox file (occupancy 0/1, in [0, 1] or uint8)",
        ),
    ] = None,
    held_out: Annotated[
        int | None,
        typer.Option(
            "--held-out",
            min=1,
            help="instead of INPUT: this many shapes of the run's --split, average-pooled by "
            "--factor, then up-sampled and scored against the originals beside trilinear",
        ),
    ] = None,
    split: Annotated[str, typer.Option(help="data split of the --held-out shapes")] = "test",
    factor: Annotated[
        int | None,
        typer.Option(
            min=2,
            help="up-sampling factor per axis (default: the one that makes INPUT the run's grid "
            "size; 2 with --held-out)",
        ),
    ] = None,
    steps: Annotated[int, typer.Option(min=0, help="Langevin steps of the descriptor")] = 90,
    step_size: Annotated[float, typer.Option(min=0, help="δ of the Langevin")] = 0.07,
    noise: Annotated[bool, typer.Option(help="Langevin noise (off: gradient descent)")] = False,
    show: Annotated[int, typer.Option(min=1, help="grids drawn in each picture")] = 16,
    seed: Annotated[int, typer.Option(help="random seed (Langevin noise)")] = 0,
    out: Annotated[
        Path | None,
        typer.Option(help="folder to write, new (default RUN/upsample_iter<N>)", file_okay=False),
    ] = None,
) -> None:
    """Super-resolution with the descriptor (the voxel paper's): up-sample low-resolution grids
    by Langevin on the descriptor's energy from trilinear up-sampling, keeping the average
    pooling of the result equal to the input after every step. Writes renders (input, trilinear,
    coopkit; and original for --held-out), coopkit.npy and upsample.json."""
    import json

    import numpy as np
    import torch
    from rich.table import Table

    import coopkit
    from coopkit.errors import UserError
    from coopkit.media import write_grid
    from coopkit.outputs import beside_run, fresh_path, writable_folder
    from coopkit_voxel.upsample import COLUMNS, average_pool, check_factor, run_upsample

    if (input_path is None) == (held_out is None):
        raise UserError(
            "give INPUT (a file of low-resolution grids) or --held-out N (held-out shapes of "
            "the run's data, pooled down), not both or neither"
        )
    if out is not None and out.exists():
        raise UserError(f"--out {out} exists; give a new folder (nothing is overwritten)")
    loaded = coopkit.load(run_path)
    if " ".join(loaded.layout.split()) != "b c d h w":
        raise UserError(
            f"coopkit upsample works on voxel grids; this run's data is {loaded.layout!r}"
        )
    low_value, high_value = loaded.value_range
    originals = None
    if input_path is not None:
        low = _read_low_resolution(input_path, loaded.value_range)
        where = f"INPUT {input_path}"
    else:
        data = loaded.data_split(split)
        originals = data.batch(torch.arange(min(held_out or 0, len(data))))
        where = f"--held-out shapes of {split}"
        factor = factor or 2
        if any(side % factor for side in originals.shape[2:]):
            raise UserError(
                f"--factor {factor}: the run's {'×'.join(map(str, originals.shape[2:]))} grids "
                "do not divide into blocks of that side"
            )
        low = average_pool(originals, factor)
    factor = check_factor(loaded, tuple(low.shape[2:]), factor, where)
    if out is None:
        folder = fresh_path(beside_run(run_path, loaded), f"upsample_iter{loaded.iteration:07d}")
    else:
        folder = writable_folder(out)
    with console.status("up-sampling") as status:
        result = run_upsample(
            loaded,
            low,
            factor,
            originals=originals,
            steps=steps,
            step_size=step_size,
            noise=noise,
            seed=seed,
            progress=status.update,
        )
    folder.mkdir(parents=True)
    writers = loaded.host.registries.writers
    pictures = {"input": result.low}
    if result.originals is not None:
        pictures["original"] = result.originals
    pictures.update(result.grids)
    for name, grids in pictures.items():
        for path in write_grid(
            grids[:show], folder / f"{name}.png", loaded.layout, loaded.value_range, writers=writers
        ):
            console.print(f"wrote {path}", soft_wrap=True)
    np.save(folder / "coopkit.npy", result.grids["coopkit"].float().numpy())
    console.print(
        f"wrote {folder / 'coopkit.npy'} ({len(low)} grids, values in "
        f"[{low_value:g}, {high_value:g}])"
    )
    report: dict = {
        "input": str(input_path) if input_path is not None else f"held-out:{split}",
        "n": len(low),
        "factor": factor,
        "steps": steps,
        "step_size": step_size,
        "noise": noise,
    }
    if result.scores:
        table = Table("method", *COLUMNS.values(), title=f"{len(low)} {split} shapes, ×{factor}")
        for method, values in result.scores.items():
            table.add_row(method, *(str(values[key]) for key in COLUMNS))
        console.print(table)
        report["results"] = result.as_dict()
    (folder / "upsample.json").write_text(json.dumps(report, indent=2))
    console.print(f"wrote {folder / 'upsample.json'}", soft_wrap=True)


def _read_low_resolution(path: Path, value_range: tuple[float, float]):
    """The grids of a .npy/.npz/.binvox file as (n, 1, d, h, w) in ``value_range``."""
    from coopkit.errors import UserError
    from coopkit_voxel.data import as_occupancy
    from coopkit_voxel.grid_files import GridFile, read_grids
    from coopkit_voxel.meshes import MESH_SUFFIXES

    if not path.is_file():
        raise UserError(f"INPUT {path}: no such file")
    suffix = path.suffix.lower()
    if suffix in MESH_SUFFIXES:
        raise UserError(
            f"INPUT {path} is a mesh; voxelize it at the low resolution first "
            "(coopkit voxelize MESH OUT_DIR --size 16)"
        )
    if suffix not in (".npy", ".npz", ".binvox"):
        raise UserError(f"INPUT {path}: give a .npy, .npz or .binvox file of grids")
    grids = read_grids(GridFile(path, ""), where=f"INPUT {path}")
    occupancy = as_occupancy(grids, f"INPUT {path}")
    low, high = value_range
    return (low + occupancy * (high - low))[:, None]
