"""coopkit-tensorboard's hook module, the target of its entry point.

Installed, it does nothing until asked: a run logs to TensorBoard only while the environment
variable ``COOPKIT_TENSORBOARD`` is set (see :func:`log_directory`). Logging is not part of the
experiment, so it is switched on where the run is started, not in the recipe: the resolved recipe
and the checkpoints are the same with and without it. Nothing heavy is imported here; the logger
(and TensorBoard) are imported when a run that logs starts.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import coopkit

if TYPE_CHECKING:
    from coopkit import Run

COOPKIT_PLUGIN_API = "1.0"  # the plugin API these hooks were written for

ENV = "COOPKIT_TENSORBOARD"
OFF = {"", "0", "false", "no", "off"}
ON = {"1", "true", "yes", "on"}


def log_directory(run: Run) -> Path | None:
    """Where ``run`` logs: nowhere when ``COOPKIT_TENSORBOARD`` is unset (or 0/false/no/off);
    ``RUN_DIR/tensorboard`` when it is 1/true/yes/on; ``VALUE/<run directory name>`` for any other
    value, a folder shared by many runs (``tensorboard --logdir VALUE`` shows them side by side)."""
    value = os.environ.get(ENV, "").strip()
    if value.lower() in OFF:
        return None
    run_dir = Path(run.directory.path)
    if value.lower() in ON:
        return run_dir / "tensorboard"
    return Path(value).expanduser() / run_dir.resolve().name


@coopkit.hookimpl
def coopkit_run_start(run):
    if (directory := log_directory(run)) is None:
        return
    from coopkit_tensorboard import logger

    logger.start(run, directory)


@coopkit.hookimpl
def coopkit_log_step(run, iteration, metrics):
    from coopkit_tensorboard import logger

    logger.log_step(run, iteration, metrics)


@coopkit.hookimpl
def coopkit_run_end(run):
    from coopkit_tensorboard import logger

    logger.finish(run)
