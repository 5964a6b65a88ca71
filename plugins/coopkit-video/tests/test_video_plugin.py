"""coopkit-video: the spatio-temporal nets, the data sources, the writers and the recipes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from coopkit_video.data import ProceduralDynamicTexture, ProceduralParams, VideoClip, VideoParams
from coopkit_video.nets import (
    SpatioTemporalDescriptor,
    SpatioTemporalGenerator,
    STDescriptorParams,
    STGeneratorParams,
)
from coopkit_video.writer import to_uint8, write_gif, write_mp4
from PIL import Image
from typer.testing import CliRunner

import coopkit
from coopkit.cli import app_with_plugins
from coopkit.errors import DataError, RecipeError
from coopkit.evaluation import evaluate
from coopkit.plugins import default_host
from coopkit.recipe import load_recipe, resolve_components
from coopkit.testing import check_data_source, check_energy_model, check_latent_model

RECIPES = Path(__file__).parents[1] / "src" / "coopkit_video" / "recipes"
SHAPE = (3, 8, 16, 16)


def test_descriptor_conformance_and_output():
    params = STDescriptorParams(channels=[6, 4, 2], reference_std=0.5)
    model = SpatioTemporalDescriptor(params, shape=SHAPE)
    check_energy_model(model, SHAPE)
    assert model.net(torch.zeros(1, *SHAPE)).shape == (1, 2, 1, 1, 1)


def top_map(stride: int, clip: torch.Tensor, padding: str = "zeros") -> torch.Tensor:
    """The descriptor's last map over time (10 units × positions) for one 32-frame clip."""
    kernel = 3 if stride == 1 else 6
    params = STDescriptorParams(
        channels=[6, 4, 10],
        kernel=6,
        temporal_kernel=kernel,
        temporal_stride=stride,
        temporal_padding=padding,
    )
    torch.manual_seed(0)
    model = SpatioTemporalDescriptor(params, shape=tuple(clip.shape[1:]))
    with torch.no_grad():
        return model.net(clip).flatten(2)[0]


def test_temporal_stride_one_scores_every_window_of_time_alike():
    """At stride 1 the top unit at position n sees frames 2n − 6 … 2n + 7 only, and the same
    window shifted by two frames gives the next position's score (stationary in time). At the
    paper's stride 2 a top unit sees 36 frames, 8n − 14 … 8n + 21: every one reaches past an end of
    a 32-frame clip into the padding, so no two score the same window — f knows where in the clip
    a frame is."""
    torch.manual_seed(1)
    clip = torch.randn(1, 3, 32, 8, 8)
    shifted = torch.roll(clip, shifts=2, dims=2)
    stationary, after_shift = top_map(1, clip), top_map(1, shifted)
    assert stationary.shape == (10, 16)
    torch.testing.assert_close(after_shift[:, 4:13], stationary[:, 3:12])
    assert not torch.allclose(stationary[:, 4:13], stationary[:, 3:12])

    first_frame_changed = clip.clone()
    first_frame_changed[:, :, 0] += 1
    reach = (top_map(1, first_frame_changed) != stationary).any(0)
    assert reach.tolist() == [True] * 4 + [False] * 12
    paper, paper_after_shift = top_map(2, clip), top_map(2, torch.roll(clip, shifts=8, dims=2))
    assert paper.shape == (10, 4)
    for n in range(3):
        assert not torch.allclose(paper_after_shift[:, n + 1], paper[:, n])


