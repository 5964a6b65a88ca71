"""coopkit-image's hooks: registration only, nothing heavy is imported here."""

from __future__ import annotations

from pathlib import Path

import coopkit

RECIPES = Path(__file__).parent / "recipes"


@coopkit.hookimpl
def coopkit_register_energy_models(registry):
    registry.add(
        "texture-descriptor",
        "coopkit_image.texture_nets:TextureDescriptor",
        summary="stationary 3-layer ConvNet, f summed over positions (paper exp. 1)",
        modality="image",
    )


@coopkit.hookimpl
def coopkit_register_latent_models(registry):
    registry.add(
        "texture-generator",
        "coopkit_image.texture_nets:TextureGenerator",
        summary="latent map → stride-2 deconvolutions, BN + ReLU, tanh (paper exp. 1)",
        modality="image",
    )


@coopkit.hookimpl
def coopkit_register_datasets(registry):
    registry.add(
        "texture",
        "coopkit_image.texture_data:TextureImage",
        summary="one texture image: a file, or scikit-image's brick / grass / gravel",
        modality="image",
    )


@coopkit.hookimpl
def coopkit_register_recipes(registry):
    registry.add_recipe(
        "textures",
        RECIPES / "textures.toml",
        summary="texture synthesis, CPU-sized (Fig. 5)",
        modality="image",
    )
    registry.add_recipe(
        "textures-paper",
        RECIPES / "textures-paper.toml",
        summary="texture synthesis at the paper's 224 px (Fig. 5), for a GPU",
        modality="image",
    )
