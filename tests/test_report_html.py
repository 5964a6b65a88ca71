"""report.html: one self-contained page per run directory (curves as inline SVG, sample pictures as
data: URIs), checked by parsing it here and by loading it in a real headless Chromium, whose run
of the page's self-check must find every picture decoded and every curve drawn, and must catch a
broken picture and an undrawn curve when we plant one."""

from __future__ import annotations

import base64
import io
import json
import math
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

import coopkit
from coopkit.engine import report_html
from coopkit.engine.charts import BOTTOM, HEIGHT, LEFT, RIGHT, TOP, WIDTH, line_chart, thin
from coopkit.engine.report import (
    record_observed,
    record_stages,
    sample_history,
    write_report,
)
from coopkit.engine.rundir import RunDirectory

# ------------------------------------------------------------------------------ helpers


class _Elements(HTMLParser):
    """Every start tag with its attributes, in order."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {key: value or "" for key, value in attrs}))


def elements(page: str, tag: str) -> list[dict[str, str]]:
    parser = _Elements()
    parser.feed(page)
    return [attrs for name, attrs in parser.tags if name == tag]


def decoded(src: str) -> Image.Image:
    header, data = src.split(",", 1)
    assert header.startswith("data:image/") and header.endswith(";base64"), header
    image = Image.open(io.BytesIO(base64.b64decode(data)))
    image.load()
    return image


def picture(path: Path, color: tuple[int, int, int], size: int = 8) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (size, size), color).save(path)
    return path


def metrics_lines(directory: RunDirectory, count: int, **extra) -> None:
    directory.path.mkdir(parents=True, exist_ok=True)
    for i in range(1, count + 1):
        directory.log(
            {
                "iteration": i,
                "descriptor_loss": -0.1 * i,
                "f_observed": 1.0 + i,
                "f_revised": 0.5 * i,
                "generator_loss": 100.0 / i,
                "revision_acceptance_rate": 0.5,
                "seconds_D1": 0.02,
                "seconds": 0.05,
                **extra,
            }
        )


RECIPE = "seed = 0\n\n[train]\nalgorithm = 'coopnets'\niterations = 6\n"


# ------------------------------------------------------------------------------ the page


def test_a_run_writes_a_self_contained_report_html_beside_report_md(host, write_recipe):
    run = coopkit.build(write_recipe(), host=host).fit(progress=False)
    root = run.directory.path
    page = (root / "report.html").read_text()
    assert (root / "report.md").is_file()
    assert "Content-Security-Policy" in page and "default-src 'none'" in page

    images = elements(page, "img")
    assert images and all(img["src"].startswith("data:image/png;base64,") for img in images)
    for img in images:  # each embedded picture is the file the writer wrote, pixel for pixel
        original = Image.open(run.directory.samples / img["title"]).convert("RGBA")
        assert decoded(img["src"]).convert("RGBA").tobytes() == original.tobytes()
    titles = {img["title"] for img in images}
    assert "observed.png" in titles
    for iteration in (2, 4):
        for stage, name in (("S1", "draft"), ("S2", "revision"), ("S3", "reconstruction")):
            assert f"iter_{iteration:07d}_{stage}_{name}.png" in titles
    assert "2 sampled iteration(s)" in page

    for tag in ("script", "link", "iframe", "object", "embed", "video", "audio", "source"):
        assert all(not a.get("src", "").startswith(("http", "//")) for a in elements(page, tag))
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page

    charts = {svg["data-title"] for svg in elements(page, "svg")}
    assert {"generator loss", "descriptor output f (mean)", "seconds per iteration"} <= charts
    assert any(title.startswith("descriptor loss") for title in charts)
    assert "finished: 4 of 4 iterations" in page
    assert "tiny test recipe" in page
    assert "name = &quot;small-descriptor&quot;" in page  # the resolved recipe, escaped
    assert f"<td>{torch_version()}</td>" in page


def torch_version() -> str:
    import torch

    return torch.__version__


def test_samples_over_time_are_capped_evenly_with_the_first_and_last(tmp_path):
    directory = RunDirectory(tmp_path / "run")
    metrics_lines(directory, 30)
    for i in range(1, 31):
        record_stages(
            directory,
            i,
            {
                "S1": [picture(directory.samples / f"a{i}.png", (i, 0, 0))],
                "S2": [picture(directory.samples / f"b{i}.png", (0, i, 0))],
            },
        )
    page = write_report_html(directory)
    rows = re.findall(r"<tr><th>(\d+)</th>", page)
    assert len(rows) == report_html.MAX_ROWS == 12
    assert rows[0] == "1" and rows[-1] == "30"
    assert rows == sorted(rows, key=int)
    assert "30 sampled iteration(s); 12 shown, evenly spaced, 18 omitted" in page
    images = elements(page, "img")
    assert len(images) == 24
    red = [decoded(img["src"]).getpixel((0, 0))[0] for img in images if img["title"][0] == "a"]
    assert red == [int(row) for row in rows]  # each row holds its own iteration's picture


def write_report_html(directory: RunDirectory, recipe: str = RECIPE) -> str:
    write_report(directory, recipe, "test", 1.0)
    return (directory.path / "report.html").read_text()


def test_the_history_forgets_samples_of_a_discarded_future(tmp_path):
    directory = RunDirectory(tmp_path / "run")
    for iteration in (10, 20, 30):
        record_stages(directory, iteration, {"S2": [directory.samples / f"{iteration}.png"]})
    record_stages(directory, 20, {"S2": [directory.samples / "again.png"]})  # after a rollback
    assert sample_history(directory) == {
        10: {"S2": ["samples/10.png"]},
        20: {"S2": ["samples/again.png"]},
    }


def test_a_run_from_before_the_history_is_read_from_its_file_names(tmp_path):
    directory = RunDirectory(tmp_path / "run")
    for name in ("iter_0000025_S1_draft.png", "iter_0000025_S2_revision.gif", "observed.png"):
        picture(directory.samples / name, (9, 9, 9))
    picture(directory.samples / "iter_0000050_S2_revision.png", (9, 9, 9))
    picture(directory.samples / "fresh_iter0000050_seed0_S2_revision.png", (9, 9, 9))
    (directory.samples / "index.json").write_text(
        json.dumps({"iteration": 50, "stages": {"S2": ["samples/iter_0000050_S2_revision.png"]}})
    )
    assert sample_history(directory) == {
        25: {
            "S1": ["samples/iter_0000025_S1_draft.png"],
            "S2": ["samples/iter_0000025_S2_revision.gif"],
        },
        50: {"S2": ["samples/iter_0000050_S2_revision.png"]},
    }


def test_rollbacks_are_told_and_marked_and_an_unfinished_run_says_so(tmp_path):
    directory = RunDirectory(tmp_path / "run")
    metrics_lines(directory, 3)
    directory.log_event(
        3,
        "rollback",
        diverged_at=5,
        reason="non-finite loss",
        restored="checkpoints/iter_0000003.safetensors",
        rollbacks=1,
        sampler_step_size=0.05,
    )
    metrics_lines_from(directory, 4, 4)
    page = write_report_html(directory)
    assert "stopped at iteration 4 of 6" in page
    assert "diverged at 5: non-finite loss; rolled back to checkpoints/iter_0000003" in page
    assert "sampler_step_size 0.05" in page
    assert page.count('class="marker"') == len(elements(page, "svg")) == 6  # on every curve
    assert "No samples were written." in page


def metrics_lines_from(directory: RunDirectory, first: int, last: int) -> None:
    for i in range(first, last + 1):
        directory.log({"iteration": i, "descriptor_loss": -0.1 * i, "seconds": 0.05})


def test_movies_large_pictures_and_missing_files_are_linked_or_named(tmp_path, monkeypatch):
    directory = RunDirectory(tmp_path / "run")
    metrics_lines(directory, 2)
    small = picture(directory.samples / "small.png", (1, 2, 3))
    large = picture(directory.samples / "large.png", (1, 2, 3), size=64)
    movie = directory.samples / "clip s2.mp4"
    movie.write_bytes(b"\0" * 2048)
    record_stages(directory, 2, {"S2": [small, large, movie, directory.samples / "gone.png"]})
    monkeypatch.setattr(report_html, "EMBED_LIMIT", small.stat().st_size)
    page = write_report_html(directory)
    assert [img["title"] for img in elements(page, "img")] == ["small.png"]
    links = {a["href"] for a in elements(page, "a") if not a["href"].startswith("#")}
    assert links == {"samples/large.png", "samples/clip%20s2.mp4"}
    assert "missing: gone.png" in page
    assert "1 picture(s) past the page" in page


def test_a_report_html_that_fails_is_a_warning_and_report_md_is_written(tmp_path, monkeypatch):
    directory = RunDirectory(tmp_path / "run")
    metrics_lines(directory, 2)

    def broken(*args, **kwargs):
        raise ValueError("boom")

    monkeypatch.setattr("coopkit.engine.report.render_html", broken)
    with pytest.warns(coopkit.errors.CoopkitWarning, match="report.html was not written: Value"):
        path = write_report(directory, RECIPE, "test", 1.0)
    assert path.read_text().startswith("# coopkit run report")


# ------------------------------------------------------------------------------ the charts


def path_points(svg: str) -> list[list[tuple[float, float]]]:
    """The polylines of the chart's first series path, one list per segment."""
    d = re.search(r'<path class="series" d="([^"]*)"', svg)[1]
    return [
        [tuple(map(float, p.split(","))) for p in re.findall(r"[ML]([-\d.]+,[-\d.]+)", part)]
        for part in re.split(r"(?=M)", d)
        if part.strip()
    ]


