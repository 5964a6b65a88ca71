"""Every net of every installed plugin, built with its defaults for each installed data source of
its modality (timm's test_models, on the data the net is for): a descriptor gives one finite
energy per example of that data, a generator makes examples of the shape and value range the
source declares, and every teacher runs Steps G1 and G2 with that generator.

The plugins' own conformance tests (``check_plugin``) check each component alone, nets on a
fixed small example of their modality; a net that builds for the data a recipe gives it but
computes the wrong thing there is what this file catches. A net may refuse a shape it cannot
make (a user error saying why, e.g. a size not divisible by 8), but it must fit at least one
installed source of its modality: a plugin whose nets fit none of its data fails here.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from coopkit.components import get_component
from coopkit.errors import DataError, UserError
from coopkit.plugins import PluginHost
from coopkit.testing import check_energy_model, check_latent_model, check_teacher

INSTALLED = PluginHost(disabled=set())  # every installed plugin, whatever the environment says
NETS = [
    (kind, entry.name)
    for kind in ("energy_models", "latent_models")
    for entry in INSTALLED.registries[kind]
]


def _data_files(folder: Path) -> dict[str, dict[str, str]]:
    """Parameters for the installed sources that read a file: tiny files of each kind (and
    fewer examples of the bundled data sets)."""
    rng = np.random.default_rng(0)
    np.save(folder / "images.npy", rng.integers(0, 256, (4, 12, 12, 3), dtype=np.uint8))
    (folder / "pictures").mkdir()
    for index in range(3):
        picture = rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)
        Image.fromarray(picture).save(folder / "pictures" / f"{index}.png")
    np.save(folder / "clip.npy", rng.integers(0, 256, (8, 12, 12, 3), dtype=np.uint8))
    np.save(folder / "grids.npy", rng.random((3, 8, 8, 8)) > 0.7)
    return {
        "arrays": {"path": str(folder / "images.npy")},
        "image-folder": {"root": str(folder / "pictures"), "size": 16},
        "video": {"path": str(folder / "clip.npy"), "frames": 8, "size": 16},
        "voxel-arrays": {"path": str(folder / "grids.npy")},
        "mnist": {"limit": 8},  # the same shape, without reading 50000 images
        "digits": {"limit": 8},
    }


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, list]:
    """The installed data sources built with their defaults (and the tiny files above), by
    modality, one per shape; those whose data is not on this machine (MNIST's file) left out."""
    files = _data_files(tmp_path_factory.mktemp("data"))
    by_modality: dict[str, dict[tuple[int, ...], object]] = {}
    for entry in INSTALLED.registries.datasets:
        try:
            source = get_component(
                "datasets", entry.name, host=INSTALLED, **files.get(entry.name, {})
            )
        except DataError:
            continue
        by_modality.setdefault(entry.modality, {}).setdefault(tuple(source.shape), source)
    return {modality: list(shapes.values()) for modality, shapes in by_modality.items()}


def fitting(kind: str, name: str, sources: dict[str, list]) -> list[tuple[object, object]]:
    """(source, net built for its shape) for each source of the net's modality the net accepts."""
    modality = INSTALLED.registries[kind].get(name).modality
    pairs, refused = [], []
    for source in sources.get(modality, []):
        try:
            pairs.append(
                (source, get_component(kind, name, host=INSTALLED, shape=tuple(source.shape)))
            )
        except UserError as error:  # a shape it cannot make, with the reason
            refused.append(f"{tuple(source.shape)}: {str(error).splitlines()[-1].strip()}")
    assert pairs, (
        f"{kind} {name!r} fits no installed data source of modality {modality!r} with its "
        f"defaults ({'; '.join(refused) or 'there is none'})"
    )
    return pairs


def observed(source, count: int = 3) -> torch.Tensor:
    return source.batch(torch.arange(min(count, len(source))))


@pytest.mark.parametrize(("kind", "name"), NETS, ids=[f"{kind}:{name}" for kind, name in NETS])
def test_every_net_fits_the_data_of_its_modality(kind, name, sources):
    for source, net in fitting(kind, name, sources):
        shape = tuple(source.shape)
        if kind == "energy_models":
            check_energy_model(net, shape)
            batch = observed(source)
            with torch.no_grad():
                energy = net.energy(batch)
            assert energy.shape == (len(batch),), f"{shape}: energy() gave {tuple(energy.shape)}"
            assert bool(torch.isfinite(energy).all()), f"{shape}: energy of real data not finite"
        else:
            check_latent_model(net, shape, value_range=tuple(source.value_range))


TEACHERS = [entry.name for entry in INSTALLED.registries.teachers]
GENERATORS = [name for kind, name in NETS if kind == "latent_models"]


@pytest.mark.parametrize("teacher", TEACHERS)
def test_every_teacher_teaches_every_generator_on_its_data(teacher, sources):
    for generator in GENERATORS:
        source, net = min(
            fitting("latent_models", generator, sources), key=lambda pair: math.prod(pair[0].shape)
        )
        try:
            check_teacher(
                get_component("teachers", teacher, host=INSTALLED), net, tuple(source.shape)
            )
        except AssertionError as error:
            raise AssertionError(f"with {generator!r} on {tuple(source.shape)}: {error}") from None
