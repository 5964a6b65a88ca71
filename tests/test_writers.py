"""Sample writers by layout: a third party's writer for a new layout (voxels, ``b c d h w``) is used
by training, `coopkit sample` and the report; a layout with no writer is a warning, never silence;
a writer's mistakes are the plugin's error; the report shows whatever files a writer returns."""

from __future__ import annotations

import warnings
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import run_cli
from PIL import Image
from pydantic import Field
from torch import nn

import coopkit
from coopkit.core import (
    DataParams,
    DataSource,
    EnergyModel,
    EnergyParams,
    LatentModel,
    LatentParams,
)
from coopkit.engine.report import read_sample_index, record_observed, record_stages, write_report
from coopkit.engine.rundir import RunDirectory
from coopkit.errors import CoopkitWarning, PluginError, UserError
from coopkit.media import sample_writer, write_grid, write_samples
from coopkit.media.writers import SampleWriter
from coopkit.plugins import PluginHost

MODULE = Path(__file__).stem  # targets below are "test_writers:<name>", imported lazily

# ---------------------------------------------------------------------- a third-party voxel plugin


class CubesParams(DataParams):
    count: int = Field(4, ge=1)


class Cubes(DataSource):
    """1×4×4×4 voxel grids: a solid cube of random size in a corner, in [−1, 1]."""

    Params = CubesParams
    layout = "b c d h w"

    def __init__(self, params: CubesParams):
        grids = -torch.ones(params.count, 1, 4, 4, 4)
        for index in range(params.count):
            side = 1 + index % 4
            grids[index, :, :side, :side, :side] = 1.0
        self.examples = grids

    @property
    def shape(self):
        return (1, 4, 4, 4)

    def __len__(self):
        return len(self.examples)

    def __getitem__(self, index):
        return self.examples[index]


class VoxelDescriptor(EnergyModel):
    Params = EnergyParams

    def __init__(self, params, shape):
        net = nn.Sequential(nn.Conv3d(shape[0], 4, 3, padding=1), nn.ReLU(), nn.Conv3d(4, 1, 4))
        super().__init__(net, reference=params.reference, reference_std=params.reference_std)


class VoxelGenerator(LatentModel):
    Params = LatentParams

    def __init__(self, params, shape):
        net = nn.Sequential(nn.Linear(3, int(np.prod(shape))), nn.Tanh(), nn.Unflatten(1, shape))
        super().__init__(net, latent_shape=(3,), noise_std=params.noise_std)


def write_voxel_slices(batch, stem, *, value_range, reference=None):
    """The fake third-party writer: each grid's middle depth slice as one PNG row, plus the raw
    grids as .npy (which the report links to rather than shows)."""
    low, high = value_range
    middle = batch[:, 0, batch.shape[2] // 2].detach().cpu()
    row = ((middle - low) / (high - low) * 255).clamp(0, 255).to(torch.uint8)
    picture = stem.with_name(f"{stem.name}_slices.png")
    Image.fromarray(torch.cat(list(row), dim=1).numpy()).save(picture)
    raw = stem.with_suffix(".npy")
    np.save(raw, batch.detach().cpu().numpy())
    return [picture, raw]


class VoxelPlugin:
    @coopkit.hookimpl
    def coopkit_register_datasets(self, registry):
        registry.add("cubes", f"{MODULE}:Cubes", summary="voxel cubes", modality="voxel")

    @coopkit.hookimpl
    def coopkit_register_energy_models(self, registry):
        registry.add("voxel-descriptor", f"{MODULE}:VoxelDescriptor", modality="voxel")

    @coopkit.hookimpl
    def coopkit_register_latent_models(self, registry):
        registry.add("voxel-generator", f"{MODULE}:VoxelGenerator", modality="voxel")


class VoxelWriterPlugin:
    @coopkit.hookimpl
    def coopkit_register_writers(self, registry):
        registry.add(
            "b c d h w",
            f"{MODULE}:write_voxel_slices",
            summary="middle slices as PNG, raw grids as .npy",
            modality="voxel",
        )


def voxel_host(*, with_writer: bool, **more: object) -> PluginHost:
    builtin = [ep for ep in entry_points(group="coopkit") if ep.name == "builtin"]
    extra: dict[str, object] = {"voxel": VoxelPlugin(), **more}
    if with_writer:
        extra["voxel-writer"] = VoxelWriterPlugin()
    return PluginHost(entry_points=builtin, extra=extra, disabled=set(), strict=True)


def voxel_recipe(write_recipe) -> Path:
    return write_recipe(
        "voxels",
        data={"name": "cubes"},
        descriptor={"name": "voxel-descriptor", "reference_std": 1.0},
        generator={"name": "voxel-generator", "noise_std": 0.3},
    )


def test_a_third_party_writer_serves_training_the_report_and_coopkit_sample(
    write_recipe, monkeypatch, capsys
):
    host = voxel_host(with_writer=True)
    recipe = voxel_recipe(write_recipe)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CoopkitWarning)  # no "no writer" warning
        run = coopkit.build(recipe, host=host).fit(progress=False)
    samples = run.directory.samples
    for stem in ("observed", "iter_0000004_S1_draft", "iter_0000004_S2_revision"):
        assert (samples / f"{stem}_slices.png").is_file(), stem
        assert np.load(samples / f"{stem}.npy").shape[1:] == (1, 4, 4, 4)
    report = (run.directory.path / "report.md").read_text()
    assert "![S2](samples/iter_0000004_S2_revision_slices.png)" in report
    assert "[iter_0000004_S2_revision.npy](samples/iter_0000004_S2_revision.npy)" in report
    assert "![observed](samples/observed_slices.png)" in report

    monkeypatch.setattr("coopkit.api.default_host", lambda: host)
    monkeypatch.setattr("coopkit.plugins.default_host", lambda: host)
    code, out, _ = run_cli(monkeypatch, capsys, "sample", str(run.directory.path), "-n", "2")
    assert code == 0
    fresh = sorted(p.name for p in samples.glob("fresh_*"))
    assert fresh == [
        f"fresh_iter0000004_seed0_{stage}{suffix}"
        for stage in ("S1_draft", "S2_revision")
        for suffix in (".npy", "_slices.png")
    ]
    assert out.count("wrote") == 4

    code, out, _ = run_cli(monkeypatch, capsys, "list", "writers", "--modality", "voxel")
    assert code == 0 and "b c d h w" in out and "voxel-writer" in out and "b c h w" not in out