def test_a_chart_puts_its_lowest_and_highest_points_at_the_plot_corners():
    svg = line_chart("t", {"y": [(0, 0.0), (5, 0.5), (10, 1.0)]})
    [segment] = path_points(svg)
    assert segment == [
        (LEFT, HEIGHT - BOTTOM),
        ((LEFT + WIDTH - RIGHT) / 2, (HEIGHT - BOTTOM + TOP) / 2),
        (WIDTH - RIGHT, TOP),
    ]
    assert "(log y)" not in svg


def test_a_non_finite_value_breaks_the_line_and_an_all_nan_chart_is_empty():
    svg = line_chart("t", {"y": [(0, 0.0), (1, 1.0), (2, math.nan), (3, 2.0), (4, 3.0)]})
    assert [len(segment) for segment in path_points(svg)] == [2, 2]
    empty = line_chart("t", {"y": [(0, math.nan), (1, math.inf)]})
    assert 'data-empty="1"' in empty and "no finite values" in empty


def test_a_positive_series_over_decades_gets_a_log_axis():
    svg = line_chart("t", {"y": [(i, 10.0**i) for i in range(6)]})
    assert "log y" in svg
    [segment] = path_points(svg)
    ys = [y for _, y in segment]
    steps = [a - b for a, b in zip(ys, ys[1:], strict=False)]
    assert all(abs(step - steps[0]) < 0.2 for step in steps)  # evenly spaced decades


