"""The run directory: resolved recipe, metrics.jsonl, sample images, checkpoints and report.

Nothing a user made is overwritten: starting a run in a directory that already holds one needs
``--resume`` (continue it), ``--restart`` (start over where no checkpoint exists; the old history
is kept beside) or another ``output.dir``. ``metrics.jsonl`` is only appended to, one flushed line
per iteration, and rewritten only through a temporary file and a rename.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

from coopkit.engine.atomic import replacing, temporary_prefix
from coopkit.engine.checkpoint import list_checkpoints, remove_stale_temporaries
from coopkit.errors import CoopkitWarning, UserError

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

    # ------------------------------------------------------------------ preparing

    def prepare(self) -> None:
        """Creates the directory, or says why it cannot be written (exit 2, nothing touched)."""
        fix = "set output.dir to a folder you can write to"
        if "\0" in str(self.path):
            raise UserError(f"output.dir {str(self.path)!r} contains a NUL byte; {fix}")
        for parent in [self.path, *self.path.parents]:
            if parent.exists() and not parent.is_dir():
                what = "is" if parent == self.path else f"lies under {parent}, which is"
                raise UserError(f"output.dir {self.path} {what} a file, not a folder; {fix}")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UserError(f"output.dir {self.path} cannot be created ({error}); {fix}") from None
        if not os.access(self.path, os.W_OK | os.X_OK):
            raise UserError(f"output.dir {self.path} is read-only; {fix}")
        for sub in (self.samples, self.checkpoints, self.metrics, self.recipe):
            expected_folder = sub in (self.samples, self.checkpoints)
            if sub.exists() and sub.is_dir() != expected_folder:
                kind = "a file" if expected_folder else "a folder"
                raise UserError(f"{sub} is {kind}; move it away or {fix}")

    def remove_stale_temporaries(self) -> None:
        """Temporary files a crash left behind (call it holding the run's lock)."""
        remove_stale_temporaries(self.checkpoints)
        for name in (self.metrics.name, self.recipe.name):
            for stale in self.path.glob(f"{temporary_prefix(self.path / name)}*"):
                stale.unlink(missing_ok=True)

    def claim(self, *, continuing: bool, restart: bool = False) -> None:
        """Makes the directory ready for a run that starts at iteration 0 (``continuing=False``)
        or continues from a checkpoint; refuses to clobber an earlier run."""
        if continuing:
            return
        if self.latest_checkpoint() is not None:
            raise UserError(
                f"{self.path} already holds a run with checkpoints. Continue it with --resume, "
                f"or write this one elsewhere with output.dir=<new folder> "
                f"(e.g. output.dir={self.path}-2)."
            )
        history = self.read_metrics()
        if not history and not self.metrics.exists():
            return
        if not restart:
            raise UserError(
                f"{self.path} holds the history of a run ({len(history)} lines in "
                f"{self.metrics.name}) but no checkpoint to continue from. Start it over with "
                f"--restart (the old history is kept beside it), or write this run elsewhere "
                f"with output.dir=<new folder>."
            )
        kept = self._fresh_history_name()
        self.metrics.rename(kept)
        warnings.warn(
            f"--restart: the old history was moved to {kept}", CoopkitWarning, stacklevel=3
        )

    def _fresh_history_name(self) -> Path:
        number = 1
        while (candidate := self.path / f"metrics.before-restart-{number}.jsonl").exists():
            number += 1
        return candidate

    def write_recipe(self, text: str) -> None:
        self._replace(self.recipe, text)

    # ------------------------------------------------------------------ metrics.jsonl

    def log(self, metrics: dict[str, Any]) -> None:
        with self.metrics.open("a") as handle:
            handle.write(json.dumps(metrics) + "\n")
            handle.flush()

    def log_event(self, iteration: int, event: str, **details: Any) -> None:
        """A line that is not an iteration's metrics (e.g. a rollback): it has an ``event`` key."""
        self.log({"iteration": iteration, "event": event, **details})

    def read_metrics(self) -> list[dict[str, Any]]:
        """Every line of metrics.jsonl. A torn last line (a crash while it was written) is
        dropped with a warning; damage anywhere else is an error."""
        if not self.metrics.is_file():
            return []
        lines = self.metrics.read_text(errors="replace").splitlines()
        records = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                if number == len(lines):
                    warnings.warn(
                        f"{self.metrics}: dropped its torn last line (a crash while it was "
                        "written)",
                        CoopkitWarning,
                        stacklevel=3,
                    )
                    continue
                raise UserError(
                    f"{self.metrics}: line {number} is not JSON; the history is damaged. Move "
                    "the file away to start a fresh history."
                ) from None
        return records

    def iteration_metrics(self) -> list[dict[str, Any]]:
        """The lines logged by training iterations (events left out)."""
        return [line for line in self.read_metrics() if "event" not in line]

    def truncate_metrics(self, after_iteration: int) -> None:
        """On resume or rollback, drop lines logged after the checkpoint we continue from."""
        if not self.metrics.exists():
            return
        kept = [m for m in self.read_metrics() if m.get("iteration", 0) <= after_iteration]
        self._replace(self.metrics, "".join(json.dumps(m) + "\n" for m in kept))

    def _replace(self, path: Path, text: str) -> None:
        with replacing(path) as temporary:
            Path(temporary).write_text(text)

    # ------------------------------------------------------------------ samples and checkpoints

    def sample_stem(self, iteration: int, stage: str) -> Path:
        return self.samples / f"iter_{iteration:07d}_{stage}_{STAGE_NAMES.get(stage, stage)}"

    def prune_checkpoints(self, keep: int) -> None:
        for old in list_checkpoints(self.checkpoints)[:-keep]:
            old.unlink()
