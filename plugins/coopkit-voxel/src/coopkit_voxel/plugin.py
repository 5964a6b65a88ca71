"""coopkit-voxel's hooks: registration only, nothing heavy is imported here."""

from __future__ import annotations

from pathlib import Path

import coopkit

RECIPES = Path(__file__).parent / "recipes"

COOPKIT_PLUGIN_API = "1.0"  # the plugin API these hooks were written for


@coopkit.hookimpl
def coopkit_register_energy_models(registry):
    registry.add(
        "voxel-descriptor",
        "coopkit_voxel.nets:VoxelDescriptor",
        summary="3D convolutions (32³: 200@16³/3, 100@6³/2), ReLU, fc 1 (Xie et al. 2018)",
        modality="voxel",
    )


@coopkit.hookimpl
def coopkit_register_latent_models(registry):
    registry.add(
        "voxel-generator",
        "coopkit_voxel.nets:VoxelGenerator",
        summary="X → 4³ → … → grid by 3D transposed convolutions, BN + ReLU, sigmoid or tanh",
        modality="voxel",
    )


@coopkit.hookimpl
def coopkit_register_datasets(registry):
    registry.add(
        "procedural-voxels",
        "coopkit_voxel.data:ProceduralVoxels",
        summary="solid spheres, boxes, cylinders, tori, chairs and tables (deterministic by seed)",
        modality="voxel",
    )
    registry.add(
        "voxel-arrays",
        "coopkit_voxel.data:VoxelArrays",
        summary="occupancy grids from .npy/.npz/.binvox files and meshes, or folders of them "
        "(category subfolders)",
        modality="voxel",
    )


@coopkit.hookimpl
def coopkit_register_writers(registry):
    registry.add(
        "b c d h w",
        "coopkit_voxel.writer:write_voxel_samples",
        summary="shaded views of each grid, one PNG; .npy with COOPKIT_VOXEL_NPY=1, marching-cubes "
        ".obj meshes with COOPKIT_VOXEL_OBJ=1",
        modality="voxel",
    )


@coopkit.hookimpl
def coopkit_register_recipes(registry):
    registry.add_recipe(
        "voxels",
        RECIPES / "voxels.toml",
        summary="procedural chairs and tables at 32³, CPU-sized (voxel paper's descriptor)",
        modality="voxel",
    )
    registry.add_recipe(
        "voxels-paper",
        RECIPES / "voxels-paper.toml",
        summary="32³ shapes with the voxel paper's descriptor and Langevin settings, for a GPU",
        modality="voxel",
    )


@coopkit.hookimpl
def coopkit_register_metrics(registry):
    registry.add(
        "voxel-iou",
        "coopkit_voxel.metrics:VoxelIoU",
        summary="IoU of each synthesized shape with the nearest observed one (occupancy ≥ ½); 1 = a copy",
        modality="voxel",
    )
    registry.add(
        "voxel-chamfer",
        "coopkit_voxel.metrics:VoxelChamfer",
        summary="Chamfer distance (voxels) of each synthesized shape to the nearest observed one",
        modality="voxel",
    )
    registry.add(
        "voxel-diversity",
        "coopkit_voxel.metrics:VoxelDiversity",
        summary="mean 1 − IoU (or Chamfer) between distinct synthesized shapes; higher = more diverse",
        modality="voxel",
    )


@coopkit.hookimpl
def coopkit_register_baselines(registry):
    registry.add(
        "nearest-neighbour",
        "coopkit_voxel.recovery:NearestNeighbour",
        summary="missing voxels from the training shape closest on the observed voxels "
        "(shape recovery)",
        modality="voxel",
    )
    registry.add(
        "mean-shape",
        "coopkit_voxel.recovery:MeanShape",
        summary="missing voxels set to the training shapes' mean occupancy (shape recovery)",
        modality="voxel",
    )


@coopkit.hookimpl
def coopkit_register_completions(registry):
    registry.add(
        "b c d h w",
        "coopkit_voxel.recovery:run_completion",
        summary="shape recovery (voxel paper): missing voxels revised by the descriptor's "
        "Langevin, observed ones clamped; masks random:F (default random:0.7); 90 steps, "
        "δ 0.07, no noise",
        modality="voxel",
    )


@coopkit.hookimpl
def coopkit_register_commands(app):
    from coopkit_voxel.commands import upsample, voxelize

    app.command("voxelize")(voxelize)
    app.command("upsample")(upsample)
