"""What the hooks log: every number of a metrics.jsonl line as a TensorBoard scalar at its
iteration, and the newest sample pictures of each stage (from ``samples/index.json``, the files
the run's sample writer returned) as images.

Samples are written after the iteration's metrics are logged, so the pictures of iteration N are
logged at the next iteration (under step N) or when the run ends. When a run goes back — a
rollback after divergence, or a resume from an earlier checkpoint — the writer is reopened with
``purge_step`` so that TensorBoard drops what was logged from that iteration on, as metrics.jsonl
does. Importing this module is cheap; TensorBoard is imported when a run that logs starts.
"""

from __future__ import annotations

import importlib
import json
import numbers
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coopkit.errors import UserError

if TYPE_CHECKING:
    from coopkit import Run

PICTURES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp")
GROUPS = [  # (prefix or suffix test, TensorBoard section) — the first that matches
    (lambda key: key.endswith("_loss"), "loss"),
    (lambda key: key.startswith(("f_", "energy_")), "descriptor"),
    (lambda key: key.startswith("revision_"), "revision"),
    (lambda key: key.startswith("inference_"), "inference"),
    (lambda key: key.startswith("synthesis_"), "synthesis"),
    (lambda key: key == "seconds" or key.startswith("seconds_"), "time"),
]

_loggers: dict[int, RunLogger] = {}


def tag(key: str) -> str:
    """``descriptor_loss`` → ``loss/descriptor_loss``: the metric's name under its section."""
    section = next((name for test, name in GROUPS if test(key)), "metrics")
    return f"{section}/{key}"


def start(run: Run, directory: Path) -> None:
    finish(run)  # fit() called again on the same run
    _loggers[id(run)] = RunLogger(run, directory)


def log_step(run: Run, iteration: int, metrics: dict[str, Any]) -> None:
    if (logger := _loggers.get(id(run))) is not None:
        logger.pictures()
        logger.scalars(iteration, metrics)


def finish(run: Run) -> None:
    if (logger := _loggers.pop(id(run), None)) is not None:
        logger.pictures()
        logger.writer.close()


class RunLogger:
    def __init__(self, run: Run, directory: Path):
        self.directory = directory
        self.samples = Path(run.directory.path) / "samples"
        first = run.iteration + 1  # the next iteration logged
        self.writer = summary_writer(directory, purge_step=first if first > 1 else None)
        self.last = run.iteration
        self.observed_due = run.iteration == 0  # a new run: log the observed examples once
        # a resumed run logged its newest pictures before; a new one has none yet
        self.pictures_of = self.index().get("iteration") if run.iteration > 0 else None

    def scalars(self, iteration: int, metrics: dict[str, Any]) -> None:
        if iteration <= self.last:  # went back: drop what was logged from here on
            self.writer.close()
            self.writer = summary_writer(self.directory, purge_step=iteration)
        for key, value in metrics.items():
            if (
                key != "iteration"
                and isinstance(value, numbers.Real)
                and not isinstance(value, bool)
            ):
                self.writer.add_scalar(tag(key), float(value), iteration)
        self.last = iteration

    def pictures(self) -> None:
        """Logs the newest samples' pictures, once per sampled iteration (and, in a new run,
        the observed examples' under step 0)."""
        index = self.index()
        if self.observed_due and (path := first_picture(index.get("observed"))):
            self.image("samples/observed", path, 0)
            self.observed_due = False
        iteration = index.get("iteration")
        if isinstance(iteration, int) and iteration != self.pictures_of:
            for stage, files in (index.get("stages") or {}).items():
                if path := first_picture(files):
                    self.image(f"samples/{stage}", path, iteration)
            self.pictures_of = iteration

    def index(self) -> dict[str, Any]:
        try:
            index = json.loads((self.samples / "index.json").read_text())
        except (OSError, ValueError):
            return {}
        return index if isinstance(index, dict) else {}

    def image(self, name: str, path: str, step: int) -> None:
        file = Path(path) if Path(path).is_absolute() else self.samples.parent / path
        if not file.is_file():  # moved away by hand: nothing to show
            return
        self.writer.add_image(name, pixels(file), step, dataformats="HWC")


def first_picture(files: Any) -> str | None:
    if not isinstance(files, list):
        return None
    return next((f for f in files if isinstance(f, str) and f.lower().endswith(PICTURES)), None)


def pixels(path: Path):
    """The picture (the first frame of an animation) as an ``h w 3`` uint8 array."""
    import numpy as np
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def summary_writer(directory: Path, purge_step: int | None):
    try:
        importlib.import_module("tensorboard")  # torch.utils.tensorboard needs it
    except ImportError:
        raise UserError(
            "COOPKIT_TENSORBOARD is set, but the tensorboard package is not installed: "
            "pip install tensorboard (coopkit-tensorboard depends on it), or unset "
            "COOPKIT_TENSORBOARD to train without TensorBoard logging"
        ) from None
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(str(directory), purge_step=purge_step)