def test_without_temporal_padding_f_scores_only_windows_inside_the_clip():
    """With ``temporal_padding = "none"`` the top map is the zero-padded one's positions 3…12,
    those whose 14 frames lie inside the clip: f no longer sees where the clip starts or ends.
    The first frame then reaches one top unit (the padded net's: four), and its input gradient —
    the Langevin drift — is the plain convolution's."""
    torch.manual_seed(1)
    clip = torch.randn(1, 3, 32, 8, 8)
    inside = top_map(1, clip, padding="none")
    assert inside.shape == (10, 10)
    torch.testing.assert_close(inside, top_map(1, clip)[:, 3:13])
    first_frame_changed = clip.clone()
    first_frame_changed[:, :, 0] += 1
    reach = (top_map(1, first_frame_changed, padding="none") != inside).any(0)
    assert reach.tolist() == [True] + [False] * 9

    params = STDescriptorParams(
        channels=[6, 4, 10], kernel=6, temporal_kernel=3, temporal_stride=1, temporal_padding="none"
    )
    model = SpatioTemporalDescriptor(params, shape=(3, 32, 8, 8))
    first = model.net[0]
    plain = torch.nn.Conv3d(3, 6, 6, stride=2, padding=(0, 2, 2))
    plain.load_state_dict(first.state_dict())
    x = clip.clone().requires_grad_()
    (grad,) = torch.autograd.grad(first(x).square().sum(), x)
    (expected,) = torch.autograd.grad(plain(x).square().sum(), x)
    torch.testing.assert_close(grad, expected)


def test_circular_temporal_padding_scores_a_rolled_clip_alike():
    """With ``temporal_padding = "circular"`` time wraps round: the clip rolled by two frames (the
    first layer's stride) gives the top map rolled by one position, so f scores the clip played
    from another frame as it scores the clip, and every frame — the first and last too — reaches
    seven top units, as the middle frames of the zero-padded clip do (its first frame: four)."""
    torch.manual_seed(1)
    clip = torch.randn(1, 3, 32, 8, 8)
    looped = top_map(1, clip, padding="circular")
    assert looped.shape == (10, 16)
    rolled = top_map(1, torch.roll(clip, shifts=2, dims=2), padding="circular")
    torch.testing.assert_close(rolled, torch.roll(looped, shifts=1, dims=1))
    torch.testing.assert_close(looped[:, 3:13], top_map(1, clip)[:, 3:13])
    reach = {}
    for frame in (0, 13, 31):
        changed = clip.clone()
        changed[:, :, frame] += 1
        reach[frame] = (top_map(1, changed, padding="circular") != looped).any(0)
        assert int(reach[frame].sum()) == 7, frame
    assert reach[31][[0, 15]].all()  # the last frame's windows wrap round to the first position


def test_circular_padding_needs_as_many_frames_as_it_wraps():
    short = STDescriptorParams(temporal_kernel=8, temporal_padding="circular")
    with pytest.raises(ValueError, match="wraps 3 frames round.*data.frames"):
        SpatioTemporalDescriptor(short, shape=(3, 8, 16, 16))


def test_unpadded_windows_that_miss_frames_are_explained():
    short = STDescriptorParams(
        kernel=6, temporal_kernel=3, temporal_stride=1, temporal_padding="none"
    )
    with pytest.raises(ValueError, match="too short.*data.frames.*temporal_padding"):
        SpatioTemporalDescriptor(short, shape=(3, 8, 16, 16))
    # the paper's kernels 5 at stride 2: 32 − 5 is odd, the last frame lies in no window
    papers = STDescriptorParams(temporal_padding="none")
    with pytest.raises(ValueError, match="last frames.*no Langevin drift.*multiple of the stride"):
        SpatioTemporalDescriptor(papers, shape=(3, 32, 16, 16))


def test_temporal_stride_one_needs_an_odd_temporal_kernel():
    with pytest.raises(ValueError, match="odd temporal_kernel"):
        STDescriptorParams(temporal_stride=1, temporal_kernel=6)


def test_generator_conformance_and_latent_shape():
    params = STGeneratorParams(latent_channels=3, temporal_channels=[8, 6], upsampling_channels=[4])
    generator = SpatioTemporalGenerator(params, shape=SHAPE)
    assert generator.latent_shape == (3, 1, 1, 1)
    check_latent_model(generator, SHAPE)


def test_sizes_the_nets_cannot_make_are_explained():
    with pytest.raises(ValueError, match="frame count divisible by 8"):
        SpatioTemporalGenerator(STGeneratorParams(), shape=(3, 12, 16, 16))
    with pytest.raises(RecipeError, match="generator.*frame sides by 4"):
        coopkit.build("dyntex", ["data.size=18", "output.dir=/tmp/never-written"])


