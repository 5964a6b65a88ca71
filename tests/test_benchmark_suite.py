"""The fixed quality suite (benchmarks/suite.toml) and its fetch script's GIMP pattern reader."""

from __future__ import annotations

import importlib.util
import struct
import tomllib
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SUITE = tomllib.loads((ROOT / "benchmarks" / "suite.toml").read_text(encoding="utf-8"))
TEXTURES, CLIPS = SUITE["texture"], SUITE["clip"]
GIMP_BRICK = Path("/usr/share/gimp/2.0/patterns/Stone/brick.pat")

# The split was fixed on 2026-12-02, before any tuning: changing it needs a new suite, not an edit.
FIXED_HALVES = {
    "tuning": {
        "skimage-brick",
        "gimp-burlap",
        "skimage-grass",
        "gimp-granite1",
        "gimp-wood1",
        "gimp-leopard",
        "bikes-traffic",
        "bikes-fence",
        "procedural-fire",
    },
    "check": {
        "gimp-parque1",
        "gimp-brick",
        "skimage-gravel",
        "gimp-crinklepaper",
        "gimp-marble1",
        "gimp-leaves",
        "gimp-cracked",
        "carphone",
        "bunny-emerge",
        "bunny-stretch",
        "procedural-ocean",
        "procedural-flicker",
    },
}