def test_a_layout_without_a_writer_is_a_warning_at_run_start_and_from_sample(
    write_recipe, monkeypatch, capsys
):
    warned_at_start = []

    class Spy:
        @coopkit.hookimpl
        def coopkit_run_start(self):
            warned_at_start.append(len(caught))

    host = voxel_host(with_writer=False, spy=Spy())
    run = coopkit.build(voxel_recipe(write_recipe), host=host)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run.fit(progress=False)
    got = [str(w.message) for w in caught if issubclass(w.category, CoopkitWarning)]
    assert len(got) == 1, got  # once, not at every sample_every
    assert warned_at_start == [1]  # before training began
    assert "no sample writer is registered for the data layout 'b c d h w'" in got[0]
    assert "there are writers for 'b c h w'" in got[0] and "coopkit_register_writers" in got[0]
    assert not run.directory.samples.exists() or not any(run.directory.samples.iterdir())
    report = (run.directory.path / "report.md").read_text()
    assert "No samples were written: no sample writer is registered" in report

    monkeypatch.setattr("coopkit.api.default_host", lambda: host)
    monkeypatch.setattr("coopkit.plugins.default_host", lambda: host)
    code, out, err = run_cli(monkeypatch, capsys, "sample", str(run.directory.path))
    assert code == 0 and "wrote" not in out
    assert "warning:nosamplewriterisregisteredforthedatalayout'bcdhw'" in err


def test_the_image_writer_is_coopkits_own_and_the_report_shows_its_grids(host, write_recipe):
    writer = sample_writer("b c h w", host.registries.writers)
    assert writer is not None and writer.plugin == "builtin"
    run = coopkit.build(write_recipe(), host=host).fit(progress=False)
    report = (run.directory.path / "report.md").read_text()
    for stage, name in (("S1", "draft"), ("S2", "revision"), ("S3", "reconstruction")):
        assert f"**{stage} {name}**" in report
        assert f"![{stage}](samples/iter_0000004_{stage}_{name}.png)" in report
    assert "![observed](samples/observed.png)" in report
    index = read_sample_index(run.directory)
    assert index["iteration"] == 4 and index["observed"] == ["samples/observed.png"]


def test_the_report_shows_every_kind_of_file_a_writer_returns(tmp_path):
    directory = RunDirectory(tmp_path / "run")
    directory.samples.mkdir(parents=True)
    record_observed(directory, [directory.samples / "observed.gif"])
    record_stages(
        directory,
        10,
        {
            "S2": [
                directory.samples / "iter_S2.gif",
                directory.samples / "iter_S2.mp4",
                directory.samples / "iter_S2 frames.png",
                directory.samples / "iter_S2.ply",
            ]
        },
    )
    record_stages(directory, 20, {"S2": [directory.samples / "newer.webp"]})  # replaces
    report = write_report(directory, "seed = 0", "test", 1.0).read_text()
    assert "Iteration 20." in report and "iter_S2.gif" not in report
    assert "![S2](samples/newer.webp)" in report
    assert "![observed](samples/observed.gif)" in report

    record_stages(directory, 30, {"S2": [directory.samples / "iter_S2.mp4", tmp_path / "a b.ply"]})
    report = write_report(directory, "seed = 0", "test", 1.0).read_text()
    assert '<video src="samples/iter_S2.mp4" controls loop muted></video>' in report
    assert f"[a b.ply]({tmp_path.as_posix()}/a%20b.ply)" in report


