"""What coopkit-image's data sources share: the held-out carve, scaling, fitting, registration,
and a short run on an image folder end to end."""

from __future__ import annotations

import numpy as np
import pytest
import tomli_w
import torch
from coopkit_image import image_set
from coopkit_image.image_set import carve, check_memory
from coopkit_image.imaging import exact_pixels, fit_batch, scale_batch
from PIL import Image

import coopkit
from coopkit.errors import DataError
from coopkit.plugins import default_host

SOURCES = {
    "image-folder": "coopkit_image.folder_data:ImageFolder",
    "mnist": "coopkit_image.classic_data:Mnist",
    "fashion-mnist": "coopkit_image.classic_data:FashionMnist",
    "digits": "coopkit_image.classic_data:Digits",
    "arrays": "coopkit_image.array_data:ImageArrays",
}


def test_carve_is_disjoint_complete_and_pinned():
    parts = {split: carve(20, split, 0.1, 0) for split in ("train", "validation", "test")}
    assert parts["validation"].tolist() == [1, 18]  # pinned: a held-out split must never move
    assert parts["test"].tolist() == [4, 5]
    assert sorted(np.concatenate(list(parts.values())).tolist()) == list(range(20))
    assert carve(20, "test", 0.1, 1).tolist() != [4, 5]
    assert len(carve(1000, "test", 0.25)) == 250 and len(carve(1000, "train", 0.25)) == 500
    assert len(carve(3, "test", 0.1)) == 1  # at least one held-out example when asked for
    assert carve(5, "test", 0.0).size == 0


def test_carve_gives_back_to_train_what_the_data_provides_separately():
    train = carve(20, "train", 0.1, 0, carved=["validation"])
    assert train.tolist() == sorted(carve(20, "train", 0.1, 0).tolist() + [4, 5])
    assert carve(20, "validation", 0.1, 0, carved=["validation"]).tolist() == [1, 18]


def test_scale_batch_maths():
    images = torch.tensor([[[0.0, 51.0], [255.0, 102.0]], [[10.0, 10.0], [10.0, 10.0]]])
    fixed = scale_batch(images, "fixed")
    assert torch.allclose(fixed[0], torch.tensor([[-1.0, -0.6], [1.0, -0.2]]))
    minmax = scale_batch(images, "minmax")
    assert torch.allclose(minmax[0], fixed[0])  # 0..255 spans its own range already
    assert torch.equal(minmax[1], -torch.ones(2, 2))  # constant: −1
    shifted = scale_batch(images[:1] + 100, "minmax")
    assert torch.allclose(shifted, minmax[:1])  # each image's own min and max
    assert torch.allclose(
        scale_batch(torch.tensor([[0.0, 4.0, 16.0]]), "fixed", (0, 16)),
        torch.tensor([[-1.0, -0.5, 1.0]]),
    )
    assert scale_batch(torch.tensor([[300.0]]), "fixed").item() == 1.0  # overshoot clamped


def test_fit_batch_crops_to_the_aspect_ratio_then_resizes():
    images = torch.zeros(2, 1, 4, 8)
    images[..., 2:6] = 1  # the central square is ones
    assert torch.equal(fit_batch(images, 4), torch.ones(2, 1, 4, 4))
    assert fit_batch(images, [2, 4]).shape == (2, 1, 2, 4)
    assert fit_batch(images, None) is images and fit_batch(images, [4, 8]) is images


def test_exact_pixels_keeps_uint8_only_where_it_is_exact():
    pixels, unit = exact_pixels(np.array([[0, 7, 255]], dtype=np.uint8))
    assert pixels.dtype == torch.uint8 and unit == 1.0
    pixels, unit = exact_pixels(np.array([0, 3, 255], dtype=np.float32) / 256, 1 / 256)
    assert pixels.tolist() == [0, 3, 255] and unit == 1 / 256
    assert torch.equal(pixels.float() * unit, torch.tensor([0, 3, 255]) / 256)
    assert exact_pixels(np.array([0.0, 16.0, 3.0]))[0].dtype == torch.uint8  # digits: 0..16
    for values in ([0.5, 1.0], [256.0], [-1.0, 2.0], [np.nan], [-0.0, 1.0]):
        floats, unit = exact_pixels(np.array(values, dtype=np.float32))
        assert floats.dtype == torch.float32 and unit == 1.0
        assert floats.numpy().tobytes() == np.array(values, dtype=np.float32).tobytes()


def test_check_memory_allows_half_the_machine(monkeypatch):
    monkeypatch.setattr(image_set, "physical_memory", lambda: 2**30)
    check_memory(2**29, "these images", "set something")
    with pytest.raises(DataError, match=r"these images need about 0.5 GiB.*1.0 GiB: set something"):
        check_memory(2**29 + 1, "these images", "set something")
    monkeypatch.undo()
    assert image_set.physical_memory() > 2**20  # this machine's, from sysconf


def test_every_source_is_registered_with_a_split_and_described_parameters():
    registry = default_host().registries["datasets"]
    for name, target in SOURCES.items():
        entry = registry.get(name)
        assert entry.target == target and entry.modality == "image"
        fields = entry.load().Params.model_fields
        assert "split" in fields and fields["split"].default == "train"
        assert fields["split"].annotation.__args__ == ("train", "validation", "test")
        undescribed = [field for field, info in fields.items() if not info.description]
        assert not undescribed, f"{name}: no description for {undescribed}"


def test_a_short_run_on_an_image_folder_and_its_held_out_split(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "pictures").mkdir()
    for i in range(12):
        picture = rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)
        Image.fromarray(picture).save(tmp_path / "pictures" / f"{i:02d}.png")
    recipe = {
        "schema_version": 1,
        "description": "image folder, tiny",
        "seed": 0,
        "data": {"name": "image-folder", "root": str(tmp_path / "pictures"), "size": 16},
        "descriptor": {
            "name": "texture-descriptor",
            "reference_std": 0.5,
            "channels": [4, 4, 2],
            "kernels": [5, 3, 3],
            "strides": [2, 1, 1],
        },
        "generator": {
            "name": "texture-generator",
            "noise_std": 0.3,
            "latent_channels": 4,
            "channels": [8, 4],
        },
        "sampler": {"name": "langevin", "steps": 2, "step_size": 0.01},
        "train": {"iterations": 2, "chains": 2, "batch_size": 2, "device": "cpu"},
        "output": {"dir": str(tmp_path / "run"), "sample_every": 2, "checkpoint_every": 2},
    }
    (tmp_path / "recipe.toml").write_text(tomli_w.dumps(recipe))
    run = coopkit.build(tmp_path / "recipe.toml").fit(progress=False)
    assert run.iteration == 2 and run.shape == (3, 16, 16) and len(run.data) == 10
    assert (tmp_path / "run" / "checkpoints" / "iter_0000002.safetensors").exists()
    test = run.data_split("test")
    assert len(test) == 1 and not set(test.files) & set(run.data.files)