def test_thinning_keeps_a_spike_and_a_few_extremes_do_not_flatten_the_rest():
    points = [(float(i), math.sin(i / 50)) for i in range(10_000)]
    points[7_777] = (7_777.0, 1e6)
    kept = thin(points)
    assert len(kept) <= 800 and (7_777.0, 1e6) in kept
    svg = line_chart("t", {"y": points})
    assert "y clipped to the 1st-99th percentile" in svg
    [segment] = path_points(svg)
    assert min(y for _, y in segment) == TOP  # the spike is drawn at the top edge
    assert max(y for _, y in segment) > (HEIGHT - BOTTOM + TOP) / 2 + 40  # the sine is visible


# ------------------------------------------------------------------------------ in a browser


def chromium() -> str | None:
    return next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)


needs_chromium = pytest.mark.skipif(
    chromium() is None,
    reason="no chromium binary on PATH (Debian: apt-get install chromium; `nox -s tests` "
    "installs it when run as root)",
)


def self_check(page: Path, profile: Path) -> dict:
    """Loads ``page`` in headless Chromium and returns what the page's own check found."""
    result = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    found = re.search(r'<pre id="self-check">([^<]*)</pre>', result.stdout)
    assert found, f"no self-check in the page Chromium rendered:\n{result.stderr[-2000:]}"
    return json.loads(found[1])


@needs_chromium
def test_chromium_decodes_every_picture_and_draws_every_curve(host, write_recipe, tmp_path):
    run = coopkit.build(write_recipe(), host=host).fit(progress=False)
    directory = run.directory
    gif = directory.samples / "iter_0000004_S2_revision.gif"
    frames = [Image.new("RGB", (16, 16), (40 * i, 0, 0)) for i in range(4)]
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=100, loop=0)
    record_stages(directory, 4, {"S2": [gif]})  # an animation, as the video writer makes
    record_observed(directory, [directory.samples / "observed.png"])
    page_path = write_report(directory, run.recipe_toml, "", 1.0).with_suffix(".html")
    page = page_path.read_text()

    found = self_check(page_path, tmp_path / "profile")
    assert found["done"] is True
    assert found["images"] == len(elements(page, "img")) == 5  # observed, 3 at 2, the GIF
    assert found["broken"] == []
    assert found["charts"] == len(elements(page, "svg")) >= 5 and found["undrawn"] == []

    # the control: a corrupted picture and a curve with nothing to draw are caught
    first = elements(page, "img")[0]
    payload = first["src"].split(",", 1)[1]
    bad = page.replace(payload, base64.b64encode(b"not a picture").decode(), 1)
    bad = re.sub(r'(<path class="series" d=")[^"]*', r"\1", bad, count=1)
    bad_path = tmp_path / "bad.html"
    bad_path.write_text(bad)
    found = self_check(bad_path, tmp_path / "profile")
    assert found["broken"] == [first["alt"]]
    assert len(found["undrawn"]) == 1