def test_a_writer_that_breaks_its_contract_is_the_plugins_error(tmp_path):
    class Bad:
        @coopkit.hookimpl
        def coopkit_register_writers(self, registry):
            registry.add("b x", f"{MODULE}:returns_nothing")
            registry.add("b y", f"{MODULE}:returns_a_missing_file")
            registry.add("b z", f"{MODULE}:raises")

    host = PluginHost(entry_points=[], extra={"bad": Bad()}, disabled=set(), strict=True)
    batch = torch.zeros(2, 3)
    for layout, expected in (
        ("b x", "returned None; a writer must return the list of files it wrote"),
        ("b y", "returned files that do not exist"),
        ("b z", "failed writing .*: ZeroDivisionError"),
    ):
        writer = sample_writer(layout, host.registries.writers)
        with pytest.raises(PluginError, match=f"'{layout}' from plugin 'bad' {expected}"):
            writer(batch, tmp_path / "out")


def returns_nothing(batch, stem, *, value_range, reference=None):
    stem.with_suffix(".txt").write_text("x")


def returns_a_missing_file(batch, stem, *, value_range, reference=None):
    return [stem.with_suffix(".png")]


def raises(batch, stem, *, value_range, reference=None):
    return 1 / 0


def test_two_writers_for_one_layout_are_a_warning_naming_both(tmp_path):
    class Other:
        @coopkit.hookimpl
        def coopkit_register_writers(self, registry):
            registry.add("b c d h w", f"{MODULE}:write_voxel_slices")

    host = PluginHost(
        entry_points=[],
        extra={"voxel-writer": VoxelWriterPlugin(), "other": Other()},
        disabled=set(),
        strict=True,
    )
    with pytest.warns(CoopkitWarning, match="more than one plugin.*no samples are written"):
        assert (
            write_samples(
                torch.zeros(1, 1, 4, 4, 4),
                tmp_path / "x",
                "b c d h w",
                writers=host.registries.writers,
            )
            == []
        )


def test_a_missing_writer_mentions_a_plugin_that_failed_to_load():
    from importlib.metadata import EntryPoint

    broken = EntryPoint(name="voxels", value="coopkit_no_such_voxels_xyz", group="coopkit")
    host = PluginHost(entry_points=[broken], disabled=set(), strict=False)
    with pytest.warns(CoopkitWarning) as got:
        assert sample_writer("b c d h w", host.registries.writers) is None
    message = str(got[0].message)
    assert "(none at all)" in message
    assert "plugin 'voxels' failed to load: importing: ModuleNotFoundError" in message
    assert "run `coopkit plugins`" in message


def test_write_grid_keeps_images_as_one_png_and_hands_other_layouts_to_their_writer(tmp_path):
    host = voxel_host(with_writer=True)
    images = torch.rand(6, 3, 5, 5) * 2 - 1
    (grid,) = write_grid(images, tmp_path / "g.png", "b c h w", columns=3)
    assert Image.open(grid).size == (3 * 7 + 2, 2 * 7 + 2)  # 3 columns, 2 rows, 2 px padding
    written = write_grid(
        torch.rand(2, 1, 4, 4, 4), tmp_path / "v.png", "b c d h w", writers=host.registries.writers
    )
    assert [p.name for p in written] == ["v_slices.png", "v.npy"]


def test_formats_reach_a_writer_that_takes_them_and_are_refused_by_one_that_does_not(tmp_path):
    asked: list[object] = []

    def choosy(batch, stem, *, value_range, reference=None, formats=None):
        asked.append(formats)
        path = Path(f"{stem}.{(formats or ['png'])[0]}")
        path.write_bytes(b"x")
        return [path]

    def plain(batch, stem, *, value_range, reference=None):
        path = Path(f"{stem}.png")
        path.write_bytes(b"x")
        return [path]

    batch = torch.zeros(2, 1, 4, 4)
    written = SampleWriter("b c h w", "choosy", choosy)(batch, tmp_path / "a", formats=["npy"])
    assert written == [tmp_path / "a.npy"] and asked == [["npy"]]
    assert SampleWriter("b c h w", "choosy", choosy)(batch, tmp_path / "b") == [tmp_path / "b.png"]
    assert asked[-1] is None  # not asked: the writer's own default
    assert SampleWriter("b c h w", "plain", plain)(batch, tmp_path / "c") == [tmp_path / "c.png"]
    with pytest.raises(UserError, match="from plugin 'plain' writes only its default files"):
        SampleWriter("b c h w", "plain", plain)(batch, tmp_path / "d", formats=["obj"])
    assert not (tmp_path / "d.png").exists()
