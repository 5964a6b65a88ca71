"""The plugin as coopkit sees it: what the entry point registers, that every component passes
coopkit's conformance kit, that the hook module stays light, and a run through the CLI."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import coopkit_example.plugin
import pytest
from PIL import Image
from typer.testing import CliRunner

import coopkit
from coopkit.cli import app, app_with_plugins
from coopkit.plugins import default_host
from coopkit.testing import check_plugin, isolated_host

REGISTERED = {
    "energy_models": ["mlp-descriptor"],
    "latent_models": ["mlp-generator"],
    "samplers": ["annealed-langevin"],
    "datasets": ["toy2d"],
    "metrics": ["energy-distance", "modes-covered"],
    "writers": ["b c"],
    "recipes": ["toy-grid", "toy-moons", "toy-ring", "toy-spiral"],
}


def test_the_entry_point_registers_every_component_and_the_event_hooks():
    info = isolated_host("example").plugins["example"]
    assert info.status == "loaded" and info.distribution == "coopkit-example"
    assert info.module == "coopkit_example.plugin" and not info.warnings
    assert info.registered == REGISTERED
    assert set(info.hooks) >= {"coopkit_run_start", "coopkit_log_step", "coopkit_run_end"}


def test_every_component_and_recipe_passes_the_conformance_kit():
    report = check_plugin("example")
    assert not report.skipped
    assert len(report.checked) == sum(len(names) for names in REGISTERED.values())


def test_the_hook_module_imports_neither_torch_nor_the_components():
    code = (
        "import sys, coopkit_example.plugin; "
        "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('coopkit_example.')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "['coopkit_example.plugin']"
    assert coopkit_example.plugin.COOPKIT_PLUGIN_API == "1.0"


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    """toy-moons for 4 iterations, samples every 2, through the Python API and an isolated
    host; the log records of the plugin's logging hook come along."""
    out = tmp_path_factory.mktemp("moons") / "run"
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("coopkit_example")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        overrides = [
            "train.iterations=4",
            "output.sample_every=2",
            "train.device=cpu",
            f"output.dir={out}",
        ]
        run = coopkit.build("toy-moons", overrides, host=isolated_host("example"))
        run.fit(progress=False)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
    return out, records


def test_a_run_draws_samples_over_contours_and_the_report_shows_them(short_run):
    out, _ = short_run
    samples = out / "samples"
    for stage in ("S1_draft", "S2_revision", "S3_reconstruction"):
        picture = Image.open(samples / f"iter_0000004_{stage}.png")
        assert picture.getpixel((5, 5)) != (255, 255, 255)  # contours behind the points
    assert Image.open(samples / "observed.png").getpixel((5, 5)) == (255, 255, 255)
    report = (out / "report.md").read_text()
    assert "![S2](samples/iter_0000004_S2_revision.png)" in report
    assert "![observed](samples/observed.png)" in report


def test_the_logging_hook_reports_every_sample_step(short_run):
    _, records = short_run
    lines = [record.getMessage() for record in records]
    assert [line.split(":")[0] for line in lines] == ["moons iteration 2", "moons iteration 4"]
    assert all("energy distance" in line and "modes" not in line for line in lines)


def test_evaluate_from_the_command_line(short_run):
    """The installed plugin's metrics through `coopkit evaluate` (in-process, with the commands
    of every installed plugin, as `coopkit` runs them)."""
    out, _ = short_run
    metrics = "energy-distance,modes-covered"
    evaluated = CliRunner().invoke(
        app_with_plugins(default_host()),
        ["evaluate", str(out), "--metric", metrics, "-n", "64"],
    )
    assert evaluated.exit_code == 0, evaluated.stderr or repr(evaluated.exception)
    results = json.loads((out / "evaluation.json").read_text())["results"]
    for method in ("coopkit (S2 revision)", "coopkit (S1 generator)"):
        assert 0 < results[method]["energy-distance"]["mean"] < 2
        assert results[method]["energy-distance"]["note"] == "to 2000 held-out points"
        assert results[method]["modes-covered"]["note"].startswith("of 8;")


def test_sample_writes_points_without_contours_outside_training(short_run):
    out, _ = short_run
    result = CliRunner().invoke(app, ["sample", str(out), "-n", "8"])
    assert result.exit_code == 0, result.output
    [fresh] = (out / "samples").glob("fresh*S2_revision.png")
    assert Image.open(fresh).getpixel((5, 5)) == (255, 255, 255)
