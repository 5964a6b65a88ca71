"""A rich progress bar for training: iterations, it/s, ETA and the latest losses."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

SHOWN = (("descriptor_loss", "D"), ("generator_loss", "G"))


class TrainingProgress(AbstractContextManager):
    def __init__(self, total: int, start: int, title: str, enabled: bool = True):
        self.enabled = enabled
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            TextColumn("[dim]{task.fields[losses]}"),
            disable=not enabled,
        )
        self.task = self.progress.add_task(title, total=total, completed=start, rate="", losses="")

    def __enter__(self) -> TrainingProgress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.__exit__(*exc)

    def advance(self, metrics: dict[str, float]) -> None:
        seconds = metrics.get("seconds", 0.0)
        rate = f"{1 / seconds:.2f} it/s" if seconds > 0 else ""
        losses = " ".join(f"{label} {metrics[key]:.3g}" for key, label in SHOWN if key in metrics)
        self.progress.update(self.task, advance=1, rate=rate, losses=losses)

    def restart_at(self, completed: int) -> None:
        """Moves the bar back (training rolled back to an earlier iteration)."""
        self.progress.update(self.task, completed=completed)
