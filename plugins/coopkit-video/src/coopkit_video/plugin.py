"""coopkit-video's hooks: registration only, nothing heavy is imported here."""

from __future__ import annotations

from pathlib import Path

import coopkit

RECIPES = Path(__file__).parent / "recipes"

COOPKIT_PLUGIN_API = "1.0"  # the plugin API these hooks were written for


@coopkit.hookimpl
def coopkit_register_energy_models(registry):
    registry.add(
        "st-descriptor",
        "coopkit_video.nets:SpatioTemporalDescriptor",
        summary="5×5×5 convolutions, then spatially fully connected temporal convolutions (exp. 7)",
        modality="video",
    )


@coopkit.hookimpl
def coopkit_register_latent_models(registry):
    registry.add(
        "st-generator",
        "coopkit_video.nets:SpatioTemporalGenerator",
        summary="temporal deconvolutions, spatially fully connected layer, spatio-temporal up-sampling",
        modality="video",
    )


@coopkit.hookimpl
def coopkit_register_datasets(registry):
    registry.add(
        "procedural-dyntex",
        "coopkit_video.data:ProceduralDynamicTexture",
        summary="fire, ocean or flicker, generated on the fly (deterministic by seed)",
        modality="video",
    )
    registry.add(
        "video",
        "coopkit_video.data:VideoClip",
        summary="a clip from a video file (mp4, avi, webm, gif), a folder of frames or a .npy array",
        modality="video",
    )


@coopkit.hookimpl
def coopkit_register_baselines(registry):
    registry.add(
        "lds",
        "coopkit_video.baseline:LDSBaseline",
        summary="linear dynamical system of Doretto et al. 2003 (Table 6), ≥ 4 frames per state, "
        "random start: cannot replay the clip",
        modality="video",
    )
    registry.add(
        "static-mean-frame",
        "coopkit_video.baseline:StaticMeanFrame",
        summary="the observed clip's mean frame, held still (motion 0)",
        modality="video",
    )
    registry.add(
        "shuffled-frames",
        "coopkit_video.baseline:ShuffledFrames",
        summary="the observed frames in a random order (real frames, no dynamics)",
        modality="video",
    )
    registry.add(
        "rolled-frames",
        "coopkit_video.baseline:RolledFrames",
        summary="the observed clip played from a random frame, wrapping round (the chain "
        "diversity of the clip's own course at other times)",
        modality="video",
    )


@coopkit.hookimpl
def coopkit_register_writers(registry):
    registry.add(
        "b c t h w",
        "coopkit_video.writer:write_video_samples",
        summary="animated GIF and MP4, the observed clip beside every chain; a PNG strip of frames",
        modality="video",
    )


@coopkit.hookimpl
def coopkit_register_recipes(registry):
    registry.add_recipe(
        "dyntex",
        RECIPES / "dyntex.toml",
        summary="dynamic texture (fire), CPU-sized (exp. 7)",
        modality="video",
    )
    registry.add_recipe(
        "dyntex-paper",
        RECIPES / "dyntex-paper.toml",
        summary="dynamic texture at the paper's 128×128×64 (exp. 7), for a GPU",
        modality="video",
    )