@pytest.mark.parametrize("pattern", ["fire", "ocean", "flicker"])
def test_procedural_source_scales_the_clip_or_each_frame(pattern):
    source = ProceduralDynamicTexture(ProceduralParams(pattern=pattern, frames=8, size=16))
    check_data_source(source)
    clip = source[0]
    assert clip.shape == (3, 8, 16, 16)
    assert clip.min() == pytest.approx(-1.0, abs=1e-5) and clip.max() == pytest.approx(1.0)
    framewise = ProceduralDynamicTexture(
        ProceduralParams(pattern=pattern, frames=8, size=16, scaling="per-frame")
    )[0]
    per_frame = framewise.transpose(0, 1).flatten(1)
    assert torch.allclose(per_frame.min(1).values, torch.full((8,), -1.0), atol=1e-5)
    assert torch.allclose(per_frame.max(1).values, torch.ones(8), atol=1e-5)


def test_unknown_pattern_is_a_data_error():
    with pytest.raises(DataError, match="fire, ocean, flicker"):
        ProceduralDynamicTexture(ProceduralParams(pattern="lava"))


def moving_square(frames: int = 12, size: int = 20) -> np.ndarray:
    video = np.zeros((frames, size, size, 3), dtype=np.uint8)
    for t in range(frames):
        video[t, 4:10, t : t + 6] = (255, 128, 0)
    return video


@pytest.mark.parametrize("kind", ["mp4", "gif", "folder", "npy"])
def test_a_real_clip_reads_from_every_kind_of_input(tmp_path, kind):
    video = moving_square()
    if kind == "mp4":
        path = write_mp4(video, tmp_path / "clip.mp4")
    elif kind == "gif":
        path = write_gif(video, tmp_path / "clip.gif")
    elif kind == "folder":
        path = tmp_path / "frames"
        path.mkdir()
        for t, frame in enumerate(video):
            Image.fromarray(frame).save(path / f"{t:03d}.png")
    else:
        path = tmp_path / "clip.npy"
        np.save(path, video)
    source = VideoClip(
        VideoParams(path=str(path), frames=4, start=2, stride=2, size=16, scaling="fixed")
    )
    check_data_source(source)
    clip = source[0]
    assert clip.shape == (3, 4, 16, 16)
    # the orange square moves right by 2 pixels (of 20) per kept frame
    red = clip[0]
    centres = [(red[t] > 0).float().mean(0).argmax().item() for t in range(4)]
    assert centres == sorted(centres) and centres[-1] > centres[0]


def test_missing_or_short_clips_say_what_to_do(tmp_path):
    with pytest.raises(DataError, match="no such file or folder"):
        VideoClip(VideoParams(path=str(tmp_path / "nope.mp4")))
    np.save(tmp_path / "short.npy", moving_square(frames=3))
    with pytest.raises(DataError, match="only 3 frames.*lower data.frames"):
        VideoClip(VideoParams(path=str(tmp_path / "short.npy"), frames=8))


