"""Where commands that work on a trained run write their files: inside its run directory (or next
to a lone checkpoint), under names that never replace an earlier output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from coopkit.errors import UserError


def beside_run(run_path: Path, run: Any, inside: str = "") -> Path:
    """The run's directory (``inside`` a sub-folder) for a run directory or one of its
    checkpoints; the checkpoint's own folder for a lone checkpoint file."""
    run_path = Path(run_path)
    if run_path.is_dir() or run_path.parent.name == "checkpoints":
        return writable_folder(run.directory.path / inside)
    return writable_folder(run_path.parent)


def writable_folder(folder: Path) -> Path:
    """``folder``, unless a file stands where it or one of its parents should be (a user
    error naming that file)."""
    folder = Path(folder)
    existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise UserError(
            f"{existing} is a file, so nothing can be written in {folder}; move or rename that "
            "file, or choose another place (nothing was written)"
        )
    return folder


def fresh_path(folder: Path, base: str, suffix: str = "") -> Path:
    """``folder/base+suffix``, or ``base_2``, ``base_3``, ... when that name is taken — by the
    file itself, or, without a suffix, by anything named ``base.*`` or ``base_S*`` (the stems
    of sample files) — so nothing written earlier is overwritten."""

    def taken(stem: str) -> bool:
        if suffix:
            return (folder / f"{stem}{suffix}").exists()
        return (
            (folder / stem).exists()
            or any(folder.glob(f"{stem}.*"))
            or any(folder.glob(f"{stem}_S*"))
        )

    name, count = base, 1
    while taken(name):
        count += 1
        name = f"{base}_{count}"
    return folder / f"{name}{suffix}"