def load_benchmark(name: str):
    spec = importlib.util.spec_from_file_location(
        f"benchmark_{name}", ROOT / "benchmarks" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_fetch():
    return load_benchmark("fetch")


def test_mnist_seeds_interval_is_the_student_t_one():
    """Mean and half-width of the 95 % interval over seeds, known by hand: 1, 2, 3 have mean 2
    and standard deviation 1, so the half-width is t(0.975, 2 dof) · 1 / √3 = 4.303 / √3."""
    mean_and_interval = load_benchmark("mnist_seeds").mean_and_interval
    assert mean_and_interval([1.0, 2.0, 3.0]) == pytest.approx((2.0, 4.303 / 3**0.5), rel=1e-4)
    mean, half = mean_and_interval([5.0])
    assert mean == 5.0 and half != half  # one seed: no interval (nan)
    # 11 seeds: t(0.975, 10 dof) = 2.228 (a table), not the normal 1.96
    values = [float(v) for v in range(11)]
    assert mean_and_interval(values)[1] == pytest.approx(2.228 * 3.3166 / 11**0.5, rel=1e-3)


def test_mnist_seeds_trains_what_is_neither_scored_nor_stopped():
    needs_training = load_benchmark("mnist_seeds").needs_training
    assert needs_training({"cpu_seconds": 0.0})  # new
    assert needs_training({"cpu_seconds": 9.0, "status": "trained"})  # trained, scoring cut off
    assert not needs_training({"status": "stopped: training diverged at iteration 9 …"})
    assert not needs_training({"status": "trained", "parzen": {}})


def write_pattern(path: Path, pixels: np.ndarray, name: str = "tiny") -> None:
    """A GIMP .pat file written by hand from the format: 5 big-endian uint32 + GPAT + name."""
    height, width = pixels.shape[:2]
    depth = 1 if pixels.ndim == 2 else pixels.shape[2]
    encoded = name.encode() + b"\0"
    header = struct.pack(">5I", 24 + len(encoded), 1, width, height, depth) + b"GPAT" + encoded
    path.write_bytes(header + pixels.astype(np.uint8).tobytes())


def test_the_suite_has_enough_items_of_every_kind():
    assert len(TEXTURES) >= 10
    assert {t["kind"] for t in TEXTURES} == {"regular", "stochastic", "structured"}
    assert {t["color"] for t in TEXTURES} == {"rgb", "gray"}
    real = [c for c in CLIPS if c["kind"] == "real"]
    assert len(real) >= 4
    assert {c["kind"] for c in CLIPS} == {"real", "procedural"}
    for clip in CLIPS:
        assert clip["frames"] >= 32 and clip["size"] == 48
    for texture in TEXTURES:
        assert texture["file"].startswith("benchmarks/data/textures/")
        assert texture["file"].endswith(".png") and 64 <= texture["size"] <= 256
    for clip in real:
        assert clip["path"].startswith("benchmarks/data/clips/")
        assert {"start", "stride", "crop"} <= clip.keys()


def test_the_halves_are_disjoint_non_empty_and_as_fixed():
    items = TEXTURES + CLIPS
    names = [item["name"] for item in items]
    assert len(names) == len(set(names))
    assert {item["half"] for item in items} == {"tuning", "check"}
    halves = {half: {i["name"] for i in items if i["half"] == half} for half in FIXED_HALVES}
    assert halves == FIXED_HALVES
    for half in FIXED_HALVES:
        in_half = [t for t in TEXTURES if t["half"] == half]
        assert {t["kind"] for t in in_half} == {"regular", "stochastic", "structured"}
        assert {t["color"] for t in in_half} == {"rgb", "gray"}
        assert any(c["kind"] == "real" and c["half"] == half for c in CLIPS)


def test_no_check_clip_shares_a_video_with_a_tuning_clip():
    videos = {
        half: {c["path"] for c in CLIPS if c["half"] == half and "path" in c}
        for half in FIXED_HALVES
    }
    assert not videos["tuning"] & videos["check"]


def test_segments_of_one_video_do_not_overlap():
    taken: dict[str, set[int]] = {}
    for clip in (c for c in CLIPS if c["kind"] == "real"):
        frames = set(range(clip["start"], clip["start"] + clip["frames"] * clip["stride"]))
        assert not taken.get(clip["path"], set()) & frames, clip["name"]
        taken.setdefault(clip["path"], set()).update(frames)


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_the_pattern_reader_returns_the_exact_pixels(tmp_path, depth):
    rng = np.random.default_rng(depth)
    pixels = rng.integers(0, 256, size=(3, 5, depth), dtype=np.uint8)
    path = tmp_path / "tiny.pat"
    write_pattern(path, pixels[..., 0] if depth == 1 else pixels, name="tíny")
    array = load_fetch().read_gimp_pattern(path)
    colour = pixels[..., :3] if depth >= 3 else pixels[..., 0]
    assert array.dtype == np.uint8
    np.testing.assert_array_equal(array, colour)


def test_the_pattern_reader_refuses_other_files(tmp_path):
    path = tmp_path / "not.pat"
    path.write_bytes(b"\x89PNG" + bytes(40))
    with pytest.raises(ValueError, match="not a version-1 GIMP pattern"):
        load_fetch().read_gimp_pattern(path)


@pytest.mark.skipif(not GIMP_BRICK.exists(), reason="Debian gimp-data is not installed")
def test_the_pattern_reader_reads_gimp_brick():
    array = load_fetch().read_gimp_pattern(GIMP_BRICK)
    assert array.shape == (96, 96, 3) and array.dtype == np.uint8
    assert array.std() > 10


@pytest.mark.parametrize("texture", TEXTURES, ids=lambda t: t["name"])
def test_fetched_textures_load_through_the_texture_source(texture):
    file = ROOT / texture["file"]
    if not file.exists():
        pytest.skip("run python benchmarks/fetch.py first")
    from coopkit_image.texture_data import TextureImage, TextureImageParams

    example = TextureImage(TextureImageParams(image=str(file), size=texture["size"])).example
    channels = 3 if texture["color"] == "rgb" else 1
    assert example.shape[-3:] == (channels, texture["size"], texture["size"])


@pytest.mark.slow
@pytest.mark.parametrize("clip", CLIPS, ids=lambda c: c["name"])
def test_fetched_clips_load_through_the_video_sources(clip):
    if clip["kind"] == "procedural":
        from coopkit_video.data import ProceduralDynamicTexture as Source
        from coopkit_video.data import ProceduralParams as Params

        keys = ("pattern", "frames", "size", "seed")
    else:
        if not (ROOT / clip["path"]).exists():
            pytest.skip("run python benchmarks/fetch.py first")
        from coopkit_video.data import VideoClip as Source
        from coopkit_video.data import VideoParams as Params

        keys = ("path", "frames", "start", "stride", "crop", "size")
    settings = {key: clip[key] for key in keys}
    if "path" in settings:
        settings["path"] = str(ROOT / settings["path"])
    example = Source(Params(**settings)).example
    assert example.shape[-4:] == (3, clip["frames"], clip["size"], clip["size"])
