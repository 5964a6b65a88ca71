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
    console.print(f"wrote {written} grids of {size}³ to {out_dir}")
    if skipped:
        console.print(f"[yellow]skipped {len(skipped)} unreadable meshes[/]:")
        for line in skipped:
            console.print(f"  {line}", highlight=False)


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
