"""The run directory: resolved recipe, metrics.jsonl, sample images, checkpoints and report.

Nothing a user made is overwritten: starting a run in a directory that already holds one needs
``--resume`` (continue it) or another ``output.dir``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from coopkit.engine.checkpoint import list_checkpoints
from coopkit.errors import UserError

STAGE_NAMES = {"S1": "draft", "S2": "revision", "S3": "reconstruction"}


class RunDirectory:
    def __init__(self, path: Path):
        self.path = Path(path)

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def samples(self) -> Path:
        return self.path / "samples"

    @property
    def metrics(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def recipe(self) -> Path:
        return self.path / "recipe.toml"

    def latest_checkpoint(self) -> Path | None:
        found = list_checkpoints(self.checkpoints)
        return found[-1] if found else None

    def holds_a_run(self) -> bool:
        return self.latest_checkpoint() is not None or self.metrics.exists()

    def claim(self, resume: bool) -> None:
        """Makes the directory ready for training, refusing to clobber an earlier run."""
        if not resume and self.holds_a_run():
            raise UserError(
                f"{self.path} already holds a run. Continue it with --resume, or write this one "
                f"elsewhere with output.dir=<new folder> (e.g. output.dir={self.path}-2)."
            )
        self.path.mkdir(parents=True, exist_ok=True)

    def write_recipe(self, text: str) -> None:
        self.recipe.write_text(text)

    def truncate_metrics(self, after_iteration: int) -> None:
        """On resume, drop lines logged after the checkpoint we continue from."""
        if not self.metrics.exists():
            return
        kept = [
            line
            for line in self.metrics.read_text().splitlines()
            if line.strip() and json.loads(line).get("iteration", 0) <= after_iteration
        ]
        self.metrics.write_text("".join(line + "\n" for line in kept))

    def log(self, metrics: dict[str, Any]) -> None:
        with self.metrics.open("a") as handle:
            handle.write(json.dumps(metrics) + "\n")

    def read_metrics(self) -> list[dict[str, Any]]:
        if not self.metrics.exists():
            return []
        return [json.loads(line) for line in self.metrics.read_text().splitlines() if line.strip()]

    def sample_stem(self, iteration: int, stage: str) -> Path:
        return self.samples / f"iter_{iteration:07d}_{stage}_{STAGE_NAMES.get(stage, stage)}"

    def prune_checkpoints(self, keep: int) -> None:
        for old in list_checkpoints(self.checkpoints)[:-keep]:
            old.unlink()
