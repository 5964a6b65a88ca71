"""Where commands that work on a trained run write their files: inside its run directory (or next
to a lone checkpoint), under names that never replace an earlier output."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def beside_run(run_path: Path, run: Any, inside: str = "") -> Path:
    """The run's directory (``inside`` a sub-folder) for a run directory or one of its
    checkpoints; the checkpoint's own folder for a lone checkpoint file."""
    run_path = Path(run_path)
    if run_path.is_dir() or run_path.parent.name == "checkpoints":
        return run.directory.path / inside
    return run_path.parent


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
