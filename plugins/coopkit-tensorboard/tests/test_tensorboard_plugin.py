"""The TensorBoard plugin: silent unless COOPKIT_TENSORBOARD asks; then the event file holds every
metric of metrics.jsonl at its iteration and the sample pictures pixel for pixel (read back with
TensorBoard's own EventAccumulator); going back (rollback, resume) drops what was logged after;
without the tensorboard package the message says what to install."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tomllib
import warnings
from pathlib import Path
from types import SimpleNamespace

import coopkit_tensorboard.plugin
import numpy as np
import pytest
from coopkit_tensorboard import logger
from coopkit_tensorboard.plugin import ENV, log_directory
from PIL import Image

import coopkit
from coopkit.errors import CoopkitWarning, UserError
from coopkit.testing import isolated_host

PLUGIN = Path(__file__).parents[1]


def events(directory: Path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(directory), size_guidance={"scalars": 0, "images": 0})
    accumulator.Reload()
    return accumulator


def short_run(out: Path, *, strict: bool = True):
    """toy-moons (coopkit-example) for 4 iterations, samples every 2, with this plugin."""
    host = isolated_host(
        "example", extra={"tensorboard": coopkit_tensorboard.plugin}, strict=strict
    )
    overrides = ["train.iterations=4", "output.sample_every=2", "train.device=cpu"]
    run = coopkit.build("toy-moons", [*overrides, f"output.dir={out}"], host=host)
    return run.fit(progress=False)


def test_the_entry_point_names_the_hook_module_which_stays_light():
    project = tomllib.loads((PLUGIN / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["coopkit"] == {"tensorboard": "coopkit_tensorboard.plugin"}
    assert "tensorboard>=2.14" in project["dependencies"]
    code = (
        "import sys, coopkit_tensorboard.plugin; print(sorted(m for m in sys.modules if m in "
        "('torch', 'tensorboard', 'coopkit_tensorboard.logger')))"
    )
    source = str(Path(coopkit_tensorboard.plugin.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([source, *sys.path])}
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert loaded.stdout.strip() == "[]"
    assert coopkit_tensorboard.plugin.COOPKIT_PLUGIN_API == "1.0"


def test_where_it_logs_is_up_to_the_environment_variable(monkeypatch, tmp_path):
    run = SimpleNamespace(directory=SimpleNamespace(path=tmp_path / "runs" / "moons"))
    for value in ("", "0", "false", "Off"):
        monkeypatch.setenv(ENV, value)
        assert log_directory(run) is None
    monkeypatch.delenv(ENV)
    assert log_directory(run) is None
    for value in ("1", "true", "YES"):
        monkeypatch.setenv(ENV, value)
        assert log_directory(run) == tmp_path / "runs" / "moons" / "tensorboard"
    monkeypatch.setenv(ENV, str(tmp_path / "board"))
    assert log_directory(run) == tmp_path / "board" / "moons"


def test_a_run_logs_nothing_unless_asked(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV, raising=False)
    short_run(tmp_path / "run")
    assert (tmp_path / "run" / "metrics.jsonl").is_file()
    assert not (tmp_path / "run" / "tensorboard").exists()


def test_a_run_logs_every_metric_and_its_samples(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV, "1")
    out = tmp_path / "run"
    short_run(out)
    board = events(out / "tensorboard")
    lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    keys = [key for key, value in lines[0].items() if key != "iteration"]
    assert {"loss/descriptor_loss", "loss/generator_loss", "descriptor/f_observed"} <= {
        logger.tag(key) for key in keys
    }
    assert set(board.Tags()["scalars"]) == {logger.tag(key) for key in keys}
    for key in keys:
        logged = board.Scalars(logger.tag(key))
        assert [event.step for event in logged] == [1, 2, 3, 4]
        expected = np.float32([line[key] for line in lines])
        assert np.array_equal(np.float32([event.value for event in logged]), expected), key

    assert set(board.Tags()["images"]) == {
        "samples/observed",
        "samples/S1",
        "samples/S2",
        "samples/S3",
    }
    assert [event.step for event in board.Images("samples/observed")] == [0]
    revisions = board.Images("samples/S2")
    assert [event.step for event in revisions] == [2, 4]
    for event in revisions:
        written = Image.open(out / "samples" / f"iter_{event.step:07d}_S2_revision.png")
        logged = Image.open(io.BytesIO(event.encoded_image_string))
        assert (event.width, event.height) == written.size
        assert np.array_equal(np.asarray(logged.convert("RGB")), np.asarray(written.convert("RGB")))


def fake_run(path: Path, iteration: int) -> SimpleNamespace:
    return SimpleNamespace(directory=SimpleNamespace(path=path), iteration=iteration)


def test_going_back_drops_what_was_logged_after(tmp_path):
    board = tmp_path / "board"
    run = fake_run(tmp_path / "run", 0)
    logger.start(run, board)
    for iteration in (1, 2, 3):
        logger.log_step(run, iteration, {"iteration": iteration, "f_observed": float(iteration)})
    for iteration in (2, 3):  # a rollback to the checkpoint of iteration 1
        logger.log_step(run, iteration, {"f_observed": 10.0 * iteration})
    logger.finish(run)
    logged = events(board).Scalars("descriptor/f_observed")
    assert [(e.step, e.value) for e in logged] == [(1, 1.0), (2, 20.0), (3, 30.0)]

    resumed = fake_run(tmp_path / "run", 1)  # --resume from a checkpoint of iteration 1
    logger.start(resumed, board)
    logger.log_step(resumed, 2, {"f_observed": 200.0})
    logger.finish(resumed)
    logged = events(board).Scalars("descriptor/f_observed")
    assert [(e.step, e.value) for e in logged] == [(1, 1.0), (2, 200.0)]


def test_without_tensorboard_the_message_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV, "1")
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # as if it were not installed
    with pytest.raises(UserError, match="the tensorboard package is not installed: pip install"):
        coopkit_tensorboard.plugin.coopkit_run_start(fake_run(tmp_path / "x", 0))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = short_run(tmp_path / "run", strict=False)  # training goes on without it
    assert run.iteration == 4
    messages = [str(w.message) for w in caught if issubclass(w.category, CoopkitWarning)]
    assert any(
        "plugin 'tensorboard' failed in coopkit_run_start" in m and "pip install tensorboard" in m
        for m in messages
    ), messages
    assert not (tmp_path / "run" / "tensorboard").exists()
