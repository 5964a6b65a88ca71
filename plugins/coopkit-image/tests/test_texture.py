"""coopkit-image: the texture data source, the texture nets and the shipped recipes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from coopkit_image.layers import PhaseShift
from coopkit_image.texture_data import TextureImage, TextureImageParams
from coopkit_image.texture_nets import (
    TextureDescriptor,
    TextureDescriptorParams,
    TextureGenerator,
    TextureGeneratorParams,
)
from PIL import Image
from typer.testing import CliRunner

import coopkit
from coopkit.cli import app
from coopkit.errors import DataError, RecipeError
from coopkit.plugins import default_host
from coopkit.recipe import load_recipe, resolve_components
from coopkit.testing import check_data_source, check_energy_model, check_latent_model

RECIPES = Path(__file__).parents[1] / "src" / "coopkit_image" / "recipes"


@pytest.mark.parametrize("name", ["brick", "grass", "gravel"])
def test_bundled_textures_load_scaled_to_minus_one_one(name):
    source = TextureImage(TextureImageParams(image=name, size=32))
    check_data_source(source)
    assert source.shape == (1, 32, 32)
    assert float(source[0].min()) == pytest.approx(-1) and float(source[0].max()) == pytest.approx(
        1
    )


def test_an_image_file_keeps_its_colours_and_is_cropped_and_resized(tmp_path):
    array = np.zeros((40, 60, 3), dtype=np.uint8)
    array[..., 0] = 255  # pure red
    array[:, :10] = 0  # a black band that the centre crop removes
    Image.fromarray(array).save(tmp_path / "red.png")
    source = TextureImage(
        TextureImageParams(
            image=str(tmp_path / "red.png"), size=(16, 24), crop=0.5, scaling="fixed"
        )
    )
    example = source[0]
    assert example.shape == (3, 16, 24)
    assert torch.allclose(example[0], torch.ones(16, 24)) and torch.allclose(
        example[1], -torch.ones(16, 24)
    )
    gray = TextureImage(TextureImageParams(image=str(tmp_path / "red.png"), size=8, color="gray"))
    assert gray.shape == (1, 8, 8)


def test_a_missing_image_says_what_to_do(tmp_path):
    with pytest.raises(DataError, match="no such file.*brick, grass, gravel"):
        TextureImage(TextureImageParams(image=str(tmp_path / "nope.png")))
    (tmp_path / "junk.png").write_text("not an image")
    with pytest.raises(DataError, match="cannot read it as an image"):
        TextureImage(TextureImageParams(image=str(tmp_path / "junk.png")))


def test_texture_descriptor_conformance():
    params = TextureDescriptorParams(
        channels=[8, 6, 4], kernels=[5, 3, 3], strides=[2, 1, 1], reference_std=0.5
    )
    check_energy_model(TextureDescriptor(params, shape=(3, 16, 16)), (3, 16, 16))


def test_texture_descriptor_is_stationary():
    """f sums over positions: a circularly shifted texture (away from borders) keeps its score
    when the net has no padding effects — here, a constant image and its shift are identical."""
    params = TextureDescriptorParams(
        channels=[4, 4, 2], kernels=[3, 3, 3], strides=[1, 1, 1], init_std=0.1
    )
    model = TextureDescriptor(params, shape=(1, 12, 12))
    image = torch.zeros(1, 1, 12, 12)
    image[..., 4:6, 4:6] = 1
    shifted = torch.roll(image, shifts=(2, 3), dims=(2, 3))
    assert torch.allclose(model.score(image), model.score(shifted), atol=1e-6)


def test_texture_generator_conformance_and_latent_shape():
    params = TextureGeneratorParams(latent_channels=5, channels=[8, 4], init_std=0.02)
    generator = TextureGenerator(params, shape=(3, 16, 16))
    assert generator.latent_shape == (5, 2, 2)
    check_latent_model(generator, (3, 16, 16))


def test_texture_generator_rejects_sizes_it_cannot_make():
    with pytest.raises(ValueError, match="divisible by 8"):
        TextureGenerator(TextureGeneratorParams(channels=[8, 4]), shape=(1, 20, 20))


def test_every_shipped_recipe_validates():
    host = default_host()
    for path in sorted(RECIPES.glob("*.toml")):
        recipe = load_recipe(path, None, host.registries.recipes)
        resolve_components(recipe, host.registries)
    assert {"textures", "textures-paper"} <= set(host.registries.recipes.names())


def test_a_size_the_generator_cannot_make_is_a_recipe_error(tmp_path):
    with pytest.raises(RecipeError, match="generator.*divisible by 8"):
        coopkit.build("textures", ["data.size=36", f"output.dir={tmp_path}/run"])


def test_the_texture_recipe_runs_from_the_command_line(tmp_path):
    """The main job, shrunk, in-process: by registered name, with overrides, then sampled from.
    (Refusing to overwrite a run and --resume are the engine's and test_run_safety's tests.)"""
    out = tmp_path / "run"
    runner = CliRunner()
    trained = runner.invoke(
        app,
        [
            "run",
            "textures",
            "train.iterations=2",
            "data.size=32",
            "sampler.steps=2",
            f"output.dir={out}",
            "--no-progress",
        ],
    )
    assert trained.exit_code == 0, trained.output
    assert (out / "checkpoints" / "iter_0000002.safetensors").exists()
    revision = out / "samples" / "iter_0000002_S2_revision.png"
    assert Image.open(revision).mode == "RGB"  # the brick texture keeps its colours
    sampled = runner.invoke(app, ["sample", str(out), "-n", "4"])
    assert sampled.exit_code == 0, sampled.output
    assert (out / "samples" / "fresh_iter0000002_seed0_S2_revision.png").exists()


def _interior_gradient(model: TextureDescriptor, image: torch.Tensor, calls: int) -> torch.Tensor:
    """∂f/∂Y averaged over ``calls`` consecutive evaluations, away from the borders."""
    total = torch.zeros_like(image)
    for _ in range(calls):
        y = image.clone().requires_grad_(True)
        model.score(y).sum().backward()
        total += y.grad
    return (total / calls)[..., 16:-16, 16:-16]


def test_phase_shift_removes_the_first_strides_grid_from_the_drift():
    """On a flat image a stride-3 descriptor's input gradient repeats every 3 pixels (the grid
    the revision paints on samples); cycling through the 9 offsets leaves it flat."""
    image = torch.full((1, 1, 48, 48), 0.3)
    settings = dict(channels=[6, 4, 2], kernels=[7, 3, 3], strides=[3, 1, 1], init_std=0.1)
    torch.manual_seed(0)
    plain = TextureDescriptor(TextureDescriptorParams(**settings), shape=(1, 48, 48))
    torch.manual_seed(0)
    shifted = TextureDescriptor(
        TextureDescriptorParams(**settings, phase_shift=True), shape=(1, 48, 48)
    )
    grid = _interior_gradient(plain, image, 1)
    assert grid.std() > 0.1 * grid.abs().mean()  # the grid is there without the shift
    flat = _interior_gradient(shifted, image, 9)
    assert flat.std() < 1e-5 * flat.abs().mean()
    assert int(shifted.net[0].calls) == 9  # saved with the weights: a resume continues the cycle
    assert "net.0.calls" in shifted.state_dict()


def test_phase_shift_visits_every_offset_once_per_cycle_and_keeps_the_size():
    shift = PhaseShift(3)
    image = torch.arange(36.0).view(1, 1, 6, 6)  # the value at (r, c) is 6r + c
    crops = [shift(image) for _ in range(9)]
    assert {crop.shape for crop in crops} == {(1, 1, 4, 4)}
    corners = sorted(int(crop[0, 0, 0, 0]) for crop in crops)
    assert corners == [6 * r + c for r in range(3) for c in range(3)]
