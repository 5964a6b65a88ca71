"""A human-readable report.md for a run directory: what ran, how long, how it ended, and the
latest samples — whatever files the sample writer returned, which the run records in
``samples/index.json`` (the latest, and the history of every sampled iteration). Beside it,
report.html (:mod:`coopkit.engine.report_html`) shows the same and more in one offline page."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import quote

from coopkit.engine.atomic import replacing, temporary_prefix
from coopkit.engine.report_html import render as render_html
from coopkit.engine.rundir import STAGE_NAMES, RunDirectory
from coopkit.errors import CoopkitWarning

SAMPLE_INDEX = "index.json"  # in the samples folder
SAMPLE_NAME = re.compile(r"^iter_(?P<iteration>\d{7})_(?P<stage>S\d+)_")  # see sample_stem
PICTURES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".bmp", ".avif"}
MOVIES = {".mp4", ".webm", ".ogv", ".mov", ".m4v"}


def write_report(
    directory: RunDirectory,
    recipe_text: str,
    description: str,
    seconds: float,
    samples_note: str = "",
) -> Path:
    """Writes report.md and report.html; ``samples_note`` says why there are no samples (e.g. no
    writer). A failure to write report.html is a warning: report.md is written first."""
    history = directory.read_metrics()
    metrics = [line for line in history if "event" not in line]
    last: dict[str, Any] = metrics[-1] if metrics else {}
    rollbacks = [line for line in history if line.get("event") == "rollback"]
    lines = [
        "# coopkit run report",
        "",
        description or "(no description)",
        "",
        f"- iterations done: {last.get('iteration', 0)}",
        f"- wall time of the last `fit()`: {seconds:.1f} s",
        "",
        "## Final metrics",
        "",
        "| metric | value |",
        "|---|---|",
        *(f"| {key} | {value:.4g} |" for key, value in last.items() if isinstance(value, float)),
        "",
        *_rollback_lines(rollbacks),
        "## Latest samples",
        "",
    ]
    lines += _sample_lines(read_sample_index(directory), samples_note)
    lines += ["## Recipe (resolved)", "", "```toml", recipe_text.rstrip(), "```", ""]
    path = directory.path / "report.md"
    path.write_text("\n".join(lines))
    try:
        page = render_html(
            directory,
            recipe_text,
            description,
            seconds,
            samples_note,
            history=sample_history(directory),
            observed=read_sample_index(directory).get("observed") or [],
        )
        (directory.path / "report.html").write_text(page, encoding="utf-8")
    except Exception as error:  # report.md is written; the run's outcome matters more
        warnings.warn(
            f"report.html was not written: {type(error).__name__}: {error}",
            CoopkitWarning,
            stacklevel=2,
        )
    return path


def _rollback_lines(rollbacks: list[dict[str, Any]]) -> list[str]:
    if not rollbacks:
        return []
    lines = [
        "## Rollbacks after divergence",
        "",
        "| diverged at | why | back to | step sizes and learning rates now |",
        "|---|---|---|---|",
    ]
    for event in rollbacks:
        settings = ", ".join(
            f"{key} {value:.3g}"
            for key, value in event.items()
            if key.endswith(("_step_size", "_lr")) and isinstance(value, float)
        )
        lines.append(
            f"| {event.get('diverged_at')} | {event.get('reason')} | "
            f"{event.get('restored')} | {settings} |"
        )
    return [*lines, ""]


# ------------------------------------------------------------------------------ samples


def record_observed(directory: RunDirectory, files: list[Path]) -> None:
    """Remembers the files the sample writer made of the observed examples."""
    _update_index(directory, {"observed": _relative(directory, files)})


def record_stages(directory: RunDirectory, iteration: int, files: dict[str, list[Path]]) -> None:
    """Remembers the files of the newest samples, by synthesis stage (``S1``, ``S2``, ...), and
    adds them to the history (where samples of later iterations, left by a run that was rolled
    back or resumed from an earlier checkpoint, are forgotten)."""
    stages = {stage: _relative(directory, paths) for stage, paths in files.items()}
    earlier = read_sample_index(directory).get("history")
    history = {
        key: value
        for key, value in (earlier if isinstance(earlier, dict) else {}).items()
        if key.isdigit() and int(key) < iteration
    }
    history[str(iteration)] = stages
    _update_index(directory, {"iteration": iteration, "stages": stages, "history": history})


def read_sample_index(directory: RunDirectory) -> dict[str, Any]:
    """``{"observed": [...], "iteration": N, "stages": {"S1": [...]}}`` with paths relative to
    the run directory; empty when nothing was recorded (or the index is unreadable)."""
    try:
        index = json.loads((directory.samples / SAMPLE_INDEX).read_text())
    except (OSError, ValueError):
        return {}
    return index if isinstance(index, dict) else {}


def sample_history(directory: RunDirectory) -> dict[int, dict[str, list[str]]]:
    """Every recorded iteration's sample files by stage, oldest first (paths relative to the run
    directory). Runs from before the index kept a history are read from the file names
    (``iter_NNNNNNN_<stage>_...``, see :meth:`RunDirectory.sample_stem`)."""
    index = read_sample_index(directory)
    recorded = index.get("history")
    if isinstance(recorded, dict) and recorded:
        history = {
            int(key): {stage: list(paths) for stage, paths in stages.items()}
            for key, stages in recorded.items()
            if key.isdigit() and isinstance(stages, dict)
        }
    else:
        history = _history_from_names(directory)
        if isinstance(index.get("iteration"), int) and index.get("stages"):
            history[index["iteration"]] = dict(index["stages"])
    return dict(sorted(history.items()))


def _history_from_names(directory: RunDirectory) -> dict[int, dict[str, list[str]]]:
    history: dict[int, dict[str, list[str]]] = {}
    if not directory.samples.is_dir():
        return history
    for path in sorted(directory.samples.iterdir()):
        if (found := SAMPLE_NAME.match(path.name)) and path.is_file():
            stages = history.setdefault(int(found["iteration"]), {})
            stages.setdefault(found["stage"], []).append(f"{directory.samples.name}/{path.name}")
    return history


def _update_index(directory: RunDirectory, changes: dict[str, Any]) -> None:
    path = directory.samples / SAMPLE_INDEX
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f"{temporary_prefix(path)}*"):  # left by a crash
        stale.unlink(missing_ok=True)
    index = {**read_sample_index(directory), **changes}
    with replacing(path) as temporary:
        Path(temporary).write_text(json.dumps(index, indent=1) + "\n")


def _relative(directory: RunDirectory, files: list[Path]) -> list[str]:
    root = directory.path.resolve()
    shown = []
    for path in files:
        resolved = Path(path).resolve()
        shown.append(
            resolved.relative_to(root).as_posix() if resolved.is_relative_to(root) else str(path)
        )
    return shown


def _sample_lines(index: dict[str, Any], note: str) -> list[str]:
    stages: dict[str, list[str]] = index.get("stages") or {}
    observed: list[str] = index.get("observed") or []
    if not any(stages.values()) and not observed:
        return [f"No samples were written{': ' + note if note else '.'}", ""]
    lines = []
    if any(stages.values()):
        lines += [f"Iteration {index.get('iteration', '?')}.", ""]
    ordered = sorted(stages, key=lambda stage: (stage not in STAGE_NAMES, stage))
    for stage in ordered:
        if stages[stage]:
            title = f"{stage} {STAGE_NAMES.get(stage, '')}".strip()
            lines += [f"**{title}**", "", *(_show(path, stage) for path in stages[stage]), ""]
    if observed:
        lines += ["**observed**", "", *(_show(path, "observed") for path in observed), ""]
    return lines


def _show(path: str, label: str) -> str:
    """A picture inline, a movie as a player, anything else as a link."""
    suffix, target = Path(path).suffix.lower(), quote(path)
    if suffix in PICTURES:
        return f"![{label}]({target})  "
    if suffix in MOVIES:
        return f'<video src="{target}" controls loop muted></video>  '
    return f"[{Path(path).name}]({target})  "