def test_gif_and_mp4_writers_round_trip(tmp_path):
    import av

    clips = to_uint8(torch.rand(1, 3, 5, 8, 8) * 2 - 1, (-1.0, 1.0))
    assert clips.shape == (1, 5, 8, 8, 3) and clips.dtype == np.uint8
    gif = write_gif(clips[0], tmp_path / "a.gif")
    assert Image.open(gif).n_frames == 5
    mp4 = write_mp4(moving_square(), tmp_path / "a.mp4")
    with av.open(str(mp4)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 12


def test_every_shipped_recipe_validates():
    host = default_host()
    for path in sorted(RECIPES.glob("*.toml")):
        resolve_components(load_recipe(path, None, host.registries.recipes), host.registries)
    assert {"dyntex", "dyntex-paper"} <= set(host.registries.recipes.names())


def coopkit_cli(*args: object) -> SimpleNamespace:
    """``coopkit ARGS`` in-process (typer's CliRunner) with the installed plugins' commands:
    (returncode, stdout, stderr) as a real process would give; a bug raises its exception."""
    result = CliRunner().invoke(app_with_plugins(default_host()), [str(arg) for arg in args])
    if not isinstance(result.exception, SystemExit | None):
        raise result.exception
    return SimpleNamespace(returncode=result.exit_code, stdout=result.stdout, stderr=result.stderr)


SMALL_DYNTEX = [
    "train.iterations=2",
    "data.frames=8",
    "data.size=16",
    "sampler.steps=2",
    "generator.upsampling_channels=[4]",
    "descriptor.channels=[6, 4, 2]",
]


def test_dyntex_runs_samples_and_evaluates_beside_lds(tmp_path, monkeypatch):
    out = tmp_path / "run"
    trained = coopkit_cli("run", "dyntex", *SMALL_DYNTEX, f"output.dir={out}", "--no-progress")
    assert trained.returncode == 0, trained.stderr
    samples = {p.name for p in (out / "samples").iterdir()}
    assert {
        "observed.gif",
        "observed.mp4",
        "iter_0000002_S2_revision.gif",
        "iter_0000002_S2_revision.mp4",
        "iter_0000002_S2_revision_frames.png",
    } <= samples
    assert Image.open(out / "samples" / "iter_0000002_S2_revision.gif").n_frames == 8
    report = (out / "report.md").read_text()  # shows what the video writer returned
    assert "![S2](samples/iter_0000002_S2_revision.gif)" in report
    assert '<video src="samples/iter_0000002_S2_revision.mp4"' in report
    assert "![S2](samples/iter_0000002_S2_revision_frames.png)" in report
    assert "![observed](samples/observed.gif)" in report
    metrics = "psnr,ssim,motion,nearest-copy,chain-diversity,swd"
    result = coopkit_cli("evaluate", out, "--metric", metrics)
    assert result.returncode == 0, result.stderr
    table = json.loads((out / "evaluation.json").read_text())["results"]
    assert set(table) == {
        "coopkit (S2 revision)",
        "coopkit (S1 generator)",
        "lds",
        "static-mean-frame",
        "shuffled-frames",
        "rolled-frames",
    }
    for method in table.values():
        assert np.isfinite(method["psnr"]["mean"]) and -1 <= method["ssim"]["mean"] <= 1 + 1e-6
    assert table["lds"]["psnr"]["mean"] < 60  # a fitted model, not a replay of the clip
    assert table["static-mean-frame"]["motion"]["mean"] == 0
    assert table["shuffled-frames"]["nearest-copy"]["mean"] == 100  # real frames: copies
    assert table["rolled-frames"]["nearest-copy"]["mean"] == 100
    for method in table.values():
        assert np.isfinite(method["swd"]["mean"]) and method["chain-diversity"]["mean"] >= 0
    sampled = coopkit_cli("sample", out, "-n", "2")
    assert sampled.returncode == 0, sampled.stderr
    assert any(
        p.name.endswith("S2_revision.gif") and p.name.startswith("fresh")
        for p in (out / "samples").iterdir()
    )
    zero = coopkit_cli("evaluate", out, "--metric", "psnr", "-n", "0")
    assert zero.returncode == 2 and "-n" in zero.stderr  # a user error, no traceback
    lone = tmp_path / "elsewhere" / "model.safetensors"
    lone.parent.mkdir()
    lone.write_bytes((out / "checkpoints" / "iter_0000002.safetensors").read_bytes())
    monkeypatch.chdir(tmp_path)  # where a stray runs/ folder would appear
    beside = coopkit_cli("evaluate", lone, "--metric", "psnr", "--baseline", "none")
    assert beside.returncode == 0, beside.stderr
    assert (lone.parent / "evaluation.json").exists() and not (tmp_path / "runs").exists()


def test_dyntex_trains_writes_and_evaluates_on_an_accelerator(tmp_path, accelerator):
    small = [*SMALL_DYNTEX, f"train.device={accelerator}", f"output.dir={tmp_path / 'run'}"]
    run = coopkit.build("dyntex", small).fit(progress=False)
    assert next(run.descriptor.parameters()).device.type == accelerator.type
    assert Image.open(tmp_path / "run" / "samples" / "iter_0000002_S2_revision.gif").n_frames == 8
    table = evaluate(run, ["psnr", "ssim", "motion", "chain-diversity"], n=2).as_dict()
    for method in table.values():
        for figures in method.values():
            assert np.isfinite(figures["mean"])


def test_a_video_file_trains_like_the_procedural_clip(tmp_path):
    """[data] name = "video": an MP4 made from a procedural clip trains through the same recipe."""
    from coopkit_video.procedural import render

    frames = (render("ocean", 8, (16, 16), seed=3).permute(1, 2, 3, 0).numpy() * 255).astype(
        np.uint8
    )
    clip = write_mp4(frames, tmp_path / "ocean.mp4")
    recipe = tmp_path / "mine.toml"
    text = (RECIPES / "dyntex.toml").read_text()
    text = text.replace('name = "procedural-dyntex"', 'name = "video"')
    text = text.replace('pattern = "fire"', f'path = "{clip}"').replace("size = 48", "size = 16")
    text = re.sub(r"frames = \d+", "frames = 8", text)
    recipe.write_text(text)
    overrides = [
        "train.iterations=2",
        "sampler.steps=2",
        "generator.upsampling_channels=[4]",
        "descriptor.channels=[6, 4, 2]",
        f"output.dir={tmp_path / 'run'}",
    ]
    run = coopkit.build(recipe, overrides).fit(progress=False)
    assert run.data.shape == (3, 8, 16, 16)
    assert (tmp_path / "run" / "samples" / "iter_0000002_S2_revision.gif").exists()


@pytest.mark.parametrize("layout", ["t h w c", "t c h w", "t h w", "float255"])
def test_npy_clips_in_every_documented_layout(tmp_path, layout):
    video = moving_square()  # (t, h, w, 3) uint8
    array = {
        "t h w c": video,
        "t c h w": video.transpose(0, 3, 1, 2),
        "t h w": video[..., 0],
        "float255": video.astype(np.float32),
    }[layout]
    np.save(tmp_path / "clip.npy", array)
    clip = VideoClip(
        VideoParams(path=str(tmp_path / "clip.npy"), frames=4, size=None, scaling="fixed")
    )[0]
    assert clip.shape == (3, 4, 20, 20)
    assert float(clip[0, 0, 5, 2]) == pytest.approx(1.0)  # the red channel of the square is 255


def test_frame_folders_are_read_in_natural_order_and_bad_frames_are_named(tmp_path):
    video = moving_square(frames=11)
    for t, frame in enumerate(video):
        Image.fromarray(frame).save(
            tmp_path / f"frame_{t}.png"
        )  # frame_10 sorts before frame_2 as text
    clip = VideoClip(VideoParams(path=str(tmp_path), frames=11, size=None, scaling="fixed"))[0]
    red = clip[0]
    centres = [(red[t] > 0).float().mean(0).argmax().item() for t in range(11)]
    assert centres == sorted(centres)
    (tmp_path / "frame_11.png").write_text("broken")
    with pytest.raises(DataError, match="frame_11.png is not a readable image"):
        VideoClip(VideoParams(path=str(tmp_path), frames=12, size=None))


def test_video_psnr_is_the_mean_of_the_frames_psnr():
    from coopkit.metrics.similarity import PSNR

    observed = torch.zeros(1, 1, 2, 4, 4)
    sample = torch.zeros(1, 1, 2, 4, 4)
    sample[:, :, 0] = 0.1  # frame 0: MSE 0.01 → 20 dB with data range 1
    sample[:, :, 1] = 0.01  # frame 1: MSE 1e-4 → 40 dB
    value = PSNR(PSNR.Params()).compute(sample, observed, (0.0, 1.0))
    assert value.mean == pytest.approx(30.0, abs=1e-3)


def clip_from(path, **params):
    return VideoClip(VideoParams(path=str(path), frames=4, size=None, scaling="fixed", **params))


def test_an_ambiguous_npy_layout_is_an_error_naming_data_channels_last(tmp_path):
    """(t, 3, w, 3) could be either layout: it was read as (t, h, w, c) without a word."""
    video = moving_square()[:, :, :3]  # (12, 20, 3, 3): axis 1 has 20 entries, fine
    np.save(tmp_path / "fine.npy", video)
    assert clip_from(tmp_path / "fine.npy")[0].shape == (3, 4, 20, 3)
    ambiguous = moving_square()[:, :3]  # (12, 3, 20, 3)
    np.save(tmp_path / "both.npy", ambiguous)
    with pytest.raises(DataError, match=r"both axis 1 and axis 3.*data.channels_last = true"):
        clip_from(tmp_path / "both.npy")
    assert clip_from(tmp_path / "both.npy", channels_last=True)[0].shape == (3, 4, 3, 20)
    assert clip_from(tmp_path / "both.npy", channels_last=False)[0].shape == (3, 4, 20, 3)
    np.save(tmp_path / "neither.npy", np.zeros((12, 5, 6, 7), dtype=np.uint8))
    with pytest.raises(DataError, match=r"neither axis 1 nor 3.*\(t, h, w, c\)"):
        clip_from(tmp_path / "neither.npy")


def test_a_npz_clip_is_its_only_array_or_data_key(tmp_path):
    """The first array of a .npz was taken, whatever else the file held."""
    np.savez(tmp_path / "one.npz", clip=moving_square())
    assert clip_from(tmp_path / "one.npz")[0].shape == (3, 4, 20, 20)
    np.savez(tmp_path / "two.npz", mask=np.zeros((12, 20, 20)), clip=moving_square())
    with pytest.raises(DataError, match=r"holds 2 arrays .*: set data.key"):
        clip_from(tmp_path / "two.npz")
    clip = clip_from(tmp_path / "two.npz", key="clip")[0]
    assert float(clip[0, 0, 5, 2]) == pytest.approx(1.0)


def test_float_clips_outside_0_1_or_0_255_are_refused_not_clipped(tmp_path):
    """A clip in [−1, 1] was read as [0, 1] and its negative half clipped to black."""
    np.save(tmp_path / "signed.npy", moving_square().astype(np.float32) / 127.5 - 1)
    with pytest.raises(DataError, match=r"span \[-1, 1\].*\[0, 1\] or in \[0, 255\]"):
        clip_from(tmp_path / "signed.npy")
    np.save(tmp_path / "unit.npy", moving_square().astype(np.float32) / 255)
    assert float(clip_from(tmp_path / "unit.npy")[0][0, 0, 5, 2]) == pytest.approx(1.0)


def test_rgba_clips_lose_their_alpha_as_rgba_images_do(tmp_path):
    video = np.concatenate([moving_square(), np.zeros((12, 20, 20, 1), np.uint8)], axis=-1)
    np.save(tmp_path / "rgba.npy", video.transpose(0, 3, 1, 2))  # (t, 4, h, w)
    clip = clip_from(tmp_path / "rgba.npy")[0]
    assert clip.shape == (3, 4, 20, 20) and float(clip[0, 0, 5, 2]) == pytest.approx(1.0)


def test_frame_folders_skip_hidden_files_and_an_empty_one_says_so(tmp_path):
    for t, frame in enumerate(moving_square(frames=4)):
        Image.fromarray(frame).save(tmp_path / f"{t}.png")
    (tmp_path / "._0.png").write_bytes(b"\x00\x05")  # what macOS leaves beside copied files
    assert clip_from(tmp_path)[0].shape == (3, 4, 20, 20)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no frames in it.*png"):
        clip_from(tmp_path / "empty")


def test_the_nets_use_coopkits_one_weight_initialisation():
    from coopkit_video import nets

    from coopkit.core import init_normal

    assert nets.init_normal is init_normal
