"""Commands on a run never overwrite an earlier output."""

from __future__ import annotations

from coopkit.outputs import fresh_path


def test_fresh_path_numbers_taken_names_only(tmp_path):
    assert fresh_path(tmp_path, "evaluation", ".json") == tmp_path / "evaluation.json"
    (tmp_path / "evaluation.json").write_text("{}")
    assert fresh_path(tmp_path, "evaluation", ".json") == tmp_path / "evaluation_2.json"
    (tmp_path / "fresh_seed12_S1_draft.png").write_text("")
    assert fresh_path(tmp_path, "fresh_seed1") == tmp_path / "fresh_seed1"  # not a prefix clash
    (tmp_path / "fresh_seed1_S1_draft.png").write_text("")
    assert fresh_path(tmp_path, "fresh_seed1") == tmp_path / "fresh_seed1_2"
    (tmp_path / "completion").mkdir()
    assert fresh_path(tmp_path, "completion") == tmp_path / "completion_2"


def test_a_gif_keeps_its_frames(tmp_path):
    import numpy as np
    from PIL import Image

    from coopkit.media.video import write_gif

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
