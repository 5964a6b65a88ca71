"""A human-readable report.md for a run directory: what ran, how long, how it ended."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from coopkit.engine.rundir import STAGE_NAMES, RunDirectory


def write_report(
    directory: RunDirectory, recipe_text: str, description: str, seconds: float
) -> Path:
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
    samples = sorted(directory.samples.glob("iter_*.png")) if directory.samples.exists() else []
    if samples:
        newest = samples[-1].name.split("_S")[0]
        for stage, name in STAGE_NAMES.items():
            for path in samples:
                if path.name.startswith(f"{newest}_{stage}_"):
                    lines += [f"**{stage} {name}**", "", f"![{stage}](samples/{path.name})", ""]
        observed = directory.samples / "observed.png"
        if observed.exists():
            lines += ["**observed**", "", "![observed](samples/observed.png)", ""]
    lines += ["## Recipe (resolved)", "", "```toml", recipe_text.rstrip(), "```", ""]
    path = directory.path / "report.md"
    path.write_text("\n".join(lines))
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
