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
    """``folder/base+suffix``, or ``base_2``, ``base_3``, ... when that name (with any suffix) is
    taken, so nothing written earlier is overwritten."""
    stem, count = folder / base, 1
    while list(folder.glob(f"{stem.name}{suffix or '*'}")) or list(folder.glob(f"{stem.name}_S*")):
        count += 1
        stem = folder / f"{base}_{count}"
    return stem.with_name(stem.name + suffix)
