"""coopkit-video's sample writer: registered for ``b c t h w`` through the plugin's own hook, the
files it writes and returns, and the quality of its GIFs."""

from __future__ import annotations

from importlib.metadata import entry_points

import numpy as np
import torch
from coopkit_video.writer import write_gif
from PIL import Image

from coopkit.media import sample_writer
from coopkit.plugins import PluginHost


def test_the_plugin_registers_the_video_writer_through_its_entry_point(tmp_path):
    video = [ep for ep in entry_points(group="coopkit") if ep.name == "video"]
    host = PluginHost(entry_points=video, disabled=set(), strict=True)
    writer = sample_writer("b c t h w", host.registries.writers)
    assert writer is not None and writer.plugin == "video"
    assert host.registries.writers.get("b c t h w").modality == "video"

    clips = torch.rand(2, 3, 4, 8, 8) * 2 - 1
    observed = -torch.ones(1, 3, 4, 8, 8)  # black
    written = writer(clips, tmp_path / "samples" / "iter_S2", (-1.0, 1.0), observed)
    names = [path.name for path in written]
    assert names == ["iter_S2.gif", "iter_S2.mp4", "iter_S2_frames.png"]
    assert all(path.is_file() for path in written)
    gif = Image.open(written[0])
    assert gif.n_frames == 4
    # observed clip (black) left of the two chains: 3 clips side by side, enlarged to 128 px
    assert gif.size == (3 * 128 + 2 * 2, 128)
    assert np.asarray(gif.convert("RGB"))[64, 64].max() == 0
    strip = Image.open(written[2])
    assert strip.size[1] == 3 * (8 + 2)  # one row per clip, observed included


def test_a_gif_keeps_its_frames(tmp_path):
    ramp = np.linspace(0, 255, 64)
    rows, columns = np.meshgrid(ramp, ramp, indexing="ij")
    frames = np.stack(
        [np.stack([rows, np.roll(columns, 8 * t, axis=1), 255 - rows], -1) for t in range(6)]
    ).astype(np.uint8)
    path = write_gif(frames, tmp_path / "clip.gif")
    gif = Image.open(path)
    errors = []
    for index in range(len(frames)):
        gif.seek(index)
        errors.append(np.abs(np.asarray(gif.convert("RGB"), dtype=float) - frames[index]).mean())
    assert gif.n_frames == 6
    assert max(errors) < 8  # of 255: a 256-colour palette of smooth ramps, no dithering
